#!/usr/bin/python3
"""lbbake-vip: while keepalived says this node is MASTER, make the cloud route the VIP here and
keep it so (reconcile); never claim on a node that is not MASTER. Shipped only with vip.cloud
(AWS secondary-ip/route, GCE alias-ip/route). Python 3.6+ standard library only: no cloud CLI.

keepalived.conf runs it (CONFIG = key=value tokens lbbake writes there):
  notify "lbbake-vip CONFIG notify"      keepalived appends INSTANCE|GROUP NAME STATE PRIORITY
  notify_master_rx_lower_pri "lbbake-vip CONFIG reassert"   (a VRRP split healed: claim again now)
Operators: lbbake-vip CONFIG status   (who holds the VIP in the cloud; exit 0 if this node)

How: every notify records the VRRP state and keepalived's pid in STATE. On MASTER a background
loop (one per node, flock on LOCK) claims the VIP, then checks every `every` seconds that the
cloud still routes it here and claims again if not; failed calls are retried after 1, 2, 4 s ...
(at most min(every, 5) s apart). Before every call that changes the cloud it checks that this
node is still MASTER (STATE says MASTER, that keepalived still runs, the VIP is on a local
interface), so a late retry on a node that became BACKUP never steals the VIP. The loop ends
when the node stops being MASTER.
CONFIG: cloud=aws|gce mode=secondary-ip|route|alias-ip vip=A.B.C.D/N address=<nodes[].address>
  every=SECONDS [tables=rtb-..,..] [route=NAME network=NAME]
Credentials: AWS instance role via IMDSv2; GCE the instance's service account via the metadata
server. Environment (tests): LBBAKE_EC2_URL, LBBAKE_EC2_API_URL, LBBAKE_GCE_URL,
LBBAKE_GCE_API_URL, LBBAKE_RUN_DIR. Logs: syslog (lbbake-vip) and RUN_DIR/vip.log.
"""

import datetime
import fcntl
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

PROG = "lbbake-vip"
RUN_DIR = os.environ.get("LBBAKE_RUN_DIR") or "/run/lbbake"
STATE = RUN_DIR + "/vrrp-state.json"
LOCK = RUN_DIR + "/vip.lock"
LOG = RUN_DIR + "/vip.log"
OWNER = RUN_DIR + "/cloud-owner.json"
TIMEOUT = 5.0
OP_TIMEOUT = 120.0
GCE_ROUTE_BASE = 1000
GCE_LINK = "https://www.googleapis.com/compute/v1/"


class ApiError(Exception):
    """A cloud call failed; every failure is retried while this node is MASTER."""


class NotMaster(Exception):
    """This node stopped being MASTER: make no further change."""


def log(msg):
    line = "%s %s[%d]: %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), PROG, os.getpid(), msg)
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    try:
        os.makedirs(RUN_DIR, exist_ok=True)
        if os.path.exists(LOG) and os.path.getsize(LOG) > 1048576:
            os.replace(LOG, LOG + ".1")
        with open(LOG, "a") as f:
            f.write(line)
    except OSError:
        pass
    try:
        import syslog
        syslog.openlog(PROG, 0, syslog.LOG_DAEMON)
        syslog.syslog(syslog.LOG_INFO, msg)
    except (ImportError, OSError):
        pass


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=10)
    if p.returncode != 0:
        raise OSError("%s exited %d: %s" % (argv[0], p.returncode, p.stderr.strip()[:200]))
    return p.stdout


def local_addresses():
    """{address: interface} of this machine's IPv4 addresses."""
    out = {}
    for line in run(["ip", "-o", "-4", "addr", "show"]).splitlines():
        m = re.match(r"\d+:\s+(\S+)\s+inet ([0-9.]+)/", line)
        if m:
            out[m.group(2)] = m.group(1).split("@")[0]
    return out


# ---------------------------------------------------------------------------- VRRP state

