#!/usr/bin/python3
"""Check a HAR written by `sockcap export --har` against the database it came from.

usage: check_har.py HAR DB [--roles auto|all|client|server|network] [--max-body N]
                           [--redact] [--redact-header NAME]...

The HAR must be strict UTF-8 JSON with every field HAR 1.2 requires, and hold
exactly the transactions the role rule selects (analyze/har.h), in order, each
with the values of its database rows: method, url, versions, status, every
header in order (trailers apart, the listed ones REDACTED), sizes, bodies
(text or base64, cut at --max-body), times.  Prints what differs; exits 1 then.
"""
import argparse
import base64
import codecs
import datetime
import json
import math
import re
import sqlite3
import sys

ap = argparse.ArgumentParser()
ap.add_argument("har")
ap.add_argument("db")
ap.add_argument("--roles", default="auto")
ap.add_argument("--max-body", type=int, default=None)
ap.add_argument("--redact", action="store_true")
ap.add_argument("--redact-header", action="append", default=[])
args = ap.parse_args()
if args.redact_header:
    args.redact = True
REDACT = {"authorization", "proxy-authorization", "cookie", "set-cookie"} | {n.lower() for n in args.redact_header}

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")
    return False


def expect(where, got, want):
    if got != want:
        err(where, f"got {got!r}, want {want!r}")


# Bytes that are not UTF-8 are the characters U+0080..U+00FF of the same value.
codecs.register_error("sc_latin1", lambda e: ("".join(chr(b) for b in e.object[e.start:e.end]), e.end))


def text(b):
    if b is None:
        return None
    if isinstance(b, str):
        b = b.encode("utf-8", "surrogateescape")
    return b.decode("utf-8", "sc_latin1")


def uri(b):
    safe = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=%")
    return "".join(chr(c) if c in safe else "%%%02X" % c for c in b)


