#!/bin/bash
# Filters: --port and -p and -c exclude other traffic; -w refuses an existing
# file (and -f replaces it); --snaplen keeps N bytes per syscall and records
# the rest as a loss; SIGINT yields a complete file.
. "$top_srcdir/tests/e2e/lib.sh"
need_bpf
need_cmd curl

pa=$(free_port)
pb=$(free_port)
mkdir -p "$WORK/www"
echo hello >"$WORK/www/index.html"
start_pyhttp "$pa" "$WORK/www"
PA=$PY_PID
start_pyhttp "$pb" "$WORK/www"
PB=$PY_PID

start_recorder "$WORK/port.skc" --port "$pa" || finish
curl -s -o /dev/null "http://127.0.0.1:$pa/"
curl -s -o /dev/null "http://127.0.0.1:$pb/"
stop_recorder
expect_eq "--port: only connections to port $pa" \
	"$(info_json "$WORK/port.skc" "sorted(set(s['remote'].rsplit(':', 1)[1] if s['how'] == 'connect' else s['local'].rsplit(':', 1)[1] for s in j['sockets']))")" "['$pa']"
expect_eq "--port: both ends of the one connection" "$(info_json "$WORK/port.skc" 'len(j["sockets"])')" 2
expect_eq "--port: only the processes of that connection are named" \
	"$(info_json "$WORK/port.skc" 'sorted(p["pid"] for p in j["processes"]) == sorted(set(s["pid"] for s in j["sockets"]))')" \
	True

start_recorder "$WORK/pid.skc" -p "$PB" || finish
curl -s -o /dev/null "http://127.0.0.1:$pa/"
curl -s -o /dev/null "http://127.0.0.1:$pb/"
stop_recorder
expect_eq "-p: only the process given" "$(info_json "$WORK/pid.skc" 'sorted(set(s["pid"] for s in j["sockets"]))')" "[$PB]"
expect_eq "-p: its one accepted connection" "$(info_json "$WORK/pid.skc" 'len(socks(how="accept"))')" 1

start_recorder "$WORK/comm.skc" -c curl --port "$pa" --port "$pb" || finish
curl -s -o /dev/null "http://127.0.0.1:$pa/"
curl -s -o /dev/null "http://127.0.0.1:$pb/"
stop_recorder
expect_eq "-c: only curl's sockets" "$(info_json "$WORK/comm.skc" 'sorted(set(s["comm"] for s in j["sockets"]))')" "['curl']"
expect_eq "-c: two connections" "$(info_json "$WORK/comm.skc" 'len(j["sockets"])')" 2

"$SOCKCAP" record -w "$WORK/port.skc" -d 1 2>"$WORK/exists.err"
expect_eq "-w on an existing file: exit 2" "$?" 2
expect_eq "-w on an existing file: message" "$(cat "$WORK/exists.err")" \
	"sockcap record: $WORK/port.skc exists; use -f to replace it"
"$SOCKCAP" record -w "$WORK/port.skc" -f -d 0.5 --port "$pa" -q
expect_eq "-f replaces it" "$?" 0
expect_eq "the replaced file is a new, empty capture" "$(info_json "$WORK/port.skc" 'len(j["sockets"])')" 0
expect_eq "mode 0600" "$(stat -c %a "$WORK/port.skc")" 600
# Filtered by a port: other traffic on the machine would be cut by --snaplen 1
# and make the recorder exit 1 (bytes lost).
"$SOCKCAP" record -w "$WORK/snap.skc" -f -d 0.5 --snaplen 1 --attach tracepoints --port "$pa" -q
expect_eq "--snaplen with per-syscall tracepoints loads" "$?" 0

# --snaplen: at most N bytes kept per syscall, the rest a snaplen loss.
head -c 20000 /dev/urandom >"$WORK/www/big.bin"
start_recorder "$WORK/snap.skc" -f --port "$pa" --snaplen 100 || finish
curl -s --trace "$WORK/trace.txt" -o /dev/null "http://127.0.0.1:$pa/big.bin"
stop_recorder
expect_eq "--snaplen: recorder exits 1 (bytes were not kept)" "$REC_STATUS" 1
/usr/bin/python3 "$top_srcdir/tests/e2e/curl_trace.py" "$WORK/trace.txt" "$WORK/sent.bin" "$WORK/recv.bin"
expect_eq "--snaplen: curl's received bytes = captured + snaplen loss" \
	"$(info_json "$WORK/snap.skc" "[s['bytes_received'] + s['lost_received'] for s in socks(comm='curl')][0]")" \
	"$(stat -c %s "$WORK/recv.bin")"
expect_eq "--snaplen: no record holds more than 100 bytes" \
	"$("$SOCKCAP" dump "$WORK/snap.skc" | awk '/ len [0-9]+/ && !/ LOSS / {for (i = 1; i <= NF; i++) if ($i == "len" && $(i + 1) + 0 > 100) bad++} END {print bad + 0}')" 0
expect_eq "--snaplen: the rest is a snaplen loss" \
	"$(info_json "$WORK/snap.skc" 'j["lost"]["snaplen"]["bytes"] > 0 and j["lost"]["snaplen"]["bytes"] == j["bytes"]["lost_sent"] + j["bytes"]["lost_received"]')" True

expect_eq "SIGINT: trailer written" "$(info_json "$WORK/comm.skc" 'j["status"]')" complete
"$SOCKCAP" info "$WORK/comm.skc" >/dev/null 2>"$WORK/info.err"
expect_eq "SIGINT: info exits 0" "$?" 0
finish
