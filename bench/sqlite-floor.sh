#!/usr/bin/env bash
# bench/sqlite-floor.sh - what the database alone costs an analysis.
#
# Writes, with nothing decoded, the rows `sockcap analyze` writes for the
# bench/analyze.sh fixtures (one transactions row of 40 columns, one
# header_blocks row, one bodies row per transaction) in sockcap's schema and
# settings, and times the inserts, the indexes and the commit.  No analysis
# that loads these rows into one SQLite file can be faster than this, so it
# bounds the speed-up over tshark that bench/analyze.sh can show.
#
#   bench/sqlite-floor.sh        # 100k x 1 KiB, 100k x no body, 10k x 64 KiB; RUNS=3 each
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
: "${RUNS:=3}"
: "${WORK:=/var/tmp/sockcap-bench/floor}"
mkdir -p "$WORK"
cc -O2 -o "$WORK/sqlite-floor" "$top/bench/sqlite-floor.c" $(pkg-config --cflags --libs sqlite3)
for spec in 100000:1024 100000:0 10000:65536; do
	for _ in $(seq "$RUNS"); do
		"$WORK/sqlite-floor" "$top/analyze/schema.sql" "$WORK/floor.db" "${spec%%:*}" "${spec##*:}"
	done
done
rm -f "$WORK/floor.db"
