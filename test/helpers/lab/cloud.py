"""Emulated cloud for the cloud lab (test/helpers/cloudlab.ts): the part of AWS EC2, Google
Compute Engine and an Azure internal load balancer that decides where VIP traffic goes, with
the semantics the real control planes have (CLOUD-FACTS "Emulator must"). Python 3 stdlib.

It runs inside the lab's router namespace, which is the VPC fabric: the client reaches the VIP
only through this router, and the router sends VIP traffic to the node the emulated cloud names
(`ip route replace VIP/32 via <owner>`), never by ARP, so a gratuitous ARP from a guest moves
nothing. Two HTTP servers:
  METADATA_ADDR:80  EC2 IMDSv2 (/latest/...) or the GCE metadata server (/computeMetadata/v1/...),
                    answering per instance by the caller's source address
  API_ADDR:80       the EC2 Query API (POST /, SigV4 verified against the credentials it issued)
                    or the Compute Engine REST API (/compute/v1/..., Bearer tokens it issued)
Azure has no API in a failover: a prober polls each node's probe port and the router spreads
new flows over the healthy nodes (ECMP), none healthy = unreachable.

Semantics kept: EC2 reassignment moves an address (AllowReassignment, else InvalidIPAddress.InUse),
addresses outside the ENI's subnet are refused, the fabric follows the API after a remap delay
(also visible in IMDS local-ipv4s), route-table targets with source/dest check on get nothing,
IMDSv2 needs its token, errors are EC2's XML with its HTTP statuses, RequestLimitExceeded (503)
on demand. GCE: per-NIC fingerprints (400 missing, 412 stale, new after each update), zone and
global Operations (RUNNING, then DONE with optional error after a delay; get and wait),
list-replacement of alias ranges, IP_IN_USE_BY_ANOTHER_RESOURCE, subnet check, routes chosen by
specificity then priority with ECMP among ties, canIpForward, Metadata-Flavor checked both ways,
JSON errors. Left out: EIPs, IPv6, DryRun, pagination of EC2, most filters, OAuth scopes, IAM.

usage: cloud.py CONFIG CONTROL STATE
  CONFIG   JSON written by the lab (provider, addresses, instances, delays), read once
  CONTROL  JSON the test writes to inject faults: {"faults": [{"kind": "throttle"|"error"|"hang",
           "until": epoch, "from": epoch?, "callers": [addr]?, "actions": [name]?}], "remapDelay": s?,
           "opDelay": s?}; re-read when it changes
  STATE    JSON this process writes after every change: owners, delivery, mutation log, counters
"""

import base64
import hashlib
import heapq
import hmac
import http.server
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape

CONFIG_FILE, CONTROL_FILE, STATE_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
with open(CONFIG_FILE) as f:
    CFG = json.load(f)

PROVIDER = CFG["provider"]
VIP = CFG["vip"]
LOCK = threading.RLock()
CHANGED = threading.Condition(LOCK)
RNG = random.Random(CFG.get("seed", 18))
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
GCE_LINK = "https://www.googleapis.com/compute/v1/"


def log(msg):
    sys.stdout.write("%.3f %s\n" % (time.time(), msg))
    sys.stdout.flush()


def rid():
    return "%08x-%04x-%04x-%04x-%012x" % (RNG.getrandbits(32), RNG.getrandbits(16), RNG.getrandbits(16),
                                          RNG.getrandbits(16), RNG.getrandbits(48))


def token(n=40):
    return base64.urlsafe_b64encode(os.urandom(n)).decode().rstrip("=")


# ------------------------------------------------------------------------------ control + state

CONTROL = {"mtime": None, "data": {}}
MUTATIONS = []
COUNTS = {}
DELIVERY = {"to": None}


def control():
    try:
        m = os.stat(CONTROL_FILE).st_mtime_ns
    except OSError:
        return {}
    if m != CONTROL["mtime"]:
        try:
            with open(CONTROL_FILE) as f:
                CONTROL["data"] = json.load(f)
            CONTROL["mtime"] = m
        except (OSError, ValueError):
            pass
    return CONTROL["data"]


def setting(name, default):
    v = control().get(name)
    return default if v is None else v


def fault_for(caller, action, api):
    now = time.time()
    for fl in control().get("faults", []):
        if fl.get("from", 0) <= now < fl.get("until", 0) and \
                (not fl.get("callers") or caller in fl["callers"]) and \
                (not fl.get("actions") or action in fl["actions"]) and fl.get("api", "api") in (api, "all"):
            return fl
    return None


def name_of(addr):
    for inst in INSTANCES:
        if inst["address"] == addr:
            return inst["name"]
    return addr


def count(caller, action, outcome):
    key = "%s %s %s" % (name_of(caller), action, outcome)
    COUNTS[key] = COUNTS.get(key, 0) + 1


def mutated(caller, action, detail):
    MUTATIONS.append({"t": round(time.time(), 3), "by": name_of(caller), "action": action, "detail": detail})
    del MUTATIONS[:-500]


def write_state():
    with LOCK:
        state = {"provider": PROVIDER, "vip": VIP, "owners": owners(), "deliveredTo": DELIVERY["to"],
                 "mutations": MUTATIONS, "counts": COUNTS, "api": api_snapshot(), "t": time.time()}
        tmp = STATE_FILE + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=1, sort_keys=True)
        os.rename(tmp, STATE_FILE)
        CHANGED.notify_all()


# ------------------------------------------------------------------------------ timers

TIMERS = []
TIMER_CV = threading.Condition()


def later(delay, fn):
    with TIMER_CV:
        heapq.heappush(TIMERS, (time.time() + delay, id(fn), fn))
        TIMER_CV.notify()


def timer_loop():
    while True:
        with TIMER_CV:
            while not TIMERS or TIMERS[0][0] > time.time():
                TIMER_CV.wait(0.05 if TIMERS else 1.0)
            _, _, fn = heapq.heappop(TIMERS)
        try:
            with LOCK:
                fn()
        except Exception as err:  # noqa: BLE001 - a timer must never kill the emulator
            log("timer failed: %r" % err)
        write_state()


