#!/bin/bash
# Overload with large bodies: nginx serves 256 KiB to h2load (HTTP/1.1 and
# h2c, 4 connections each) while the recorder has a 64 KiB ring buffer, in
# every attach mode.  Most bytes are lost, and the file still keeps the
# writer's promise (formats/SKC-FORMAT.md, "What the writer guarantees"): a
# LOSS record comes before any later data of its stream, except those the
# recorder counts as written late (its summary says how many, and the file
# has exactly that many); each stream's records are in time order when put in
# offset order (a loss carries the time its bytes moved); and per direction
# captured + lost equals what the load tool moved.
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd nginx h2load

h1=$(free_port)
h2=$(free_port)
mkdir -p "$WORK/ngx/www"
head -c 262144 /dev/urandom >"$WORK/ngx/www/big.bin"
start_nginx "$WORK/ngx" "$h1" "$h2" off

# traffic FILE: the exact byte count h2load received.
traffic() { sed -n 's/^traffic: .*(\([0-9]*\)) total.*/\1/p' "$1"; }

for mode in exit raw tracepoints; do
	cap="$WORK/cap-$mode.skc"
	start_recorder "$cap" --attach "$mode" --port "$h1" --port "$h2" -B 64k || finish
	timeout 120 h2load --h1 -n 100 -c 4 "http://127.0.0.1:$h1/big.bin" >"$WORK/h1-$mode.txt" 2>&1
	timeout 120 h2load -n 100 -c 4 -m 4 "http://127.0.0.1:$h2/big.bin" >"$WORK/h2-$mode.txt" 2>&1
	stop_recorder
	grep -q "100 succeeded" "$WORK/h1-$mode.txt" || fail "$mode: h2load --h1: $(grep requests: "$WORK/h1-$mode.txt")"
	grep -q "100 succeeded" "$WORK/h2-$mode.txt" || fail "$mode: h2load: $(grep requests: "$WORK/h2-$mode.txt")"
	expect_eq "$mode: recorder exits 1 (bytes were lost)" "$REC_STATUS" 1

	lost=$(info_json "$cap" 'j["lost"]["ringbuf-full"]["bytes"]')
	captured=$(info_json "$cap" 'j["bytes"]["sent"] + j["bytes"]["received"]')
	[ "$lost" -gt 0 ] && [ "$captured" -gt 0 ] && ok "$mode: $captured bytes captured, $lost lost to the full ring" ||
		fail "$mode: want both captured ($captured) and ringbuf-full ($lost) bytes"
	expect_eq "$mode: no unaccounted bytes" "$(info_json "$cap" 'j["bytes"]["unaccounted"]')" 0

	"$SOCKCAP" dump -m -s 0 "$cap" >"$WORK/dump-$mode.txt"
	verdict=$(/usr/bin/python3 "$top_srcdir/tests/e2e/check_loss_order.py" "$WORK/dump-$mode.txt")
	echo "$mode: $verdict"
	late=$(sed -n 's/.* late=\([0-9]*\).*/\1/p' <<<"$verdict")
	said=$(sed -n 's/.*: \([0-9]*\) LOSS records written after later data of their stream.*/\1/p' "$REC_LOG")
	expect_eq "$mode: LOSS records after later data = the count in the summary" "$late" "$said"
	# One thread per connection on both ends: nothing races, so nothing
	# may be written late.
	expect_eq "$mode: no LOSS record after later data of its stream" "$late" 0
	expect_eq "$mode: every stream in time order by offset" "$(sed -n 's/.* time_disorder=\([0-9]*\).*/\1/p' <<<"$verdict")" 0

	# Captured + lost = moved, against h2load's own byte counts.
	for p in h1 h2; do
		port=${!p}
		expect_eq "$mode $p: h2load's received bytes = captured + lost" \
			"$(info_json "$cap" "sum(s['bytes_received'] + s['lost_received'] for s in socks(comm='h2load') if s['remote'].endswith(':$port'))")" \
			"$(traffic "$WORK/$p-$mode.txt")"
	done
	expect_eq "$mode h1: nginx sent = h2load received (captured + lost, each end)" \
		"$(info_json "$cap" "sum(s['bytes_sent'] + s['lost_sent'] for s in socks(comm='nginx') if s['local'].endswith(':$h1'))")" \
		"$(traffic "$WORK/h1-$mode.txt")"
done
finish
