"""One HTTP request from inside a lab namespace, for tests of the cloud emulator.

usage: request.py METHOD URL [HEADER:VALUE ...] [--data BODY]
Prints one JSON line {"status": int, "headers": {...}, "body": str} (also for 4xx/5xx), or
{"status": 0, "error": str} when no answer came. Never through a proxy.
"""
import json
import sys
import urllib.error
import urllib.request

args = sys.argv[1:]
data = None
if "--data" in args:
    i = args.index("--data")
    data = args[i + 1].encode()
    args = args[:i] + args[i + 2:]
method, url, headers = args[0], args[1], dict(h.split(":", 1) for h in args[2:])
headers = {k.strip(): v.strip() for k, v in headers.items()}
if method in ("PUT", "POST", "PATCH") and data is None:
    data = b""
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
req = urllib.request.Request(url, data=data, headers=headers, method=method)
try:
    with opener.open(req, timeout=40) as r:
        out = {"status": r.status, "headers": dict(r.headers), "body": r.read().decode("utf-8", "replace")}
except urllib.error.HTTPError as e:
    out = {"status": e.code, "headers": dict(e.headers), "body": e.read().decode("utf-8", "replace")}
except Exception as e:  # noqa: BLE001 - reported as data
    out = {"status": 0, "error": "%s: %s" % (type(e).__name__, e)}
print(json.dumps(out))
