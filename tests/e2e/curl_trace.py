#!/usr/bin/python3
"""Extract the bytes curl sent and received from a `curl --trace FILE` log.

usage: curl_trace.py TRACE SENT_OUT RECV_OUT

curl logs every chunk it sends ("=> Send header", "=> Send data") and receives
("<= Recv header", "<= Recv data") as a hex dump; for plain HTTP/1.x these
chunks, concatenated, are exactly what went over the socket in each direction.
"""
import re
import sys

sent, recv = bytearray(), bytearray()
cur = None
with open(sys.argv[1], encoding="latin-1") as f:
    for line in f:
        if line.startswith("=> Send header") or line.startswith("=> Send data"):
            cur = sent
        elif line.startswith("<= Recv header") or line.startswith("<= Recv data"):
            cur = recv
        elif line.startswith("==") or line.startswith("=>") or line.startswith("<="):
            cur = None
        elif cur is not None and re.match(r"^[0-9a-f]{4,}: ", line):
            start = line.index(": ") + 2  # offsets grow past 4 digits beyond 64 KiB
            hexpart = line[start:start + 3 * 16]
            for tok in hexpart.split():
                if re.fullmatch(r"[0-9a-f]{2}", tok):
                    cur.append(int(tok, 16))
open(sys.argv[2], "wb").write(sent)
open(sys.argv[3], "wb").write(recv)
