#!/usr/bin/python3
"""An HTTP/1.1 server whose answers exercise the HAR export (tests/e2e/export_har.sh).

usage: har_server.py PORT

  GET  /bin       200 application/octet-stream, bytes 0..255 twelve times (3072 bytes, not UTF-8)
  GET  /login     200 text/plain, two Set-Cookie fields and an X-Latin1 field with the byte 0xE9
  GET  /moved     302 to /login
  GET  /search    200 application/json, UTF-8 text
  GET  /chunked   200 chunked text/plain with a trailer X-Checksum
  POST /form      reads the body, answers its length
"""
import http.server
import sys

BIN = bytes(range(256)) * 12


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, ctype, body, extra=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/bin":
            self.reply(200, "application/octet-stream", BIN)
        elif path == "/login":
            # send_header writes str as Latin-1: "caf\xe9" is the byte 0xE9.
            self.reply(200, "text/plain; charset=utf-8", b"welcome\n",
                       [("Set-Cookie", "sid=s3cr3t-session; Path=/; HttpOnly"),
                        ("Set-Cookie", "theme=dark; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Secure"),
                        ("X-Latin1", "caf\xe9")])
        elif path == "/moved":
            self.reply(302, None, b"", [("Location", "/login")])
        elif path == "/search":
            self.reply(200, "application/json", '{"word": "h\u00e9llo"}\n'.encode())
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checksum")
            self.end_headers()
            for part in (b"first chunk\n", b"second chunk\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Checksum: 1234\r\n\r\n")
        else:
            self.reply(404, "text/plain", b"not found\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.reply(200, "text/plain", b"%d\n" % len(body))


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
