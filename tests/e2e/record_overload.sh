#!/bin/bash
# Overload: a 4 KiB ring buffer cannot hold nginx's 32 KiB writes.  The run
# reports the losses, exits 1, and per connection captured + lost equals
# exactly what the client sent and received.
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd curl nginx

h1=$(free_port)
h2=$(free_port)
mkdir -p "$WORK/ngx/www"
head -c 300000 /dev/urandom >"$WORK/ngx/www/big.bin"
start_nginx "$WORK/ngx" "$h1" "$h2" off
start_recorder "$WORK/cap.skc" --port "$h1" --buffer-size 4k || finish
for i in 1 2 3 4 5; do
	curl -s --trace "$WORK/trace-$i.txt" -o /dev/null -w '%{local_port}\n' "http://127.0.0.1:$h1/big.bin" >>"$WORK/ports"
done
stop_recorder
expect_eq "recorder exits 1: bytes were lost" "$REC_STATUS" 1
grep -q "the ring buffer dropped" "$REC_LOG" && ok "the summary reports ring buffer drops" || fail "summary: $(cat "$REC_LOG")"
lost=$(info_json "$WORK/cap.skc" 'j["lost"]["ringbuf-full"]["bytes"]')
[ "$lost" -gt 0 ] && ok "ringbuf-full losses recorded ($lost bytes)" || fail "no ringbuf-full loss"
expect_eq "no unaccounted bytes" "$(info_json "$WORK/cap.skc" 'j["bytes"]["unaccounted"]')" 0
i=0
while read -r lport; do
	i=$((i + 1))
	/usr/bin/python3 "$top_srcdir/tests/e2e/curl_trace.py" "$WORK/trace-$i.txt" "$WORK/sent.bin" "$WORK/recv.bin"
	sent=$(stat -c %s "$WORK/sent.bin")
	recv=$(stat -c %s "$WORK/recv.bin")
	expect_eq "request $i: curl side captured + lost = received" \
		"$(info_json "$WORK/cap.skc" "[s['bytes_received'] + s['lost_received'] for s in socks(comm='curl') if s['local'].endswith(':$lport')][0]")" "$recv"
	expect_eq "request $i: curl side captured + lost = sent" \
		"$(info_json "$WORK/cap.skc" "[s['bytes_sent'] + s['lost_sent'] for s in socks(comm='curl') if s['local'].endswith(':$lport')][0]")" "$sent"
	expect_eq "request $i: nginx side captured + lost = sent to curl" \
		"$(info_json "$WORK/cap.skc" "[s['bytes_sent'] + s['lost_sent'] for s in socks(comm='nginx') if s['remote'].endswith(':$lport')][0]")" "$recv"
done <"$WORK/ports"
finish
