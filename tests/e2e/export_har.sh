#!/bin/bash
# sockcap export --har: every committed sample and the database `sockcap
# analyze` makes of it give the same HAR, which is strict UTF-8 JSON that
# agrees row by row with the database (check_har.py) and that the npm
# package har-validator accepts.  Then a capture made here (curl against
# tests/e2e/har_server.py on 127.0.0.1, recorded by tcpdump) checks what the
# samples lack: Authorization and cookies with --redact and --redact-header,
# Set-Cookie, a binary body in base64, trailers, a query string, a form body,
# a header byte that is not UTF-8, and bodies cut by --max-body.
. "$top_srcdir/tests/e2e/lib.sh"

CHECK="/usr/bin/python3 $top_srcdir/tests/e2e/check_har.py"
NPM_DIR=/var/tmp/sockcap-npm
PENDING_SKIP=""

# har_q FILE PYTHON-EXPR: evaluate an expression over a HAR (bound to `j`;
# `e` is the list of entries, `by(path)` the entry whose url ends with path).
har_q() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
e = j["log"]["entries"]
def by(path):
    m = [x for x in e if x["request"]["url"].endswith(path)]
    assert len(m) == 1, f"{len(m)} entries for {path}"
    return m[0]
def hdr(msg, name):
    return [h["value"] for h in msg["headers"] if h["name"].lower() == name.lower()]
print(eval(sys.argv[2]))
PY
}

# db_q DB SQL: one value from a database (python's sqlite3: no sqlite3 CLI needed).
db_q() {
	/usr/bin/python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"
}

# ---- har-validator (npm), installed once into a cache directory ------------------------
HARVAL=""
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	PENDING_SKIP="needs node and npm for har-validator"
elif [ -f "$NPM_DIR/node_modules/har-validator/package.json" ] ||
	timeout 300 npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error har-validator \
		>"$WORK/npm.log" 2>&1; then
	HARVAL="$WORK/harval.js"
	cat >"$HARVAL" <<'JS'
// harval.js FILE...: har-validator's verdict on each HAR; exit 1 if one is invalid.
const v = require('har-validator');
const fs = require('fs');
let bad = 0;
Promise.all(process.argv.slice(2).map(f => v.har(JSON.parse(fs.readFileSync(f, 'utf8'))).then(
	() => {},
	e => { bad++; console.log(f + ': ' + JSON.stringify(e.errors || e.message).slice(0, 2000)); })))
	.then(() => process.exit(bad ? 1 : 0));
JS
else
	PENDING_SKIP="npm could not install har-validator: $(tail -3 "$WORK/npm.log")"
fi

# validate WHAT FILE...: har-validator accepts every FILE.
validate() {
	local what=$1
	shift
	[ -n "$HARVAL" ] || return 0
	NODE_PATH="$NPM_DIR/node_modules" node "$HARVAL" "$@" >"$WORK/harval.out" 2>&1 &&
		ok "$what: har-validator accepts it" || { fail "$what: har-validator rejects it"; cat "$WORK/harval.out"; }
}

