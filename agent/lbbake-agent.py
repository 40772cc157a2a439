#!/usr/bin/python3
"""lbbake boot agent (docs/agent.md): find out which LB node this machine is, install its files.

The name: override file, then instance metadata (key from cluster.json: EC2 tags, GCE
attributes, Azure tagsList, OpenStack meta, cloud-init's instance data), then this machine's
addresses. Only a node name of cluster.json is accepted, and only if its nodes[].address is
here (fails closed); failures that may pass are retried for LBBAKE_WINDOW s. The files are
installed atomically (shared, filled from this node's row of cluster.json, or its own copy;
secrets from /etc/lbbake/secrets.json), changed services reloaded, and /run/lbbake/node marks
the success: `--check` (keepalived's ExecStartPre) passes only then, so a node that does not
know its name never takes the VIP. Exit: 0 installed; 1 no node name (fail-safe); 2 cannot install.
`status [--json]`: read-only, this node's name and how it was found, VRRP state, the VIP's holder,
haproxy's servers, the last state changes and what is wrong; exit 0 nothing wrong, 1 problems.
Maintenance (README "Day 2"): drain|undrain SERVER [--service S] [--wait S] [--shutdown-sessions];
handover|takeback [--wait S] [--node N]. Exit 0 done, 1 not confirmed in time, 2 error.
Environment: LBBAKE_ROOT (moves files, not the socket), LBBAKE_{EC2,GCE,AZURE,OPENSTACK}_URL,
LBBAKE_TIMEOUT, LBBAKE_ATTEMPTS, LBBAKE_WINDOW, LBBAKE_ROUND_PAUSE, LBBAKE_SOURCES.
Python 3.6+ standard library only.
"""

import grp
import http.client
import ipaddress
import json
import os
import pwd
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PROG = "lbbake-agent"
# The one path the agent knows by itself; every other path comes from cluster.json "paths"
# (written by the generator from src/facts/node.ts).
CLUSTER_FILE = "/usr/lib/lbbake/cluster.json"
PATHS = {}
MAX_BODY = 65536
MAX_SHOWN = 60

EXIT_OK = 0
EXIT_NO_NAME = 1
EXIT_INSTALL = 2

FOUND = "found"
MISS = "miss"

DEFAULT_URLS = {
    # GCE's metadata server is also 169.254.169.254 (metadata.google.internal); the address
    # avoids a DNS lookup that can hang at boot outside GCE.
    "ec2": "http://169.254.169.254",
    "gce": "http://169.254.169.254",
    "azure": "http://169.254.169.254",
    "openstack": "http://169.254.169.254",
}
ALL_SOURCES = ("override", "ec2", "gce", "azure", "openstack", "nocloud", "address")


class AgentError(Exception):
    """Installing is impossible; the message says why and how to fix it."""


class Transient(Exception):
    """A request failed in a way that may pass (timeout, unreachable, 5xx, cut short)."""



def log(msg):
    sys.stderr.write(PROG + ": " + msg + "\n")
    sys.stderr.flush()


def shown(value, limit=MAX_SHOWN):
    """A value from outside, safe for one log line: JSON-escaped and truncated."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        value = repr(value)
    text = json.dumps(value[:limit], ensure_ascii=True)
    if len(value) > limit:
        text += " (truncated, %d characters)" % len(value)
    return text


def root():
    return os.environ.get("LBBAKE_ROOT") or "/"


def at(path):
    return os.path.join(root(), path.lstrip("/"))


def env_number(name, default, low, high):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        log("ignoring %s=%s: not a number" % (name, shown(raw)))
        return default
    return min(max(value, low), high)


def run(argv, timeout=15):
    """Runs a command; returns its stdout. Raises OSError or RuntimeError on failure."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (argv[0], proc.returncode,
                                                 shown(proc.stderr.strip(), 200)))
    return proc.stdout


# ---------------------------------------------------------------------------- HTTP

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Metadata services are link-local: never through a proxy, never redirected.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())


def describe(err):
    if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
        err = err.reason
    if isinstance(err, socket.timeout):
        return "timed out"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err) or err.__class__.__name__


