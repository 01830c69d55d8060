#!/usr/bin/python3
"""Compare the transactions of a sockcap database with what a client saw.

usage: check_tx.py DB MANIFEST.json ROLE

ROLE selects the connections ('client', 'server' or 'network').  Transactions
are taken in request order; each must equal the manifest entry at the same
place: method, path, status, reason, request and response header fields in
order (trailers flagged), body lengths, interim status, complete and not
truncated.  Prints one line per difference and exits 1 if there is any.
"""
import json
import sqlite3
import sys

db, manifest, role = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
c = sqlite3.connect(db)
rows = c.execute(
    "SELECT t.id, t.method, t.path, t.status, t.reason, t.req_body_bytes, t.resp_body_bytes, t.interim_status,"
    " t.complete, t.truncated, t.error, t.http_version FROM transactions t JOIN connections n ON n.id = t.connection_id"
    " WHERE n.role = ? ORDER BY t.req_start_ns, t.id", (role,)).fetchall()
bad = []
if len(rows) != len(manifest):
    bad.append("%d transactions, the client made %d" % (len(rows), len(manifest)))


def fields(txid, direction, trailer):
    return [list(r) for r in c.execute(
        "SELECT name, value FROM headers WHERE transaction_id = ? AND direction = ? AND is_trailer = ? ORDER BY idx",
        (txid, direction, trailer))]


for i, (row, want) in enumerate(zip(rows, manifest)):
    txid, method, path, status, reason, qb, rb, interim, complete, truncated, error, ver = row
    where = "#%d %s %s" % (i, want["method"], want["path"])
    got = {"method": method, "path": path, "status": status, "reason": reason, "req_body_len": qb,
           "body_len": rb, "interim_status": interim, "complete": complete, "truncated": truncated, "error": error,
           "http_version": ver}
    exp = {"method": want["method"], "path": want["path"], "status": want["status"], "reason": want["reason"],
           "req_body_len": want["req_body_len"], "body_len": want["body_len"],
           "interim_status": want.get("interim_status"), "complete": 1, "truncated": 0, "error": 0,
           "http_version": "HTTP/1.1"}
    for k in exp:
        if got[k] != exp[k]:
            bad.append("%s: %s is %r, want %r" % (where, k, got[k], exp[k]))
    for direction, trailer, key in (("request", 0, "req_headers"), ("response", 0, "headers"),
                                    ("response", 1, "trailers")):
        g = fields(txid, direction, trailer)
        if g != want[key]:
            bad.append("%s: %s %s are %r, want %r" % (where, direction, "trailers" if trailer else "headers", g,
                                                     want[key]))
for b in bad:
    print(b)
print("%s: %d transactions checked, %d differences" % (role, len(rows), len(bad)))
sys.exit(1 if bad else 0)
