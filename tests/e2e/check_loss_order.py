#!/usr/bin/env python3
"""check_loss_order.py DUMP: the LOSS ordering the .skc writer guarantees.

Reads `sockcap dump -m -s 0` output and prints, on one line:

    records=N data=D losses=L late=K time_disorder=T

- late: LOSS records that some earlier DATA record of the same socket and
  direction passes (a DATA at a higher offset comes first in the file).  The
  writer guarantees none except those it counts as written late
  (formats/SKC-FORMAT.md, "What the writer guarantees").
- time_disorder: records of one socket direction whose time goes backwards in
  stream-offset order (a LOSS stamped with the time it was written rather than
  the time its bytes moved would show here).
"""
import re
import sys

LINE = re.compile(r"^(\d+\.\d+) \S+ sock (\d+) (out|in) (?:(LOSS) \S+ )?(?:[a-z0-9]+ )?off (\d+) len (\d+)")


def main():
    data = losses = late = records = 0
    max_data_off = {}
    by_stream = {}
    for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        records += 1
        ts = int(m.group(1).replace(".", ""))
        key = (m.group(2), m.group(3))
        off = int(m.group(5))
        if m.group(4):
            losses += 1
            if key in max_data_off and max_data_off[key] > off:
                late += 1
        else:
            data += 1
            if off > max_data_off.get(key, -1):
                max_data_off[key] = off
        by_stream.setdefault(key, []).append((off, ts))
    disorder = 0
    for recs in by_stream.values():
        recs.sort()
        for (_, a), (_, b) in zip(recs, recs[1:]):
            if b < a:
                disorder += 1
    print(f"records={records} data={data} losses={losses} late={late} time_disorder={disorder}")


if __name__ == "__main__":
    main()