# ---- the committed samples, and their databases ----------------------------------------
for s in "$top_srcdir"/samples/*.skc "$top_srcdir/samples/curl-pyhttp.pcap"; do
	b=$(basename "$s")
	"$SOCKCAP" analyze -q -o "$WORK/$b.db" "$s"
	st=$?
	"$SOCKCAP" export -q --har "$WORK/$b.har" "$s"
	expect_eq "$b: export's exit status is analyze's" "$?" "$st"
	"$SOCKCAP" export -q --har "$WORK/$b.db.har" "$WORK/$b.db"
	expect_eq "$b.db: export's exit status is analyze's" "$?" "$st"
	expect_file_eq "$b: the same HAR from the capture and from its database" "$WORK/$b.har" "$WORK/$b.db.har"
	$CHECK "$WORK/$b.har" "$WORK/$b.db" && ok "$b: the HAR agrees with the database" || fail "$b: check_har"
	"$SOCKCAP" export -q --role all --har "$WORK/$b.all.har" "$WORK/$b.db"
	$CHECK --roles all "$WORK/$b.all.har" "$WORK/$b.db" && ok "$b: --role all agrees" || fail "$b: --role all"
	expect_eq "$b: --role all has every transaction" "$(har_q "$WORK/$b.all.har" 'len(e)')" \
		"$(db_q "$WORK/$b.db" 'SELECT count(*) FROM transactions')"
	"$SOCKCAP" export -q --redact --role all --har "$WORK/$b.redact.har" "$WORK/$b.db"
	$CHECK --redact --roles all "$WORK/$b.redact.har" "$WORK/$b.db" && ok "$b: --redact agrees" || fail "$b: --redact"
	expect_eq "$b: --redact replaces the listed and the never-indexed fields" \
		"$(har_q "$WORK/$b.redact.har" 'sum(1 for x in e for m in ("request", "response") for h in x[m]["headers"] + x[m].get("_trailers", []) if h["value"] == "REDACTED")')" \
		"$(db_q "$WORK/$b.db" "SELECT count(*) FROM headers WHERE value IS NOT NULL AND (never_indexed OR name IS NULL OR lower(name) IN ('authorization', 'proxy-authorization', 'cookie', 'set-cookie'))")"
	validate "$b" "$WORK/$b.har" "$WORK/$b.all.har" "$WORK/$b.redact.har"
done
expect_eq "h2-large-headers.skc: never-indexed fields are in the sample" \
	"$(db_q "$WORK/h2-large-headers.skc.db" 'SELECT count(*) > 0 FROM headers WHERE never_indexed')" 1

# What the samples do not have, made by editing a copy of a database: fields
# lost with the HPACK state, a never-indexed field that is not on the
# built-in list, a request that was not captured, a response that never came.
cp "$WORK/nginx-h1-h2.skc.db" "$WORK/edited.db"
/usr/bin/python3 - "$WORK/edited.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
h2 = [r[0] for r in db.execute("SELECT t.id FROM transactions t JOIN connections c ON c.id = t.connection_id "
                               "WHERE c.role = 'client' AND t.http_version = 'HTTP/2' ORDER BY t.id")]
db.execute("UPDATE headers SET name = NULL, hpack_unknown = 1 WHERE transaction_id = ? AND direction = 'request' AND idx = 4", (h2[0],))
db.execute("UPDATE headers SET value = NULL, hpack_unknown = 1 WHERE transaction_id = ? AND direction = 'response' AND idx = 1", (h2[0],))
db.execute("UPDATE transactions SET headers_incomplete = 1 WHERE id = ?", (h2[0],))
db.execute("UPDATE headers SET never_indexed = 1 WHERE transaction_id = ? AND direction = 'request' AND name = 'accept'", (h2[0],))
db.execute("UPDATE transactions SET method = NULL, req_start_ns = NULL, req_end_ns = NULL, req_header_bytes = NULL, "
           "req_body_bytes = NULL, latency_ns = NULL, truncated = 1, complete = 0 WHERE id = ?", (h2[1],))
db.execute("DELETE FROM headers WHERE transaction_id = ? AND direction = 'request'", (h2[1],))
db.execute("UPDATE transactions SET status = NULL, resp_start_ns = NULL, resp_end_ns = NULL, resp_header_bytes = NULL, "
           "resp_body_bytes = NULL, latency_ns = NULL, truncated = 1, complete = 0 WHERE id = ?", (h2[2],))
db.execute("DELETE FROM headers WHERE transaction_id = ? AND direction = 'response'", (h2[2],))
db.execute("DELETE FROM bodies WHERE transaction_id = ? AND direction = 'response'", (h2[2],))
db.commit()
PY
"$SOCKCAP" export -q --har "$WORK/edited.har" "$WORK/edited.db"
$CHECK "$WORK/edited.har" "$WORK/edited.db" && ok "edited: the HAR agrees with the database" || fail "edited: check_har"
"$SOCKCAP" export -q --redact --har "$WORK/edited.redact.har" "$WORK/edited.db"
$CHECK --redact "$WORK/edited.redact.har" "$WORK/edited.db" && ok "edited --redact: agrees" || fail "edited --redact"
expect_eq "edited: unknown fields keep what is known, say _unknown" \
	"$(har_q "$WORK/edited.har" '[h for x in e for m in ("request", "response") for h in x[m]["headers"] if h.get("_unknown")]')" \
	"[{'name': '', 'value': 'curl/7.88.1', '_unknown': True}, {'name': 'server', 'value': '', '_unknown': True}]"
expect_eq "edited --redact: a value whose name is unknown is redacted" \
	"$(har_q "$WORK/edited.redact.har" '[h for x in e for h in x["request"]["headers"] if h.get("_unknown")]')" \
	"[{'name': '', 'value': 'REDACTED', '_unknown': True}]"
expect_eq "edited: request not captured, response not seen" \
	"$(har_q "$WORK/edited.har" '[(x["request"]["method"], x["request"]["headersSize"], x["response"]["status"], x["response"]["content"]["size"], x["_truncated"]) for x in e if x["request"]["method"] == "" or x["response"]["status"] == 0]')" \
	"[('GET', 13, 0, 0, True), ('', -1, 200, 28, True)]"
expect_eq "edited --redact: a never-indexed field is redacted" \
	"$(har_q "$WORK/edited.redact.har" '[h for x in e for h in x["request"]["headers"] if h["name"] == "accept" and h["value"] != "*/*"]')" \
	"[{'name': 'accept', 'value': 'REDACTED'}]"
