"""A webhook receiver for tests, run as its own process: ``python receiver.py PORT FILE
[DELAY]``.

Every request is answered 200 and appended to FILE as one JSON line (headers and body),
flushed at once, so a receiver killed mid-stream loses nothing it acknowledged. With
DELAY it waits that many seconds before answering (a slow receiver).
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if len(sys.argv) > 3:
            time.sleep(float(sys.argv[3]))
        with open(sys.argv[2], "a", encoding="utf-8") as out:
            out.write(json.dumps({"headers": dict(self.headers.items()),
                                  "body": body.decode()}) + "\n")
            out.flush()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
