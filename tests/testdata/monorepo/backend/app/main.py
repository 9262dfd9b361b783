"""The fixture backend of a monorepo: it imports its library (libs/kb),
queues Celery tasks and reads what the workers wrote in Redis.

- GET /health: 200 with the library's version and the process's uid once
  Redis answers PING.
- GET /enqueue?key=K: queues app.tasks.write(K), which a worker runs.
- GET /whoami?key=K: queues app.tasks.whoami(K), which writes the worker's
  uid and image (FIXTURE_BUILT_BY) to Redis key K.
- GET /value?key=K: the value of Redis key K, or "" when it has none.
"""

import json
import os
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kb
import kb_stamp

from app import tasks


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        try:
            if url.path == "/health":
                tasks.store().ping()
                body = {"status": "ok", "kb": kb.VERSION, "kb_installed_at": kb_stamp.AT, "uid": os.getuid()}
            elif url.path == "/enqueue":
                body = {"id": tasks.write.delay(query["key"]).id}
            elif url.path == "/whoami":
                body = {"id": tasks.whoami.delay(query["key"]).id}
            elif url.path == "/value":
                value = tasks.store().get(query["key"])
                body = {"value": value.decode() if value else ""}
            else:
                self.send_error(404)
                return
        except Exception as e:  # the test reads the reason
            self.send_error(503, str(e))
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
