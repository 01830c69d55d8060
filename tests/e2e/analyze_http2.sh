#!/bin/bash
# HTTP/2 end to end with real peers on 127.0.0.1, captured by the recorder and
# by tcpdump at once: nghttpd with nghttp (1 MiB across many DATA frames) and
# h2load -n 200 -m 10 (exactly 200 transactions with the right paths and
# statuses); curl with prior knowledge (nghttpd, and nginx's `http2` listener:
# a 256 KiB body) and with an h2c upgrade (a
# python3-h2 server: nginx and nghttpd do not upgrade); and gRPC
# (python3-grpcio): unary, server and client streaming, a non-zero
# grpc-status.  The rows equal what the clients saw, from .skc and from pcap.
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd nghttpd nghttp h2load curl tcpdump sqlite3 nginx
/usr/bin/python3 -c 'import grpc' 2>/dev/null || skip "needs python3-grpcio"
/usr/bin/python3 -c 'import h2' 2>/dev/null || skip "needs python3-h2"

ng=$(free_port)
gp=$(free_port)
up=$(free_port)
n1=$(free_port)
nx=$(free_port)
mkdir -p "$WORK/www"
head -c 1048576 /dev/urandom >"$WORK/www/big.bin"
printf 'small file\n' >"$WORK/www/small.txt"
start nghttpd --no-tls -d "$WORK/www" "$ng"
wait_port "$ng" || fail "nghttpd did not start"
start_nginx "$WORK/ngx" "$n1" "$nx"
head -c 262144 /dev/urandom >"$WORK/ngx/www/quarter.bin"
wait_port "$nx" || fail "nginx did not start"
start /usr/bin/python3 "$top_srcdir/tests/e2e/grpc_peer.py" server "$gp"
wait_port "$gp" || fail "the gRPC server did not start"
start /usr/bin/python3 "$top_srcdir/tests/e2e/h2c_upgrade_server.py" "$up"
wait_port "$up" || fail "the h2c upgrade server did not start"

: >"$WORK/td.log"
tcpdump -i lo -s 0 -B 262144 -U --immediate-mode -Z root -w "$WORK/cap.pcap" "tcp port $ng or tcp port $gp or tcp port $up or tcp port $nx" 2>"$WORK/td.log" &
TD=$!
PIDS="$PIDS $TD"
for i in $(seq 100); do grep -q "listening on" "$WORK/td.log" && break; sleep 0.1; done
start_recorder "$WORK/cap.skc" --port "$ng" --port "$gp" --port "$up" --port "$nx" || finish
nghttp -n "http://127.0.0.1:$ng/big.bin" || fail "nghttp"
h2load -n 200 -c 2 -m 10 "http://127.0.0.1:$ng/small.txt" >"$WORK/h2load.txt" 2>&1 || fail "h2load"
curl -s --http2-prior-knowledge -H 'X-Test: prior' -D "$WORK/prior.hdr" -o /dev/null "http://127.0.0.1:$ng/small.txt"
curl -s --http2-prior-knowledge -H 'X-Test: nginx' -o "$WORK/nginx.body" "http://127.0.0.1:$nx/quarter.bin" || fail "curl nginx"
curl -s --http2 -H 'X-Test: upgrade' -D "$WORK/upgrade.hdr" -o "$WORK/upgrade.body" "http://127.0.0.1:$up/small.txt"
/usr/bin/python3 "$top_srcdir/tests/e2e/grpc_peer.py" client "$gp" "$WORK/grpc.json" || fail "gRPC client"
sleep 0.3
stop_recorder
stop "$TD" INT
grep -q "^0 packets dropped by kernel" "$WORK/td.log" || skip "tcpdump dropped packets"
expect_eq "recorder exit status" "$REC_STATUS" 0
grep -q "200 succeeded" "$WORK/h2load.txt" || fail "h2load: $(grep requests: "$WORK/h2load.txt")"
grep -q "^HTTP/1.1 101" "$WORK/upgrade.hdr" && ok "curl upgraded to h2c" || fail "no 101 in $(cat "$WORK/upgrade.hdr")"

"$SOCKCAP" analyze -q -o "$WORK/skc.db" "$WORK/cap.skc"
expect_eq "analyze .skc: exit 0" "$?" 0
"$SOCKCAP" analyze -q -o "$WORK/pcap.db" "$WORK/cap.pcap"
expect_eq "analyze pcap: exit 0" "$?" 0