validate "edited" "$WORK/edited.har" "$WORK/edited.redact.har"

# The validator must be able to say no, or the checks above prove nothing.
if [ -n "$HARVAL" ]; then
	/usr/bin/python3 - "$WORK/nginx-h1-h2.skc.har" "$WORK/bad.har" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
del j["log"]["entries"][0]["timings"]
j["log"]["entries"][1]["startedDateTime"] = "yesterday"
json.dump(j, open(sys.argv[2], "w"))
PY
	NODE_PATH="$NPM_DIR/node_modules" node "$HARVAL" "$WORK/bad.har" >/dev/null 2>&1 &&
		fail "har-validator accepts a HAR without timings" || ok "har-validator rejects a HAR without timings"
fi

# Each exchange once: in nginx-h1-h2.skc every connection was recorded from
# both ends, so the HAR holds exactly the client sockets' transactions.
n=nginx-h1-h2.skc
db="$WORK/$n.db"
expect_eq "$n: one entry per exchange (client side)" "$(har_q "$WORK/$n.har" 'len(e)')" \
	"$(db_q "$db" "SELECT count(*) FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE c.role = 'client'")"
expect_eq "$n: roles exported" "$(har_q "$WORK/$n.har" 'sorted(set(x["_role"] for x in e))')" "['client']"
expect_eq "$n: HTTP/2 entries say HTTP/2 and carry their stream id" \
	"$(har_q "$WORK/$n.har" 'sum(1 for x in e if x["request"]["httpVersion"] == x["response"]["httpVersion"] == "HTTP/2" and x["_streamId"] > 0)')" \
	"$(db_q "$db" "SELECT count(*) FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE c.role = 'client' AND t.http_version = 'HTTP/2'")"
expect_eq "$n: HTTP/2 urls" "$(har_q "$WORK/$n.har" 'sorted(set(x["request"]["url"].split("/", 3)[3] for x in e if x["request"]["httpVersion"] == "HTTP/2"))')" \
	"['api.json', 'notes.txt']"