# ------------------------------------------------------------------------------ fabric

def program(addrs, blackhole=False):
    """Points the router's VIP/32 at addrs (ECMP when several), or unreachable/blackhole."""
    want = ("blackhole" if blackhole else ",".join(addrs)) or "unreachable"
    if DELIVERY["to"] == want:
        return
    if blackhole:
        argv = ["ip", "route", "replace", "blackhole", VIP + "/32"]
    elif not addrs:
        argv = ["ip", "route", "replace", "unreachable", VIP + "/32"]
    elif len(addrs) == 1:
        argv = ["ip", "route", "replace", VIP + "/32", "via", addrs[0], "dev", CFG["fabricDev"]]
    else:
        argv = ["ip", "route", "replace", VIP + "/32"]
        for a in addrs:
            argv += ["nexthop", "via", a, "dev", CFG["fabricDev"]]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode != 0:
        log("route change failed: %s %s" % (" ".join(argv), r.stderr.strip()))
        return
    DELIVERY["to"] = want
    log("fabric: %s -> %s" % (VIP, want))


# ------------------------------------------------------------------------------ model

INSTANCES = CFG["instances"]  # [{name, address, mac, zone?}]
BY_ADDR = {i["address"]: i for i in INSTANCES}


class Aws(object):
    def __init__(self, c):
        self.region = c["region"]
        self.account = "123456789012"
        self.subnet = {"id": c.get("subnetId", "subnet-0a1b2c3d4e5f60718"), "cidr": c["subnetCidr"]}
        self.enis = {}
        for i, inst in enumerate(INSTANCES):
            eni = {"id": inst["eni"], "instance": inst["id"], "mac": inst["mac"], "primary": inst["address"],
                   "secondaries": list(inst.get("secondaries", [])), "srcDestCheck": inst.get("srcDestCheck", True),
                   "device": 0}
            self.enis[eni["id"]] = eni
            eni["effective"] = list(eni["secondaries"])
        self.tables = {t["id"]: {"id": t["id"], "routes": {r["dest"]: r["eni"] for r in t.get("routes", [])}}
                       for t in c.get("routeTables", [])}
        self.fabric_table = c.get("fabricRouteTable")
        self.effective_routes = {k: dict(v["routes"]) for k, v in self.tables.items()}
        self.creds = {}  # access key -> {secret, token, instance}
        for k in c.get("staticCredentials", []):
            self.creds[k["accessKeyId"]] = {"secret": k["secretAccessKey"], "token": k.get("sessionToken"), "who": "static"}
        self.imds_tokens = {}

    def eni_of(self, inst):
        return self.enis[inst["eni"]]

    def refresh(self):
        for eni in self.enis.values():
            eni["effective"] = list(eni["secondaries"])
        self.effective_routes = {k: dict(v["routes"]) for k, v in self.tables.items()}
        self.deliver()

    def deliver(self):
        if CFG["mode"] == "secondary-ip":
            holders = [e["primary"] for e in self.enis.values() if VIP in e["effective"]]
            program(holders)
        else:
            target = self.effective_routes.get(self.fabric_table, {}).get(VIP + "/32")
            eni = self.enis.get(target)
            if eni is None:
                program([])
            elif eni["srcDestCheck"]:
                program([], blackhole=True)
            else:
                program([eni["primary"]])

    def owners(self):
        if CFG["mode"] == "secondary-ip":
            return sorted(name_of(e["primary"]) for e in self.enis.values() if VIP in e["secondaries"])
        target = self.tables.get(self.fabric_table, {"routes": {}})["routes"].get(VIP + "/32")
        return [name_of(self.enis[target]["primary"])] if target in self.enis else []

    def snapshot(self):
        return {"enis": {k: {"secondaries": v["secondaries"], "srcDestCheck": v["srcDestCheck"]} for k, v in self.enis.items()},
                "routeTables": {k: v["routes"] for k, v in self.tables.items()}}