class Context(object):
    def __init__(self, cfg):
        self.cfg = cfg
        self.key = cfg["metadataKey"]
        self.names = [n["name"] for n in cfg["nodes"]]
        self.timeout = env_number("LBBAKE_TIMEOUT", 2.0, 0.1, 10.0)
        self.attempts = int(env_number("LBBAKE_ATTEMPTS", 2, 1, 5))
        self.window = env_number("LBBAKE_WINDOW", 180.0, 0.0, 1800.0)
        self.round_pause = env_number("LBBAKE_ROUND_PAUSE", 2.0, 0.0, 60.0)
        wanted = os.environ.get("LBBAKE_SOURCES")
        sources = [s.strip() for s in wanted.split(",")] if wanted else cfg.get("sources", ALL_SOURCES)
        self.sources = [s for s in sources if s in ALL_SOURCES]
        self.reach = {}

    def url(self, cloud):
        env = os.environ.get("LBBAKE_%s_URL" % cloud.upper())
        return (env or DEFAULT_URLS[cloud]).rstrip("/")

    def reachable(self, url):
        """None if a TCP connection to the URL's host opens, else why not (cached per round)."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.hostname, parts.port or 80)
        if key not in self.reach:
            try:
                socket.create_connection(key, timeout=self.timeout).close()
                self.reach[key] = None
            except OSError as err:
                self.reach[key] = describe(err)
        return self.reach[key]

    def http(self, method, url, headers):
        """(status, body, headers) of answers below 500; timeouts, connection errors, 5xx and
        cut answers are retried, then raise Transient."""
        why = self.reachable(url)
        if why is not None:
            raise Transient("%s:%s not reachable (%s)" % (urllib.parse.urlsplit(url).hostname,
                                                          urllib.parse.urlsplit(url).port or 80, why))
        reason = "no attempt"
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                time.sleep(0.2 * attempt)
            data = b"" if method == "PUT" else None
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with OPENER.open(req, timeout=self.timeout) as resp:
                    body = resp.read(MAX_BODY + 1)
                    if len(body) > MAX_BODY:
                        return 413, b"", resp.headers
                    want = resp.headers.get("Content-Length") or ""
                    if want.isdigit() and int(want) != len(body):
                        raise http.client.IncompleteRead(body, int(want) - len(body))
                    return resp.status, body, resp.headers
            except urllib.error.HTTPError as err:
                if err.code < 500:
                    return err.code, b"", err.headers
                reason = "HTTP %d" % err.code
            except http.client.IncompleteRead as err:
                reason = "answer cut short (%d bytes missing)" % (err.expected or 0)
            except (OSError, ValueError, http.client.HTTPException) as err:  # not HTTP, dropped
                reason = describe(err) if isinstance(err, OSError) else repr(err)[:99]
        raise Transient("%s (%d attempt%s, %gs timeout each)" % (
            reason, self.attempts, "" if self.attempts == 1 else "s", self.timeout))


def parse_json(body, what):
    try:
        return json.loads(body.decode("utf-8"))
    except ValueError:
        raise ValueError("%s is not JSON: %s" % (what, shown(body)))


# ---------------------------------------------------------------------------- sources
# Each returns (FOUND, raw value) or (MISS, why) and raises Transient for retryable errors.

def src_override(ctx):
    path = at(PATHS["override"])
    try:
        with open(path, "rb") as f:
            return FOUND, f.read(MAX_BODY)
    except FileNotFoundError:
        return MISS, "%s not present" % PATHS["override"]
    except OSError as err:
        return MISS, "%s unreadable: %s" % (PATHS["override"], describe(err))


def src_ec2(ctx):
    base = ctx.url("ec2")
    status, token, _ = ctx.http("PUT", base + "/latest/api/token",
                                {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    if status != 200:
        return MISS, "IMDSv2 token request answered HTTP %d (not EC2?)" % status
    token = token.decode("ascii", "replace").strip()
    if not token or len(token) > 4096 or re.search(r"[^\x21-\x7e]", token):
        return MISS, "IMDSv2 answered an unusable token %s" % shown(token)
    status, body, _ = ctx.http("GET", base + "/latest/meta-data/tags/instance/" +
                               urllib.parse.quote(ctx.key, safe=""),
                               {"X-aws-ec2-metadata-token": token})
    if status == 404:
        return MISS, ("no instance tag %s in instance metadata (set the tag, and enable tags in "
                      "instance metadata: aws ec2 modify-instance-metadata-options "
                      "--instance-metadata-tags enabled)" % ctx.key)
    if status != 200:
        return MISS, "tag request answered HTTP %d" % status
    return FOUND, body


def src_gce(ctx):
    base = ctx.url("gce")
    status, body, headers = ctx.http("GET", base + "/computeMetadata/v1/instance/attributes/" +
                                     urllib.parse.quote(ctx.key, safe=""),
                                     {"Metadata-Flavor": "Google"})
    if status == 404:
        return MISS, "no instance attribute %s (gcloud compute instances add-metadata)" % ctx.key
    if status != 200:
        return MISS, "attribute request answered HTTP %d (not GCE?)" % status
    if (headers.get("Metadata-Flavor") or "") != "Google":
        return MISS, "answer lacks the Metadata-Flavor: Google header (not GCE)"
    return FOUND, body


def src_azure(ctx):
    base = ctx.url("azure")
    status, body, _ = ctx.http("GET", base + "/metadata/instance/compute/tagsList"
                               "?api-version=2021-02-01&format=json", {"Metadata": "true"})
    if status != 200:
        return MISS, "tagsList request answered HTTP %d (not Azure?)" % status
    tags = parse_json(body, "tagsList")
    if not isinstance(tags, list):
        return MISS, "tagsList is not a list: %s" % shown(body)
    for tag in tags:
        if isinstance(tag, dict) and tag.get("name") == ctx.key:
            return FOUND, tag.get("value")
    return MISS, "no tag %s on this VM (az vm update --set tags.%s=NAME)" % (ctx.key, ctx.key)


def src_openstack(ctx):
    base = ctx.url("openstack")
    status, body, _ = ctx.http("GET", base + "/openstack/latest/meta_data.json", {})
    if status != 200:
        return MISS, "meta_data.json answered HTTP %d (not OpenStack?)" % status
    data = parse_json(body, "meta_data.json")
    meta = data.get("meta") if isinstance(data, dict) else None
    if not isinstance(meta, dict) or ctx.key not in meta:
        return MISS, ("no property %s in meta_data.json meta (openstack server set --property "
                      "%s=NAME)" % (ctx.key, ctx.key))
    return FOUND, meta[ctx.key]


def src_nocloud(ctx):
    try:
        meta = json.loads(run(["cloud-init", "query", "ds.meta_data"], timeout=30))
        how = "cloud-init query ds.meta_data"
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as err:
        first = describe(err) if isinstance(err, OSError) else str(err)
        try:
            with open(at(PATHS["instanceData"]), "rb") as f:
                data = parse_json(f.read(), PATHS["instanceData"])
            meta = data.get("ds", {}).get("meta_data") if isinstance(data, dict) else None
            how = PATHS["instanceData"]
        except (OSError, ValueError, AttributeError):
            return MISS, "no cloud-init instance data (cloud-init query: %s; %s missing)" % (
                first, PATHS["instanceData"])
    # NoCloud; OpenStack meta; EC2 tags; Azure tagsList: what cloud-init already fetched
    azure = [t.get("value") for t in dig(meta, "imds", "compute", "tagsList") or [] if
             isinstance(t, dict) and t.get("name") == ctx.key]
    for found in [dig(meta, ctx.key), dig(meta, "meta", ctx.key), dig(meta, "tags", "instance", ctx.key)] + azure:
        if found is not None:
            return FOUND, found
    return MISS, "no key %s in cloud-init's instance data (%s)" % (ctx.key, how)


def dig(obj, *keys):
    """obj[k1][k2]..., None where a level is missing."""
    for k in keys:
        obj = obj.get(k) if isinstance(obj, dict) else None
    return obj


def addresses():
    """[(interface, IPv4 address)] of this machine (no loopback), from `ip`."""
    try:
        data = json.loads(run(["ip", "-j", "-4", "addr", "show"]))
        raw = [(i.get("ifname"), a.get("local")) for i in data for a in i.get("addr_info", [])
               if isinstance(a, dict) and a.get("family") == "inet"]
    except (ValueError, AttributeError, TypeError) as err:
        raise RuntimeError("ip -j: %s" % err)
    out = []
    for ifname, a in raw:
        try:
            ip = ipaddress.IPv4Address(a)
        except (ValueError, TypeError):
            continue
        if not ip.is_loopback and isinstance(ifname, str):
            out.append((ifname.split("@")[0], str(ip)))
    return out


def own_addresses():
    return list(dict.fromkeys(a for _, a in addresses()))


def write_interface(cfg, node):
    """No vip.interface: writes keepalived's "interface <the NIC with node's address>"."""
    path = cfg.get("interfaceFile")
    if not path:
        return True
    try:
        names = [i for i, a in addresses() if a == node["address"]]
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
        names = log("cannot list this machine's addresses: %s" % err) or []
    if not names:
        log("no interface holds %s (nodes[].address of %s)" % (node["address"], node["name"]))
        return False
    write_atomic(at(path), ("    interface %s\n" % names[0]).encode(), 0o644, os.getuid(), os.getgid())
    log("VRRP interface %s (it holds %s) written to %s" % (names[0], node["address"], path))
    return True


