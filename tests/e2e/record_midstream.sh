#!/bin/bash
# A keep-alive connection opened before recording starts is captured from its
# next byte and marked mid-stream, on both ends.
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd nginx

h1=$(free_port)
h2=$(free_port)
mkdir -p "$WORK/ngx/www"
echo "first" >"$WORK/ngx/www/a.txt"
echo "second response" >"$WORK/ngx/www/b.txt"
start_nginx "$WORK/ngx" "$h1" "$h2" off
cat >"$WORK/client.py" <<'PY'
import http.client, os, sys, time
port, work = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", "/a.txt"); c.getresponse().read()
open(work + "/ready", "w").close()
for _ in range(600):
    if os.path.exists(work + "/go"):
        break
    time.sleep(0.05)
c.request("GET", "/b.txt", headers={"X-Second": "yes"})
r = c.getresponse()
sys.stdout.buffer.write(r.read())
time.sleep(0.2)
c.close()
PY
start /usr/bin/python3 "$WORK/client.py" "$h1" "$WORK" >"$WORK/client.out"
CLIENT=$LAST_PID
for i in $(seq 200); do [ -e "$WORK/ready" ] && break; sleep 0.05; done
start_recorder "$WORK/cap.skc" --port "$h1" || finish
touch "$WORK/go"
wait "$CLIENT"
stop_recorder
expect_eq "client got the second response" "$(cat "$WORK/client.out")" "second response"
cid=$(info_json "$WORK/cap.skc" 'socks(comm="python3")[0]["id"]')
nid=$(info_json "$WORK/cap.skc" 'socks(comm="nginx")[0]["id"]')
expect_eq "client socket is mid-stream" "$(info_json "$WORK/cap.skc" "socks(id=$cid)[0]['midstream']")" True
expect_eq "client socket how" "$(info_json "$WORK/cap.skc" "socks(id=$cid)[0]['how']")" existing
expect_eq "server socket is mid-stream" "$(info_json "$WORK/cap.skc" "socks(id=$nid)[0]['midstream']")" True
expect_eq "client socket pid" "$(info_json "$WORK/cap.skc" "socks(id=$cid)[0]['pid']")" "$CLIENT"
expect_eq "addresses from the kernel socket" "$(info_json "$WORK/cap.skc" "socks(id=$cid)[0]['remote']")" "127.0.0.1:$h1"
"$SOCKCAP" dump --stream "$cid:out" "$WORK/cap.skc" >"$WORK/req.txt"
printf 'GET /b.txt HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nAccept-Encoding: identity\r\nX-Second: yes\r\n\r\n' "$h1" >"$WORK/want-req.txt"
expect_file_eq "client's sent bytes are exactly the second request" "$WORK/req.txt" "$WORK/want-req.txt"
"$SOCKCAP" dump --stream "$nid:in" "$WORK/cap.skc" >"$WORK/nreq.txt"
expect_file_eq "nginx received exactly the second request" "$WORK/nreq.txt" "$WORK/want-req.txt"
"$SOCKCAP" dump --stream "$cid:in" "$WORK/cap.skc" | tail -c 16 >"$WORK/body.txt"
expect_eq "client received the second body" "$(cat "$WORK/body.txt")" "second response"
finish