class Gce(object):
    def __init__(self, c):
        self.project = c["project"]
        self.number = c.get("projectNumber", "842731")
        self.region = c["region"]
        self.network = c.get("network", "default")
        self.subnet = c["subnetCidr"]
        self.instances = {}
        self.seq = 0
        for inst in INSTANCES:
            # instance names differ from node names, as they may in real projects
            self.instances[inst["instance"]] = {
                "name": inst["instance"], "node": inst["name"], "zone": inst["zone"], "address": inst["address"],
                "id": str(4000 + len(self.instances)),
                "canIpForward": inst.get("canIpForward", False),
                "nic": {"name": "nic0", "networkIP": inst["address"], "fingerprint": token(8),
                        "aliasIpRanges": [{"ipCidrRange": a} for a in inst.get("aliases", [])]},
            }
        self.routes = {}
        for r in c.get("routes", []):
            self.routes[r["name"]] = self.route_obj(r["name"], r["destRange"], r.get("priority", 1000), r["instance"])
        self.ops = {}
        self.tokens = {t: "static" for t in c.get("staticTokens", [])}

    def link(self, *parts):
        return GCE_LINK + "projects/%s/" % self.project + "/".join(parts)

    def inst_link(self, inst):
        return self.link("zones", inst["zone"], "instances", inst["name"])

    def route_obj(self, name, dest, prio, inst_name):
        inst = self.instances[inst_name]
        self.seq += 1
        return {"kind": "compute#route", "id": str(7000 + self.seq), "name": name, "destRange": dest,
                "priority": prio, "network": self.link("global", "networks", self.network),
                "nextHopInstance": self.inst_link(inst), "selfLink": self.link("global", "routes", name),
                "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000-00:00", time.gmtime())}

    def instance_json(self, inst):
        nic = inst["nic"]
        return {
            "kind": "compute#instance", "id": inst["id"], "name": inst["name"], "status": "RUNNING",
            "zone": self.link("zones", inst["zone"]), "selfLink": self.inst_link(inst),
            "canIpForward": inst["canIpForward"],
            "networkInterfaces": [{
                "kind": "compute#networkInterface", "name": nic["name"], "networkIP": nic["networkIP"],
                "network": self.link("global", "networks", self.network),
                "subnetwork": self.link("regions", self.region, "subnetworks", self.network),
                "fingerprint": nic["fingerprint"],
                **({"aliasIpRanges": [dict(a) for a in nic["aliasIpRanges"]]} if nic["aliasIpRanges"] else {}),
            }],
        }

    def deliver(self):
        if CFG["mode"] == "alias-ip":
            program([i["address"] for i in self.instances.values()
                     if any(_covers(a["ipCidrRange"], VIP) for a in i["nic"]["aliasIpRanges"])])
            return
        best, best_len = [], -1
        for r in self.routes.values():
            net = ipaddress.ip_network(r["destRange"], strict=False)
            if ipaddress.ip_address(VIP) not in net:
                continue
            if net.prefixlen > best_len:
                best, best_len = [r], net.prefixlen
            elif net.prefixlen == best_len:
                best.append(r)
        if best:
            top = min(r["priority"] for r in best)
            best = [r for r in best if r["priority"] == top]
        hops = sorted({self.instances[r["nextHopInstance"].rsplit("/", 1)[1]]["name"] for r in best})
        insts = [self.instances[n] for n in hops]
        if insts and not all(i["canIpForward"] for i in insts):
            program([], blackhole=True)
        else:
            program([i["address"] for i in insts])

    def owners(self):
        if CFG["mode"] == "alias-ip":
            return sorted(i["node"] for i in self.instances.values()
                          if any(_covers(a["ipCidrRange"], VIP) for a in i["nic"]["aliasIpRanges"]))
        cands = [r for r in self.routes.values() if r["destRange"] == VIP + "/32"]
        if not cands:
            return []
        top = min(r["priority"] for r in cands)
        return sorted({self.instances[r["nextHopInstance"].rsplit("/", 1)[1]]["node"] for r in cands if r["priority"] == top})

    def snapshot(self):
        return {"aliases": {i["node"]: [a["ipCidrRange"] for a in i["nic"]["aliasIpRanges"]] for i in self.instances.values()},
                "routes": {n: {"destRange": r["destRange"], "priority": r["priority"],
                               "nextHop": r["nextHopInstance"].rsplit("/", 1)[1]} for n, r in self.routes.items()},
                "ops": len(self.ops)}


def _covers(cidr, addr):
    try:
        return ipaddress.ip_address(addr) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


AWS = Aws(CFG["aws"]) if PROVIDER == "aws" else None
GCE = Gce(CFG["gce"]) if PROVIDER == "gce" else None
AZURE = {n["address"]: {"healthy": False, "ok": 0, "bad": 0} for n in INSTANCES} if PROVIDER == "azure" else None


def owners():
    if AWS:
        return AWS.owners()
    if GCE:
        return GCE.owners()
    return sorted(name_of(a) for a, h in AZURE.items() if h["healthy"])


def api_snapshot():
    if AWS:
        return AWS.snapshot()
    if GCE:
        return GCE.snapshot()
    return {"probe": {name_of(a): h["healthy"] for a, h in AZURE.items()}}


# ------------------------------------------------------------------------------ HTTP plumbing

class Reply(Exception):
    def __init__(self, status, body, ctype="text/plain", headers=None):
        Exception.__init__(self, status)
        self.status, self.body, self.ctype, self.headers = status, body, ctype, headers or {}