def src_address(ctx):
    try:
        mine = own_addresses()
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
        raise Transient("cannot list this machine's addresses: %s" % (
            describe(err) if isinstance(err, OSError) else err))
    if not mine:
        raise Transient("no IPv4 address yet (DHCP?)")
    matches = [n for n in ctx.cfg["nodes"] if n["address"] in mine]
    nodes = ", ".join("%s %s" % (n["name"], n["address"]) for n in ctx.cfg["nodes"])
    if not matches:
        return MISS, "none of this machine's addresses (%s) is a node address (%s)" % (
            ", ".join(mine) or "none", nodes)
    if len(matches) > 1:
        return MISS, "addresses of several nodes are on this machine (%s); ambiguous" % (
            ", ".join(n["name"] for n in matches))
    return FOUND, matches[0]["name"]


SOURCES = {
    "override": ("override", src_override),
    "ec2": ("ec2", src_ec2),
    "gce": ("gce", src_gce),
    "azure": ("azure", src_azure),
    "openstack": ("openstack", src_openstack),
    "nocloud": ("nocloud", src_nocloud),
    "address": ("address", src_address),
}


def accept(value, names):
    """The node name if value (bytes or str) is exactly one of names (surrounding
    whitespace aside), else None."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    value = value.strip(" \t\r\n")
    return value if value in names else None


def resolve(ctx):
    """One round over the sources: (name, source, transient). One log line per source."""
    transient = False
    ctx.reach = {}
    for source in ctx.sources:
        label, fn = SOURCES[source]
        if source in DEFAULT_URLS:
            label = "%s %s" % (source, ctx.url(source))
        try:
            kind, detail = fn(ctx)
        except Transient as err:
            log("%s: failed: %s" % (label, err))
            transient = True
            continue
        except Exception as err:  # noqa: BLE001 - one source's error must not end the agent
            log("%s: unusable answer: %r" % (label, err))
            continue
        if kind == MISS:
            log("%s: %s" % (label, detail))
            continue
        name = accept(detail, ctx.names)
        if name is None:
            log("%s: value %s is not a node name of this cluster (%s); ignored" % (
                label, shown(detail), ", ".join(ctx.names)))
            continue
        log("%s: %s -> node %s" % (label, shown(detail), name))
        return name, source, transient
    return None, None, transient


def address_problem(node):
    """(None, _) when node's address is here, else (why, may it pass: `ip` failed, no address yet)."""
    try:
        mine = own_addresses()
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
        return "cannot list this machine's addresses: %s" % err, True
    if node["address"] not in mine:
        return "its address %s (nodes[].address) is not on this machine (%s)" % (
            node["address"], ", ".join(mine) or "none"), not mine
    return None, False