expect_eq "$n: methods and statuses" "$(har_q "$WORK/$n.har" 'sorted(set((x["request"]["method"], x["response"]["status"]) for x in e))')" \
	"[('GET', 200)]"
"$SOCKCAP" export -q --role server --har "$WORK/$n.server.har" "$db"
expect_eq "$n: --role server" "$(har_q "$WORK/$n.server.har" 'sorted(set(x["_role"] for x in e)), len(e)')" \
	"(['server'], $(db_q "$db" "SELECT count(*) FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE c.role = 'server'"))"
"$SOCKCAP" export -q --max-body 10 --har "$WORK/$n.10.har" "$db"
expect_eq "$n: exit 0 with --max-body 10" "$?" 0
$CHECK --max-body 10 "$WORK/$n.10.har" "$db" && ok "$n --max-body 10: agrees" || fail "$n --max-body 10"
expect_eq "$n: a body cut at 10 bytes" \
	"$(har_q "$WORK/$n.10.har" '[(c["size"], c["text"], c["comment"]) for c in [by("/index.html")["response"]["content"]]]')" \
	"[(83, '<!doctype ', 'cut at 10 of 83 bytes')]"
validate "$n --max-body 10" "$WORK/$n.10.har" "$WORK/$n.server.har"

"$SOCKCAP" export --har - --pcapng - "$top_srcdir/samples/http1-pyhttp.skc" >/dev/null 2>&1
expect_eq "--har - with --pcapng -: usage error" "$?" 2
"$SOCKCAP" export "$db" 2>/dev/null
expect_eq "no --har: usage error" "$?" 2
cp "$db" "$WORK/self.db"
"$SOCKCAP" export --har "$WORK/self.db" "$WORK/self.db" 2>/dev/null
expect_eq "--har onto the input: refused" "$?,$(cmp -s "$db" "$WORK/self.db" && echo intact)" "2,intact"

