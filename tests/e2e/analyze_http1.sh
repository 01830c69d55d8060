#!/bin/bash
# HTTP/1.x end to end: keep-alive, pipelining, HEAD, 304, chunked with
# trailers, 100-continue, a close-delimited body and a 10 MiB body, recorded
# by sockcap and by tcpdump at the same time.  Analysed from the .skc (both the
# client's and the server's sockets) and from the pcap, the transactions and
# header rows equal exactly what the client sent and got.
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd nginx tcpdump sqlite3

py=$(free_port)
h1=$(free_port)
h2=$(free_port)
mkdir -p "$WORK/ngx/www"
head -c 10485760 /dev/urandom >"$WORK/ngx/www/big.bin"
start_nginx "$WORK/ngx" "$h1" "$h2" off
start /usr/bin/python3 "$top_srcdir/tests/e2e/h1server.py" "$py"
wait_port "$py" || fail "test server did not start"

: >"$WORK/td.log"
tcpdump -i lo -s 0 -B 262144 -U --immediate-mode -Z root -w "$WORK/cap.pcap" "tcp port $py or tcp port $h1" 2>"$WORK/td.log" &
TD=$!
PIDS="$PIDS $TD"
for i in $(seq 100); do grep -q "listening on" "$WORK/td.log" && break; sleep 0.1; done
start_recorder "$WORK/cap.skc" --port "$py" --port "$h1" || finish
/usr/bin/python3 "$top_srcdir/tests/e2e/h1client.py" "$py" "$h1" "$WORK/manifest.json" || fail "the client failed"
sleep 0.3
stop_recorder
stop "$TD" INT
expect_eq "recorder exit status (nothing lost)" "$REC_STATUS" 0
grep -q "^0 packets dropped by kernel" "$WORK/td.log" || skip "tcpdump dropped packets: $(cat "$WORK/td.log")"

"$SOCKCAP" analyze -q -o "$WORK/skc.db" "$WORK/cap.skc"
expect_eq "analyze .skc: exit 0 (every byte parsed)" "$?" 0
"$SOCKCAP" analyze -q -o "$WORK/pcap.db" "$WORK/cap.pcap"
expect_eq "analyze pcap: exit 0" "$?" 0
for r in client server; do
	/usr/bin/python3 "$top_srcdir/tests/e2e/check_tx.py" "$WORK/skc.db" "$WORK/manifest.json" "$r" &&
		ok ".skc, $r sockets: rows equal what the client saw" || fail ".skc, $r sockets"
done
/usr/bin/python3 "$top_srcdir/tests/e2e/check_tx.py" "$WORK/pcap.db" "$WORK/manifest.json" network &&
	ok "pcap: rows equal what the client saw" || fail "pcap"

q='SELECT t.method, t.path, t.status, t.req_body_bytes, t.resp_body_bytes, t.req_header_bytes, t.resp_header_bytes, t.complete FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE c.role = ROLE ORDER BY t.req_start_ns'
sqlite3 "$WORK/skc.db" "${q/ROLE/\'client\'}" >"$WORK/skc-rows"
sqlite3 "$WORK/pcap.db" "${q/ROLE/\'network\'}" >"$WORK/pcap-rows"
expect_file_eq "the same transactions from .skc and from pcap" "$WORK/skc-rows" "$WORK/pcap-rows"
expect_eq "10 MiB body kept up to --max-body" \
	"$(sqlite3 "$WORK/skc.db" "SELECT length(b.data), b.length, b.truncated FROM bodies b JOIN transactions t ON t.id = b.transaction_id JOIN connections c ON c.id = t.connection_id WHERE c.role = 'client' AND t.path = '/big.bin'")" \
	"1048576|10485760|1"
expect_eq "the chunked body is stored de-chunked" \
	"$(sqlite3 "$WORK/pcap.db" "SELECT b.data FROM bodies b JOIN transactions t ON t.id = b.transaction_id WHERE t.path = '/chunked'")" \
	"$(printf 'first chunk\nsecond, longer chunk of text\nthird')"
expect_eq "no anomalies" "$(sqlite3 "$WORK/skc.db" 'SELECT count(*) FROM anomalies')$(sqlite3 "$WORK/pcap.db" 'SELECT count(*) FROM anomalies')" "00"
expect_eq "connections: client and server roles" \
	"$(sqlite3 "$WORK/skc.db" "SELECT group_concat(role || ':' || comm, ' ') FROM (SELECT DISTINCT role, comm FROM connections ORDER BY role, comm)")" \
	"client:python3 server:nginx server:python3"
expect_eq "endpoint_stats view" \
	"$(sqlite3 "$WORK/pcap.db" "SELECT requests, errors FROM endpoint_stats WHERE route = '/hello'")" "2|0"
finish
