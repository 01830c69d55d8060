#!/usr/bin/python3
"""Drive HTTP/1.x exchanges over raw sockets and write what was sent and got.

usage: h1client.py PYPORT NGINXPORT OUT.json

Every exchange is recorded as the client saw it: method, path, the request
header fields in order, request body length, status, reason, response header
fields in order (trailers flagged), decoded body length.  The analyzer's rows
must equal these exactly.
"""
import json
import socket
import sys

PY, NGX, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
log = []


def read_until(s, buf, sep):
    while sep not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError
        buf += d
    i = buf.index(sep) + len(sep)
    return buf[:i], buf[i:]


def read_n(s, buf, n):
    while len(buf) < n:
        d = s.recv(65536)
        if not d:
            raise EOFError
        buf += d
    return buf[:n], buf[n:]


def parse_fields(block):
    out = []
    for line in block.split(b"\r\n"):
        if line:
            k, v = line.split(b":", 1)
            out.append([k.decode(), v.strip().decode()])
    return out


def read_response(s, buf, method):
    """One response (interim 1xx responses are returned separately)."""
    head, buf = read_until(s, buf, b"\r\n\r\n")
    line, _, rest = head.partition(b"\r\n")
    ver, code, reason = line.decode().split(" ", 2)
    hdrs = parse_fields(rest)
    code = int(code)
    h = {k.lower(): v for k, v in hdrs}
    body = b""
    trailers = []
    if method == "HEAD" or code in (204, 304) or 100 <= code < 200:
        pass
    elif h.get("transfer-encoding", "").lower() == "chunked":
        while True:
            sz, buf = read_until(s, buf, b"\r\n")
            n = int(sz.split(b";")[0], 16)
            if n == 0:
                tr, buf = read_until(s, buf, b"\r\n") if buf.startswith(b"\r\n") else read_until(s, buf, b"\r\n\r\n")
                trailers = parse_fields(tr)
                break
            chunk, buf = read_n(s, buf, n + 2)
            body += chunk[:-2]
    elif "content-length" in h:
        body, buf = read_n(s, buf, int(h["content-length"]))
    else:
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        body, buf = buf, b""
    return {"status": code, "reason": reason, "headers": hdrs, "trailers": trailers, "body_len": len(body)}, buf


def request(method, path, port, extra=(), body=b""):
    hdrs = [["Host", "127.0.0.1:%d" % port], ["User-Agent", "sockcap-test/1"]] + [list(x) for x in extra]
    if body:
        hdrs.append(["Content-Length", str(len(body))])
    raw = ("%s %s HTTP/1.1\r\n" % (method, path)).encode()
    raw += b"".join(("%s: %s\r\n" % (k, v)).encode() for k, v in hdrs) + b"\r\n"
    return raw, {"method": method, "path": path, "req_headers": hdrs, "req_body_len": len(body)}


def exchange(s, buf, method, path, port, extra=(), body=b""):
    raw, rec = request(method, path, port, extra, body)
    s.sendall(raw + body)
    resp, buf = read_response(s, buf, method)
    rec.update(resp)
    log.append(rec)
    return buf


def conn(port):
    return socket.create_connection(("127.0.0.1", port))


# keep-alive: two requests on one connection, then a HEAD, a 304 and a chunked response
s = conn(PY)
buf = exchange(s, b"", "GET", "/hello", PY)
buf = exchange(s, buf, "GET", "/hello?x=1", PY, [("Accept", "*/*")])
buf = exchange(s, buf, "HEAD", "/head", PY)
buf = exchange(s, buf, "GET", "/etag", PY, [("If-None-Match", '"v1"')])
buf = exchange(s, buf, "GET", "/chunked", PY)
s.close()

# pipelining: three requests in one write, then three responses
s = conn(PY)
raws = [request("GET", "/p%d" % i, PY) for i in range(3)]
s.sendall(b"".join(r for r, _ in raws))
buf = b""
for _, rec in raws:
    resp, buf = read_response(s, buf, "GET")
    rec.update(resp)
    log.append(rec)
s.close()

# 100-continue: headers first, the body only after the interim response
s = conn(PY)
body = b"x" * 5000
raw, rec = request("POST", "/upload", PY, [("Expect", "100-continue")], body)
s.sendall(raw)
interim, buf = read_response(s, b"", "POST")
assert interim["status"] == 100, interim
s.sendall(body)
resp, buf = read_response(s, buf, "POST")
rec.update(resp)
rec["interim_status"] = 100
log.append(rec)
s.close()

# a response delimited by the close of the connection
s = conn(PY)
buf = exchange(s, b"", "GET", "/close", PY)
s.close()

# a 10 MiB body from nginx
s = conn(NGX)
buf = exchange(s, b"", "GET", "/big.bin", NGX)
s.close()

json.dump(log, open(OUT, "w"), indent=1)
