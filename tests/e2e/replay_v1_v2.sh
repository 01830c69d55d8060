#!/bin/bash
# sockcap replay end to end.  Record scripted clients against servers that
# serve directory v1 (python3 http.server for HTTP/1, nghttpd with prior
# knowledge and an h2c upgrade server for HTTP/2), then replay each capture:
# against the same server, exit 0 and no difference; against a server of v2
# (one file changed, one removed), exit 1 and exactly those two transactions
# reported.  Also: the replay's own capture holds what was sent and received,
# --dry-run contacts nothing, and a request whose recorded bytes have a gap
# is skipped and reported.
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd curl nghttpd nghttp sqlite3
/usr/bin/python3 -c 'import h2' 2>/dev/null || skip "needs python3-h2"

# v1 and v2: b.txt changed (one line), gone.txt removed; same mtimes
# elsewhere, so that validators derived from them (ETag) stay equal.
mkdir -p "$WORK/v1"
printf '<!doctype html>\n<title>replay</title>\n' >"$WORK/v1/index.html"
for i in $(seq 1 40); do echo "line $i of a"; done >"$WORK/v1/a.txt"
for i in $(seq 1 40); do echo "line $i of b"; done >"$WORK/v1/b.txt"
printf '{"items":[1,2,3]}\n' >"$WORK/v1/c.json"
printf 'soon gone\n' >"$WORK/v1/gone.txt"
touch -d '2026-01-01 00:00:00' "$WORK/v1"/*
cp -a "$WORK/v1" "$WORK/v2"
sed -i 's/^line 7 of b$/line seven of b/' "$WORK/v2/b.txt"
touch -d '2026-01-01 00:00:00' "$WORK/v2/b.txt"
rm "$WORK/v2/gone.txt"

# summary FILE.json -> "changed added removed: METHOD PATH[ STATUS_A>STATUS_B];..."
summary() {
	/usr/bin/python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
tx = sorted("%s %s%s" % (c["method"], c["path"], " %s>%s" % (c["status"]["a"], c["status"]["b"]) if "status" in c else "")
            for c in d["changed"])
print("%d %d %d: %s" % (s["changed"], s["added"], s["removed"], ";".join(tx)))
PY
}

# replay NAME CAPTURE TARGET_PORT -> exit status in $RST, JSON in $WORK/NAME.json
replay() {
	"$SOCKCAP" replay "$2" --target "http://127.0.0.1:$3" -w "$WORK/$1.skc" --json >"$WORK/$1.json" \
		2>"$WORK/$1.err"
	RST=$?
}

# ---- HTTP/1.1: python3 http.server --------------------------------------------------------
p1=$(free_port)
p2=$(free_port)
start /usr/bin/python3 -m http.server --bind 127.0.0.1 "$p1" --directory "$WORK/v1"
start /usr/bin/python3 -m http.server --bind 127.0.0.1 "$p2" --directory "$WORK/v2"
wait_port "$p1" && wait_port "$p2" || fail "python3 http.server did not start"
start_recorder "$WORK/h1.skc" --port "$p1" || finish
u=http://127.0.0.1:$p1
curl -s -o /dev/null -o /dev/null "$u/index.html" "$u/a.txt" &
c1=$!
curl -s -o /dev/null -o /dev/null -o /dev/null "$u/b.txt" "$u/c.json?v=1" "$u/gone.txt" &
c2=$!
wait "$c1" "$c2"
curl -s -o /dev/null -X POST --data-binary 'x=1' "$u/a.txt" # 501 from http.server: replayed as recorded
sleep 0.3
stop_recorder
expect_eq "h1: recorder exit status" "$REC_STATUS" 0

"$SOCKCAP" replay "$WORK/h1.skc" --target "http://127.0.0.1:1" --dry-run >"$WORK/dry.out" 2>"$WORK/dry.err"
expect_eq "h1: --dry-run exits 0 without contacting the target" "$?" 0
expect_eq "h1: --dry-run plan" "$(sed -E 's/connection [0-9]+/connection N/' "$WORK/dry.out" | sort)" \
"6 requests, 0 skipped; would send to 127.0.0.1:1
send connection N HTTP/1.1 GET /a.txt
send connection N HTTP/1.1 GET /b.txt
send connection N HTTP/1.1 GET /c.json?v=1
send connection N HTTP/1.1 GET /gone.txt
send connection N HTTP/1.1 GET /index.html
send connection N HTTP/1.1 POST /a.txt"

replay h1-same "$WORK/h1.skc" "$p1"
expect_eq "h1: replay against the same server: exit 0" "$RST" 0
expect_eq "h1: replay against the same server: no difference" "$(summary "$WORK/h1-same.json")" "0 0 0: "
expect_eq "h1: the replay's capture holds the 6 exchanges" \
	"$("$SOCKCAP" analyze -q -o "$WORK/h1-same.db" "$WORK/h1-same.skc" && sqlite3 "$WORK/h1-same.db" \
		"SELECT group_concat(path || '=' || status, ' ') FROM (SELECT path, status FROM transactions ORDER BY path, method)")" \
	"/a.txt=200 /a.txt=501 /b.txt=200 /c.json?v=1=200 /gone.txt=200 /index.html=200"
replay h1-v2 "$WORK/h1.skc" "$p2"
expect_eq "h1: replay against v2: exit 1" "$RST" 1
expect_eq "h1: replay against v2: exactly b.txt changed and gone.txt removed" "$(summary "$WORK/h1-v2.json")" \
	"2 0 0: GET /b.txt;GET /gone.txt 200>404"
"$SOCKCAP" replay "$WORK/h1.skc" --target "http://127.0.0.1:$p2" -w "$WORK/h1-v2-text.skc" >"$WORK/h1-v2.txt" 2>/dev/null
expect_eq "h1: text report names the two transactions" \
	"$(grep -E '^(changed|added|removed) ' "$WORK/h1-v2.txt" | sed -E 's/ \(.*//; s/127\.0\.0\.1:[0-9]+/HOST/')" \
	"changed GET HOST/b.txt
