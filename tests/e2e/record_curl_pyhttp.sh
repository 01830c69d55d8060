#!/bin/bash
# Record curl -> python3 http.server (HTTP/1.1 request, HTTP/1.0 response) over
# IPv4, IPv6 and a Unix-domain socket, in every attach mode: the captured bytes
# of each direction equal, byte for byte, what the client sent and received;
# pids, comm, addresses and ports are right on both ends.
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd curl

port=$(free_port)
mkdir -p "$WORK/www"
head -c 20000 /dev/urandom >"$WORK/www/data.bin"
start_pyhttp "$port" "$WORK/www"

start_recorder "$WORK/cap.skc" --port "$port" || finish
curl -s --trace "$WORK/trace.txt" -o "$WORK/got.bin" -w '%{local_port}' "http://127.0.0.1:$port/data.bin" \
	>"$WORK/lport" &
CURL_PID=$!
wait $CURL_PID
stop_recorder
expect_eq "recorder exit status" "$REC_STATUS" 0
cmp -s "$WORK/got.bin" "$WORK/www/data.bin" || fail "curl did not get the file"
lport=$(cat "$WORK/lport")

/usr/bin/python3 "$top_srcdir/tests/e2e/curl_trace.py" "$WORK/trace.txt" "$WORK/sent.bin" "$WORK/recv.bin"
cid=$(info_json "$WORK/cap.skc" 'socks(comm="curl")[0]["id"]')
sid=$(info_json "$WORK/cap.skc" 'socks(comm="python3", how="accept")[0]["id"]')
"$SOCKCAP" dump --stream "$cid:out" "$WORK/cap.skc" >"$WORK/c-out.bin"
"$SOCKCAP" dump --stream "$cid:in" "$WORK/cap.skc" >"$WORK/c-in.bin"
"$SOCKCAP" dump --stream "$sid:out" "$WORK/cap.skc" >"$WORK/s-out.bin"
"$SOCKCAP" dump --stream "$sid:in" "$WORK/cap.skc" >"$WORK/s-in.bin"
expect_file_eq "curl socket: sent bytes equal curl's trace" "$WORK/c-out.bin" "$WORK/sent.bin"
expect_file_eq "curl socket: received bytes equal curl's trace" "$WORK/c-in.bin" "$WORK/recv.bin"
expect_file_eq "server socket: sent bytes equal what curl received" "$WORK/s-out.bin" "$WORK/recv.bin"
expect_file_eq "server socket: received bytes equal what curl sent" "$WORK/s-in.bin" "$WORK/sent.bin"

expect_eq "curl socket pid" "$(info_json "$WORK/cap.skc" 'socks(comm="curl")[0]["pid"]')" "$CURL_PID"
expect_eq "curl socket how" "$(info_json "$WORK/cap.skc" 'socks(comm="curl")[0]["how"]')" "connect"
expect_eq "curl socket local" "$(info_json "$WORK/cap.skc" 'socks(comm="curl")[0]["local"]')" "127.0.0.1:$lport"
expect_eq "curl socket remote" "$(info_json "$WORK/cap.skc" 'socks(comm="curl")[0]["remote"]')" "127.0.0.1:$port"
expect_eq "server socket pid" "$(info_json "$WORK/cap.skc" 'socks(how="accept")[0]["pid"]')" "$PY_PID"
expect_eq "server socket local" "$(info_json "$WORK/cap.skc" 'socks(how="accept")[0]["local"]')" "127.0.0.1:$port"
expect_eq "server socket remote" "$(info_json "$WORK/cap.skc" 'socks(how="accept")[0]["remote"]')" "127.0.0.1:$lport"
expect_eq "both sockets closed" "$(info_json "$WORK/cap.skc" 'all(s["closed"] for s in j["sockets"])')" "True"
expect_eq "nothing lost" "$(info_json "$WORK/cap.skc" 'j["bytes"]["lost_sent"] + j["bytes"]["lost_received"]')" "0"
expect_eq "file status" "$(info_json "$WORK/cap.skc" 'j["status"]')" "complete"
expect_eq "processes named" "$(info_json "$WORK/cap.skc" 'sorted(p["comm"] for p in j["processes"])')" "['curl', 'python3']"

