"""Fake GCE metadata service for the live HA lab: like a cloud's, it answers per instance,
recognising the instance by the request's source address.

GET /computeMetadata/v1/instance/attributes/KEY with `Metadata-Flavor: Google` -> the name
mapped to the caller's address (404 if none); without the header -> 403.
usage: metadata.py ADDR PORT KEY MAPFILE   (MAPFILE: JSON {"198.18.0.11": "lb-0", ...}, re-read per request)
"""
import http.server
import json
import sys

addr, port, key, mapfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", "application/text")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.answer(403, "missing Metadata-Flavor header\n")
        if self.path != "/computeMetadata/v1/instance/attributes/" + key:
            return self.answer(404, "not found\n")
        with open(mapfile) as f:
            names = json.load(f)
        name = names.get(self.client_address[0])
        if name is None:
            return self.answer(404, "no such attribute\n")
        self.answer(200, name)

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.client_address[0], fmt % args))
        sys.stdout.flush()


srv = http.server.ThreadingHTTPServer((addr, port), Handler)
print("metadata listening on %s:%d" % (addr, port), flush=True)
srv.serve_forever(poll_interval=0.2)