# ---- a capture made here: what the samples lack --------------------------------------
live() {
	local port td i url
	if [ "$(id -u)" -ne 0 ]; then PENDING_SKIP="the capture part needs root (tcpdump)"; return; fi
	for c in tcpdump curl; do
		command -v $c >/dev/null 2>&1 || { PENDING_SKIP="the capture part needs $c"; return; }
	done
	port=$(free_port)
	url="http://127.0.0.1:$port"
	start /usr/bin/python3 "$top_srcdir/tests/e2e/har_server.py" "$port"
	wait_port "$port" || { fail "har_server.py did not start"; return; }
	: >"$WORK/td.log"
	tcpdump -i lo -s 0 -U --immediate-mode -Z root -w "$WORK/live.pcap" "tcp port $port" 2>"$WORK/td.log" &
	td=$!
	PIDS="$PIDS $td"
	for i in $(seq 100); do grep -q "listening on" "$WORK/td.log" && break; sleep 0.1; done
	curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		-H 'Authorization: Bearer secret-token' -H 'X-Api-Key: key-123' -b 'a=b; c=d' \
		"$url/bin" "$url/login" "$url/moved" "$url/search?q=h%C3%A9llo+w&x=1&bad=%zz" "$url/chunked" ||
		fail "curl GET failed"
	curl -s -o /dev/null -H 'Content-Type: application/x-www-form-urlencoded' \
		--data-binary 'name=J%C3%BCrgen&x=1' "$url/form" || fail "curl POST failed"
	sleep 0.3
	stop "$td" INT
	grep -q "^0 packets dropped by kernel" "$WORK/td.log" || { PENDING_SKIP="tcpdump dropped packets: $(cat "$WORK/td.log")"; return; }

	local p="$WORK/live.pcap" d="$WORK/live.db" h="$WORK/live.har" r="$WORK/live.redact.har"
	"$SOCKCAP" analyze -q -o "$d" "$p"
	expect_eq "live: analyze exit 0" "$?" 0
	"$SOCKCAP" export -q --har "$h" "$p"
	expect_eq "live: export exit 0" "$?" 0
	$CHECK "$h" "$d" && ok "live: the HAR agrees with the database" || fail "live: check_har"
	expect_eq "live: entries" "$(har_q "$h" '[(x["request"]["method"], x["request"]["url"].split("?")[0], x["response"]["status"]) for x in e]')" \
		"[('GET', '$url/bin', 200), ('GET', '$url/login', 200), ('GET', '$url/moved', 302), ('GET', '$url/search', 200), ('GET', '$url/chunked', 200), ('POST', '$url/form', 200)]"
	expect_eq "live: Authorization as sent" "$(har_q "$h" 'hdr(by("/bin")["request"], "authorization")')" "['Bearer secret-token']"
	expect_eq "live: request cookies" "$(har_q "$h" 'by("/bin")["request"]["cookies"]')" \
		"[{'name': 'a', 'value': 'b'}, {'name': 'c', 'value': 'd'}]"
	expect_eq "live: response cookies from Set-Cookie" "$(har_q "$h" 'by("/login")["response"]["cookies"]')" \
		"[{'name': 'sid', 'value': 's3cr3t-session', 'path': '/', 'httpOnly': True}, {'name': 'theme', 'value': 'dark', 'expires': '2037-10-21T07:28:00.000Z', 'secure': True}]"
	expect_eq "live: a header byte that is not UTF-8 (0xE9) is U+00E9, marked _latin1" \
		"$(har_q "$h" '[x for x in by("/login")["response"]["headers"] if x["name"] == "X-Latin1"]')" \
		"[{'name': 'X-Latin1', 'value': 'café', '_latin1': True}]"
	grep -q '"caf\\u00e9"' "$h" && ok "live: written as \\u00e9" || fail "live: no \\u00e9 in the HAR"
	expect_eq "live: binary body in base64" \
		"$(har_q "$h" '[(c["size"], c["mimeType"], c["encoding"], __import__("base64").b64decode(c["text"]) == bytes(range(256)) * 12) for c in [by("/bin")["response"]["content"]]]')" \
		"[(3072, 'application/octet-stream', 'base64', True)]"
	expect_eq "live: redirectURL" "$(har_q "$h" 'by("/moved")["response"]["redirectURL"]')" "/login"
	expect_eq "live: queryString decoded, raw where decoding fails" \
		"$(har_q "$h" 'by("/search?q=h%C3%A9llo+w&x=1&bad=%zz")["request"]["queryString"]')" \
		"[{'name': 'q', 'value': 'héllo w'}, {'name': 'x', 'value': '1'}, {'name': 'bad', 'value': '%zz'}]"
	expect_eq "live: UTF-8 JSON body as text" "$(har_q "$h" 'by("=%zz")["response"]["content"].get("encoding"), by("=%zz")["response"]["content"]["text"]')" \
		"(None, '{\"word\": \"héllo\"}\\n')"
	expect_eq "live: trailers apart from headers" \
		"$(har_q "$h" 'by("/chunked")["response"]["_trailers"], hdr(by("/chunked")["response"], "x-checksum"), by("/chunked")["response"]["content"]["text"]')" \
		"([{'name': 'X-Checksum', 'value': '1234'}], [], 'first chunk\\nsecond chunk\\n')"
	expect_eq "live: postData with params" \
		"$(har_q "$h" '[(p["mimeType"], p["text"], p["params"]) for p in [by("/form")["request"]["postData"]]]')" \
		"[('application/x-www-form-urlencoded', 'name=J%C3%BCrgen&x=1', [{'name': 'name', 'value': 'Jürgen'}, {'name': 'x', 'value': '1'}])]"
	expect_eq "live: serverIPAddress" "$(har_q "$h" 'sorted(set(x["serverIPAddress"] for x in e))')" "['127.0.0.1']"

	"$SOCKCAP" export -q --redact --har "$r" "$d"
	expect_eq "live --redact: exit 0" "$?" 0
	$CHECK --redact "$r" "$d" && ok "live --redact: agrees (listed fields REDACTED, others intact)" || fail "live --redact"
	expect_eq "live --redact: exactly Authorization, Cookie and Set-Cookie values differ" \
		"$(/usr/bin/python3 - "$h" "$r" <<'PY'
import json, sys
a, b = (json.load(open(f))["log"]["entries"] for f in sys.argv[1:3])
changed = set()
for x, y in zip(a, b):
    for m in ("request", "response"):
        assert [h["name"] for h in x[m]["headers"]] == [h["name"] for h in y[m]["headers"]]
        for hx, hy in zip(x[m]["headers"], y[m]["headers"]):
            if hx != hy:
                assert hy["value"] == "REDACTED", hy
                changed.add(hx["name"].lower())
print(sorted(changed))
PY
)" "['authorization', 'cookie', 'set-cookie']"
	expect_eq "live --redact: cookies keep names, lose values" \
		"$(har_q "$r" 'by("/bin")["request"]["cookies"], [(c["name"], c["value"], c.get("path")) for c in by("/login")["response"]["cookies"]]')" \
		"([{'name': 'a', 'value': 'REDACTED'}, {'name': 'c', 'value': 'REDACTED'}], [('sid', 'REDACTED', '/'), ('theme', 'REDACTED', None)])"
	expect_eq "live --redact: no secret left" "$(grep -c -e secret-token -e s3cr3t "$r")" 0
	expect_eq "live --redact: X-Api-Key kept without --redact-header" "$(har_q "$r" 'hdr(by("/bin")["request"], "x-api-key")')" "['key-123']"

	"$SOCKCAP" export -q --redact-header X-API-KEY --har "$WORK/live.rh.har" "$p"
	$CHECK --redact-header X-API-KEY "$WORK/live.rh.har" "$d" && ok "live --redact-header: agrees" || fail "live --redact-header"
	expect_eq "live --redact-header X-API-KEY (any case)" \
		"$(har_q "$WORK/live.rh.har" 'hdr(by("/bin")["request"], "x-api-key"), hdr(by("/bin")["request"], "authorization")')" \
		"(['REDACTED'], ['REDACTED'])"
	expect_eq "live --redact-header: key gone" "$(grep -c key-123 "$WORK/live.rh.har")" 0

	"$SOCKCAP" export -q --max-body 10 --har "$WORK/live.10.har" "$p"
	$CHECK --max-body 10 "$WORK/live.10.har" "$d" && ok "live --max-body 10: agrees" || fail "live --max-body 10"
	expect_eq "live --max-body 10: binary body cut" \
		"$(har_q "$WORK/live.10.har" '[(__import__("base64").b64decode(c["text"]) == bytes(range(10)), c["comment"]) for c in [by("/bin")["response"]["content"]]]')" \
		"[(True, 'cut at 10 of 3072 bytes')]"
	# {"word": "h then the two bytes of é: a cap of 12 cuts the character,
	# which is dropped from the text rather than written as two \u00XX.
	"$SOCKCAP" export -q --max-body 12 --har "$WORK/live.12.har" "$p"
	$CHECK --max-body 12 "$WORK/live.12.har" "$d" && ok "live --max-body 12: agrees" || fail "live --max-body 12"
	expect_eq "live --max-body 12: text cut before a split character" \
		"$(har_q "$WORK/live.12.har" '[(c["text"], c["comment"]) for c in [by("=%zz")["response"]["content"]]]')" \
		"[('{\"word\": \"h', 'cut at 11 of 19 bytes')]"
	validate "live" "$h" "$r" "$WORK/live.rh.har" "$WORK/live.10.har" "$WORK/live.12.har"
}
live

if [ "$FAILS" -eq 0 ] && [ -n "$PENDING_SKIP" ]; then
	skip "$PENDING_SKIP"
fi
finish