def identify(ctx, cfg):
    """(name, source, why): why is None for a usable name, else the address problem."""
    start, pause, rnd = time.time(), ctx.round_pause, 0
    while True:
        rnd += 1
        name, source, transient = resolve(ctx)
        why = None
        if name is not None:
            why, may_pass = (None, False) if source == "address" else address_problem(
                [n for n in cfg["nodes"] if n["name"] == name][0])
            if not why:
                return name, source, None
            log("%s names node %s, but %s" % (source, name, why))
            transient = transient or may_pass
        used = time.time() - start
        if not transient or used + pause > ctx.window:
            return (name, source, why) if why else (None, None, None)
        log("round %d: no usable name yet; retrying in %gs (%.0f of %.0f s used)" % (
            rnd, pause, used, ctx.window))
        time.sleep(pause)
        pause = min(30.0, pause * 2)


# ---------------------------------------------------------------------------- install

class Secrets(object):
    def __init__(self):
        self.values = None

    def get(self, name):
        if self.values is None:
            path = at(PATHS["secrets"])
            try:
                st = os.stat(path)
                with open(path, "rb") as f:
                    data = json.loads(f.read().decode("utf-8"))
            except FileNotFoundError:
                raise AgentError("%s is missing; it holds this cluster's secrets. Provide it as "
                                 "user-data (lbbake gen-userdata lb.yaml --secrets-only) or "
                                 "write it as root, mode 0600" % PATHS["secrets"])
            except (OSError, ValueError) as err:
                raise AgentError("%s is unreadable or not JSON: %s" % (PATHS["secrets"], err))
            if not isinstance(data, dict):
                raise AgentError("%s is not a JSON object" % PATHS["secrets"])
            if st.st_mode & 0o077:
                log("warning: %s is mode %04o; make it 0600 (chmod 600 %s)" % (
                    PATHS["secrets"], st.st_mode & 0o7777, PATHS["secrets"]))
            self.values = data
        return self.values.get(name)


def fill_node(text, node, prefix):
    """A template's text for one node (its cluster.json row): a line with a list's placeholder
    is repeated per item (no item: dropped), then the other placeholders are filled. The
    generator checks this gives exactly `lbbake render --node`."""
    out = []
    for line in text.split("\n"):
        lists = [k for k, v in node.items() if isinstance(v, list) and prefix + k + "@@" in line]
        copies = [line.replace(prefix + lists[0] + "@@", str(item)) for item in node[lists[0]]] \
            if lists else [line]
        for copy in copies:
            for k, v in node.items():
                if not isinstance(v, list):
                    copy = copy.replace(prefix + k + "@@", str(v))
            out.append(copy)
    return "\n".join(out)


def fill_secrets(text, cfg, secrets, path):
    spec = cfg.get("secrets", {})
    prefix = spec.get("placeholderPrefix")
    for name, pattern in spec.get("patterns", {}).items():
        placeholder = prefix + name + "@@"
        if placeholder not in text:
            continue
        value = secrets.get(name)
        if not isinstance(value, str):
            raise AgentError("%s needs secret %s, which %s does not hold (regenerate it with "
                             "lbbake gen-userdata lb.yaml --secrets-only)" % (path, name, PATHS["secrets"]))
        if not re.fullmatch(pattern, value):
            raise AgentError("secret %s in %s is malformed (%d characters); regenerate the file "
                             "with lbbake gen-userdata lb.yaml --secrets-only" % (
                                 name, PATHS["secrets"], len(value)))
        text = text.replace(placeholder, value)
    if prefix and prefix in text:
        raise AgentError("%s still holds a placeholder %s...; this agent does not know that "
                         "secret (regenerate the image or user-data)" % (path, prefix))
    return text


def source_of(entry, name):
    """Where node `name`'s copy of a cluster.json "files" entry lies under the data dir."""
    where = {"shared": "shared", "template": "template", "node": "nodes/" + name}.get(entry["from"])
    if where is None:
        raise AgentError("%s: unknown source %s in %s (reinstall the lbbake files)" % (
            entry["path"], shown(entry["from"]), CLUSTER_FILE))
    return at(PATHS["dataDir"] + "/" + where + entry["path"])


