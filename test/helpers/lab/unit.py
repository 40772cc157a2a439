"""systemd's part for one service in a lab node (the lab has no systemd).

unit.py NAME DROPIN... -- EXECSTART...

Runs EXECSTART as a Type=notify service: NOTIFY_SOCKET set, started in its own process group
(the lab's stand-in for the service's cgroup), READY=1 awaited. Then, as systemd does with the
given drop-ins' [Service] lines: ExecStartPost= after READY=1; when the main process exits (or
this runner gets SIGTERM, which is forwarded to it like `systemctl stop`), SIGKILL to what is left
of the process group (KillMode=mixed) and ExecStopPost=. A leading "-" on an Exec line ignores
its failure; arguments are split shell-like; an empty assignment clears the list. Other keys
(Restart= ...) are not emulated and are listed as such in the log.

Writes "lab-systemd: ..." lines to stdout (the daemon's log file); exits with the main
process's status.
"""
import os
import shlex
import signal
import socket
import subprocess
import sys
import time

EMULATED = ("ExecStartPost", "ExecStopPost")


def log(msg):
    sys.stdout.write("lab-systemd: %.3f %s\n" % (time.time(), msg))
    sys.stdout.flush()


def parse_dropins(paths):
    lines = {k: [] for k in EMULATED}
    ignored = []
    for path in paths:
        section = None
        with open(path, encoding="utf-8") as f:
            for raw in f:
                line = raw.strip()
                if not line or line[0] in "#;":
                    continue
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1]
                    continue
                key, sep, value = line.partition("=")
                if section != "Service" or not sep:
                    continue
                key = key.strip()
                value = value.strip()
                if key not in EMULATED:
                    ignored.append(key)
                elif value == "":
                    lines[key] = []
                else:
                    lines[key].append(value)
    return lines, ignored


def run_exec(kind, value):
    ignore = False
    while value and value[0] in "-@:+!":
        ignore = ignore or value[0] == "-"
        value = value[1:]
    argv = shlex.split(value)
    rc = subprocess.call(argv)
    log("%s %s -> %d%s" % (kind, value, rc, " (ignored)" if ignore and rc else ""))


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 3:
        sys.stderr.write(__doc__)
        return 2
    sep = args.index("--")
    name, dropins, argv = args[0], args[1:sep], args[sep + 1:]
    execs, ignored = parse_dropins(dropins)
    if ignored:
        log("%s: not emulated: %s" % (name, ", ".join(sorted(set(ignored)))))

    sock_path = "/run/lab-notify-%s.sock" % name
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.05)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    proc = subprocess.Popen(argv, env=env, start_new_session=True)
    pgid = proc.pid
    log("%s: started %s (pid %d)" % (name, " ".join(argv), proc.pid))

    def forward(signum, _frame):
        log("%s: stop requested (SIGTERM to the main process)" % name)
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)

    ready = False
    deadline = time.time() + 60
    while proc.poll() is None and time.time() < deadline and not ready:
        try:
            msg = sock.recv(4096).decode("utf-8", "replace")
        except socket.timeout:
            continue
        if "READY=1" in msg.split("\n"):
            ready = True
    if ready:
        log("%s: READY=1" % name)
        for value in execs["ExecStartPost"]:
            run_exec("ExecStartPost", value)
    status = proc.wait()
    log("%s: main process exited (%s)" % (name, status))
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for value in execs["ExecStopPost"]:
        run_exec("ExecStopPost", value)
    sock.close()
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
