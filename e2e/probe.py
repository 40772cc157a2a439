#!/usr/bin/env python3
"""Probes the VIP from inside the lab namespace (run it under `ip netns exec`).

  probe.py once  ADDR:PORT                 one GET /, prints the answer or the error (rc 1)
  probe.py wait  ADDR:PORT --t0 FILE --timeout S
                                           polls until an answer; prints JSON {"seconds": s
                                           since the epoch time in FILE, "answer": ...}; rc 1
                                           on timeout
  probe.py watch ADDR:PORT --out FILE --max S
                                           polls every 0.1 s, appends one JSON line per state
                                           change {"t": epoch, "state": "via 198.18.0.11" |
                                           "refused" | "timeout" | ..., "answer": ...}
  probe.py log   ADDR:PORT --out FILE --max S [--interval S] [--timeout S]
                                           one request after another (a new TLS connection
                                           each, --interval apart), one JSON line per request
                                           {"t": start, "d": seconds taken, "state", "answer"}
Every loop is bounded by --timeout / --max.
"""
import argparse
import json
import socket
import ssl
import sys
import time

CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def get(addr, port, timeout):
    """(state, answer): state is 'via <lb ip>' when a backend answered through an LB."""
    try:
        with socket.create_connection((addr, port), timeout=timeout) as raw:
            raw.settimeout(timeout)
            with CTX.wrap_socket(raw, server_hostname="lbe-backend") as s:
                s.sendall(f"GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while len(data) < 65536:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
    except ConnectionRefusedError:
        return "refused", None
    except (socket.timeout, TimeoutError):
        return "timeout", None
    except OSError as e:
        return f"error {type(e).__name__}", None
    body = data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace").strip()
    parts = body.split()
    if len(parts) == 5 and parts[0] == "backend" and parts[3] == "via":
        return f"via {parts[4]}", body
    return "bad answer", body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["once", "wait", "watch", "log"])
    ap.add_argument("target")
    ap.add_argument("--t0")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--out")
    ap.add_argument("--max", type=float, default=900)
    ap.add_argument("--interval", type=float, default=0.1)
    a = ap.parse_args()
    addr, port = a.target.rsplit(":", 1)
    port = int(port)

    if a.mode == "once":
        state, answer = get(addr, port, 3)
        print(answer if answer else state)
        return 0 if state.startswith("via") else 1

    if a.mode == "wait":
        t0 = float(open(a.t0).read()) if a.t0 else time.time()
        deadline = time.time() + a.timeout
        while time.time() < deadline:
            state, answer = get(addr, port, 1)
            if state.startswith("via"):
                print(json.dumps({"seconds": round(time.time() - t0, 1), "answer": answer}))
                return 0
            time.sleep(0.5)
        print(json.dumps({"seconds": None, "error": f"no answer in {a.timeout} s"}))
        return 1

    if a.mode == "log":
        deadline = time.time() + a.max
        with open(a.out, "a", buffering=1) as out:
            while time.time() < deadline:
                t = time.time()
                state, answer = get(addr, port, min(a.timeout, 10))
                out.write(json.dumps({"t": t, "d": round(time.time() - t, 3), "state": state, "answer": answer}) + "\n")
                time.sleep(max(0, a.interval - (time.time() - t)))
        return 0

    # watch
    deadline = time.time() + a.max
    last = None
    with open(a.out, "a", buffering=1) as out:
        while time.time() < deadline:
            t = time.time()
            state, answer = get(addr, port, 0.3)
            if state != last:
                out.write(json.dumps({"t": t, "state": state, "answer": answer}) + "\n")
                last = state
            time.sleep(max(0, a.interval - (time.time() - t)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