# The other attach modes capture the same bytes.
for mode in raw tracepoints; do
	start_recorder "$WORK/cap-$mode.skc" --port "$port" --attach "$mode" || finish
	curl -s --trace "$WORK/trace-$mode.txt" -o /dev/null "http://127.0.0.1:$port/data.bin"
	stop_recorder
	/usr/bin/python3 "$top_srcdir/tests/e2e/curl_trace.py" "$WORK/trace-$mode.txt" "$WORK/sent-$mode.bin" "$WORK/recv-$mode.bin"
	cid=$(info_json "$WORK/cap-$mode.skc" 'socks(comm="curl")[0]["id"]')
	"$SOCKCAP" dump --stream "$cid:in" "$WORK/cap-$mode.skc" >"$WORK/c-in-$mode.bin"
	"$SOCKCAP" dump --stream "$cid:out" "$WORK/cap-$mode.skc" >"$WORK/c-out-$mode.bin"
	expect_file_eq "--attach $mode: received bytes" "$WORK/c-in-$mode.bin" "$WORK/recv-$mode.bin"
	expect_file_eq "--attach $mode: sent bytes" "$WORK/c-out-$mode.bin" "$WORK/sent-$mode.bin"
	expect_eq "--attach $mode: both ends closed" "$(info_json "$WORK/cap-$mode.skc" 'sum(s["closed"] for s in j["sockets"])')" 2
done

# IPv6: the same server on ::1.
port6=$(free_port)
start /usr/bin/python3 -m http.server --bind ::1 "$port6" --directory "$WORK/www" >/dev/null 2>&1
PY6=$LAST_PID
for i in $(seq 50); do curl -s -g -o /dev/null "http://[::1]:$port6/" && break; sleep 0.1; done
start_recorder "$WORK/cap6.skc" --port "$port6" || finish
curl -s -g --trace "$WORK/trace6.txt" -o /dev/null -w '%{local_port}' "http://[::1]:$port6/data.bin" >"$WORK/lport6"
stop_recorder
/usr/bin/python3 "$top_srcdir/tests/e2e/curl_trace.py" "$WORK/trace6.txt" "$WORK/sent6.bin" "$WORK/recv6.bin"
cid=$(info_json "$WORK/cap6.skc" 'socks(comm="curl")[0]["id"]')
"$SOCKCAP" dump --stream "$cid:in" "$WORK/cap6.skc" >"$WORK/c6-in.bin"
expect_file_eq "IPv6: received bytes equal curl's trace" "$WORK/c6-in.bin" "$WORK/recv6.bin"
expect_eq "IPv6: family" "$(info_json "$WORK/cap6.skc" 'socks(comm="curl")[0]["family"]')" "ipv6"
expect_eq "IPv6: remote" "$(info_json "$WORK/cap6.skc" 'socks(comm="curl")[0]["remote"]')" "[::1]:$port6"
expect_eq "IPv6: local" "$(info_json "$WORK/cap6.skc" 'socks(comm="curl")[0]["local"]')" "[::1]:$(cat "$WORK/lport6")"
stop "$PY6"

# Unix-domain stream socket: a request and a reply over a socket file.
cat >"$WORK/unix.py" <<'PY'
import os, socket, sys
path = sys.argv[1]
if sys.argv[2] == "server":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path); s.listen(1)
    open(path + ".ready", "w").close()
    c, _ = s.accept()
    req = c.recv(65536)
    c.sendall(b"pong:" + req)
    c.close()
else:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    c.sendall(b"ping over unix")
    sys.stdout.buffer.write(c.recv(65536))
PY
start_recorder "$WORK/capu.skc" -c python3 || finish
start /usr/bin/python3 "$WORK/unix.py" "$WORK/u.sock" server
for i in $(seq 100); do [ -e "$WORK/u.sock.ready" ] && break; sleep 0.05; done
/usr/bin/python3 "$WORK/unix.py" "$WORK/u.sock" client >"$WORK/unix-reply.txt"
stop_recorder
expect_eq "unix: reply" "$(cat "$WORK/unix-reply.txt")" "pong:ping over unix"
uid=$(info_json "$WORK/capu.skc" '[s for s in j["sockets"] if s.get("family") == "unix" and s["how"] == "connect"][0]["id"]')
expect_eq "unix: client sent" "$("$SOCKCAP" dump --stream "$uid:out" "$WORK/capu.skc")" "ping over unix"
expect_eq "unix: client received" "$("$SOCKCAP" dump --stream "$uid:in" "$WORK/capu.skc")" "pong:ping over unix"
"$SOCKCAP" dump "$WORK/capu.skc" >"$WORK/capu.txt"
grep -q "connect unix \"$WORK/u.sock\"" "$WORK/capu.txt" && ok "unix: the path is recorded" ||
	fail "unix: no path in $(grep unix "$WORK/capu.txt")"
finish