def proc_start(pid):
    """Start time of process pid (clock ticks since boot), None if it does not run."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError, ValueError):
        return None


def read_state():
    try:
        with open(STATE) as f:
            st = json.load(f)
        return st if isinstance(st, dict) else {}
    except (OSError, ValueError):
        return {}


def write_state(state, pid):
    os.makedirs(RUN_DIR, exist_ok=True)
    st = {"state": state, "seq": "%.6f-%d" % (time.time(), os.getpid()), "pid": pid, "start": proc_start(pid)}
    tmp = "%s.%d" % (STATE, os.getpid())
    with open(tmp, "w") as f:
        json.dump(st, f)
    os.replace(tmp, STATE)
    return st


def keepalived_pid():
    """The keepalived process that ran this notify: the nearest ancestor named keepalived."""
    pid = os.getppid()
    for _ in range(4):
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip().startswith("keepalived"):
                    return pid
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return os.getppid()


def why_not_master(cfg, st=None, full=True):
    """None while this node is MASTER, else why not. Not `full`: skips the local-VIP check."""
    st = read_state() if st is None else st
    if st.get("state") != "MASTER":
        return "VRRP state %s" % st.get("state", "unknown")
    if not isinstance(st.get("pid"), int) or proc_start(st["pid"]) != st.get("start"):
        return "keepalived (pid %s) no longer runs" % st.get("pid")
    if not full:
        return None
    try:
        if cfg["vip"].split("/")[0] not in local_addresses():
            return "the VIP is not on a local interface"
    except (OSError, subprocess.TimeoutExpired) as err:
        return "cannot list local addresses: %s" % err
    return None


# ---------------------------------------------------------------------------- HTTP

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
VIA_ENV = urllib.request.build_opener(NoRedirect())


def request(method, url, headers=None, body=None, direct=False):
    """(status, headers, body). Connection errors, timeouts and truncated bodies raise ApiError."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        try:
            resp = (DIRECT if direct else VIA_ENV).open(req, timeout=TIMEOUT)
        except urllib.error.HTTPError as err:
            resp = err
        with resp:
            data = resp.read()
            want = resp.headers.get("Content-Length")
            if want is not None and want.isdigit() and int(want) != len(data):
                raise ApiError("%s %s: body truncated (%d of %s bytes)" % (method, url, len(data), want))
            return resp.status if hasattr(resp, "status") else resp.code, resp.headers, data
    except (OSError, http.client.HTTPException, ValueError) as err:
        raise ApiError("%s %s: %s" % (method, url, getattr(err, "reason", None) or err or err.__class__.__name__))


# ---------------------------------------------------------------------------- AWS

def xml_items(root, tag):
    return [e for e in root.iter() if e.tag.split("}")[-1] == tag]


def xml_text(e, tag):
    for c in e:
        if c.tag.split("}")[-1] == tag:
            return (c.text or "").strip()
    return ""


