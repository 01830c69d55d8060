#!/bin/bash
# sockcap diff: the same scripted traffic (curl, keep-alive, against python3's
# http.server serving a fixed directory) recorded twice is equal (Date differs
# and is ignored); served from a directory where one file changed and one was
# removed, exactly those two transactions are reported, with the exact lines
# (the expected body diff comes from Python's difflib); --json says the same;
# a capture equals its own analyze database; pcaps from tcpdump agree with the
# .skc; --ignore-header, -q, an inserted request, the same traffic on another
# port with --ignore-authority, and the errors (exit 2).
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd curl

port=$(free_port)
u="http://127.0.0.1:$port"
mkdir -p "$WORK/www1"
printf '<html><body>index</body></html>\n' >"$WORK/www1/index.html"
seq 1 20 | sed 's/^/line /' >"$WORK/www1/notes.txt"
printf 'old content\n' >"$WORK/www1/old.txt"
printf 'kept\n' >"$WORK/www1/b.txt"
printf '{"items": [1, 2, 3]}\n' >"$WORK/www1/api.json"
cp -a "$WORK/www1" "$WORK/www2"
sed -i 's/^line 7$/line seven/' "$WORK/www2/notes.txt"
echo "line 21" >>"$WORK/www2/notes.txt"
rm "$WORK/www2/old.txt"
# The same mtimes in both: Last-Modified would be ignored anyway.
touch -d @1700000000 "$WORK"/www1/* "$WORK"/www2/*

have_tcpdump=false
command -v tcpdump >/dev/null 2>&1 && have_tcpdump=true

# run NAME DIR [EXTRA_URL]: serve DIR, record the traffic into NAME.skc (and
# NAME.pcap with tcpdump): one curl with four requests over keep-alive, one
# with two.  EXTRA_URL is requested in the middle of the first connection.
run() {
	local name=$1 dir=$2 extra=${3:-} td=""
	start /usr/bin/python3 -m http.server --protocol HTTP/1.1 --bind 127.0.0.1 "$port" --directory "$dir" \
		>"$WORK/py-$name.log" 2>&1
	local py=$LAST_PID
	wait_port "$port" || fail "$name: http.server did not start"
	if $have_tcpdump; then
		: >"$WORK/td-$name.log"
		start tcpdump -i lo -s 0 -U --immediate-mode -Z root -w "$WORK/$name.pcap" "tcp port $port" \
			2>"$WORK/td-$name.log"
		td=$LAST_PID
		for i in $(seq 100); do grep -q "listening on" "$WORK/td-$name.log" && break; sleep 0.1; done
	fi
	start_recorder "$WORK/$name.skc" --port "$port" || finish
	curl -s "$u/index.html" "$u/notes.txt" ${extra:+"$u$extra"} "$u/old.txt" "$u/b.txt" >/dev/null
	curl -s "$u/api.json" "$u/b.txt" >/dev/null
	sleep 0.3
	stop_recorder
	expect_eq "$name: recorder exit status" "$REC_STATUS" 0
	[ -n "$td" ] && stop "$td" INT
	# What the server says for old.txt now, outside the recording.
	curl -s -o "$WORK/$name-old.body" "$u/old.txt"
	stop "$py"
}

run a "$WORK/www1"
sleep 1.1 # a later second: every Date header differs
run a2 "$WORK/www1"
run b "$WORK/www2"
run c "$WORK/www1" "/api.json?inserted=1"

# ---- The same traffic twice ---------------------------------------------------------
out=$("$SOCKCAP" diff "$WORK/a.skc" "$WORK/a2.skc" 2>"$WORK/err")
expect_eq "same traffic: exit 0" "$?" 0
expect_eq "same traffic: output" "$out" "6 transactions compared: 6 equal, 0 changed, 0 added, 0 removed"
expect_eq "same traffic: nothing on stderr" "$(cat "$WORK/err")" ""
"$SOCKCAP" diff --no-default-ignore "$WORK/a.skc" "$WORK/a2.skc" >"$WORK/nodef.txt"
expect_eq "--no-default-ignore: exit 1" "$?" 1
expect_eq "--no-default-ignore: only Date differs, in every transaction" \
	"$(grep -vc -e '^changed GET 127\.0\.0\.1:'"$port"'/' -e '^  response header date: .* GMT -> .* GMT$' "$WORK/nodef.txt")" 1
expect_eq "--no-default-ignore: summary" "$(tail -1 "$WORK/nodef.txt")" \
	"6 transactions compared: 0 equal, 6 changed, 0 added, 0 removed"

# ---- One file changed, one removed ----------------------------------------------------
"$SOCKCAP" diff "$WORK/a.skc" "$WORK/b.skc" >"$WORK/ab.txt" 2>"$WORK/err"
expect_eq "changed files: exit 1" "$?" 1
expect_eq "changed files: nothing on stderr" "$(cat "$WORK/err")" ""
/usr/bin/python3 - "$WORK" "$port" >"$WORK/ab.want" <<'PY'
import difflib, hashlib, http.server, sys
work, port = sys.argv[1], sys.argv[2]
def body(name, a, b):
    h = lambda d: hashlib.sha256(d).hexdigest()[:16]
    print(f"  response body: {len(a)} bytes sha256 {h(a)}... -> {len(b)} bytes sha256 {h(b)}...")
    diff = difflib.unified_diff(a.decode().splitlines(True), b.decode().splitlines(True), n=3)
    for line in list(diff)[2:]:
        print("    " + line.rstrip("\n"))
n1 = open(f"{work}/www1/notes.txt", "rb").read()
n2 = open(f"{work}/www2/notes.txt", "rb").read()
o1 = open(f"{work}/www1/old.txt", "rb").read()
o2 = open(f"{work}/b-old.body", "rb").read()
print(f"changed GET 127.0.0.1:{port}/notes.txt")
print(f"  response header content-length: {len(n1)} -> {len(n2)}")
body("notes", n1, n2)
print(f"changed GET 127.0.0.1:{port}/old.txt: status 200 -> 404")
print(f"  response header content-type: text/plain -> {http.server.DEFAULT_ERROR_CONTENT_TYPE}")
print(f"  response header content-length: {len(o1)} -> {len(o2)}")
print("  response header connection added: close")
body("old", o1, o2)
print("6 transactions compared: 4 equal, 2 changed, 0 added, 0 removed")
PY
expect_file_eq "changed files: exactly the two transactions, line by line" "$WORK/ab.txt" "$WORK/ab.want"

# --json: valid JSON with the same content (rendered back into the text form).
"$SOCKCAP" diff --json "$WORK/a.skc" "$WORK/b.skc" >"$WORK/ab.json"
expect_eq "--json: exit 1" "$?" 1
/usr/bin/python3 - "$WORK/ab.json" >"$WORK/ab-from-json.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
def key(e):
    return f"{e['method']} {e['authority'] or ''}{e['path']}"
def side(s):
    t = f"{s['length']} bytes"
    if s["stored"] < s["length"]:
        t += f" ({s['stored']} stored)"
    return t + (f" sha256 {s['sha256'][:16]}..." if s["length"] else "")
for e in j["changed"]:
    st = f": status {e['status']['a']} -> {e['status']['b']}" if "status" in e else ""
    print(f"changed {key(e)}{st}")
    for h in e["headers"]:
        what = "trailer" if h["trailer"] else "header"
        if h["change"] == "changed":
            print(f"  {h['direction']} {what} {h['name']}: {h['a']} -> {h['b']}")
        else:
            print(f"  {h['direction']} {what} {h['name']} {h['change']}: {h.get('b', h.get('a'))}")
    for b in e["bodies"]:
        print(f"  {b['direction']} body: {side(b['a'])} -> {side(b['b'])}")
        for line in b["diff"]:
            print("    " + line)
for e in j["added"]:
    print(f"added {key(e)} (B: connection {e['b']['connection']}, #{e['b']['index']})")
for e in j["removed"]:
    print(f"removed {key(e)} (A: connection {e['a']['connection']}, #{e['a']['index']})")
s = j["summary"]
print(f"{s['compared']} transactions compared: {s['equal']} equal, {s['changed']} changed, "
      f"{s['added']} added, {s['removed']} removed")
assert j["a"]["transactions"] == 6 and j["b"]["transactions"] == 6, j["a"]
assert [e["path"] for e in j["changed"]] == ["/notes.txt", "/old.txt"]
assert j["changed"][1]["a"]["index"] == 3 and j["changed"][1]["b"]["index"] == 3
assert "date" in j["ignored_headers"]
PY
expect_eq "--json parses with python3" "$?" 0
expect_file_eq "--json: the same content as the text" "$WORK/ab-from-json.txt" "$WORK/ab.txt"

# --ignore-header, any case, repeatable.
"$SOCKCAP" diff --ignore-header Content-Length "$WORK/a.skc" "$WORK/b.skc" >"$WORK/ign.txt"
expect_eq "--ignore-header: exit 1" "$?" 1
grep -v "response header content-length" "$WORK/ab.txt" >"$WORK/ign.want"
expect_file_eq "--ignore-header Content-Length: those lines go, nothing else" "$WORK/ign.txt" "$WORK/ign.want"
"$SOCKCAP" diff --ignore-header CONTENT-TYPE --ignore-header content-length --ignore-header Connection \
	"$WORK/a.skc" "$WORK/b.skc" >"$WORK/ign2.txt"
expect_eq "--ignore-header x3: no header lines left" "$(grep -c ' header ' "$WORK/ign2.txt")" 0
expect_eq "-q: no output" "$("$SOCKCAP" diff -q "$WORK/a.skc" "$WORK/b.skc")" ""
"$SOCKCAP" diff -q "$WORK/a.skc" "$WORK/b.skc"
expect_eq "-q: exit 1" "$?" 1

# ---- An inserted request: one "added", nothing shifted ------------------------------------
out=$("$SOCKCAP" diff "$WORK/a.skc" "$WORK/c.skc")
expect_eq "inserted request: exit 1" "$?" 1
expect_eq "inserted request: one added" "$out" \
	"added GET 127.0.0.1:$port/api.json?inserted=1 (B: connection 1, #3)
7 transactions compared: 6 equal, 0 changed, 1 added, 0 removed"
out=$("$SOCKCAP" diff "$WORK/c.skc" "$WORK/a.skc")
expect_eq "the other way round: one removed" "$out" \
	"removed GET 127.0.0.1:$port/api.json?inserted=1 (A: connection 1, #3)
7 transactions compared: 6 equal, 0 changed, 0 added, 1 removed"

# ---- Databases and pcaps -------------------------------------------------------------------
"$SOCKCAP" analyze -q -o "$WORK/a.db" "$WORK/a.skc"
"$SOCKCAP" diff "$WORK/a.skc" "$WORK/a.db" >"$WORK/self.txt"
expect_eq "a capture against its analyze database: exit 0" "$?" 0
expect_eq "a capture against its analyze database: output" "$(cat "$WORK/self.txt")" \
	"6 transactions compared: 6 equal, 0 changed, 0 added, 0 removed"
"$SOCKCAP" diff "$WORK/a.db" "$WORK/b.skc" >"$WORK/dbb.txt"
expect_eq "database against capture: exit 1" "$?" 1
expect_file_eq "database against capture: the same report" "$WORK/dbb.txt" "$WORK/ab.txt"
if $have_tcpdump; then
	"$SOCKCAP" diff -q "$WORK/a.pcap" "$WORK/a2.pcap"
	expect_eq "pcap: the same traffic twice: exit 0" "$?" 0
	"$SOCKCAP" diff -q "$WORK/a.skc" "$WORK/a.pcap"
	expect_eq "one run seen by sockcap record and by tcpdump: exit 0" "$?" 0
	"$SOCKCAP" diff "$WORK/a.pcap" "$WORK/b.pcap" >"$WORK/pab.txt"
	expect_eq "pcap: changed files: exit 1" "$?" 1
	expect_file_eq "pcap: the same report as from the .skc" "$WORK/pab.txt" "$WORK/ab.txt"
else
	echo "note: no tcpdump; the pcap checks did not run"
fi

# ---- The same traffic on another port: --ignore-authority ----------------------------------
port=$(free_port)
u="http://127.0.0.1:$port"
run d "$WORK/www1"
"$SOCKCAP" diff "$WORK/a.skc" "$WORK/d.skc" >"$WORK/ad.txt"
expect_eq "another port: exit 1" "$?" 1
expect_eq "another port: every transaction removed and added" "$(tail -1 "$WORK/ad.txt")" \
	"12 transactions compared: 0 equal, 0 changed, 6 added, 6 removed"
out=$("$SOCKCAP" diff --ignore-authority "$WORK/a.skc" "$WORK/d.skc")
expect_eq "--ignore-authority: exit 0" "$?" 0
expect_eq "--ignore-authority: all equal" "$out" "6 transactions compared: 6 equal, 0 changed, 0 added, 0 removed"
"$SOCKCAP" diff --ignore-authority --json "$WORK/a.skc" "$WORK/d.skc" >"$WORK/ad.json"
expect_eq "--ignore-authority --json: says so" \
	"$(/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["ignore_authority"], j["ignored_headers"][-2:])' "$WORK/ad.json")" \
	"True ['host', ':authority']"

# ---- Errors: exit 2 with a clear message -----------------------------------------------------
"$SOCKCAP" diff "$WORK/missing.skc" "$WORK/a.skc" >"$WORK/out" 2>"$WORK/err"
expect_eq "missing file: exit 2" "$?" 2
expect_eq "missing file: message" "$(cat "$WORK/err")" "sockcap diff: $WORK/missing.skc: No such file or directory"
expect_eq "missing file: nothing on stdout" "$(cat "$WORK/out")" ""
printf 'not a capture\n' >"$WORK/junk.txt"
"$SOCKCAP" diff "$WORK/a.skc" "$WORK/junk.txt" 2>"$WORK/err" >/dev/null
expect_eq "not a capture: exit 2" "$?" 2
expect_eq "not a capture: message" "$(cat "$WORK/err")" \
	"sockcap diff: $WORK/junk.txt: not a capture file (neither .skc, pcap nor pcapng)"
"$SOCKCAP" diff "$WORK/a.skc" >/dev/null 2>&1
expect_eq "one input: exit 2" "$?" 2
"$SOCKCAP" diff --bogus "$WORK/a.skc" "$WORK/b.skc" >/dev/null 2>&1
expect_eq "unknown option: exit 2" "$?" 2
finish
