#!/bin/bash
# sockcap info and dump on a pcap and a pcapng that tcpdump writes at test
# time (curl against python3 http.server on 127.0.0.1): one connection, its
# payload bytes per direction equal what curl sent and received.
. "$top_srcdir/tests/e2e/lib.sh"
need_root
need_cmd tcpdump curl

port=$(free_port)
mkdir -p "$WORK/www"
head -c 3000 /dev/urandom >"$WORK/www/f.bin"
start_pyhttp "$port" "$WORK/www"
for fmt in pcap pcapng; do
	extra=()
	[ $fmt = pcapng ] && extra=(--time-stamp-precision nano)
	: >"$WORK/td.log"
	tcpdump -i lo -s 0 -U --immediate-mode -Z root "${extra[@]}" -w "$WORK/c.$fmt" "tcp port $port" 2>"$WORK/td.log" &
	TD=$!
	PIDS="$PIDS $TD"
	for i in $(seq 100); do grep -q "listening on" "$WORK/td.log" && break; sleep 0.1; done
	curl -s --trace "$WORK/trace.txt" -o /dev/null "http://127.0.0.1:$port/f.bin"
	sleep 0.3
	stop "$TD" INT
	if [ $fmt = pcapng ]; then
		command -v editcap >/dev/null || skip "needs editcap (tshark's package)"
		editcap -F pcapng "$WORK/c.pcapng" "$WORK/c2.pcapng" && mv "$WORK/c2.pcapng" "$WORK/c.pcapng"
	fi
	/usr/bin/python3 "$top_srcdir/tests/e2e/curl_trace.py" "$WORK/trace.txt" "$WORK/sent.bin" "$WORK/recv.bin"
	expect_eq "$fmt: format" "$(info_json "$WORK/c.$fmt" 'j["format"]')" "$fmt"
	expect_eq "$fmt: one connection" "$(info_json "$WORK/c.$fmt" 'len(j["connections"])')" 1
	expect_eq "$fmt: client bytes" "$(info_json "$WORK/c.$fmt" 'j["connections"][0]["bytes_ab"]')" "$(stat -c %s "$WORK/sent.bin")"
	expect_eq "$fmt: server bytes" "$(info_json "$WORK/c.$fmt" 'j["connections"][0]["bytes_ba"]')" "$(stat -c %s "$WORK/recv.bin")"
	expect_eq "$fmt: server endpoint" "$(info_json "$WORK/c.$fmt" 'j["connections"][0]["b"]')" "127.0.0.1:$port"
	expect_eq "$fmt: nothing skipped" "$(info_json "$WORK/c.$fmt" 'sum(j["skipped"].values())')" 0
	"$SOCKCAP" dump "$WORK/c.$fmt" >"$WORK/dump.txt"
	expect_eq "$fmt: exit status" "$?" 0
	grep -q "Flags \[S\]" "$WORK/dump.txt" && ok "$fmt: the SYN is dumped" || fail "$fmt: no SYN in dump"
	grep -q ": \"GET /f.bin HTTP/1.1\\\\r\\\\nHost: 127.0.0.1:$port" "$WORK/dump.txt" && ok "$fmt: the request is dumped" ||
		fail "$fmt: request not in dump"
done
finish