changed GET HOST/gone.txt: status 200 -> 404"
grep -q -- '-line 7 of b' "$WORK/h1-v2.txt" && grep -q -- '+line seven of b' "$WORK/h1-v2.txt" &&
	ok "h1: text report shows the changed line" || fail "h1: no line diff in $(cat "$WORK/h1-v2.txt")"

# ---- HTTP/2 with prior knowledge: nghttpd ---------------------------------------------------
n1=$(free_port)
n2=$(free_port)
start nghttpd --no-tls -d "$WORK/v1" "$n1"
start nghttpd --no-tls -d "$WORK/v2" "$n2"
wait_port "$n1" && wait_port "$n2" || fail "nghttpd did not start"
start_recorder "$WORK/h2.skc" --port "$n1" || finish
u=http://127.0.0.1:$n1
nghttp -n "$u/index.html" "$u/a.txt" "$u/b.txt" "$u/gone.txt" || fail "nghttp"
# (one URL per curl: Debian's curl 7.88 fails its second request on a reused
# prior-knowledge connection)
for f in c.json a.txt; do
	curl -s --http2-prior-knowledge -o /dev/null "$u/$f" || fail "curl --http2-prior-knowledge $f"
done
sleep 0.3
stop_recorder
expect_eq "h2: recorder exit status" "$REC_STATUS" 0
replay h2-same "$WORK/h2.skc" "$n1"
expect_eq "h2: replay against the same server: exit 0" "$RST" 0
expect_eq "h2: replay against the same server: no difference" "$(summary "$WORK/h2-same.json")" "0 0 0: "
expect_eq "h2: the replay's capture holds 6 HTTP/2 exchanges" \
	"$("$SOCKCAP" analyze -q -o "$WORK/h2-same.db" "$WORK/h2-same.skc" && sqlite3 "$WORK/h2-same.db" \
		"SELECT count(*), count(DISTINCT connection_id) FROM transactions WHERE http_version = 'HTTP/2' AND complete")" \
	"6|3"
replay h2-v2 "$WORK/h2.skc" "$n2"
expect_eq "h2: replay against v2: exit 1" "$RST" 1
expect_eq "h2: replay against v2: exactly b.txt changed and gone.txt removed" "$(summary "$WORK/h2-v2.json")" \
	"2 0 0: GET /b.txt;GET /gone.txt 200>404"

# ---- HTTP/2 by h2c upgrade ------------------------------------------------------------------
g1=$(free_port)
g2=$(free_port)
start /usr/bin/python3 "$top_srcdir/tests/e2e/h2c_upgrade_server.py" "$g1" "$WORK/v1"
start /usr/bin/python3 "$top_srcdir/tests/e2e/h2c_upgrade_server.py" "$g2" "$WORK/v2"
wait_port "$g1" && wait_port "$g2" || fail "the h2c upgrade server did not start"
start_recorder "$WORK/up.skc" --port "$g1" || finish
for f in a.txt b.txt gone.txt; do
	curl -s --http2 -o /dev/null "http://127.0.0.1:$g1/$f" || fail "curl --http2 $f"
done
sleep 0.3
stop_recorder
"$SOCKCAP" replay "$WORK/up.skc" --target "http://127.0.0.1:1" --dry-run >"$WORK/up-dry.out" 2>&1
expect_eq "h2c: the plan upgrades as recorded" "$(grep -c ' h2c-upgrade GET ' "$WORK/up-dry.out")" 3
replay up-same "$WORK/up.skc" "$g1"
expect_eq "h2c: replay against the same server: exit 0" "$RST" 0
expect_eq "h2c: replay against the same server: no difference" "$(summary "$WORK/up-same.json")" "0 0 0: "
replay up-v2 "$WORK/up.skc" "$g2"
expect_eq "h2c: replay against v2: exit 1" "$RST" 1
expect_eq "h2c: replay against v2: exactly b.txt changed and gone.txt removed" "$(summary "$WORK/up-v2.json")" \
	"2 0 0: GET /b.txt;GET /gone.txt 200>404"

# ---- a request with a gap is skipped ---------------------------------------------------------
start_recorder "$WORK/gap.skc" --port "$p1" --snaplen 100 || finish
head -c 3000 /dev/zero | tr '\0' 'x' | curl -s -o /dev/null --data-binary @- "http://127.0.0.1:$p1/a.txt"
curl -s -o /dev/null "http://127.0.0.1:$p1/c.json"
sleep 0.3
stop_recorder
"$SOCKCAP" replay "$WORK/gap.skc" --target "http://127.0.0.1:1" --dry-run >"$WORK/gap-dry.out" 2>&1
grep -Eq '^skip connection [0-9]+ HTTP/1.1 POST /a.txt: ' "$WORK/gap-dry.out" &&
	ok "gap: the POST cut by --snaplen is skipped in the plan" || fail "gap: plan: $(cat "$WORK/gap-dry.out")"
replay gap-replay "$WORK/gap.skc" "$p1"
expect_eq "gap: a skipped request makes the replay exit 1" "$RST" 1
grep -Eq '^skip connection [0-9]+ HTTP/1.1 POST /a.txt: ' "$WORK/gap-replay.err" &&
	ok "gap: the skipped request is reported" || fail "gap: stderr: $(cat "$WORK/gap-replay.err")"
finish