class Base(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lbbake-lab-cloud"

    def log_message(self, fmt, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype="text/plain", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def dispatch(self):
        caller = self.client_address[0]
        try:
            data = self.body()
            self.handle_request(caller, data)
        except Reply as r:
            self.send(r.status, r.body, r.ctype, r.headers)
        except Exception as err:  # noqa: BLE001 - an emulator bug answers 500 and is logged
            log("handler error %s %s: %r" % (self.command, self.path, err))
            self.send(500, "emulator error: %r\n" % err)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = dispatch


# ------------------------------------------------------------------------------ EC2 IMDSv2

def imds(handler, caller, data):
    if handler.headers.get("X-Forwarded-For"):
        raise Reply(403, "Forbidden")
    inst = BY_ADDR.get(caller)
    path = urllib.parse.urlsplit(handler.path).path
    if handler.command == "PUT" and path == "/latest/api/token":
        ttl = handler.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            raise Reply(400, "Bad Request")
        if inst is None:
            raise Reply(403, "Forbidden")
        t = token(40)
        with LOCK:
            AWS.imds_tokens[t] = (inst["address"], time.time() + int(ttl))
        raise Reply(200, t, headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl})
    if handler.command != "GET":
        raise Reply(405, "Method Not Allowed")
    if not path.startswith("/latest/"):
        raise Reply(404, "Not Found")
    t = handler.headers.get("X-aws-ec2-metadata-token")
    with LOCK:
        known = AWS.imds_tokens.get(t or "")
    if known is None or known[0] != caller or known[1] < time.time():
        raise Reply(401, "Unauthorized")
    if inst is None:
        raise Reply(404, "Not Found")
    rel = path[len("/latest/meta-data/"):] if path.startswith("/latest/meta-data/") else None
    if rel is None:
        raise Reply(404, "Not Found")
    with LOCK:
        eni = AWS.eni_of(inst)
        items = {
            "instance-id": inst["id"], "mac": inst["mac"], "local-ipv4": inst["address"],
            "placement/region": AWS.region, "placement/availability-zone": AWS.region + "a",
            "network/interfaces/macs/": inst["mac"] + "/",
            "network/interfaces/macs/%s/interface-id" % inst["mac"]: eni["id"],
            "network/interfaces/macs/%s/local-ipv4s" % inst["mac"]: "\n".join([eni["primary"]] + eni["effective"]),
            "network/interfaces/macs/%s/subnet-id" % inst["mac"]: AWS.subnet["id"],
            "network/interfaces/macs/%s/device-number" % inst["mac"]: "0",
            "iam/security-credentials/": CFG["aws"]["role"],
        }
        for k, v in inst.get("tags", {}).items():
            items["tags/instance/" + k] = v
        if rel == "iam/security-credentials/" + CFG["aws"]["role"]:
            key = "ASIA" + "".join(RNG.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
            secret, tok = token(30), token(60)
            life = float(setting("credentialSeconds", 3600))
            AWS.creds[key] = {"secret": secret, "token": tok, "who": inst["name"], "expires": time.time() + life}
            body = json.dumps({"Code": "Success", "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "Type": "AWS-HMAC", "AccessKeyId": key, "SecretAccessKey": secret, "Token": tok,
                               "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + life))})
            raise Reply(200, body)
    if rel in items:
        raise Reply(200, items[rel])
    raise Reply(404, "Not Found")


# ------------------------------------------------------------------------------ EC2 Query API

class Ec2Error(Exception):
    def __init__(self, status, code, message):
        Exception.__init__(self, code)
        self.status, self.code, self.message = status, code, message


def ec2_error_body(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code><Message>%s</Message>'
            '</Error></Errors><RequestID>%s</RequestID></Response>' % (escape(code), escape(message), rid()))


def sigv4_check(handler, data):
    auth = handler.headers.get("Authorization", "")
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, *"
                 r"SignedHeaders=([^,]+), *Signature=([0-9a-f]{64})$", auth)
    if not m:
        raise Ec2Error(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
    key, day, region, service, signed, sig = m.groups()
    with LOCK:
        cred = AWS.creds.get(key)
    if cred is None:
        raise Ec2Error(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
    if cred.get("expires") and cred["expires"] < time.time():
        raise Ec2Error(400, "RequestExpired", "Request has expired.")
    if service != "ec2" or region != AWS.region:
        raise Ec2Error(401, "AuthFailure", "Credential should be scoped to a valid region.")
    if cred.get("token") and handler.headers.get("X-Amz-Security-Token") != cred["token"]:
        raise Ec2Error(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
    amz_date = handler.headers.get("X-Amz-Date", "")
    if not amz_date.startswith(day):
        raise Ec2Error(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
    names = signed.split(";")
    if "host" not in names or (cred.get("token") and "x-amz-security-token" not in names and
                               "X-Amz-Security-Token" not in handler.path):
        raise Ec2Error(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
    parts = urllib.parse.urlsplit(handler.path)
    query = sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    cq = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~")) for k, v in query)
    ch = "".join("%s:%s\n" % (n, " ".join((handler.headers.get(n) or "").split())) for n in names)
    payload = handler.headers.get("X-Amz-Content-SHA256") or hashlib.sha256(data).hexdigest()
    creq = "\n".join([handler.command, urllib.parse.quote(parts.path or "/", safe="/-_.~"), cq, ch, signed, payload])
    scope = "%s/%s/%s/aws4_request" % (day, region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = hmac.new(("AWS4" + cred["secret"]).encode(), day.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig):
        log("signature mismatch; canonical request was:\n%s" % creq)
        raise Ec2Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                                                     "signature you provided. Check your AWS Secret Access Key and signing method.")
    return cred


def indexed(params, prefix):
    """Values of PREFIX.1, PREFIX.2, ... in order."""
    out = []
    for k in sorted((k for k in params if re.fullmatch(re.escape(prefix) + r"\.\d+", k)), key=lambda k: int(k.rsplit(".", 1)[1])):
        out.append(params[k])
    return out


def filters(params):
    out = {}
    for k in params:
        m = re.fullmatch(r"Filter\.(\d+)\.Name", k)
        if m:
            out[params[k]] = indexed(params, "Filter.%s.Value" % m.group(1))
    return out


def eni_xml(e):
    inst = next(i for i in INSTANCES if i["eni"] == e["id"])
    addrs = "".join("<item><privateIpAddress>%s</privateIpAddress><primary>%s</primary></item>" % (a, "true" if a == e["primary"] else "false")
                    for a in [e["primary"]] + e["secondaries"])
    return ("<item><networkInterfaceId>%s</networkInterfaceId><subnetId>%s</subnetId><vpcId>vpc-0a1b2c3d4e5f60718</vpcId>"
            "<availabilityZone>%sa</availabilityZone><description/><ownerId>%s</ownerId><requesterManaged>false</requesterManaged>"
            "<status>in-use</status><macAddress>%s</macAddress><privateIpAddress>%s</privateIpAddress>"
            "<sourceDestCheck>%s</sourceDestCheck><groupSet/><attachment><attachmentId>eni-attach-%s</attachmentId>"
            "<instanceId>%s</instanceId><instanceOwnerId>%s</instanceOwnerId><deviceIndex>0</deviceIndex><status>attached</status>"
            "<deleteOnTermination>true</deleteOnTermination></attachment><tagSet/><privateIpAddressesSet>%s</privateIpAddressesSet>"
            "<interfaceType>interface</interfaceType></item>") % (
        e["id"], AWS.subnet["id"], AWS.region, AWS.account, e["mac"], e["primary"],
        "true" if e["srcDestCheck"] else "false", e["id"][4:], inst["id"], AWS.account, addrs)


def ec2_respond(action, inner):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="%s"><requestId>%s</requestId>%s</%sResponse>'
            % (action, EC2_NS, rid(), inner, action))


def need(params, name):
    v = params.get(name)
    if not v:
        raise Ec2Error(400, "MissingParameter", "The request must contain the parameter %s" % name)
    return v


def eni_param(params):
    eid = need(params, "NetworkInterfaceId")
    if eid not in AWS.enis:
        raise Ec2Error(400, "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist" % eid)
    return AWS.enis[eid]


def table_param(params):
    tid = need(params, "RouteTableId")
    if tid not in AWS.tables:
        raise Ec2Error(400, "InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist" % tid)
    return AWS.tables[tid]


def ec2_action(caller, action, p):
    delay = float(setting("remapDelay", CFG.get("remapDelay", 1.0)))
    if action == "DescribeNetworkInterfaces":
        ids = indexed(p, "NetworkInterfaceId")
        fl = filters(p)
        for name in fl:
            if name not in ("addresses.private-ip-address", "network-interface-id", "attachment.instance-id", "private-ip-address"):
                raise Ec2Error(400, "InvalidParameterValue", "The filter '%s' is invalid" % name)
        for i in ids:
            if i not in AWS.enis:
                raise Ec2Error(400, "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist" % i)
        out = []
        for e in AWS.enis.values():
            inst = next(i for i in INSTANCES if i["eni"] == e["id"])
            if ids and e["id"] not in ids:
                continue
            ok = True
            for name, vals in fl.items():
                have = {"addresses.private-ip-address": [e["primary"]] + e["secondaries"], "network-interface-id": [e["id"]],
                        "attachment.instance-id": [inst["id"]], "private-ip-address": [e["primary"]]}[name]
                ok = ok and any(v in have for v in vals)
            if ok:
                out.append(eni_xml(e))
        return ec2_respond(action, "<networkInterfaceSet>%s</networkInterfaceSet>" % "".join(out))
    if action == "AssignPrivateIpAddresses":
        eni = eni_param(p)
        ips = indexed(p, "PrivateIpAddress")
        if p.get("SecondaryPrivateIpAddressCount"):
            if ips:
                raise Ec2Error(400, "InvalidParameterCombination", "PrivateIpAddresses and SecondaryPrivateIpAddressCount cannot be used together")
            raise Ec2Error(400, "InvalidParameterValue", "SecondaryPrivateIpAddressCount is not supported by this emulator")
        if not ips:
            raise Ec2Error(400, "MissingParameter", "The request must contain the parameter PrivateIpAddress or SecondaryPrivateIpAddressCount")
        realloc = p.get("AllowReassignment", "false").lower() == "true"
        for ip in ips:
            if not _covers(AWS.subnet["cidr"], ip):
                raise Ec2Error(400, "InvalidParameterValue", "Address %s does not fall within the subnet's address range" % ip)
            holder = next((e for e in AWS.enis.values() if ip in [e["primary"]] + e["secondaries"] and e is not eni), None)
            if holder is not None and (not realloc or ip == holder["primary"]):
                raise Ec2Error(400, "InvalidIPAddress.InUse", "Address %s is in use." % ip)
        for ip in ips:
            for e in AWS.enis.values():
                if ip in e["secondaries"] and e is not eni:
                    e["secondaries"].remove(ip)
            if ip not in eni["secondaries"]:
                eni["secondaries"].append(ip)
        mutated(caller, action, "%s -> %s" % (",".join(ips), eni["id"]))
        later(delay, AWS.refresh)
        items = "".join("<item><privateIpAddress>%s</privateIpAddress></item>" % ip for ip in ips)
        return ec2_respond(action, "<networkInterfaceId>%s</networkInterfaceId><assignedPrivateIpAddressesSet>%s"
                                   "</assignedPrivateIpAddressesSet>" % (eni["id"], items))
    if action == "UnassignPrivateIpAddresses":
        eni = eni_param(p)
        ips = indexed(p, "PrivateIpAddress")
        for ip in ips:
            if ip not in eni["secondaries"]:
                raise Ec2Error(400, "InvalidParameterValue", "Some of the specified addresses are not assigned to interface %s" % eni["id"])
        for ip in ips:
            eni["secondaries"].remove(ip)
        mutated(caller, action, "%s from %s" % (",".join(ips), eni["id"]))
        later(delay, AWS.refresh)
        return ec2_respond(action, "<return>true</return>")
    if action == "DescribeRouteTables":
        ids = indexed(p, "RouteTableId")
        for i in ids:
            if i not in AWS.tables:
                raise Ec2Error(400, "InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist" % i)
        fl = filters(p)
        for name in fl:
            if name not in ("route-table-id", "route.destination-cidr-block"):
                raise Ec2Error(400, "InvalidParameterValue", "The filter '%s' is invalid" % name)
        out = []
        for t in AWS.tables.values():
            if ids and t["id"] not in ids:
                continue
            if "route-table-id" in fl and t["id"] not in fl["route-table-id"]:
                continue
            if "route.destination-cidr-block" in fl and not any(d in t["routes"] for d in fl["route.destination-cidr-block"]):
                continue
            routes = "<item><destinationCidrBlock>%s</destinationCidrBlock><gatewayId>local</gatewayId>" \
                     "<state>active</state><origin>CreateRouteTable</origin></item>" % CFG["aws"]["vpcCidr"]
            for dest, eid in sorted(t["routes"].items()):
                e = AWS.enis[eid]
                routes += ("<item><destinationCidrBlock>%s</destinationCidrBlock><instanceId>%s</instanceId>"
                           "<instanceOwnerId>%s</instanceOwnerId><networkInterfaceId>%s</networkInterfaceId>"
                           "<state>active</state><origin>CreateRoute</origin></item>") % (
                    dest, next(i["id"] for i in INSTANCES if i["eni"] == eid), AWS.account, e["id"])
            out.append("<item><routeTableId>%s</routeTableId><vpcId>vpc-0a1b2c3d4e5f60718</vpcId><ownerId>%s</ownerId>"
                       "<routeSet>%s</routeSet><associationSet/><propagatingVgwSet/><tagSet/></item>" % (t["id"], AWS.account, routes))
        return ec2_respond(action, "<routeTableSet>%s</routeTableSet>" % "".join(out))
    if action in ("ReplaceRoute", "CreateRoute"):
        t = table_param(p)
        dest = need(p, "DestinationCidrBlock")
        eni = eni_param(p)
        try:
            ipaddress.ip_network(dest)
        except ValueError:
            raise Ec2Error(400, "InvalidParameterValue", "Value (%s) for parameter destinationCidrBlock is invalid. "
                                                         "This is not a valid CIDR block." % dest)
        if action == "ReplaceRoute" and dest not in t["routes"]:
            raise Ec2Error(400, "InvalidParameterValue", "There is no route defined for '%s' in the route table. "
                                                         "Use CreateRoute instead." % dest)
        if action == "CreateRoute" and dest in t["routes"]:
            raise Ec2Error(400, "RouteAlreadyExists", "The route identified by %s already exists." % dest)
        t["routes"][dest] = eni["id"]
        mutated(caller, action, "%s %s -> %s" % (t["id"], dest, eni["id"]))
        later(delay, AWS.refresh)
        return ec2_respond(action, "<return>true</return>")
    if action == "ModifyNetworkInterfaceAttribute":
        eni = eni_param(p)
        v = p.get("SourceDestCheck.Value")
        if v is None:
            raise Ec2Error(400, "MissingParameter", "The request must contain the parameter SourceDestCheck")
        eni["srcDestCheck"] = v.lower() == "true"
        mutated(caller, action, "%s sourceDestCheck=%s" % (eni["id"], eni["srcDestCheck"]))
        later(0, AWS.refresh)
        return ec2_respond(action, "<return>true</return>")
    raise Ec2Error(400, "InvalidAction", "The action %s is not valid for this web service." % action)


def ec2(handler, caller, data):
    action = "?"
    try:
        if handler.command != "POST":
            raise Ec2Error(400, "InvalidAction", "The emulator accepts POST only")
        p = dict(urllib.parse.parse_qsl(data.decode("utf-8"), keep_blank_values=True))
        action = p.get("Action", "?")
        if p.get("Version") != "2016-11-15":
            raise Ec2Error(400, "InvalidParameterValue", "Invalid API version %s" % p.get("Version"))
        sigv4_check(handler, data)
        fl = fault_for(caller, action, "api")
        if fl:
            if fl["kind"] == "hang":
                time.sleep(max(0, min(60, fl["until"] - time.time())))
            if fl["kind"] == "error":
                raise Ec2Error(500, "InternalError", "An internal error has occurred")
            raise Ec2Error(503, "RequestLimitExceeded", "Request limit exceeded.")
        with LOCK:
            body = ec2_action(caller, action, p)
        count(caller, action, "ok")
        write_state()
        raise Reply(200, body, "text/xml;charset=UTF-8")
    except Ec2Error as e:
        count(caller, action, e.code)
        log("ec2 %s %s from %s: %s %s" % (action, e.status, name_of(caller), e.code, e.message))
        write_state()
        raise Reply(e.status, ec2_error_body(e.code, e.message), "text/xml;charset=UTF-8")


# ------------------------------------------------------------------------------ GCE metadata

def gce_md(handler, caller, data):
    headers = {"Metadata-Flavor": "Google"}
    if handler.headers.get("X-Forwarded-For") or handler.headers.get("Metadata-Flavor") != "Google":
        raise Reply(403, "Missing required header: Metadata-Flavor\n", headers=headers)
    inst_cfg = BY_ADDR.get(caller)
    if inst_cfg is None:
        raise Reply(404, "not found\n", headers=headers)
    path = urllib.parse.urlsplit(handler.path).path
    rel = path[len("/computeMetadata/v1/"):] if path.startswith("/computeMetadata/v1/") else None
    with LOCK:
        inst = GCE.instances[inst_cfg["instance"]]
        items = {
            "instance/name": inst["name"], "instance/id": inst["id"],
            "instance/zone": "projects/%s/zones/%s" % (GCE.number, inst["zone"]),
            "project/project-id": GCE.project, "project/numeric-project-id": GCE.number,
            "instance/network-interfaces/0/ip": inst["address"],
            "instance/network-interfaces/0/ip-aliases/": "".join(a["ipCidrRange"] + "\n" for a in inst["nic"]["aliasIpRanges"]),
            "instance/service-accounts/default/email": "lbbake-lab@%s.iam.gserviceaccount.com" % GCE.project,
        }
        for k, v in inst_cfg.get("attributes", {}).items():
            items["instance/attributes/" + k] = v
        if rel == "instance/service-accounts/default/token":
            t = "ya29." + token(40)
            GCE.tokens[t] = inst["name"]
            raise Reply(200, json.dumps({"access_token": t, "expires_in": 3599, "token_type": "Bearer"}),
                        "application/json", headers)
    if rel in items:
        raise Reply(200, items[rel], "application/text", headers)
    raise Reply(404, "not found\n", "text/html", headers)


# ------------------------------------------------------------------------------ GCE API

class GceError(Exception):
    def __init__(self, status, reason, message, extra=None):
        Exception.__init__(self, reason)
        self.status, self.reason, self.message, self.extra = status, reason, message, extra or {}


def gce_error_body(e):
    body = {"error": {"code": e.status, "message": e.message,
                      "errors": [{"message": e.message, "domain": "global", "reason": e.reason}]}}
    body["error"].update(e.extra)
    return json.dumps(body)


def not_found(what):
    return GceError(404, "notFound", "The resource '%s' was not found" % what)


def new_op(kind, target, scope, apply_fn):
    """An Operation RUNNING now, DONE after opDelay, when apply_fn runs (it may return an error)."""
    name = "operation-%d-%s" % (int(time.time() * 1000), token(6).lower().replace("_", "a").replace("-", "b"))
    scope_link = GCE.link(*scope) if scope else None
    op = {"kind": "compute#operation", "id": str(RNG.getrandbits(60)), "name": name, "operationType": kind,
          "targetLink": target, "status": "RUNNING", "progress": 0, "user": "lbbake-lab@%s.iam.gserviceaccount.com" % GCE.project,
          "insertTime": time.strftime("%Y-%m-%dT%H:%M:%S.000-00:00", time.gmtime()),
          "selfLink": (scope_link or GCE.link("global")) + "/operations/" + name}
    if scope and scope[0] == "zones":
        op["zone"] = scope_link
    GCE.ops[name] = op

    def done():
        err = apply_fn()
        op["status"], op["progress"] = "DONE", 100
        op["endTime"] = time.strftime("%Y-%m-%dT%H:%M:%S.000-00:00", time.gmtime())
        if err:
            op["error"] = {"errors": [err]}
            op["httpErrorStatusCode"], op["httpErrorMessage"] = 400, "BAD REQUEST"
        GCE.deliver()

    later(float(setting("opDelay", CFG.get("opDelay", 0.5))), done)
    return op


def gce_route(handler, caller, data):
    parts = urllib.parse.urlsplit(handler.path)
    q = dict(urllib.parse.parse_qsl(parts.query))
    segs = parts.path.strip("/").split("/")
    if segs[:2] != ["compute", "v1"] or len(segs) < 4 or segs[2] != "projects":
        raise not_found(parts.path)
    if segs[3] != GCE.project:
        raise GceError(403, "forbidden", "Required 'compute.instances.get' permission for 'projects/%s'" % segs[3])
    s = segs[4:]
    m = handler.command
    body = {}
    if data:
        try:
            body = json.loads(data.decode())
        except ValueError:
            raise GceError(400, "parseError", "Parse Error")
    if len(s) == 4 and s[0] == "zones" and s[2] == "instances" and m == "GET":
        inst = GCE.instances.get(s[3])
        if inst is None or inst["zone"] != s[1]:
            raise not_found("projects/%s/zones/%s/instances/%s" % (GCE.project, s[1], s[3]))
        return "instances.get", GCE.instance_json(inst)
    if len(s) == 2 and s == ["aggregated", "instances"] and m == "GET":
        zones = sorted({i["zone"] for i in GCE.instances.values()} | set(CFG["gce"].get("extraZones", [])))
        items = {}
        for z in zones:
            insts = [GCE.instance_json(i) for i in GCE.instances.values() if i["zone"] == z]
            items["zones/" + z] = {"instances": insts} if insts else {
                "warning": {"code": "NO_RESULTS_ON_PAGE", "message": "There are no results for scope 'zones/%s' on this page." % z,
                            "data": [{"key": "scope", "value": "zones/" + z}]}}
        return "instances.aggregatedList", {"kind": "compute#instanceAggregatedList", "id": "projects/%s/aggregated/instances" % GCE.project,
                                            "items": items, "selfLink": GCE.link("aggregated", "instances")}
    if len(s) == 5 and s[0] == "zones" and s[2] == "instances" and s[4] == "updateNetworkInterface" and m == "PATCH":
        inst = GCE.instances.get(s[3])
        if inst is None or inst["zone"] != s[1]:
            raise not_found("projects/%s/zones/%s/instances/%s" % (GCE.project, s[1], s[3]))
        if q.get("networkInterface") != "nic0":
            raise GceError(400, "invalid", "Invalid value for field 'networkInterface': '%s'." % q.get("networkInterface", ""))
        fp = body.get("fingerprint")
        if not fp:
            raise GceError(400, "required", "Required field 'resource.fingerprint' not specified")
        if fp != inst["nic"]["fingerprint"]:
            raise GceError(412, "conditionNotMet", "Supplied fingerprint does not match current metadata fingerprint.")
        ranges = body.get("aliasIpRanges", [])
        for n, a in enumerate(ranges):
            c = a.get("ipCidrRange", "")
            try:
                net = ipaddress.ip_network(c, strict=True)
            except ValueError:
                raise GceError(400, "invalid", "Invalid value for field 'resource.aliasIpRanges[%d].ipCidrRange': '%s'." % (n, c))
            if not net.subnet_of(ipaddress.ip_network(GCE.subnet)):
                raise GceError(400, "invalid", "Invalid value for field 'resource.aliasIpRanges[%d].ipCidrRange': '%s'. "
                                               "The IP range must belong to the subnetwork's primary or a secondary range." % (n, c))
        new = [{"ipCidrRange": a["ipCidrRange"]} for a in ranges]
        inst["nic"]["fingerprint"] = token(8)  # a pending update makes the old fingerprint stale at once

        def apply():
            for a in new:
                for other in GCE.instances.values():
                    if other is not inst and any(_covers(b["ipCidrRange"], a["ipCidrRange"].split("/")[0]) for b in other["nic"]["aliasIpRanges"]):
                        return {"code": "IP_IN_USE_BY_ANOTHER_RESOURCE",
                                "message": "IP '%s' is already being used by another resource." % a["ipCidrRange"].split("/")[0]}
            inst["nic"]["aliasIpRanges"] = new
            inst["nic"]["fingerprint"] = token(8)
            mutated(caller, "updateNetworkInterface", "%s aliases=%s" % (inst["name"], ",".join(a["ipCidrRange"] for a in new) or "none"))
            return None
        return "instances.updateNetworkInterface", new_op("updateNetworkInterface", GCE.inst_link(inst), ["zones", inst["zone"]], apply)
    if len(s) >= 4 and s[0] in ("zones", "global") and "operations" in s:
        name = s[-2] if s[-1] == "wait" else s[-1]
        op = GCE.ops.get(name)
        if op is None:
            raise not_found("projects/%s/%s/operations/%s" % (GCE.project, "/".join(s[:2]) if s[0] == "zones" else "global", name))
        if s[-1] == "wait" and m == "POST":
            deadline = time.time() + 30
            while op["status"] != "DONE" and time.time() < deadline:
                CHANGED.wait(0.5)
            return "operations.wait", dict(op)
        if m == "GET":
            return "operations.get", dict(op)
    if s[:2] == ["global", "routes"]:
        if len(s) == 2 and m == "GET":
            f = q.get("filter", "")
            mm = re.fullmatch(r'\(?\s*destRange\s*(?:=|eq)\s*"?([0-9./]+)"?\s*\)?', f) if f else None
            if f and not mm:
                raise GceError(400, "invalid", "Invalid value for field 'filter': '%s'. Invalid list filter expression." % f)
            items = [r for r in GCE.routes.values() if not mm or r["destRange"] == mm.group(1)]
            out = {"kind": "compute#routeList", "id": "projects/%s/global/routes" % GCE.project, "selfLink": GCE.link("global", "routes")}
            if items:
                out["items"] = sorted(items, key=lambda r: r["name"])
            return "routes.list", out
        if len(s) == 2 and m == "POST":
            name = body.get("name", "")
            if not re.fullmatch(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", name):
                raise GceError(400, "invalid", "Invalid value for field 'resource.name': '%s'. Must be a match of regex "
                                               "'(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'" % name)
            if name in GCE.routes:
                raise GceError(409, "alreadyExists", "The resource 'projects/%s/global/routes/%s' already exists" % (GCE.project, name))
            if body.get("network") not in (GCE.link("global", "networks", GCE.network), "global/networks/" + GCE.network,
                                           "projects/%s/global/networks/%s" % (GCE.project, GCE.network)):
                raise GceError(400, "invalid", "Invalid value for field 'resource.network': '%s'." % body.get("network"))
            dest = body.get("destRange", "")
            try:
                net = ipaddress.ip_network(dest)
            except ValueError:
                raise GceError(400, "invalid", "Invalid value for field 'resource.destRange': '%s'." % dest)
            if net.overlaps(ipaddress.ip_network(GCE.subnet)):
                raise GceError(400, "invalid", "Invalid value for field 'resource.destRange': '%s'. The destination range "
                                               "overlaps the range of subnetwork '%s'." % (dest, GCE.network))
            prio = body.get("priority", 1000)
            if not isinstance(prio, int) or not 0 <= prio <= 65535:
                raise GceError(400, "invalid", "Invalid value for field 'resource.priority': '%s'." % prio)
            hop = (body.get("nextHopInstance") or "").rsplit("/", 1)[-1]
            if hop not in GCE.instances:
                raise GceError(400, "invalid", "Invalid value for field 'resource.nextHopInstance': '%s'." % body.get("nextHopInstance"))
            obj = GCE.route_obj(name, str(net), prio, hop)

            def apply():
                GCE.routes[name] = obj
                mutated(caller, "routes.insert", "%s %s prio %d -> %s" % (name, dest, prio, hop))
            return "routes.insert", new_op("insert", obj["selfLink"], None, apply)
        if len(s) == 3 and m == "GET":
            r = GCE.routes.get(s[2])
            if r is None:
                raise not_found("projects/%s/global/routes/%s" % (GCE.project, s[2]))
            return "routes.get", r
        if len(s) == 3 and m == "DELETE":
            r = GCE.routes.get(s[2])
            if r is None:
                raise not_found("projects/%s/global/routes/%s" % (GCE.project, s[2]))

            def apply():
                if GCE.routes.pop(s[2], None) is not None:
                    mutated(caller, "routes.delete", s[2])
            return "routes.delete", new_op("delete", r["selfLink"], None, apply)
    raise not_found(parts.path)


def gce_api(handler, caller, data):
    action = "?"
    try:
        auth = handler.headers.get("Authorization", "")
        with LOCK:
            who = GCE.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if who is None:
            raise GceError(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                             "login cookie or other valid authentication credential.", {"status": "UNAUTHENTICATED"})
        fl = fault_for(caller, urllib.parse.urlsplit(handler.path).path, "api")
        if fl:
            if fl["kind"] == "hang":
                time.sleep(max(0, min(60, fl["until"] - time.time())))
            if fl["kind"] == "error":
                raise GceError(503, "backendError", "Backend Error", {"status": "UNAVAILABLE"})
            raise GceError(429, "rateLimitExceeded", "Quota exceeded for quota metric 'Queries' and limit 'Queries per "
                                                     "minute' of service 'compute.googleapis.com'.", {"status": "RESOURCE_EXHAUSTED"})
        with LOCK:
            action, out = gce_route(handler, caller, data)
        count(caller, action, "ok")
        write_state()
        raise Reply(200, json.dumps(out), "application/json; charset=UTF-8")
    except GceError as e:
        count(caller, action, e.reason)
        log("gce %s %s from %s: %s %s" % (handler.command, handler.path, name_of(caller), e.status, e.message))
        write_state()
        raise Reply(e.status, gce_error_body(e), "application/json; charset=UTF-8")


# ------------------------------------------------------------------------------ Azure ILB prober

def azure_prober():
    port = CFG["azure"]["probePort"]
    interval = float(CFG["azure"].get("intervalSeconds", 1.0))
    threshold = int(CFG["azure"].get("threshold", 1))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        start = time.time()
        for addr, h in AZURE.items():
            try:
                with opener.open("http://%s:%d/" % (addr, port), timeout=min(1.0, interval)) as r:
                    ok = r.status == 200
            except Exception:  # noqa: BLE001 - any failure is an unhealthy probe
                ok = False
            with LOCK:
                if ok:
                    h["ok"], h["bad"] = h["ok"] + 1, 0
                else:
                    h["ok"], h["bad"] = 0, h["bad"] + 1
                was = h["healthy"]
                if ok and h["ok"] >= 1:
                    h["healthy"] = True
                elif not ok and h["bad"] >= threshold:
                    h["healthy"] = False
                if was != h["healthy"]:
                    log("probe %s %s" % (name_of(addr), "healthy" if h["healthy"] else "unhealthy"))
        with LOCK:
            program(sorted(a for a, h in AZURE.items() if h["healthy"]))
        write_state()
        time.sleep(max(0.05, interval - (time.time() - start)))


# ------------------------------------------------------------------------------ main

class MetadataHandler(Base):
    def handle_request(self, caller, data):
        if PROVIDER == "aws":
            imds(self, caller, data)
        elif PROVIDER == "gce":
            gce_md(self, caller, data)
        raise Reply(404, "Not Found")


class ApiHandler(Base):
    def handle_request(self, caller, data):
        if PROVIDER == "aws":
            ec2(self, caller, data)
        elif PROVIDER == "gce":
            gce_api(self, caller, data)
        raise Reply(404, "Not Found")


def serve(addr, handler):
    srv = http.server.ThreadingHTTPServer((addr, 80), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()


def main():
    with LOCK:
        if AWS:
            AWS.deliver()
        elif GCE:
            GCE.deliver()
        else:
            program([])
    write_state()
    threading.Thread(target=timer_loop, daemon=True).start()
    if PROVIDER == "azure":
        threading.Thread(target=azure_prober, daemon=True).start()
    else:
        serve(CFG["metadataAddr"], MetadataHandler)
        serve(CFG["apiAddr"], ApiHandler)
    log("cloud %s %s listening (metadata %s, api %s)" % (PROVIDER, CFG["mode"], CFG.get("metadataAddr"), CFG.get("apiAddr")))
    while True:
        time.sleep(3600)


main()
