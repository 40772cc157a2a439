#!/usr/bin/env python3
"""Lab backends: one HTTPS server per ADDR:PORT (threads of one process), standing in for
kube-apiservers. Every path answers 200 with "backend <addr> ok via <client ip>", so a probe
through the VIP sees which backend and which LB node (the client) served it."""
import argparse
import http.server
import ssl
import threading


def make_handler(addr):
    class H(http.server.BaseHTTPRequestHandler):
        timeout = 5  # the TLS handshake runs here, in the connection's thread, bounded

        def setup(self):
            super().setup()
            self.request.do_handshake()

        def do_GET(self):
            body = f"backend {addr} ok via {self.client_address[0]}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("listen", nargs="+")
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    threads = []
    for l in a.listen:
        host, port = l.rsplit(":", 1)
        srv = http.server.ThreadingHTTPServer((host, int(port)), make_handler(host))
        srv.daemon_threads = True
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
        srv.handle_error = lambda request, client_address: None  # health checks, probes that hang up
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        threads.append(t)
        print(f"backend listening on {l}", flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