def prepare(cfg, name):
    """Every file of node `name`, read, node values and secrets filled in, owner resolved.
    Nothing is written."""
    secrets = Secrets()
    node = [n for n in cfg["nodes"] if n["name"] == name][0]
    items = []
    for entry in cfg["files"]:
        src = source_of(entry, name)
        try:
            with open(src, "rb") as f:
                text = f.read().decode("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise AgentError("cannot read %s: %s (reinstall the lbbake files)" % (src, err))
        if entry["from"] == "template":
            prefix = cfg["nodePlaceholderPrefix"]
            text = fill_node(text, node, prefix)
            if prefix in text:
                raise AgentError("%s still holds a placeholder %s... after filling in node %s "
                                 "(regenerate the user-data or image)" % (entry["path"], prefix, name))
        text = fill_secrets(text, cfg, secrets, entry["path"])
        try:
            uid = pwd.getpwnam(entry["owner"]).pw_uid
            gid = grp.getgrnam(entry["group"]).gr_gid
        except KeyError:
            raise AgentError("%s: user %s or group %s does not exist (are the packages "
                             "installed?)" % (entry["path"], entry["owner"], entry["group"]))
        items.append({
            "path": entry["path"],
            "content": text.encode("utf-8"),
            "mode": int(entry["mode"], 8),
            "uid": uid,
            "gid": gid,
            "onChange": entry.get("onChange"),
        })
    return items


def write_atomic(target, data, mode, uid, gid):
    directory = os.path.dirname(target)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".",
                               suffix=".lbbake-tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchown(f.fileno(), uid, gid)
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def install(items):
    """Writes the items whose content, mode or owner differ. Returns those whose content changed."""
    changed = []
    for it in items:
        target = at(it["path"])
        try:
            with open(target, "rb") as f:
                current = f.read()
            st = os.stat(target)
        except FileNotFoundError:
            current, st = None, None
        same_meta = st is not None and (st.st_mode & 0o7777) == it["mode"] and \
            st.st_uid == it["uid"] and st.st_gid == it["gid"]
        if current == it["content"]:
            if not same_meta:
                os.chown(target, it["uid"], it["gid"])
                os.chmod(target, it["mode"])
                log("%s: unchanged content, mode/owner fixed" % it["path"])
            else:
                log("%s: unchanged" % it["path"])
            continue
        write_atomic(target, it["content"], it["mode"], it["uid"], it["gid"])
        log("%s: %s" % (it["path"], "installed" if current is None else "updated"))
        changed.append(it)
    return changed


def apply_changes(cfg, changed):
    units = []
    for it in changed:
        action = it["onChange"]
        if action == "sysctl":
            try:
                run(["sysctl", "-p", at(it["path"])])
                log("%s: applied (sysctl -p)" % it["path"])
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
                log("warning: sysctl -p %s failed: %s" % (it["path"], err))
        elif action and action not in units:
            units.append(action)
    for unit in units:
        try:
            active = subprocess.call(["systemctl", "is-active", "--quiet", unit], timeout=15) == 0
        except (OSError, subprocess.TimeoutExpired):
            active = False
        if not active:
            log("%s: not running; it starts with the new config" % unit)
            continue
        # --no-block: the unit is ordered after this agent, a blocking call would deadlock
        try:
            run(["systemctl", "reload-or-restart", "--no-block", unit])
            log("%s: config changed, reload queued" % unit)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
            log("warning: could not reload %s: %s" % (unit, err))


def selinux(cfg):
    booleans = cfg.get("selinuxBooleans") or []
    if not booleans:
        return
    try:
        if subprocess.call(["selinuxenabled"], timeout=15) != 0:
            return
    except (OSError, subprocess.TimeoutExpired):
        return
    for b in booleans:
        try:
            if run(["getsebool", b]).strip().endswith("on"):
                continue
            run(["setsebool", "-P", b, "1"], timeout=120)
            log("SELinux boolean %s set on" % b)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
            log("warning: could not set SELinux boolean %s: %s" % (b, err))


def set_marker(name):
    path = at(PATHS["marker"])
    if name is None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    write_atomic(path, (name + "\n").encode("ascii"), 0o644, os.getuid(), os.getgid())


def load_cluster():
    path = at(CLUSTER_FILE)
    with open(path, "rb") as f:
        cfg = json.loads(f.read().decode("utf-8"))
    if not isinstance(cfg, dict) or cfg.get("format") != 2:
        raise ValueError("unknown format (this agent reads format 2: regenerate the user-data "
                         "or image with the lbbake that made this agent)")
    for key in ("cluster", "metadataKey", "nodes", "files", "paths"):
        if key not in cfg:
            raise ValueError("missing %s" % key)
    PATHS.update(cfg["paths"])
    return cfg


def check(cfg):
    """keepalived's ExecStartPre: succeed only if the agent installed a node's files this boot."""
    try:
        with open(at(PATHS["marker"]), "r") as f:
            name = f.read().strip()
    except OSError:
        name = None
    nodes = [n for n in cfg["nodes"] if n["name"] == name]
    if nodes and write_interface(cfg, nodes[0]):
        log("node %s of cluster %s: keepalived may start" % (name, cfg["cluster"]))
        return EXIT_OK
    if nodes:
        return EXIT_NO_NAME
    log("refusing to start keepalived: lbbake-agent has not resolved this node's name in this "
        "boot, so it could take the VIP as the wrong node (see journalctl -u lbbake-agent)")
    return EXIT_NO_NAME


def failed_safe(now):
    """now: records a fail-safe of this boot. Else: whether there was one (and forgets it)."""
    path = at(PATHS["marker"]) + ".fail-safe"
    try:
        if now:
            write_atomic(path, b"", 0o644, os.getuid(), os.getgid())
        else:
            os.unlink(path)
        return True
    except OSError:
        return False


def fail_safe_message(cfg):
    names = "|".join(n["name"] for n in cfg["nodes"])
    addrs = ", ".join(n["address"] for n in cfg["nodes"])
    key = cfg["metadataKey"]
    return ("FAIL-SAFE: cannot tell which node of cluster %s this is; installed nothing, "
            "keepalived will not start, this node never takes the VIP. Fix: set instance "
            "metadata %s=<%s> (EC2 tag with instance metadata tags enabled, GCE attribute, "
            "Azure tag, OpenStack property, NoCloud meta-data), or give this machine its node "
            "address (%s), or write the name to %s; then run: systemctl restart "
            "lbbake-agent.service (it starts keepalived once it succeeds)" % (
                cfg["cluster"], key, names, addrs, PATHS["override"]))


# ---------------------------------------------------------------------------- maintenance

class MaintError(Exception):
    pass


def haproxy(command):
    """One command to haproxy's stats socket (level admin); returns the answer."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect(PATHS["haproxySocket"])
        sock.sendall(command.encode("ascii") + b"\n")
        out = b""
        while len(out) < 1 << 24:
            data = sock.recv(65536)
            if not data:
                break
            out += data
    except OSError as err:
        raise MaintError("haproxy stats socket %s: %s (is haproxy running?)" % (
            PATHS["haproxySocket"], describe(err)))
    finally:
        sock.close()
    return out.decode("utf-8", "replace")


def servers_state():
    """haproxy's servers: (backend, name, addr, port, op state (2 = running), admin bits
    (0x01 forced maintenance, 0x20 no address from DNS yet)), from `show servers state`."""
    out = []
    for f in (line.split() for line in haproxy("show servers state").splitlines()):
        if len(f) > 6 and f[0].isdigit() and f[5].isdigit() and f[6].isdigit():
            out.append((f[1], f[3], f[4], f[18] if len(f) > 18 else "", int(f[5]), int(f[6])))
    return out


def select_servers(state, target, service=None):
    """The servers TARGET names (SERVICE/SERVER, a server name, or IPv4[:port]) as
    "backend/name" keys."""
    host, _, port = target.partition(":")
    hit = ["%s/%s" % s[:2] for s in state if (service in (None, s[0])) and (
        target == "%s/%s" % s[:2] or target == s[1] or (s[2] == host and port in ("", s[3])))]
    if not hit:
        raise MaintError("no server %s%s; haproxy has: %s" % (
            shown(target), " in " + shown(service) if service else "",
            ", ".join("%s/%s %s" % s[:3] for s in state if not s[5] & 0x20) or "none"))
    return hit


def wait_until(check, seconds):
    """Seconds until check() is true, or None after `seconds`."""
    start = time.time()
    while not check():
        if time.time() - start >= seconds:
            return None
        time.sleep(0.2)
    return time.time() - start


def cmd_drain(cfg, opts, undo):
    keys = select_servers(servers_state(), opts["server"], opts.get("service"))
    for k in keys:
        answer = haproxy("set server %s state %s" % (k, "ready" if undo else "maint")).strip()
        if answer:
            raise MaintError("haproxy refused %s: %s" % (k, shown(answer, 200)))
        if opts.get("shutdown-sessions") and not undo:
            haproxy("shutdown sessions server " + k)

    def done():
        now = dict(("%s/%s" % s[:2], s) for s in servers_state())
        return all(k in now and (now[k][4] == 2 and not now[k][5] & 1 if undo else now[k][5] & 1) for k in keys)
    took = wait_until(done, float(opts.get("wait", 0)))
    print("%s: %s on this node (run it on every LB node; a haproxy reload undoes it)" % (
        ", ".join(keys), "back in rotation" if undo else "in maintenance, no new connections"))
    if took is None:
        print("not confirmed: haproxy shows %s" % ("a server not UP yet (its health check decides)"
                                                   if undo else "a server not in maintenance"))
        return 1
    return 0


def cmd_handover(cfg, opts, undo):
    names = [n["name"] for n in cfg["nodes"]]
    name = opts.get("node")
    if name is None:
        try:
            with open(at(PATHS["marker"])) as f:
                name = f.read().strip()
        except OSError:
            pass
    if name not in names:
        raise MaintError("which node is this? lbbake-agent has not installed a node's files in "
                         "this boot; pass --node NAME (%s)" % ", ".join(names))
    prio = [n["priority"] for n in cfg["nodes"] if n["name"] == name][0]
    preempt = cfg["vrrp"]["preempt"]
    vip = cfg["vip"]["address"]
    path = at(PATHS["handover"])

    def holds():
        return vip in own_addresses()
    if undo:
        if os.path.exists(path):
            os.unlink(path)
        print("node %s: priority %d again" % (name, prio))
        if not preempt or prio < max(n["priority"] for n in cfg["nodes"]) or holds():
            print("VIP %s stays where it is" % vip)
            return 0
    else:
        # priority 1: a BACKUP preempts gracefully; without preempt only FAULT moves the VIP
        value = 1 - prio if preempt else -254
        had = holds()
        write_atomic(path, ("%d\n" % value).encode("ascii"), 0o644, os.getuid(), os.getgid())
        print("node %s: %s until lbbake-agent takeback (%s holds %d)" % (
            name, "priority 1" if preempt else "FAULT", PATHS["handover"], value))
        if not had:
            print("VIP %s is not on this node" % vip)
            return 0
    wait = float(opts.get("wait", max(10, 6 * cfg["vrrp"]["advertInterval"] + 4)))
    took = wait_until(lambda: holds() == undo, wait)
    if took is None:
        print("VIP %s %s after %gs: %s" % (vip, "not back" if undo else "still here", wait,
              "is keepalived running with its check passing? (journalctl -u keepalived)" if undo
              else "no peer took it (is one up and healthy?); this node keeps serving"))
        return 1
    print("VIP %s %s after %.1fs" % (vip, "back on this node" if undo else "handed over", took))
    return 0


MAINTENANCE = {
    "drain": (cmd_drain, False, ("service", "wait", "shutdown-sessions")),
    "undrain": (cmd_drain, True, ("service", "wait")),
    "handover": (cmd_handover, False, ("wait", "node")),
    "takeback": (cmd_handover, True, ("wait", "node")),
}


def maintenance(cfg, argv):
    fn, undo, known = MAINTENANCE[argv[0]]
    opts, rest = {}, list(argv[1:])
    try:
        while rest:
            arg = rest.pop(0)
            key = arg[2:]
            if not arg.startswith("--"):
                if "server" in opts or fn is cmd_handover:
                    raise MaintError("unexpected argument %s" % shown(arg))
                opts["server"] = arg
            elif key not in known:
                raise MaintError("unknown option %s (%s takes: %s)" % (
                    shown(arg), argv[0], ", ".join("--" + k for k in known)))
            elif key == "shutdown-sessions":
                opts[key] = True
            else:
                opts[key] = rest.pop(0) if rest else ""
                if key == "wait" and not re.fullmatch(r"[0-9]{1,4}(\.[0-9]+)?", opts[key]):
                    raise MaintError("--wait needs seconds (a number)")
        if fn is cmd_drain and "server" not in opts:
            raise MaintError("%s needs a server: a name, SERVICE/SERVER or an address" % argv[0])
        return fn(cfg, opts, undo)
    except (MaintError, OSError, RuntimeError, subprocess.TimeoutExpired) as err:
        log("%s: %s" % (argv[0], describe(err) if isinstance(err, OSError) else err))
        return 2


def record(*what):
    """For `status` (best effort): result, node, source, why."""
    try:
        write_atomic(at(PATHS["agentState"]), json.dumps(what).encode(), 0o644, os.getuid(), os.getgid())
    except (KeyError, OSError):
        pass


def status(cfg, as_json):
    """Read-only: this node's name, VRRP state, VIP holder, servers, state changes and problems
    (exit 1 if any). State from lbbake's tracker (metrics on), else keepalived's journal."""
    vrrp, vip, bad = cfg["vrrp"], cfg["vip"]["address"], []

    def load(key, default):
        try:
            with open(at(PATHS[key])) as f:
                return json.load(f)
        except (KeyError, OSError, ValueError):
            return default
    result, name, source, why = (load("agentState", []) + [None] * 4)[:4]
    if result != "installed":
        bad.append(why or "lbbake-agent installed nothing in this boot (journalctl -u lbbake-agent)")
    me = dict((n["name"], n) for n in cfg["nodes"]).get(name, {})
    try:
        with open(at(PATHS["keepalivedPid"])) as f, open("/proc/%d/comm" % int(f.read()), "rb") as c:
            alive = c.read() == b"keepalived\n"
    except (KeyError, OSError, ValueError):
        alive = False
    vr = load("vrrpState", None)
    if vr is None:
        try:
            out = run(["journalctl", "-b", "-q", "-u", "keepalived", "-o", "short-unix", "-n", "5000"])
        except (OSError, RuntimeError, subprocess.TimeoutExpired):
            out = ""
        hist = [{"at": float(t), "state": st} for t, st in re.findall(
            r"^(\d+\.\d+) .*\(%s\) Entering (\w+) STATE" % vrrp["instance"], out, re.M)]
        vr = dict(hist[-1:] and {"state": hist[-1]["state"], "since": hist[-1]["at"]}, history=hist[-10:],
                  keepalived="running")
    state = (vr.get("state") if vr["keepalived"] == "running" else None) if alive else "STOP"
    if state in ("STOP", "FAULT"):
        bad.append("VRRP %s (STOP: keepalived is not running; FAULT: its haproxy check fails)" % state)
    try:
        here = vip in own_addresses()
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
        here = None
    holder = {"name": name, "address": me.get("address")}
    if not here:
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)  # VRRP adverts (root)
            s.settimeout(min(3.0, 1.5 * vrrp["advertInterval"]))
            while True:
                data, peer = s.recvfrom(2048)
                i = (data[0] & 15) * 4
                if data[i + 1:i + 2] == bytes([vrrp["routerId"]]):
                    holder = {"name": ([n["name"] for n in cfg["nodes"] if n["address"] == peer[0]] or [None])[0],
                              "address": peer[0], "priority": data[i + 2]}
                    break
        except OSError as err:
            holder = {"name": "unknown (no VRRP advert heard: %s)" % describe(err)}
    if bool(here) != (state == "MASTER"):
        bad.append("VIP %s on this node: %s, VRRP %s" % (vip, here, state))
    rows, services = [], []
    try:
        lines = haproxy("show stat").splitlines()
        rows = [dict(zip(lines[0][2:].split(","), x.split(","))) for x in lines[1:]]
    except (MaintError, IndexError) as err:
        bad.append(str(err))
    for svc in cfg["status"]["services"]:
        servers = [{"name": r["svname"], "address": r["addr"], "status": r["status"], "check": ("%s %s" % (
            r["check_status"], r["last_chk"])).strip()} for r in rows if r.get("pxname") == svc and r["svname"] not in (
            "FRONTEND", "BACKEND")]
        services.append({"name": svc, "servers": servers})
        bad += ["%s/%s is %s: %s" % (svc, x["name"], x["status"], x["check"]) for x in servers
                if not x["status"].startswith("UP")]
    prio = vr.get("priority", me.get("priority"))
    rep = {"cluster": cfg["cluster"], "node": name, "resolvedFrom": source, "services": services,
           "vrrp": {"state": state, "priority": prio, "since": vr.get("since"), "history": vr.get("history", []),
                    "keepalived": "running" if alive else "not running"},
           "vip": {"address": vip, "here": here, "holder": holder}, "problems": bad}
    out = ["cluster %s, node %s (resolved from %s)" % (cfg["cluster"], name or "unknown", source or "-"),
           "VRRP     %s, priority %s, keepalived %s" % (state, prio, rep["vrrp"]["keepalived"]),
           "VIP      %s held by %s" % (vip, "this node" if here else "%s (%s, priority %s)" % (
               holder.get("name"), holder.get("address"), holder.get("priority")))]
    for svc in services:
        out += ["service  " + svc["name"]] + ["  %(name)-12s %(address)-21s %(status)-6s %(check)s" % x
                                              for x in svc["servers"]]
    out += ["change   %s %s" % (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c["at"])), c["state"])
            for c in rep["vrrp"]["history"][-5:]]
    out += ["problems %s" % (len(bad) or "none")] + ["  - " + p for p in bad]
    sys.stdout.write((json.dumps(rep, indent=2, sort_keys=True) if as_json else "\n".join(out)) + "\n")
    return 1 if bad else EXIT_OK


def main(argv):
    try:
        cfg = load_cluster()
    except (OSError, ValueError, UnicodeDecodeError) as err:
        log("cannot load %s: %s (reinstall the lbbake files)" % (CLUSTER_FILE, err))
        return EXIT_INSTALL
    if argv[1:] == ["--check"]:
        return check(cfg)
    if argv[1:2] and argv[1] in MAINTENANCE:
        return maintenance(cfg, argv[1:])
    if argv[1:2] == ["status"] and argv[2:] in ([], ["--json"]):
        return status(cfg, argv[2:] == ["--json"])
    if argv[1:]:
        log("usage: %s [--check | status [--json] | drain SERVER | undrain SERVER | handover | "
            "takeback] (-h for help)" % PROG)
        return EXIT_INSTALL
    ctx = Context(cfg)
    log("cluster %s: finding this node's name (metadata key %s; nodes %s; sources %s)" % (
        cfg["cluster"], ctx.key, ", ".join(ctx.names), ", ".join(ctx.sources)))
    name, source, why = identify(ctx, cfg)
    if name is None or why:
        set_marker(None)
        failed_safe(True)
        if why:
            why = ("FAIL-SAFE: %s names node %s, but %s: a second MASTER (VRRP from a wrong address) "
                   "otherwise. Installed nothing; keepalived will not start. Fix the metadata or "
                   "nodes[].address, then: systemctl restart lbbake-agent.service" % (source, name, why))
        else:
            why = fail_safe_message(cfg)
        log(why)
        record("fail-safe", name, source, why)
        return EXIT_NO_NAME
    node = [n for n in cfg["nodes"] if n["name"] == name][0]
    try:
        items = prepare(cfg, name)
        changed = install(items)
    except (AgentError, OSError) as err:
        set_marker(None)
        log("ERROR: %s; keepalived will not start" % err)
        record("error", name, source, "%s; keepalived will not start" % err)
        return EXIT_INSTALL
    if not write_interface(cfg, node):
        set_marker(None)
        failed_safe(True)
        log("FAIL-SAFE: keepalived will not start")
        record("fail-safe", name, source, "FAIL-SAFE: no interface holds %s; keepalived will not start" % node["address"])
        return EXIT_NO_NAME
    selinux(cfg)
    apply_changes(cfg, changed)
    set_marker(name)
    record("installed", name, source)
    if failed_safe(False):  # keepalived did not start after an earlier fail-safe: start it now
        try:
            run(["systemctl", "start", "--no-block", "keepalived.service"])
            log("an earlier run failed safe: keepalived start queued")
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
            log("warning: could not start keepalived: %s" % err)
    log("node %s (%s, priority %s) from %s: %d of %d files changed" % (
        name, node["state"], node["priority"], source, len(changed), len(items)))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv))
