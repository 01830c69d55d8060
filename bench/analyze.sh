#!/usr/bin/env bash
# bench/analyze.sh - analysis speed against tshark, on the same pcaps.
#
# Fixtures: h2load against nginx on 127.0.0.1 (HTTP/1.1 with --h1, and h2c),
# 1 KiB and 64 KiB bodies, captured by tcpdump (retried until it drops no
# packet).  Then, on each fixture, `sockcap analyze` (SQLite load included,
# bodies stored up to the default 1 MiB, and with --max-body 0)
# and tshark decoding HTTP (`-Y http` / `-d tcp.port==P,http2 -Y http2`, fields
# output) are timed in the same run: wall time, transactions/s, input MB/s,
# peak RSS, and the ratio.  Also counts the transactions each tool found
# against the number h2load completed.  Not a test: nothing here asserts a time.
#
#   sudo bench/analyze.sh                                  # 100k x 1 KiB, 10k x 64 KiB
#   N_TX=20000 N_TX_BIG=2000 RUNS=1 sudo bench/analyze.sh  # quicker
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
: "${SOCKCAP:=$top/build/cli/sockcap}"
: "${WORK:=/var/tmp/sockcap-bench/analyze}"
: "${N_TX:=100000}"
: "${N_TX_BIG:=10000}"
: "${RUNS:=3}"
: "${FIXTURES:=h1:1k:$N_TX h1:64k:$N_TX_BIG h2:1k:$N_TX h2:64k:$N_TX_BIG}"
: "${H1_PORT:=18280}"
: "${H2_PORT:=18281}"
: "${TSHARK:=1}"   # 0: skip tshark (it is slow)
: "${NOBODIES:=1}" # 1: also time sockcap with --max-body 0 (bodies counted, not stored)

[ "$(id -u)" -eq 0 ] || { echo "bench/analyze.sh: run as root (tcpdump)" >&2; exit 2; }
[ -x "$SOCKCAP" ] || { echo "bench/analyze.sh: no $SOCKCAP; run scripts/setup first" >&2; exit 2; }
for c in nginx h2load tcpdump tshark sqlite3; do
	command -v "$c" >/dev/null || { echo "bench/analyze.sh: needs $c" >&2; exit 2; }
done
mkdir -p "$WORK/www" "$WORK/logs" "$WORK/tmp" "$WORK/out"
RES=$WORK/results.tsv
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

