"""apiserver stand-in for the live HA lab: TLS on ADDR:6443.

GET /readyz -> 200 "ok", or 500 while the file STATEDIR/NAME.bad exists.
GET /stream -> a long-lived stream (like a watch): the line "NAME via <peer address>", then for
    every line "ping N" the client sends, "pong N NAME"; open until the client closes it.
Any other path -> "NAME via <peer address>" so the balancing and the LB in use are observable.
With CA (a CA certificate file), the stand-in is an apiserver with anonymous auth off: a client
certificate signed by CA is asked for, and a request without one gets 401 on every path
(/readyz included), as kube-apiserver answers with --anonymous-auth=false.
usage: backend.py NAME ADDR PORT CERT KEY STATEDIR [CA]
"""
import http.server
import os
import ssl
import sys

name, addr, port, cert, key, statedir = sys.argv[1:7]
ca = sys.argv[7] if len(sys.argv) > 7 else None
bad_flag = os.path.join(statedir, name + ".bad")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def setup(self):
        # the TLS handshake runs in the request thread, so a stalled client blocks nobody else
        self.request.settimeout(5)
        self.request.do_handshake()
        super().setup()

    def reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if ca and not self.request.getpeercert():
            self.reply(401, b'{"kind":"Status","status":"Failure","reason":"Unauthorized","code":401}\n')
            return
        if self.path.startswith("/readyz"):
            code, body = (500, b"not ready\n") if os.path.exists(bad_flag) else (200, b"ok\n")
            self.reply(code, body)
        elif self.path.startswith("/stream"):
            self.stream()
        else:
            self.reply(200, f"{name} via {self.client_address[0]}\n".encode())

    def stream(self):
        self.request.settimeout(None)  # idle for as long as the client likes
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(f"{name} via {self.client_address[0]}\n".encode())
        self.wfile.flush()
        while True:
            line = self.rfile.readline()
            if not line:
                return
            words = line.split()
            if len(words) == 2 and words[0] == b"ping":
                self.wfile.write(b"pong " + words[1] + b" " + name.encode() + b"\n")
                self.wfile.flush()

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # health-check disconnects, aborted handshakes: not interesting


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
if ca:
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
srv = Server((addr, int(port)), Handler)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)

print(f"{name} listening on {addr}:{port}{' (client certificates, anonymous 401)' if ca else ''}", flush=True)
srv.serve_forever(poll_interval=0.2)
