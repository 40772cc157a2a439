"""Long-lived, mostly idle TLS streams through the VIP (like kubelet and controller watches), run
in the client's namespace for the live HA lab.

streams.py HOST PORT COUNT
Opens COUNT streams (GET /stream on the apiserver stand-ins, test/helpers/lab/backend.py), one
after the other, and prints {"opened": [{"id", "backend", "lb"}...]}. Then it idles: nothing
crosses a stream unless asked. A stream that the network or a peer ends (EOF, reset) is
noticed at once and remembered with the time. Commands on stdin, one answer line each (JSON):
  probe SECONDS   "ping N" on every stream still open; a stream without its "pong N" within
                  SECONDS counts as broken. Answer: {"t", "alive": [ids], "broken": [{"id",
                  "backend", "lb", "t", "why"}]} (broken: every stream broken so far)
  status          the same answer without pinging: what the streams noticed by themselves
  quit            closes every stream and exits (also on EOF of stdin)
Everything is bounded: each connect and handshake 5 s, each probe its SECONDS.
"""
import json
import select
import socket
import ssl
import sys
import time

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


class Stream:
    def __init__(self, sid):
        self.id = sid
        raw = socket.create_connection((host, port), timeout=5)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.sock = ctx.wrap_socket(raw, server_hostname="lab")
        self.sock.sendall(b"GET /stream HTTP/1.0\r\nHost: lab\r\n\r\n")
        self.buf = b""
        head = self.read_until(b"\r\n\r\n", 5)
        if not head.startswith(b"HTTP/1.0 200"):
            raise RuntimeError("no stream: %r" % head[:40])
        first = self.read_until(b"\n", 5).decode().split()
        self.backend, self.lb = first[0], first[2]
        self.sock.setblocking(False)
        self.broken = None
        self.pongs = set()

    def read_until(self, sep, timeout):
        end = time.time() + timeout
        while sep not in self.buf:
            self.sock.settimeout(max(0.05, end - time.time()))
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("closed while opening")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(sep)
        return line + sep

    def on_readable(self):
        """Reads what arrived; marks the stream broken on EOF or an error."""
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    self.fail("closed (EOF)")
                    return
                self.buf += chunk
                while b"\n" in self.buf:
                    line, _, self.buf = self.buf.partition(b"\n")
                    words = line.split()
                    if len(words) >= 2 and words[0] == b"pong":
                        self.pongs.add(words[1].decode())
                if not self.sock.pending():
                    return
        except (ssl.SSLWantReadError, BlockingIOError):
            return
        except OSError as e:
            self.fail(type(e).__name__)

    def fail(self, why):
        if self.broken is None:
            self.broken = {"id": self.id, "backend": self.backend, "lb": self.lb, "t": time.time(), "why": why}
        try:
            self.sock.close()
        except OSError:
            pass

    def ping(self, n):
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(2)
            self.sock.sendall(b"ping %d\n" % n)
            self.sock.setblocking(False)
        except OSError as e:
            self.fail(type(e).__name__)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


streams = []
for i in range(count):
    streams.append(Stream(i))
emit({"opened": [{"id": s.id, "backend": s.backend, "lb": s.lb} for s in streams]})


def pump(timeout):
    open_ = [s for s in streams if s.broken is None]
    socks = {s.sock.fileno(): s for s in open_}
    r, _, _ = select.select([sys.stdin] + [s.sock for s in open_], [], [], timeout)
    for x in r:
        if x is not sys.stdin:
            socks[x.fileno()].on_readable()
    return sys.stdin in r


seq = 0
while True:
    if not pump(0.2):
        continue
    cmd = sys.stdin.readline().split()
    if not cmd or cmd[0] == "quit":
        break
    if cmd[0] == "status":
        emit({"t": time.time(), "alive": [s.id for s in streams if s.broken is None],
              "broken": [s.broken for s in streams if s.broken is not None]})
    if cmd[0] == "probe":
        seq += 1
        want = str(seq)
        for s in streams:
            if s.broken is None:
                s.ping(seq)
        end = time.time() + float(cmd[1])
        while time.time() < end and any(s.broken is None and want not in s.pongs for s in streams):
            pump(min(0.1, max(0.0, end - time.time())))
        for s in streams:
            if s.broken is None and want not in s.pongs:
                s.fail("no pong within %ss" % cmd[1])
        emit({"t": time.time(), "alive": [s.id for s in streams if s.broken is None],
              "broken": [s.broken for s in streams if s.broken is not None]})
for s in streams:
    if s.broken is None:
        s.sock.close()