class Aws(object):
    def __init__(self, cfg):
        self.cfg = cfg
        self.imds = (os.environ.get("LBBAKE_EC2_URL") or "http://169.254.169.254").rstrip("/")
        self.token = None
        self.creds = None
        self._region = None
        self._eni = None

    def md(self, path):
        for attempt in (1, 2):
            if self.token is None:
                st, _, body = request("PUT", self.imds + "/latest/api/token",
                                   {"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, b"", direct=True)
                if st != 200:
                    raise ApiError("IMDSv2 token request answered HTTP %d" % st)
                self.token = body.decode().strip()
            st, _, body = request("GET", self.imds + "/latest/meta-data/" + path,
                               {"X-aws-ec2-metadata-token": self.token}, direct=True)
            if st == 401 and attempt == 1:
                self.token = None
                continue
            if st != 200:
                raise ApiError("IMDS %s answered HTTP %d" % (path, st))
            return body.decode().strip()

    def region(self):
        if self._region is None:
            self._region = self.md("placement/region")
        return self._region

    def eni(self):
        """The ENI of the NIC that holds this node's address (by its MAC)."""
        if self._eni is None:
            nic = local_addresses().get(self.cfg["address"])
            if nic is None:
                raise ApiError("no local interface holds %s" % self.cfg["address"])
            with open("/sys/class/net/%s/address" % nic) as f:
                mac = f.read().strip()
            self._eni = self.md("network/interfaces/macs/%s/interface-id" % mac)
        return self._eni

    def credentials(self):
        c = self.creds
        if c is None or c["expires"] - time.time() < 300:
            role = self.md("iam/security-credentials/").splitlines()[0].strip()
            data = json.loads(self.md("iam/security-credentials/" + role))
            exp = datetime.datetime.strptime(data["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
            expires = (exp - datetime.datetime(1970, 1, 1)).total_seconds()
            c = self.creds = {"key": data["AccessKeyId"], "secret": data["SecretAccessKey"],
                              "token": data.get("Token"), "expires": expires}
        return c

    def call(self, action, params):
        """One signed EC2 Query API call (SigV4); the parsed XML answer."""
        region = self.region()
        url = os.environ.get("LBBAKE_EC2_API_URL") or "https://ec2.%s.amazonaws.com/" % region
        host = urllib.parse.urlsplit(url).netloc
        body = urllib.parse.urlencode(dict(params, Action=action, Version="2016-11-15")).encode()
        c = self.credentials()
        now = time.gmtime()
        amz_date, day = time.strftime("%Y%m%dT%H%M%SZ", now), time.strftime("%Y%m%d", now)
        headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8",
                   "host": host, "x-amz-date": amz_date}
        if c["token"]:
            headers["x-amz-security-token"] = c["token"]
        names = sorted(headers)
        creq = "\n".join(["POST", urllib.parse.urlsplit(url).path or "/", "",
                          "".join("%s:%s\n" % (n, headers[n]) for n in names), ";".join(names),
                          hashlib.sha256(body).hexdigest()])
        scope = "%s/%s/ec2/aws4_request" % (day, region)
        sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + c["secret"]).encode()
        for part in (day, region, "ec2", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            c["key"], scope, ";".join(names), sig)
        st, _, data = request("POST", url, headers, body)
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            raise ApiError("%s: HTTP %d with an answer that is not XML" % (action, st))
        if st != 200:
            errs = xml_items(root, "Error")
            code = xml_text(errs[0], "Code") if errs else "HTTP %d" % st
            if code in ("AuthFailure", "RequestExpired", "ExpiredToken"):
                self.creds = None
            hint = " (the instance role needs ec2:%s)" % action if code == "UnauthorizedOperation" else ""
            raise ApiError("%s: %s %s%s" % (action, code, xml_text(errs[0], "Message") if errs else "", hint))
        return root

    def owned(self):
        vip, eni = self.cfg["vip"], self.eni()
        if self.cfg["mode"] == "secondary-ip":
            root = self.call("DescribeNetworkInterfaces", {
                "Filter.1.Name": "addresses.private-ip-address", "Filter.1.Value.1": vip.split("/")[0]})
            holders = [xml_text(i, "networkInterfaceId") for i in xml_items(root, "item")
                       if xml_text(i, "networkInterfaceId")]
            return holders == [eni], "held by %s" % (", ".join(holders) or "no ENI")
        targets = self.route_targets()
        bad = ["%s -> %s" % (t, e or "none") for t, e in sorted(targets.items()) if e != eni]
        return not bad, ", ".join(bad) or "every table points at %s" % eni

    def route_targets(self):
        params = {}
        for i, t in enumerate(self.cfg["tables"], 1):
            params["RouteTableId.%d" % i] = t
        root = self.call("DescribeRouteTables", params)
        out = {t: None for t in self.cfg["tables"]}
        for table in xml_items(root, "routeTableSet"):
            for item in table:
                tid = xml_text(item, "routeTableId")
                for r in xml_items(item, "item"):
                    if xml_text(r, "destinationCidrBlock") == self.cfg["vip"] and tid in out:
                        out[tid] = xml_text(r, "networkInterfaceId") or None
        return out

    def claim(self, guard):
        vip, eni = self.cfg["vip"], self.eni()
        if self.cfg["mode"] == "secondary-ip":
            guard()
            self.call("AssignPrivateIpAddresses", {"NetworkInterfaceId": eni, "PrivateIpAddress.1": vip.split("/")[0],
                                                   "AllowReassignment": "true"})
            return "assigned %s to %s (AllowReassignment)" % (vip.split("/")[0], eni)
        done = []
        for t, target in sorted(self.route_targets().items()):
            if target == eni:
                continue
            guard()
            p = {"RouteTableId": t, "DestinationCidrBlock": vip, "NetworkInterfaceId": eni}
            self.call("ReplaceRoute" if target else "CreateRoute", p)
            done.append("%s %s -> %s" % (t, vip, eni))
        return "; ".join(done) or "every table already points here"


# ---------------------------------------------------------------------------- GCE

class Gce(object):
    def __init__(self, cfg):
        self.cfg = cfg
        self.md_base = (os.environ.get("LBBAKE_GCE_URL") or "http://169.254.169.254").rstrip("/") + "/computeMetadata/v1/"
        self.api_base = (os.environ.get("LBBAKE_GCE_API_URL") or "https://compute.googleapis.com/compute/v1").rstrip("/")
        self.tok = None
        self.me = None

    def md(self, path):
        st, headers, body = request("GET", self.md_base + path, {"Metadata-Flavor": "Google"}, direct=True)
        if st != 200 or headers.get("Metadata-Flavor") != "Google":
            raise ApiError("metadata %s answered HTTP %d" % (path, st))
        return body.decode().strip()

    def whoami(self):
        if self.me is None:
            self.me = {"name": self.md("instance/name"), "zone": self.md("instance/zone").rsplit("/", 1)[-1],
                       "project": self.md("project/project-id")}
        return self.me

    def api(self, method, path, body=None):
        if self.tok is None or self.tok[1] - time.time() < 60:
            t = json.loads(self.md("instance/service-accounts/default/token"))
            self.tok = (t["access_token"], time.time() + float(t.get("expires_in", 0)))
        me = self.whoami()
        url = "%s/projects/%s/%s" % (self.api_base, me["project"], path)
        data = None if body is None else json.dumps(body).encode()
        st, _, raw = request(method, url, {"Authorization": "Bearer " + self.tok[0], "Content-Type": "application/json"}, data)
        try:
            out = json.loads(raw.decode() or "{}")
        except ValueError:
            raise ApiError("%s %s: HTTP %d with an answer that is not JSON" % (method, path, st))
        if st != 200:
            err = out.get("error", {}) if isinstance(out, dict) else {}
            if st == 401:
                self.tok = None
            reason = (err.get("errors") or [{}])[0].get("reason", "")
            raise ApiError("%s %s: HTTP %d %s %s" % (method, path.split("?")[0], st, reason, err.get("message", "")))
        return out

    def wait(self, op):
        """Waits for an Operation to be DONE (bounded); raises ApiError if it ended with an error."""
        where = "zones/%s" % op["zone"].rsplit("/", 1)[-1] if op.get("zone") else "global"
        deadline = time.time() + OP_TIMEOUT
        while op.get("status") != "DONE":
            if time.time() > deadline:
                raise ApiError("operation %s not DONE after %ds" % (op.get("name"), OP_TIMEOUT))
            op = self.api("POST", "%s/operations/%s/wait" % (where, op["name"]))
        errors = (op.get("error") or {}).get("errors") or []
        if errors:
            raise ApiError("operation %s: %s %s" % (op.get("operationType", ""), errors[0].get("code", ""),
                                                    errors[0].get("message", "")))
        return op

    def inst_link(self, zone, name):
        return GCE_LINK + "projects/%s/zones/%s/instances/%s" % (self.whoami()["project"], zone, name)

    # alias-ip ---------------------------------------------------------------------
    def instance(self, zone, name):
        return self.api("GET", "zones/%s/instances/%s" % (zone, name))

    def alias_nic(self, inst):
        for nic in inst.get("networkInterfaces", []):
            if any(a.get("ipCidrRange") == self.cfg["vip"] for a in nic.get("aliasIpRanges", [])):
                return nic
        return None

    def set_aliases(self, zone, name, nic, ranges):
        op = self.api("PATCH", "zones/%s/instances/%s/updateNetworkInterface?networkInterface=%s" % (
            zone, name, urllib.parse.quote(nic["name"])), {"aliasIpRanges": ranges, "fingerprint": nic["fingerprint"]})
        self.wait(op)

    # route --------------------------------------------------------------------------
    def routes(self):
        q = urllib.parse.quote('destRange = "%s"' % self.cfg["vip"])
        items = self.api("GET", "global/routes?filter=" + q).get("items", [])
        return [r for r in items if r.get("destRange") == self.cfg["vip"]]

    def ours(self, r):
        return r["name"] == self.cfg["route"] or r["name"].startswith(self.cfg["route"] + "-")

    def winners(self, routes):
        if not routes:
            return []
        top = min(r.get("priority", 1000) for r in routes)
        return [r for r in routes if r.get("priority", 1000) == top]

    def mine(self, r):
        me = self.whoami()
        return (r.get("nextHopInstance") or "").endswith("/zones/%s/instances/%s" % (me["zone"], me["name"]))

    def create_route(self, prio):
        stamp = "%x" % int(time.time() * 1000)
        name = "%s-%s" % (self.cfg["route"][:62 - len(stamp)], stamp)
        me = self.whoami()
        op = self.api("POST", "global/routes", {
            "name": name, "destRange": self.cfg["vip"], "priority": prio,
            "network": GCE_LINK + "projects/%s/global/networks/%s" % (me["project"], self.cfg["network"]),
            "nextHopInstance": self.inst_link(me["zone"], me["name"]),
            "description": "lbbake: VIP %s to the keepalived MASTER" % self.cfg["vip"]})
        self.wait(op)
        return name

    def delete_routes(self, routes, guard):
        for r in routes:
            guard()
            try:
                self.wait(self.api("DELETE", "global/routes/" + r["name"]))
            except ApiError as err:
                if "HTTP 404" not in str(err):
                    raise

    # both modes ---------------------------------------------------------------------
    def owned(self):
        me = self.whoami()
        if self.cfg["mode"] == "alias-ip":
            nic = self.alias_nic(self.instance(me["zone"], me["name"]))
            return nic is not None, "alias %s %s" % (self.cfg["vip"], "on this instance" if nic else "elsewhere")
        win = self.winners(self.routes())
        ok = bool(win) and all(self.mine(r) for r in win)
        if ok and min(r.get("priority", 1000) for r in win) < GCE_ROUTE_BASE - 100:
            return False, "own route's priority drifted low; renewing it at %d" % GCE_ROUTE_BASE
        return ok, "best routes: %s" % (", ".join("%s (%s)" % (r["name"], r.get("priority")) for r in win) or "none")

    def claim(self, guard):
        me = self.whoami()
        if self.cfg["mode"] == "alias-ip":
            inst = self.instance(me["zone"], me["name"])
            if self.alias_nic(inst):
                return "alias already on this instance"
            holders = []
            page = ""
            for _ in range(50):
                out = self.api("GET", "aggregated/instances?maxResults=500" + ("&pageToken=" + page if page else ""))
                for scope in (out.get("items") or {}).values():
                    for i in scope.get("instances", []):
                        nic = self.alias_nic(i)
                        if nic and i["name"] != me["name"]:
                            holders.append((i["zone"].rsplit("/", 1)[-1], i["name"], nic))
                page = out.get("nextPageToken") or ""
                if not page:
                    break
            for zone, name, nic in holders:
                guard()
                self.set_aliases(zone, name, nic, [a for a in nic.get("aliasIpRanges", []) if a.get("ipCidrRange") != self.cfg["vip"]])
                log("released %s from instance %s" % (self.cfg["vip"], name))
            guard()
            inst = self.instance(me["zone"], me["name"])
            nic = inst["networkInterfaces"][0]
            self.set_aliases(me["zone"], me["name"], nic, nic.get("aliasIpRanges", []) + [{"ipCidrRange": self.cfg["vip"]}])
            return "alias %s added to %s/%s" % (self.cfg["vip"], nic["name"], me["name"])
        routes = self.routes()
        win = self.winners(routes)
        if win and all(self.mine(r) for r in win) and min(r.get("priority", 1000) for r in win) >= GCE_ROUTE_BASE - 100:
            return "routes already point here"
        best = min([r.get("priority", 1000) for r in routes] or [GCE_ROUTE_BASE + 1])
        if win and all(self.mine(r) for r in win):
            prio = GCE_ROUTE_BASE  # renewal: same next hop, so the worse priority takes over seamlessly
        else:
            prio = max(0, min(GCE_ROUTE_BASE, best - 1))
        guard()
        name = self.create_route(prio)
        old = [r for r in routes if self.ours(r)]
        self.delete_routes(old, guard)
        return "created route %s (priority %d) via %s, then deleted %s" % (
            name, prio, me["name"], ", ".join(r["name"] for r in old) or "nothing")


# ---------------------------------------------------------------------------- loop

def parse(argv):
    cfg = {"tables": [], "every": 10.0, "network": "default"}
    rest = list(argv)
    while rest and "=" in rest[0]:
        k, v = rest.pop(0).split("=", 1)
        cfg[k] = v.split(",") if k == "tables" else v
    cfg["every"] = max(1.0, float(cfg["every"]))
    missing = [k for k in ("cloud", "mode", "vip", "address") if k not in cfg]
    if missing or not rest:
        raise SystemExit("%s: usage: %s cloud=aws|gce mode=M vip=CIDR address=ADDR [every=S] "
                         "[tables=..] [route=N network=N] notify|reassert|status (missing %s)" % (
                             PROG, PROG, ", ".join(missing) or "the action"))
    return cfg, rest[0], rest[1:]


def cloud_of(cfg):
    return Aws(cfg) if cfg["cloud"] == "aws" else Gce(cfg)


def owner(ok, detail):
    """Keeps what the last ownership check found, for lbbake's metrics (lbbake_cloud_vip_owner)."""
    try:
        with open(OWNER + ".tmp", "w") as f:
            json.dump({"owner": bool(ok), "checked": time.time(), "detail": str(detail)}, f)
        os.replace(OWNER + ".tmp", OWNER)
    except OSError:
        pass


def reconcile(cfg):
    """The MASTER's loop; returns when this node stops being MASTER."""
    cloud = cloud_of(cfg)
    cap = min(cfg["every"], 5.0)
    seen, due, pause, claimed = None, 0.0, 0.0, False

    def guard():
        why = why_not_master(cfg)
        if why:
            raise NotMaster(why)

    while True:
        st = read_state()
        why = why_not_master(cfg, st, full=False)
        if why:
            log("not MASTER any more (%s): reconcile stops" % why)
            return
        if st.get("seq") != seen:
            seen, due, pause, claimed = st.get("seq"), 0.0, 0.0, False
        if time.time() >= due:
            try:
                if claimed:
                    ok, detail = cloud.owned()
                    owner(ok, detail)
                    if not ok:
                        log("the cloud does not route %s here (%s): claiming it again" % (cfg["vip"], detail))
                        claimed = False
                if not claimed:
                    done = cloud.claim(guard)
                    log("claimed: %s" % done)
                    owner(True, done)
                    claimed = True
                pause, due = 0.0, time.time() + cfg["every"]
            except NotMaster as err:
                log("not MASTER any more (%s): no change made" % err)
                return
            except Exception as err:  # noqa: BLE001 - every failure is retried while MASTER
                pause = min(cap, max(1.0, pause * 2))
                due = time.time() + pause * random.uniform(0.8, 1.2)
                log("cloud call failed (%s: %s); retrying in %.1fs" % (err.__class__.__name__, err, pause))
        time.sleep(0.2)


def daemon(cfg, wait):
    """Runs reconcile() in a detached child holding LOCK; `wait`: wait for a previous loop to end."""
    if os.fork() != 0:
        return
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    fd = os.open(os.devnull, os.O_RDWR)
    for i in (0, 1, 2):
        os.dup2(fd, i)
    try:
        os.makedirs(RUN_DIR, exist_ok=True)
        lock = open(LOCK, "a")
        deadline = time.time() + 600
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if not wait or time.time() > deadline or why_not_master(cfg):
                    os._exit(0)
                time.sleep(0.2)
        reconcile(cfg)
    except Exception as err:  # noqa: BLE001
        log("reconcile loop failed: %r" % err)
    os._exit(0)


def main(argv):
    cfg, action, rest = parse(argv[1:])
    if action == "notify":
        state = rest[2] if len(rest) >= 3 else "UNKNOWN"
        write_state(state, keepalived_pid())
        log("keepalived: %s %s" % (" ".join(rest[:2]), state))
        if state == "MASTER":
            daemon(cfg, wait=True)
        return 0
    if action == "reassert":
        st = read_state()
        if st.get("state") == "MASTER":
            write_state("MASTER", st.get("pid") or keepalived_pid())
            log("keepalived: lower-priority advert received as MASTER (a split healed): claiming again")
            daemon(cfg, wait=False)
        return 0
    if action == "status":
        ok, detail = cloud_of(cfg).owned()
        print(json.dumps({"vrrp": read_state().get("state"), "ownsVip": ok, "detail": detail}))
        return 0 if ok else 1
    raise SystemExit("%s: unknown action %s" % (PROG, action))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
