#!/usr/bin/python3
"""Print a sockcap database as stable text, for exact comparison in tests.

usage: dbdump.py DB

Every table, every row in id order, every column except those that depend on
where and when the analysis ran (the capture's path, analyzer, analyzed_ns).
Blobs are shown as their length and a hash.
"""
import hashlib
import sqlite3
import sys

SKIP = {("captures", "path"), ("captures", "analyzer"), ("captures", "analyzed_ns")}
ORDER = {"captures": "id", "processes": "capture_id, pid", "connections": "id", "transactions": "id",
         "headers": "transaction_id, direction, idx", "bodies": "transaction_id, direction", "anomalies": "id"}


def show(v):
    if isinstance(v, bytes):
        return "blob[%d]:%s" % (len(v), hashlib.sha256(v).hexdigest()[:16])
    if v is None:
        return "NULL"
    return repr(v)


c = sqlite3.connect(sys.argv[1])
c.text_factory = bytes
for table, order in ORDER.items():
    cur = c.execute("SELECT * FROM %s ORDER BY %s" % (table, order))
    cols = [d[0] for d in cur.description]
    print("== %s" % table)
    for row in cur:
        out = []
        for col, v in zip(cols, row):
            if (table, col) in SKIP:
                continue
            if isinstance(v, bytes) and table != "bodies":
                v = v.decode("utf-8", "backslashreplace")
            out.append("%s=%s" % (col, show(v)))
        print(" ".join(out))
