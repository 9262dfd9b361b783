"""A stdlib-only stand-in for the CommandCenter backend, for the module's engine tests.

It needs nothing from PyPI, so the tests run without internet. It serves on
port 8000:

- GET /health: 200 once it has completed a real PostgreSQL handshake with the
  credentials in DATABASE_URL (SCRAM-SHA-256, MD5 or cleartext, then SELECT 1)
  and a Redis PING (after AUTH when REDIS_URL carries a password); 503 with
  the reason otherwise. The JSON body also reports the process's uid and
  argv, and the SHA-256 of each variable that FIXTURE_ENV_NAMES lists
  (comma-separated): tests see what reached the process, never a value.
- GET /: a short text.

Run it as `python3 -m app.main` from the backend directory.
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import struct
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = 8000
TIMEOUT = 5


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the server")
        data += chunk
    return data


def pg_message(sock):
    kind = read_exact(sock, 1)
    (length,) = struct.unpack("!I", read_exact(sock, 4))
    return kind, read_exact(sock, length - 4)


def pg_send(sock, kind, payload):
    sock.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)


def pg_error(payload):
    fields = dict((f[:1], f[1:].decode(errors="replace")) for f in payload.split(b"\0") if f)
    return fields.get(b"M", "unknown error")


def scram(sock, user, password):
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = "n=,r=" + nonce
    first = ("n,," + first_bare).encode()
    pg_send(sock, b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first)
    kind, body = pg_message(sock)
    if kind == b"E":
        raise PermissionError(pg_error(body))
    server_first = body[4:].decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    final_bare = "c=biws,r=" + attrs["r"]
    auth_message = ",".join([first_bare, server_first, final_bare]).encode()
    signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    pg_send(sock, b"p", (final_bare + ",p=" + base64.b64encode(proof).decode()).encode())


def check_postgres(url):
    u = urllib.parse.urlsplit(url)
    user = urllib.parse.unquote(u.username or "")
    password = urllib.parse.unquote(u.password or "")
    with socket.create_connection((u.hostname, u.port or 5432), timeout=TIMEOUT) as sock:
        params = b"user\0" + user.encode() + b"\0database\0" + u.path.lstrip("/").encode() + b"\0\0"
        sock.sendall(struct.pack("!II", len(params) + 8, 196608) + params)
        while True:
            kind, body = pg_message(sock)
            if kind == b"E":
                raise PermissionError(pg_error(body))
            if kind == b"R":
                (code,) = struct.unpack("!I", body[:4])
                if code == 10:
                    scram(sock, user, password)
                elif code == 5:
                    inner = hashlib.md5(password.encode() + user.encode()).hexdigest()
                    digest = "md5" + hashlib.md5(inner.encode() + body[4:8]).hexdigest()
                    pg_send(sock, b"p", digest.encode() + b"\0")
                elif code == 3:
                    pg_send(sock, b"p", password.encode() + b"\0")
            if kind == b"Z":
                break
        pg_send(sock, b"Q", b"SELECT 1\0")
        rows = []
        while True:
            kind, body = pg_message(sock)
            if kind == b"E":
                raise RuntimeError(pg_error(body))
            if kind == b"D":
                (size,) = struct.unpack("!I", body[2:6])
                rows.append(body[6 : 6 + size].decode())
            if kind == b"Z":
                break
        pg_send(sock, b"X", b"")
    if rows != ["1"]:
        raise RuntimeError("SELECT 1 returned %r" % rows)


def resp(*words):
    out = b"*%d\r\n" % len(words)
    for w in words:
        w = w.encode()
        out += b"$%d\r\n%s\r\n" % (len(w), w)
    return out


def check_redis(url):
    u = urllib.parse.urlsplit(url)
    with socket.create_connection((u.hostname, u.port or 6379), timeout=TIMEOUT) as sock:
        reader = sock.makefile("rb")
        if u.password:
            sock.sendall(resp("AUTH", urllib.parse.unquote(u.password)))
            answer = reader.readline().strip()
            if answer != b"+OK":
                raise PermissionError("AUTH answered %s" % answer.decode(errors="replace"))
        sock.sendall(resp("PING"))
        answer = reader.readline().strip()
        if answer != b"+PONG":
            raise RuntimeError("PING answered %s" % answer.decode(errors="replace"))


def health():
    report = {"uid": os.getuid(), "argv": sys.argv, "project": os.environ.get("PROJECT_NAME", "")}
    report["env_sha256"] = {
        name: hashlib.sha256(os.environ[name].encode()).hexdigest()
        for name in filter(None, os.environ.get("FIXTURE_ENV_NAMES", "").split(","))
        if name in os.environ
    }
    ok = True
    for name, check, var in (("postgres", check_postgres, "DATABASE_URL"), ("redis", check_redis, "REDIS_URL")):
        try:
            check(os.environ[var])
            report[name] = "ok"
        except Exception as e:  # report any failure, never the credentials
            report[name] = "%s: %s" % (type(e).__name__, e)
            ok = False
    report["status"] = "ok" if ok else "failing"
    return ok, report


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            ok, report = health()
            self.reply(200 if ok else 503, "application/json", json.dumps(report))
        elif self.path == "/":
            self.reply(200, "text/plain", "CommandCenter fixture backend\n")
        else:
            self.reply(404, "text/plain", "not found\n")

    def reply(self, status, kind, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        print("%s %s" % (self.address_string(), fmt % args), flush=True)


def main():
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("fixture backend listening on :%d at %.3f" % (PORT, time.time()), flush=True)
    try:
        server.serve_forever()
    finally:
        print("fixture backend stopped", flush=True)


if __name__ == "__main__":
    main()
