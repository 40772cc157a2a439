"""Client probe for the live HA lab, run inside the client's network namespace.

probe.py get HOST PORT COUNT TIMEOUT
    COUNT sequential requests (new TLS connection + GET / each); one JSON line per request.
probe.py watch HOST PORT INTERVAL TIMEOUT MAXSECONDS
    A request every INTERVAL seconds until stdin closes or MAXSECONDS pass; one JSON line each.
A line: {"t": epoch seconds at the end of the attempt, "ok": bool, "body": str} or {"t", "ok": false, "err": str}.
"""
import json
import select
import socket
import ssl
import sys
import time

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


def once(host, port, timeout):
    t0 = time.time()
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            raw.settimeout(max(0.05, timeout - (time.time() - t0)))
            with ctx.wrap_socket(raw, server_hostname="lab") as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: lab\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.0 200") and not head.startswith(b"HTTP/1.1 200"):
            return {"t": time.time(), "ok": False, "err": head.split(b"\r\n")[0].decode(errors="replace") or "empty"}
        return {"t": time.time(), "ok": True, "body": body.decode(errors="replace").strip()}
    except Exception as e:  # noqa: BLE001 - every failure is a data point
        return {"t": time.time(), "ok": False, "err": type(e).__name__ + ": " + str(e)[:80]}


def emit(r):
    sys.stdout.write(json.dumps(r) + "\n")
    sys.stdout.flush()


mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "get":
    count, timeout = int(sys.argv[4]), float(sys.argv[5])
    for _ in range(count):
        emit(once(host, port, timeout))
elif mode == "watch":
    interval, timeout, maxs = float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
    end = time.time() + maxs
    while time.time() < end:
        start = time.time()
        emit(once(host, port, timeout))
        # stop when the parent closes stdin
        r, _, _ = select.select([sys.stdin], [], [], max(0.0, start + interval - time.time()))
        if r and not sys.stdin.read(1):
            break
else:
    sys.exit("usage: probe.py get|watch ...")
