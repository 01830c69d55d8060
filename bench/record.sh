#!/usr/bin/env bash
# bench/record.sh - what recording costs the observed server, measured.
#
# nginx on 127.0.0.1 (HTTP/1.1 and h2c, `sendfile off` so bodies pass through
# writev) under wrk (HTTP/1.1) and h2load (HTTP/2), 1 KiB and 64 KiB bodies,
# DUR seconds per run, RUNS repetitions.  In every repetition and cell the same
# load runs with no recorder (baseline), with `tcpdump -i lo -w`, and with
# `sockcap record` in each attach mode (sys_exit only, raw_syscalls enter and
# exit, per-syscall tracepoints) recording both ends of each connection (--port: the load
# generator's sockets and nginx's, so every byte is captured twice, where
# tcpdump sees each packet once), and recording the server only (-c nginx,
# default mode), which is what a production box records, and with the
# programs attached but a filter no socket passes (sockcap-attach-only: what
# the syscall hooks cost before any byte is captured).  Reports median requests/s, the ratio to the baseline of the
# same repetition, CPU of nginx and of the recorder, capture bytes per request,
# and what each tool lost.  Not a test: nothing here asserts a timing.
#
#   sudo bench/record.sh                     # RUNS=3 DUR=5: about 6 minutes
#   RUNS=5 DUR=10 CONDS="baseline sockcap-raw" sudo bench/record.sh
#
# Every load run is bounded (wrk -d, h2load -D, timeout); only processes this
# script started are signalled, by PID.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
: "${SOCKCAP:=$top/build/cli/sockcap}"
: "${WORK:=/var/tmp/sockcap-bench/record}"
: "${RUNS:=3}"
: "${DUR:=5}"
: "${PROTOS:=h1 h2}"
: "${SIZES:=1k 64k}"
: "${CONDS:=baseline tcpdump sockcap-exit sockcap-raw sockcap-tracepoints sockcap-server sockcap-attach-only}"
: "${H1_PORT:=18180}"
: "${H2_PORT:=18181}"
: "${NGINX_WORKERS:=2}"
: "${WRK_CONNS:=32}"
: "${H2_CLIENTS:=8}"
: "${H2_STREAMS:=16}"

[ "$(id -u)" -eq 0 ] || { echo "bench/record.sh: run as root (the recorders need it)" >&2; exit 2; }
[ -x "$SOCKCAP" ] || { echo "bench/record.sh: no $SOCKCAP; run scripts/setup first" >&2; exit 2; }
for c in nginx wrk h2load tcpdump curl; do
	command -v "$c" >/dev/null || { echo "bench/record.sh: needs $c (scripts/setup installs it)" >&2; exit 2; }
done
mkdir -p "$WORK/www" "$WORK/logs" "$WORK/tmp"
RES=$WORK/results.tsv
CLK_TCK=$(getconf CLK_TCK)
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

bench_nginx "$WORK" "$NGINX_WORKERS" "$H1_PORT" "$H2_PORT"
nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/logs/error.log" || exit 2
for i in $(seq 50); do [ -s "$WORK/nginx.pid" ] && break; sleep 0.1; done
NGINX_MASTER=$(cat "$WORK/nginx.pid")
sleep 0.5
WORKERS=$(ps -o pid= --ppid "$NGINX_MASTER" | tr -s ' \n' ' ')
REC_PID=
cleanup() {
	[ -n "$REC_PID" ] && kill -INT "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null
	kill -QUIT "$NGINX_MASTER" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ticks() { # utime+stime of the given pids
	local f=() p
	for p in "$@"; do [ -r "/proc/$p/stat" ] && f+=("/proc/$p/stat"); done
	((${#f[@]})) || { echo 0; return; }
	awk '{sub(/^.*\) /, ""); t += $12 + $13} END {print t + 0}' "${f[@]}"
}

# run_load PROTO SIZE OUT -> "rps requests"
run_load() {
	case $1 in
	h1) timeout -s INT $((DUR + 30)) wrk -t1 -c"$WRK_CONNS" -d"${DUR}s" "http://127.0.0.1:$H1_PORT/$2" >"$3" 2>&1
	    awk '/requests in/ {n = $1} /Requests\/sec:/ {r = $2} END {print r + 0, n + 0}' "$3" ;;
	h2) timeout -s INT $((DUR + 30)) h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -D"$DUR" "http://127.0.0.1:$H2_PORT/$2" >"$3" 2>&1
	    awk '/^finished in/ {r = $4} /^requests:/ {n = $8} END {print r + 0, n + 0}' "$3" ;;
	esac
}

start_rec() { # COND CAPTURE LOG
	case $1 in
	tcpdump) tcpdump -i lo -s 0 -w "$2" "tcp port $H1_PORT or tcp port $H2_PORT" 2>"$3" &
		REC_PID=$!; ready='listening on' ;;
	sockcap-exit | sockcap-raw | sockcap-tracepoints)
		"$SOCKCAP" record -w "$2" -f --attach "${1#sockcap-}" --port "$H1_PORT" --port "$H2_PORT" 2>"$3" &
		REC_PID=$!; ready='recording to' ;;
	sockcap-server)
		"$SOCKCAP" record -w "$2" -f -c nginx --port "$H1_PORT" --port "$H2_PORT" 2>"$3" &
		REC_PID=$!; ready='recording to' ;;
	sockcap-attach-only) # the programs attached, a filter that matches no socket: the cost of the hook itself
		"$SOCKCAP" record -w "$2" -f --port 9 2>"$3" &
		REC_PID=$!; ready='recording to' ;;
	esac
	for i in $(seq 300); do grep -q "$ready" "$3" 2>/dev/null && return 0; sleep 0.1; done
	log "$1 did not start: $(cat "$3")"; return 1
}