def iso(ns):
    t = datetime.datetime.fromtimestamp(ns // 1_000_000_000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ns // 1_000_000 % 1000)


raw = open(args.har, "rb").read()
try:
    har = json.loads(raw.decode("utf-8"))
except (UnicodeDecodeError, json.JSONDecodeError) as e:
    print(f"{args.har}: not UTF-8 JSON: {e}")
    sys.exit(1)

db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
db.text_factory = bytes
db.row_factory = sqlite3.Row

# ---- required fields (HAR 1.2) -------------------------------------------------------------
REQ = {
    "log": ["version", "creator", "entries"],
    "entry": ["startedDateTime", "time", "request", "response", "cache", "timings"],
    "request": ["method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"],
    "response": ["status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL",
                 "headersSize", "bodySize"],
    "content": ["size", "mimeType"],
    "timings": ["send", "wait", "receive"],
}


def need(where, obj, kind):
    if not isinstance(obj, dict):
        return err(where, f"{kind} is not an object")
    for k in REQ[kind]:
        if k not in obj:
            err(where, f"{kind} lacks {k}")
    return True


log = har.get("log")
need("log", log, "log")
expect("log.version", log.get("version"), "1.2")
expect("log.creator.name", log.get("creator", {}).get("name"), "sockcap")
if not isinstance(log.get("creator", {}).get("version"), str):
    err("log.creator", "no version string")
entries = log.get("entries", [])

# ---- which transactions, in which order ----------------------------------------------------
conns = {r["id"]: r for r in db.execute("SELECT * FROM connections")}


def v4(a):
    a = text(a)
    return a[7:] if a and a.lower().startswith("::ffff:") and "." in a else a


def mirrored(c):
    if c["role"] != b"server" or c["family"] not in (b"ipv4", b"ipv6"):
        return False
    for m in conns.values():
        if (m["capture_id"] == c["capture_id"] and m["role"] == b"client" and m["family"] in (b"ipv4", b"ipv6")
                and v4(m["local_addr"]) == v4(c["remote_addr"]) and m["local_port"] == c["remote_port"]
                and v4(m["remote_addr"]) == v4(c["local_addr"]) and m["remote_port"] == c["local_port"]
                and (m["open_ns"] is None or c["close_ns"] is None or m["open_ns"] <= c["close_ns"])
                and (c["open_ns"] is None or m["close_ns"] is None or c["open_ns"] <= m["close_ns"])):
            return True
    return False


def selected(c):
    if args.roles == "auto":
        return not mirrored(c)
    if args.roles == "all":
        return True
    return c["role"] == args.roles.encode()


txs = [t for t in db.execute("SELECT * FROM transactions") if selected(conns[t["connection_id"]])]


def t0(t):
    for k in ("req_start_ns", "resp_start_ns"):
        if t[k] is not None:
            return t[k]
    return conns[t["connection_id"]]["open_ns"] or 0


txs.sort(key=lambda t: (t0(t), t["id"]))
expect("entries (transaction ids in order)", [e.get("_transactionId") for e in entries], [t["id"] for t in txs])


# ---- each entry against its rows -------------------------------------------------------------
def header_rows(txid, direction, trailer):
    return db.execute("SELECT * FROM headers WHERE transaction_id = ? AND direction = ? AND is_trailer = ? "
                      "ORDER BY idx", (txid, direction, trailer)).fetchall()


def want_headers(rows):
    out = []
    for h in rows:
        name, value = h["name"], h["value"]
        o = {"name": text(name) if name is not None else "", "value": text(value) if value is not None else ""}
        red = args.redact and (name is None or name.decode("latin-1").lower() in REDACT or h["never_indexed"])
        if red and value is not None:
            o["value"] = "REDACTED"
        if h["hpack_unknown"] or name is None or value is None:
            o["_unknown"] = True
        if text(name or b"") != (name or b"").decode("utf-8", "replace") or \
                (not red and text(value or b"") != (value or b"").decode("utf-8", "replace")):
            o["_latin1"] = True
        out.append(o)
    return out


def check_body(where, content, row, size, textual_ok=True):
    stored = b"" if row is None or row["data"] is None else bytes(row["data"])
    cap = stored if args.max_body is None else stored[:args.max_body]
    if "text" not in content:
        # Only a body of which the database kept nothing has no text.
        if size == 0 or (row is not None and row["data"] is not None):
            err(where, "no text")
        n = 0
    elif content.get("encoding") == "base64":
        got = base64.b64decode(content["text"], validate=True)
        expect(where + " base64", got, cap)
        n = len(got)
    else:
        got = content["text"].encode("utf-8")
        if got != cap and not (len(cap) < size and cap.startswith(got) and len(cap) - len(got) <= 3):
            err(where, f"text {got[:60]!r}... is not the stored body {cap[:60]!r}...")
        n = len(got)
    if n < size:
        expect(where + " comment", content.get("comment"), f"cut at {n} of {size} bytes")
    elif "comment" in content:
        err(where, f"comment {content['comment']!r} on a whole body")


for e, t in zip(entries, txs):
    w = f"entry {t['id']}"
    if not need(w, e, "entry"):
        continue
    c = conns[t["connection_id"]]
    rq, rs = e["request"], e["response"]
    need(w + " request", rq, "request")
    need(w + " response", rs, "response")
    need(w + " content", rs.get("content"), "content")
    need(w + " timings", e["timings"], "timings")

    expect(w + " startedDateTime", e["startedDateTime"], iso(t0(t)))
    tm = e["timings"]
    for k in ("send", "wait", "receive"):
        if not isinstance(tm.get(k), (int, float)) or tm[k] < 0:
            err(w, f"timings.{k} = {tm.get(k)!r}")
    for k in ("blocked", "dns", "connect", "ssl"):
        expect(w + " timings." + k, tm.get(k), -1)
    if not math.isclose(e["time"], tm["send"] + tm["wait"] + tm["receive"], abs_tol=1e-6):
        err(w, f"time {e['time']} is not the sum of the timings")
    if t["req_start_ns"] is not None and t["resp_end_ns"] is not None and t["resp_end_ns"] >= t["req_start_ns"]:
        if not math.isclose(e["time"], (t["resp_end_ns"] - t["req_start_ns"]) / 1e6, abs_tol=1e-6):
            err(w, f"time {e['time']} ms is not latency {(t['resp_end_ns'] - t['req_start_ns']) / 1e6} ms")

    expect(w + " method", rq["method"], text(t["method"]) or "")
    expect(w + " httpVersion", rq["httpVersion"], text(t["http_version"]))
    expect(w + " response httpVersion", rs["httpVersion"], text(t["http_version"]))
    if c["protocol"] == b"h2":
        expect(w + " HTTP/2", (rq["httpVersion"], e.get("_streamId")), ("HTTP/2", t["stream_id"]))
    path = t["path"]
    if path is not None and path.startswith(b"/"):
        srv = "local" if c["role"] == b"server" else "remote"
        auth = t["authority"] if t["authority"] is not None else \
            b"%s:%d" % (c[srv + "_addr"], c[srv + "_port"])
        expect(w + " url", rq["url"], (text(t["scheme"]) or "http") + "://" + uri(auth) + uri(path))
    if not re.match(r"^[a-z][a-z0-9+.-]*://\S*$", rq["url"]):
        err(w, f"url {rq['url']!r} is not a URI")
    expect(w + " status", rs["status"], t["status"] or 0)
    expect(w + " statusText", rs["statusText"], text(t["reason"]) or "")
    expect(w + " connection", e.get("connection"), str(c["id"]))
    expect(w + " _role", e.get("_role"), text(c["role"]))
    expect(w + " _pid", e.get("_pid"), c["pid"])
    expect(w + " flags", [e.get("_complete"), e.get("_truncated"), e.get("_error"), e.get("_headersIncomplete")],
           [bool(t["complete"]), bool(t["truncated"]), bool(t["error"]), bool(t["headers_incomplete"])])
    if c["family"] in (b"ipv4", b"ipv6"):
        expect(w + " serverIPAddress", e.get("serverIPAddress"),
               text(c["local_addr"] if c["role"] == b"server" else c["remote_addr"]))

    for d, m in (("request", rq), ("response", rs)):
        expect(f"{w} {d} headers", m["headers"], want_headers(header_rows(t["id"], d, 0)))
        tr = want_headers(header_rows(t["id"], d, 1))
        expect(f"{w} {d} _trailers", m.get("_trailers"), tr if tr else None)
        pre = "req" if d == "request" else "resp"
        hs, bs = t[pre + "_header_bytes"], t[pre + "_body_bytes"]
        expect(f"{w} {d} headersSize", m["headersSize"], -1 if hs is None else hs)
        expect(f"{w} {d} bodySize", m["bodySize"], -1 if bs is None else bs)
        if args.redact:
            for ck in m["cookies"]:
                expect(f"{w} {d} cookie {ck.get('name')}", ck.get("value"), "REDACTED")
    nck = sum(len([p for p in h["value"].split(b";") if p.strip()])
              for h in header_rows(t["id"], "request", 0)
              if h["name"] is not None and h["name"].lower() == b"cookie" and h["value"] is not None)
    expect(w + " request cookies", len(rq["cookies"]), nck)

    body = {r["direction"]: r for r in db.execute("SELECT * FROM bodies WHERE transaction_id = ?", (t["id"],))}
    if t["status"] is not None:
        size = body[b"response"]["length"] if b"response" in body else (t["resp_body_bytes"] or 0)
        expect(w + " content.size", rs["content"]["size"], size)
        expect(w + " content.mimeType", rs["content"]["mimeType"], text(t["content_type"]) or "")
        check_body(w + " content", rs["content"], body.get(b"response"), size)
    if b"request" in body or (t["req_body_bytes"] or 0) > 0:
        pd = rq.get("postData")
        if not isinstance(pd, dict) or "mimeType" not in pd:
            err(w, "no postData")
        else:
            size = body[b"request"]["length"] if b"request" in body else t["req_body_bytes"]
            check_body(w + " postData", pd, body.get(b"request"), size)
    elif "postData" in rq:
        err(w, "postData without a request body")

if errors:
    print(f"{args.har}: {len(errors)} differences from {args.db}:")
    for m in errors[:40]:
        print("  " + m)
    sys.exit(1)
print(f"{args.har}: {len(entries)} entries agree with {args.db}")
