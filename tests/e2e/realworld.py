#!/usr/bin/python3
"""realworld.py - sockcap analyze on every public capture, against pinned counts.

    realworld.py SOCKCAP DIR EXPECTED [--update] [--tshark] [--timeout SEC]

Runs `sockcap analyze` on every capture in DIR (../shared/fixtures/realworld-pcaps,
captures nobody on this project wrote) and compares, per capture, the exit
status, the requests (method known), the final responses (status known), the
paired exchanges (both), and the anomalies by kind with the line pinned in
EXPECTED.  Also fails on a sanitizer report on stderr (the ASan build), on a
run that exceeds the time bound, on a capture in DIR that is not pinned and on
a pinned capture missing from DIR.

Each entry also carries tshark's counts (default preferences: its own TCP
reassembly, HTTP on its default ports): HTTP/1 requests plus HTTP/2 HEADERS with
:method, and final HTTP/1 responses (status >= 200, and 101) plus HTTP/2
:status >= 200.  They are not checked at test time (tshark is slow and is not
what is tested); `--tshark` recomputes them.  Where sockcap's requests or
responses differ from tshark's, the entry must be preceded by a comment saying
why (and citing the RFC when tshark is the one that is wrong): the test
enforces that a comment is there.

--update rewrites the sockcap columns of EXPECTED from this run, keeping every
comment; review the diff.  Exit 0 when everything matches, 1 otherwise.
"""

import os
import re
import sqlite3
import subprocess
import sys
import tempfile

COLUMNS = ("exit", "requests", "responses", "paired", "anomalies", "tshark_req", "tshark_resp")
SANITIZER = re.compile(rb"(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:)")


def sockcap_counts(sockcap, path, work, timeout):
    db = os.path.join(work, "rw.db")
    for ext in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(db + ext):
            os.unlink(db + ext)
    try:
        p = subprocess.run([sockcap, "analyze", "-q", "-o", db, path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"took longer than {timeout} s"
    problem = None
    if SANITIZER.search(p.stderr):
        problem = "sanitizer report:\n" + p.stderr.decode("utf-8", "replace")[-3000:]
    row = {"exit": str(p.returncode), "requests": "-", "responses": "-", "paired": "-", "anomalies": "-"}
    if os.path.exists(db):
        c = sqlite3.connect(db)
        try:
            q = c.execute("SELECT count(method), count(status), "
                          "coalesce(sum(method IS NOT NULL AND status IS NOT NULL), 0) FROM transactions").fetchone()
            row["requests"], row["responses"], row["paired"] = (str(x) for x in q)
            kinds = c.execute("SELECT kind, count(*) FROM anomalies GROUP BY kind ORDER BY kind").fetchall()
            row["anomalies"] = ",".join(f"{k}:{n}" for k, n in kinds) or "-"
        except sqlite3.Error:
            pass  # no schema: the run failed before writing one; the status says so
        finally:
            c.close()
    return row, problem


def tshark_counts(path):
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|",
                          "-E", "separator=;", "-e", "http.request.method", "-e", "http.response.code",
                          "-e", "http2.headers.method", "-e", "http2.headers.status"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=600).stdout.decode()
    req = resp = 0
    for line in out.splitlines():
        f = (line.split(";") + ["", "", "", ""])[:4]
        vals = [[v for v in x.split("|") if v] for x in f]
        req += len(vals[0]) + len(vals[2])
        resp += sum(1 for v in vals[1] if v.isdigit() and (int(v) >= 200 or int(v) == 101))
        resp += sum(1 for v in vals[3] if v.isdigit() and int(v) >= 200)
    return str(req), str(resp)


def parse_expected(path):
    """Lines as (kind, text, fields): kind 'comment', 'blank' or 'entry'."""
    lines = []
    with open(path) as f:
        for raw in f:
            text = raw.rstrip("\n")
            if not text.strip():
                lines.append(("blank", text, None))
            elif text.lstrip().startswith("#"):
                lines.append(("comment", text, None))
            else:
                parts = text.split()
                if len(parts) != 1 + len(COLUMNS):
                    sys.exit(f"{path}: bad entry (want name and {len(COLUMNS)} columns): {text}")
                lines.append(("entry", text, dict(zip(("name",) + COLUMNS, parts))))
    return lines


def format_entry(e):
    return (f"{e['name']:<56} {e['exit']:>2} {e['requests']:>5} {e['responses']:>5} {e['paired']:>5}  "
            f"{e['anomalies']:<40} {e['tshark_req']:>5} {e['tshark_resp']:>5}")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    timeout = 120
    for fl in flags:
        if fl.startswith("--timeout="):
            timeout = int(fl.split("=", 1)[1])
    if len(args) != 3:
        sys.exit(__doc__)
    sockcap, capdir, expected = args
    update, with_tshark = "--update" in flags, "--tshark" in flags

    lines = parse_expected(expected)
    pinned = {f["name"]: f for k, _, f in lines if k == "entry"}
    present = sorted(n for n in os.listdir(capdir) if n.endswith((".pcap", ".pcapng")))
    fails = 0

    for name in sorted(set(pinned) - set(present)):
        print(f"FAIL: {name}: pinned in {os.path.basename(expected)} but not in {capdir}")
        fails += 1

    results = {}
    with tempfile.TemporaryDirectory(prefix="sc-realworld.") as work:
        for name in present:
            row, problem = sockcap_counts(sockcap, os.path.join(capdir, name), work, timeout)
            if row is None:
                print(f"FAIL: {name}: {problem}")
                fails += 1
                continue
            if problem:
                print(f"FAIL: {name}: {problem}")
                fails += 1
            old = pinned.get(name)
            e = {"name": name, **row}
            if with_tshark:
                e["tshark_req"], e["tshark_resp"] = tshark_counts(os.path.join(capdir, name))
            else:
                e["tshark_req"] = old["tshark_req"] if old else "?"
                e["tshark_resp"] = old["tshark_resp"] if old else "?"
            results[name] = e
            if old is None:
                print(f"FAIL: {name}: not pinned; got {format_entry(e)}")
                fails += 1
                continue
            diffs = [f"{c} {old[c]} -> {row[c]}" for c in COLUMNS[:5] if old[c] != row[c]]
            if diffs:
                print(f"FAIL: {name}: " + "; ".join(diffs))
                fails += 1
            else:
                print(f"ok: {name}")

    # A disagreement with tshark must be explained by the comment above it.
    prev = "blank"
    for kind, _, f in lines:
        if kind == "entry":
            e = results.get(f["name"], f)
            if (e["requests"], e["responses"]) != (e["tshark_req"], e["tshark_resp"]) and prev != "comment":
                print(f"FAIL: {f['name']}: sockcap finds {e['requests']} requests and {e['responses']} responses, "
                      f"tshark {e['tshark_req']} and {e['tshark_resp']}: say why in a comment above the entry")
                fails += 1
        prev = kind

    if update:
        out = []
        for kind, text, f in lines:
            if kind == "entry" and f["name"] in results:
                out.append(format_entry(results[f["name"]]))
            elif kind != "entry" or f["name"] in present:
                out.append(text)
        for name in present:
            if name not in pinned and name in results:
                out.append(format_entry(results[name]))
        with open(expected + ".tmp", "w") as fo:
            fo.write("\n".join(out) + "\n")
        os.replace(expected + ".tmp", expected)
        print(f"rewrote {expected}: review the diff")

    print(f"{len(present)} captures, {fails} failures")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
