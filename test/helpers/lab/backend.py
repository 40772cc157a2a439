"""apiserver stand-in for the live HA lab: TLS on ADDR:6443.

GET /readyz -> 200 "ok", or 500 while the file STATEDIR/NAME.bad exists.
Any other path -> "NAME via <peer address>" so round robin and the LB in use are observable.
usage: backend.py NAME ADDR PORT CERT KEY STATEDIR
"""
import http.server
import os
import ssl
import sys

name, addr, port, cert, key, statedir = sys.argv[1:7]
bad_flag = os.path.join(statedir, name + ".bad")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def setup(self):
        # the TLS handshake runs in the request thread, so a stalled client blocks nobody else
        self.request.settimeout(5)
        self.request.do_handshake()
        super().setup()

    def do_GET(self):
        if self.path.startswith("/readyz"):
            code, body = (500, b"not ready\n") if os.path.exists(bad_flag) else (200, b"ok\n")
        else:
            code, body = 200, f"{name} via {self.client_address[0]}\n".encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # health-check disconnects, aborted handshakes: not interesting


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = Server((addr, int(port)), Handler)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)

print(f"{name} listening on {addr}:{port}", flush=True)
srv.serve_forever(poll_interval=0.2)
