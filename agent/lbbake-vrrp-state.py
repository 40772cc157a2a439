#!/usr/bin/python3
"""lbbake's VRRP state tracker, run by keepalived (vrrp_notify_fifo_script), which writes each
state change to the FIFO given last: INSTANCE "VI_x" MASTER 250. Keeps state, priority, changes
per state since boot and the last ones in state=FILE (what status reads); with haproxy=SOCKET
table=NAME publishes them for /metrics/keepalived, again every 5 s (a haproxy reload empties the
table); cloud=FILE adds what a cloud ownership check last found; hold=FILE gets 1 while MASTER,
else 0 (vrrp.preempt off: keepalived runs one FIFO script). SIGTERM (keepalived stops or reloads):
STOP until keepalived reports again. Python 3.6+ standard library only.
"""

import json
import os
import select
import signal
import socket
import sys
import time

STATES = ("MASTER", "BACKUP", "FAULT")


def load(path):
    try:
        with open(path) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save(path, st):
    st["updated"] = round(time.time(), 3)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(st, f, sort_keys=True)
    os.chmod(path + ".tmp", 0o644)
    os.rename(path + ".tmp", path)


def apply(st, line, now):
    """Updates st from one FIFO line; True if it reported a new state (a reload repeats the
    current one: not a change)."""
    p = line.split()
    if len(p) < 4 or p[0] != "INSTANCE" or p[2] not in STATES + ("STOP",) or not p[3].isdigit():
        return False
    if p[2] == st.get("state"):
        st["priority"] = int(p[3])
        return False
    if p[2] != "STOP":
        st.setdefault("transitions", {})[p[2]] = st.get("transitions", {}).get(p[2], 0) + 1
    st.update(instance=p[1].strip('"'), state=p[2], priority=int(p[3]), since=round(now, 3))
    st["history"] = (st.get("history", []) + [{"at": st["since"], "state": p[2], "priority": st["priority"]}])[-10:]
    return True


def hold(path, line):
    """hold=FILE: 1 while MASTER, else 0, at every state keepalived reports (track_file)."""
    p = line.split()
    if path and len(p) > 2 and p[0] == "INSTANCE" and p[2] in STATES + ("STOP", "DELETED"):
        with open(path + ".tmp", "w") as f:
            f.write("1\n" if p[2] == "MASTER" else "0\n")
        os.rename(path + ".tmp", path)


def values(st, cloud):
    """The table keys /metrics/keepalived reads (integers; a missing key reads as 0)."""
    now = st.get("state") if st.get("keepalived") == "running" else "STOP"
    out = dict((s, int(s == now)) for s in STATES + ("STOP",))
    out.update(("n." + s, st.get("transitions", {}).get(s, 0)) for s in STATES)
    out.update(prio=st.get("priority", 0), since=int(st.get("since", 0)), published=int(time.time()))
    if cloud:
        c = load(cloud)
        out["cloud.owner"] = int(c.get("owner") is True)
        out["cloud.at"] = int(c["checked"]) if isinstance(c.get("checked"), (int, float)) else 0
    return out


def publish(opts, st):
    """Sets the values in haproxy's table; False if haproxy did not take them."""
    if "haproxy" not in opts:
        return True
    cmd = ";".join("set table %s key %s data.gpt0 %d" % (opts["table"], k, v)
                   for k, v in sorted(values(st, opts.get("cloud")).items()))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(opts["haproxy"])
        s.sendall(cmd.encode("ascii") + b"\n")
        answer = chunk = s.recv(4096)
        while chunk and len(answer) < 65536:
            chunk = s.recv(4096)
            answer += chunk
        return not answer.strip()
    except OSError:
        return False
    finally:
        s.close()


def main(argv):
    opts = dict(a.split("=", 1) for a in argv[1:-1] if "=" in a)
    st = load(opts["state"])
    st["keepalived"] = "running"
    save(opts["state"], st)
    publish(opts, st)

    def stop(*_):
        st["keepalived"] = "stopped"
        save(opts["state"], st)
        publish(opts, st)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    fd = os.open(argv[-1], os.O_RDONLY | os.O_NONBLOCK)
    buf, last = b"", time.time()
    while True:
        if select.select([fd], [], [], 5.0)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                stop()
            buf += chunk
            changed = False
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.decode("utf-8", "replace")
                hold(opts.get("hold"), line)
                changed = apply(st, line, time.time()) or changed
            if changed:
                save(opts["state"], st)
                publish(opts, st)
                last = time.time()
        if time.time() - last >= 5.0:
            publish(opts, st)
            last = time.time()


if __name__ == "__main__":
    main(sys.argv)
