#!/bin/bash
# nginx serving a 1 MiB body: with `sendfile off` the body goes through writev
# and is captured whole, split into several records with contiguous offsets;
# with `sendfile on` the body never passes through user memory and is a
# counted loss with reason not-in-user-memory while the header bytes are kept.
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd curl nginx

# Offsets of one stream's DATA records are contiguous from 0: prints the count.
contiguous() {
	"$SOCKCAP" dump "$1" | /usr/bin/python3 -c '
import re, sys
sock, d = sys.argv[1], sys.argv[2]
recs = []
for line in sys.stdin:
    m = re.search(r" sock (\d+) (out|in) \S+ off (\d+) len (\d+)", line)
    if m and m.group(1) == sock and m.group(2) == d:
        recs.append((int(m.group(3)), int(m.group(4))))
recs.sort()
pos = 0
for off, n in recs:
    if off != pos:
        print("gap at %d (next record at %d)" % (pos, off)); sys.exit(1)
    pos += n
print(len(recs), pos)' "$2" "$3"
}

for sf in off on; do
	h1=$(free_port)
	h2=$(free_port)
	rm -rf "$WORK/ngx"
	mkdir -p "$WORK/ngx/www"
	head -c 1048576 /dev/urandom >"$WORK/ngx/www/big.bin"
	start_nginx "$WORK/ngx" "$h1" "$h2" "$sf"
	start_recorder "$WORK/cap-$sf.skc" --port "$h1" || finish
	curl -s --trace "$WORK/trace-$sf.txt" -o "$WORK/got-$sf.bin" "http://127.0.0.1:$h1/big.bin"
	stop_recorder
	stop "$NGINX_PID" QUIT
	cmp -s "$WORK/got-$sf.bin" "$WORK/ngx/www/big.bin" || fail "sendfile $sf: curl did not get the file"
	/usr/bin/python3 "$top_srcdir/tests/e2e/curl_trace.py" "$WORK/trace-$sf.txt" "$WORK/sent-$sf.bin" "$WORK/recv-$sf.bin"
	nid=$(info_json "$WORK/cap-$sf.skc" 'socks(comm="nginx", how="accept")[0]["id"]')
	cid=$(info_json "$WORK/cap-$sf.skc" 'socks(comm="curl")[0]["id"]')
	"$SOCKCAP" dump --stream "$cid:in" "$WORK/cap-$sf.skc" >"$WORK/c-in-$sf.bin"
	expect_file_eq "sendfile $sf: curl's received bytes captured" "$WORK/c-in-$sf.bin" "$WORK/recv-$sf.bin"
	hdr=$(( $(stat -c %s "$WORK/recv-$sf.bin") - 1048576 ))
	if [ "$sf" = off ]; then
		"$SOCKCAP" dump --stream "$nid:out" "$WORK/cap-$sf.skc" >"$WORK/n-out.bin"
		expect_file_eq "sendfile off: nginx's sent bytes captured" "$WORK/n-out.bin" "$WORK/recv-off.bin"
		read -r n total <<<"$(contiguous "$WORK/cap-off.skc" "$nid" out)"
		expect_eq "sendfile off: offsets contiguous over the whole response" "$total" "$((hdr + 1048576))"
		[ "$n" -gt 16 ] && ok "sendfile off: response split into $n records" || fail "only $n records"
		"$SOCKCAP" dump "$WORK/cap-off.skc" | grep -q " sock $nid out writev " && ok "sendfile off: nginx used writev" ||
			fail "no writev record from nginx"
		expect_eq "sendfile off: nothing lost" "$(info_json "$WORK/cap-off.skc" 'j["bytes"]["lost_sent"]')" 0
	else
		expect_eq "sendfile on: nginx's captured bytes are the header" \
			"$(info_json "$WORK/cap-on.skc" "socks(id=$nid)[0]['bytes_sent']")" "$hdr"
		expect_eq "sendfile on: the body is lost, not in user memory" \
			"$(info_json "$WORK/cap-on.skc" 'j["lost"]["not-in-user-memory"]["bytes"]')" 1048576
		expect_eq "sendfile on: nginx's lost bytes" \
			"$(info_json "$WORK/cap-on.skc" "socks(id=$nid)[0]['lost_sent']")" 1048576
		"$SOCKCAP" dump "$WORK/cap-on.skc" | grep -q "sock $nid out LOSS not-in-user-memory sendfile off $hdr len 1048576" &&
			ok "sendfile on: the loss record has the body's offset and length" ||
			fail "no exact LOSS record: $("$SOCKCAP" dump "$WORK/cap-on.skc" | grep LOSS)"
		expect_eq "sendfile on: recorder exits 1 (bytes lost)" "$REC_STATUS" 1
	fi
done
finish