loss_of() { # COND LOG -> "lost unit"
	case $1 in
	tcpdump) awk '/packets dropped by kernel/ {d = $1} /packets captured/ {c = $1} END {printf "%.0f/%.0f packets\n", d, c + d}' "$2" ;;
	sockcap-*) awk '/bytes moved by the syscalls/ {m = $3; l = $(NF - 1)} END {printf "%.0f/%.0f bytes\n", l, m}' "$2" ;;
	*) echo "-" ;;
	esac
}

# warm up nginx and the load generators
for p in $PROTOS; do for s in $SIZES; do DUR=2 run_load "$p" "$s" "$WORK/logs/warmup" >/dev/null; done; done
printf 'rep\tproto\tsize\tcond\trps\trequests\tnginx_cpu_s\trec_cpu_s\tcapture_bytes\tlost\n' >"$RES"
for rep in $(seq "$RUNS"); do
	for p in $PROTOS; do for s in $SIZES; do for cond in $CONDS; do
		id="$cond.$p.$s.r$rep"
		cap="$WORK/$id.cap"
		rm -f "$cap"
		REC_PID=
		if [ "$cond" != baseline ]; then
			start_rec "$cond" "$cap" "$WORK/logs/$id.rec" || continue
		fi
		n0=$(ticks $WORKERS)
		r0=$( [ -n "$REC_PID" ] && ticks "$REC_PID" || echo 0)
		read -r rps reqs <<<"$(run_load "$p" "$s" "$WORK/logs/$id.load")"
		n1=$(ticks $WORKERS)
		capb=0
		lost=-
		rec_s=0
		if [ -n "$REC_PID" ]; then
			sleep 1
			r1=$(ticks "$REC_PID")
			rec_s=$(awk -v a="$r0" -v b="$r1" -v h="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / h}')
			kill -INT "$REC_PID"
			wait "$REC_PID"
			REC_PID=
			capb=$(stat -c %s "$cap" 2>/dev/null || echo 0)
			lost=$(loss_of "$cond" "$WORK/logs/$id.rec")
			rm -f "$cap"
		fi
		nginx_s=$(awk -v a="$n0" -v b="$n1" -v h="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / h}')
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$p" "$s" "$cond" "$rps" "$reqs" "$nginx_s" "$rec_s" \
			"$capb" "$lost" >>"$RES"
		log "r$rep $p/$s $cond: $rps req/s, $reqs requests, capture $capb B, lost $lost"
	done; done; done
done

# Report: medians over repetitions; ratio = median over repetitions of
# (rps / baseline rps of the same repetition and cell).
/usr/bin/python3 - "$RES" "$RUNS" "$DUR" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
base = {(r["rep"], r["proto"], r["size"]): float(r["rps"]) for r in rows if r["cond"] == "baseline"}
cells = {}
for r in rows:
    cells.setdefault((r["proto"], r["size"], r["cond"]), []).append(r)
print(f"\n## Recording overhead (RUNS={sys.argv[2]}, DUR={sys.argv[3]}s; medians)\n")
print("| proto | size | recorder | req/s | ratio to baseline | nginx CPU s | recorder CPU s | capture B/req | lost (worst run) |")
print("|---|---|---|---:|---:|---:|---:|---:|---|")
for (p, s, c), rs in cells.items():
    rps = statistics.median(float(r["rps"]) for r in rs)
    ratios = [float(r["rps"]) / base[(r["rep"], p, s)] for r in rs if base.get((r["rep"], p, s))]
    ratio = statistics.median(ratios) if ratios else float("nan")
    bpr = statistics.median(int(r["capture_bytes"]) / max(1, int(r["requests"])) for r in rs)
    worst = max((r["lost"] for r in rs), key=lambda x: int(x.split("/")[0]) if x[0].isdigit() else -1)
    print(f"| {p} | {s} | {c} | {rps:,.0f} | {ratio:.2f} | {statistics.median(float(r['nginx_cpu_s']) for r in rs):.2f} "
          f"| {statistics.median(float(r['rec_cpu_s']) for r in rs):.2f} | {bpr:,.0f} | {worst} |")
PY