for db in skc pcap; do
	D=$WORK/$db.db
	[ $db = skc ] && role=client || role=network
	J="FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE c.role = '$role'"
	expect_eq "$db: h2load's 200 transactions, path and status right" \
		"$(sqlite3 "$D" "SELECT count(*), min(t.path), max(t.path), min(t.status), max(t.status), sum(t.resp_body_bytes) $J AND c.comm IS NOT 'x' AND t.path = '/small.txt' AND t.http_version = 'HTTP/2' AND t.complete = 1 AND t.stream_id > 0 AND t.connection_id IN (SELECT connection_id FROM transactions GROUP BY connection_id HAVING count(*) = 100)")" \
		"200|/small.txt|/small.txt|200|200|2200"
	expect_eq "$db: nghttp's 1 MiB body across many DATA frames" \
		"$(sqlite3 "$D" "SELECT t.status, t.resp_body_bytes, t.complete, t.stream_id $J AND t.path = '/big.bin'")" "200|1048576|1|13"
	expect_eq "$db: prior knowledge: the request header as sent" \
		"$(sqlite3 "$D" "SELECT h.value FROM headers h WHERE h.direction = 'request' AND h.name = 'x-test' AND h.value <> 'nginx' AND h.transaction_id IN (SELECT t.id $J)")" "prior"
	expect_eq "$db: pseudo-headers of the prior-knowledge request" \
		"$(sqlite3 "$D" "SELECT t.method, t.scheme, t.authority, t.path $J AND t.id IN (SELECT transaction_id FROM headers WHERE name = 'x-test' AND value = 'prior')")" \
		"GET|http|127.0.0.1:$ng|/small.txt"
	expect_eq "$db: nginx http2 prior knowledge: 256 KiB across DATA frames" \
		"$(sqlite3 "$D" "SELECT t.stream_id, t.method, t.path, t.status, t.resp_body_bytes, t.complete, t.content_type $J AND t.id IN (SELECT transaction_id FROM headers WHERE name = 'x-test' AND value = 'nginx')")" \
		"1|GET|/quarter.bin|200|262144|1|application/octet-stream"
	expect_eq "$db: h2c upgrade: stream 1 is the upgraded HTTP/1.1 request, answered in HTTP/2" \
		"$(sqlite3 "$D" "SELECT t.stream_id, t.method, t.path, t.status, t.resp_body_bytes, t.complete $J AND t.id IN (SELECT transaction_id FROM headers WHERE name = 'X-Test' AND value = 'upgrade')")" \
		"1|GET|/small.txt|200|11|1"
	expect_eq "$db: response headers of the prior-knowledge request" \
		"$(sqlite3 "$D" "SELECT group_concat(h.name || '=' || h.value, ';') FROM headers h WHERE h.direction = 'response' AND h.name IN (':status', 'content-length') AND h.transaction_id = (SELECT transaction_id FROM headers WHERE name = 'x-test' AND value = 'prior' AND transaction_id IN (SELECT t.id $J))")" \
		"$(awk -F': ' 'tolower($1) == "content-length" {gsub(/\r/, "", $2); print ":status=200;content-length=" $2}' "$WORK/prior.hdr")"
	/usr/bin/python3 - "$D" "$WORK/grpc.json" "$role" <<'PY' && ok "$db: gRPC calls" || fail "$db: gRPC calls"
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
calls = json.load(open(sys.argv[2]))
bad = 0
for call in calls:
    rows = c.execute("SELECT t.grpc_service, t.grpc_method, t.grpc_status, t.grpc_message, t.grpc_req_msgs, t.grpc_resp_msgs,"
                     " t.grpc_req_msg_bytes, t.grpc_resp_msg_bytes, t.status, t.complete FROM transactions t JOIN connections n"
                     " ON n.id = t.connection_id WHERE n.role = ? AND t.grpc_method = ?", (sys.argv[3], call["method"])).fetchall()
    want = ("demo.Echo", call["method"], call["status"], call.get("message"), len(call["req_msgs"]), len(call["resp_msgs"]),
            sum(call["req_msgs"]), sum(call["resp_msgs"]), 200, 1)
    if rows != [want]:
        print("gRPC %s: got %r, want %r" % (call["method"], rows, [want]))
        bad += 1
sys.exit(1 if bad else 0)
PY
	expect_eq "$db: no anomalies" "$(sqlite3 "$D" 'SELECT count(*) FROM anomalies')" 0
	expect_eq "$db: no headers of unknown content" "$(sqlite3 "$D" 'SELECT count(*) FROM headers WHERE hpack_unknown')" 0
done
# The server's sockets see the same exchanges (as multisets: h2load's two
# connections interleave differently as seen from each end).
q="SELECT t.stream_id, t.method, t.path, t.status, t.resp_body_bytes, t.grpc_status FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE c.role = 'ROLE'"
sqlite3 "$WORK/skc.db" "${q/ROLE/client}" | sort >"$WORK/c.rows"
sqlite3 "$WORK/skc.db" "${q/ROLE/server}" | sort >"$WORK/s.rows"
sqlite3 "$WORK/pcap.db" "${q/ROLE/network}" | sort >"$WORK/n.rows"
expect_file_eq "client and server sockets decode the same transactions" "$WORK/s.rows" "$WORK/c.rows"
expect_file_eq "pcap and .skc decode the same transactions" "$WORK/n.rows" "$WORK/c.rows"
finish