bench_nginx "$WORK" 2 "$H1_PORT" "$H2_PORT"
NGINX_MASTER=
cleanup() { [ -n "$NGINX_MASTER" ] && kill -QUIT "$NGINX_MASTER" 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- fixtures --------------------------------------------------------------------------
make_fixture() { # PROTO SIZE N FILE -> prints h2load's succeeded count
	local proto=$1 size=$2 n=$3 f=$4 port conns=16 try
	[ "$proto" = h1 ] && port=$H1_PORT || port=$H2_PORT
	for try in 1 2 3 4; do
		rm -f "$f"
		tcpdump -i lo -s 0 -B 1048576 -w "$f" "tcp port $port" 2>"$WORK/logs/td.log" &
		local td=$!
		for _ in $(seq 100); do grep -q "listening on" "$WORK/logs/td.log" && break; sleep 0.1; done
		if [ "$proto" = h1 ]; then
			timeout 600 h2load --h1 -n "$n" -c "$conns" -m 1 "http://127.0.0.1:$port/$size" >"$WORK/logs/h2load.txt" 2>&1
		else
			timeout 600 h2load -n "$n" -c 8 -m 16 "http://127.0.0.1:$port/$size" >"$WORK/logs/h2load.txt" 2>&1
		fi
		sleep 1
		kill -INT "$td"
		wait "$td"
		local dropped ok
		dropped=$(awk '/packets dropped by kernel/ {print $1}' "$WORK/logs/td.log")
		ok=$(awk '/^requests:/ {print $8}' "$WORK/logs/h2load.txt")
		if [ "${dropped:-1}" = 0 ] && [ "$ok" = "$n" ]; then
			echo "$ok"
			return 0
		fi
		log "fixture $proto/$size: try $try: $ok/$n requests, $dropped packets dropped; retrying with fewer connections"
		conns=$((conns / 2 > 0 ? conns / 2 : 1))
	done
	echo "${ok:-0}"
}

declare -A EXPECT
if [ ! -s "$WORK/fixtures.tsv" ] || [ "${REFIX:-0}" = 1 ]; then
	nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/logs/error.log" || exit 2
	for _ in $(seq 50); do [ -s "$WORK/nginx.pid" ] && break; sleep 0.1; done
	NGINX_MASTER=$(cat "$WORK/nginx.pid")
	: >"$WORK/fixtures.tsv"
	for fx in $FIXTURES; do
		IFS=: read -r proto size n <<<"$fx"
		f=$WORK/$proto-$size-$n.pcap
		log "fixture $proto/$size: $n transactions"
		got=$(make_fixture "$proto" "$size" "$n" "$f")
		printf '%s\t%s\t%s\t%s\t%s\n' "$proto" "$size" "$n" "$f" "$got" >>"$WORK/fixtures.tsv"
	done
	kill -QUIT "$NGINX_MASTER"
	NGINX_MASTER=
fi

# ---- analysis --------------------------------------------------------------------------
timed() { # OUT CMD... -> "wall_s peak_rss_kib" (the command's output to OUT)
	local out=$1
	shift
	/usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$@" >"$out" 2>"$WORK/logs/err.txt"
	tail -1 "$WORK/time.txt"
}

printf 'proto\tsize\tn\tfile_mb\ttool\trun\twall_s\trss_kib\ttx\n' >"$RES"
while IFS=$'\t' read -r proto size n f h2ok; do
	mb=$(awk -v b="$(stat -c %s "$f")" 'BEGIN {printf "%.1f", b / 1048576}')
	[ "$proto" = h1 ] && port=$H1_PORT || port=$H2_PORT
	for run in $(seq "$RUNS"); do
		rm -f "$WORK/out/a.db"
		read -r wall rss <<<"$(timed /dev/null "$SOCKCAP" analyze -q -o "$WORK/out/a.db" "$f")"
		tx=$(sqlite3 "$WORK/out/a.db" "SELECT count(*) FROM transactions WHERE complete")
		printf '%s\t%s\t%s\t%s\tsockcap\t%s\t%s\t%s\t%s\n' "$proto" "$size" "$n" "$mb" "$run" "$wall" "$rss" "$tx" >>"$RES"
		log "$proto/$size sockcap r$run: ${wall}s, ${rss} KiB, $tx complete transactions (h2load: $h2ok)"
		if [ "$NOBODIES" = 1 ]; then
			rm -f "$WORK/out/a.db"
			read -r wall rss <<<"$(timed /dev/null "$SOCKCAP" analyze -q --max-body 0 -o "$WORK/out/a.db" "$f")"
			tx=$(sqlite3 "$WORK/out/a.db" "SELECT count(*) FROM transactions WHERE complete")
			printf '%s\t%s\t%s\t%s\tsockcap --max-body 0\t%s\t%s\t%s\t%s\n' "$proto" "$size" "$n" "$mb" "$run" "$wall" \
				"$rss" "$tx" >>"$RES"
			log "$proto/$size sockcap --max-body 0 r$run: ${wall}s, ${rss} KiB, $tx complete transactions"
		fi
		[ "$TSHARK" = 1 ] || continue
		if [ "$proto" = h1 ]; then
			read -r wall rss <<<"$(timed "$WORK/out/tshark.txt" tshark -n -r "$f" -Y http.response \
				-T fields -e http.response.code -e http.request_in)"
			tx=$(awk -F'\t' '$1 != "" && $2 != ""' "$WORK/out/tshark.txt" | wc -l)
		else
			read -r wall rss <<<"$(timed "$WORK/out/tshark.txt" tshark -n -r "$f" -d "tcp.port==$port,http2" \
				-Y 'http2.header.name == ":status"' -T fields -e tcp.stream -e http2.streamid)"
			# one line per frame; a frame may carry several streams' HEADERS
			tx=$(awk -F'\t' '{n = split($2, s, ","); for (i = 1; i <= n; i++) if (s[i] != 0) print $1 "/" s[i]}' \
				"$WORK/out/tshark.txt" | sort -u | wc -l)
		fi
		printf '%s\t%s\t%s\t%s\ttshark\t%s\t%s\t%s\t%s\n' "$proto" "$size" "$n" "$mb" "$run" "$wall" "$rss" "$tx" >>"$RES"
		log "$proto/$size tshark r$run: ${wall}s, ${rss} KiB, $tx transactions"
	done
done <"$WORK/fixtures.tsv"

/usr/bin/python3 - "$RES" "$WORK/fixtures.tsv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
h2ok = {(r[0], r[1]): r[4] for r in csv.reader(open(sys.argv[2]), delimiter="\t")}
cells = {}
for r in rows:
    cells.setdefault((r["proto"], r["size"], r["n"], r["file_mb"]), {}).setdefault(r["tool"], []).append(r)
print("\n## Analysis speed (medians)\n")
print("| fixture | input MB | tool | wall s | tx/s | MB/s | peak RSS MiB | transactions | h2load | speed-up |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for (p, s, n, mb), tools in cells.items():
    med = {t: statistics.median(float(x["wall_s"]) for x in rs) for t, rs in tools.items()}
    for t, rs in tools.items():
        w = med[t]
        tx = int(rs[-1]["tx"])
        rss = statistics.median(int(x["rss_kib"]) for x in rs) / 1024
        up = "%.1fx" % (med["tshark"] / w) if t.startswith("sockcap") and "tshark" in med else ""
        print(f"| {p} {s} x{n} | {mb} | {t} | {w:.2f} | {tx / w:,.0f} | {float(mb) / w:,.1f} | {rss:,.0f} | {tx} | {h2ok.get((p, s), '?')} | {up} |")
PY
