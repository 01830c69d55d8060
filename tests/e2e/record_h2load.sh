#!/bin/bash
# nginx HTTP/2 (h2c) under h2load -n 1000: the bytes captured on h2load's
# connections equal the traffic h2load reports, and nginx's side agrees.
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd nginx h2load

h1=$(free_port)
h2=$(free_port)
mkdir -p "$WORK/ngx/www"
head -c 1024 /dev/urandom >"$WORK/ngx/www/k1.bin"
start_nginx "$WORK/ngx" "$h1" "$h2" off
for c in 1 4; do
	start_recorder "$WORK/cap-$c.skc" --port "$h2" || finish
	h2load -n 1000 -c "$c" -m 10 "http://127.0.0.1:$h2/k1.bin" >"$WORK/h2load-$c.txt" 2>&1
	stop_recorder
	expect_eq "c=$c: recorder exit status" "$REC_STATUS" 0
	grep -q "1000 succeeded" "$WORK/h2load-$c.txt" || fail "c=$c: h2load: $(grep requests: "$WORK/h2load-$c.txt")"
	traffic=$(sed -n 's/^traffic: .*(\([0-9]*\)) total.*/\1/p' "$WORK/h2load-$c.txt")
	expect_eq "c=$c: h2load connections" "$(info_json "$WORK/cap-$c.skc" 'len(socks(comm="h2load"))')" "$c"
	expect_eq "c=$c: bytes h2load received = its reported traffic" \
		"$(info_json "$WORK/cap-$c.skc" 'sum(s["bytes_received"] for s in socks(comm="h2load"))')" "$traffic"
	# Per connection, both ways: each end read what the other wrote, except
	# that a last GOAWAY frame may arrive after the reader closed.
	pairs=$(info_json "$WORK/cap-$c.skc" '" ".join("%d:%d" % (h["id"], [n for n in socks(comm="nginx") if n["remote"] == h["local"]][0]["id"]) for h in socks(comm="h2load"))')
	for pr in $pairs; do
		for way in "out in" "in out"; do
			set -- $way
			"$SOCKCAP" dump --stream "${pr%:*}:$1" "$WORK/cap-$c.skc" >"$WORK/h-$1"
			"$SOCKCAP" dump --stream "${pr#*:}:$2" "$WORK/cap-$c.skc" >"$WORK/n-$2"
			[ "$1" = out ] && w="$WORK/h-out $WORK/n-in" || w="$WORK/n-out $WORK/h-in"
			verdict=$(/usr/bin/python3 -c '
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
tail = a[len(b):]
print("ok" if a.startswith(b) and (not tail or (len(tail) == 17 and tail[3] == 7)) else "differ: %d vs %d" % (len(a), len(b)))' $w)
			expect_eq "c=$c: connection $pr: the reader got what the writer sent ($1)" "$verdict" ok
		done
	done
	expect_eq "c=$c: nothing lost" \
		"$(info_json "$WORK/cap-$c.skc" 'j["bytes"]["lost_sent"] + j["bytes"]["lost_received"] + j["bytes"]["unaccounted"]')" 0
	id=$(info_json "$WORK/cap-$c.skc" 'socks(comm="h2load")[0]["id"]')
	"$SOCKCAP" dump --stream "$id:out" "$WORK/cap-$c.skc" | head -c 24 >"$WORK/preface"
	printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' >"$WORK/want-preface"
	expect_file_eq "c=$c: h2load's stream starts with the HTTP/2 preface" "$WORK/preface" "$WORK/want-preface"
done
finish
