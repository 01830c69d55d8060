#!/bin/bash
# Filters: --port and -p and -c exclude other traffic; -w refuses an existing
# file (and -f replaces it); SIGINT yields a complete file.
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
expect_eq "SIGINT: trailer written" "$(info_json "$WORK/comm.skc" 'j["status"]')" complete
"$SOCKCAP" info "$WORK/comm.skc" >/dev/null 2>"$WORK/info.err"
expect_eq "SIGINT: info exits 0" "$?" 0
finish
