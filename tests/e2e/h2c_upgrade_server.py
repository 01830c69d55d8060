#!/usr/bin/python3
"""An HTTP/1.1 server that upgrades to h2c (RFC 7540 §3.2), for the tests.

usage: h2c_upgrade_server.py PORT [DIR]

nginx and nghttpd speak h2c only with prior knowledge; this one answers an
"Upgrade: h2c" request with 101 and then the response on HTTP/2 stream 1
(Debian's python3-h2 does the framing).  Without DIR every path returns
"small file\n"; with DIR, the file of that name in DIR, or 404.
"""
import os
import socket
import sys
import threading

import h2.config
import h2.connection
import h2.events

BODY = b"small file\n"


def serve(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            return
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        k, v = line.split(b":", 1)
        fields[k.strip().lower()] = v.strip()
    if fields.get(b"upgrade", b"").lower() != b"h2c":
        c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        return
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    conn.initiate_upgrade_connection(fields.get(b"http2-settings"))
    status, body = "200", BODY
    if ROOT is not None:
        name = os.path.basename(head.split(b" ")[1].split(b"?")[0].decode())
        try:
            with open(os.path.join(ROOT, name), "rb") as f:
                body = f.read()
        except OSError:
            status, body = "404", b"not found\n"
    conn.send_headers(1, [(":status", status), ("content-type", "text/plain"), ("content-length", str(len(body)))])
    conn.send_data(1, body, end_stream=True)
    c.sendall(conn.data_to_send())
    data = rest
    while True:
        if data:
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ConnectionTerminated):
                    c.sendall(conn.data_to_send())
                    return
            c.sendall(conn.data_to_send())
        data = c.recv(65536)
        if not data:
            return


ROOT = sys.argv[2] if len(sys.argv) > 2 else None
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    def run(c=c):
        try:
            serve(c)
        except OSError:
            pass  # the client went away
        finally:
            c.close()
    threading.Thread(target=run, daemon=True).start()
