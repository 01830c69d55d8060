#!/usr/bin/env bash
# capture_strings.sh - every string a capture holds (a process name, the
# hostname, the recorder's options, a Unix path) is escaped when info and
# dump print it: a recorded escape sequence must not reach the terminal,
# and a newline in a name must not forge a line such as "damage: none".
. "$(dirname "$0")/lib.sh"

# A process that named itself with an escape sequence, a hostname that
# clears the screen, options that forge a "damage:" line, a Unix path that
# sets the terminal's title.
"$SKCGEN" "$WORK/evil.skc" <<'EOF'
set hostname evil\x1b[2J\x1b[Hhost
set options -w x\ndamage:     none
open 1 connect 127.0.0.1:1000 127.0.0.1:80 100 a\x1b[31mred
send 1 GET / HTTP/1.1\r\n\r\n
close 1
openunix 2 /run/\x1b]0;pwned\x07.sock 100
close 2
EOF

for cmd in info dump "info --json"; do
	# shellcheck disable=SC2086
	"$SOCKCAP" $cmd "$WORK/evil.skc" >"$WORK/out" 2>&1
	if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$WORK/out"; then
		fail "$cmd: a control byte reached the output"
		cat -v "$WORK/out" | head -20
	else
		ok "$cmd: no control byte in the output"
	fi
	expect_eq "$cmd: one damage line, the real one" "$(grep -c '^damage:' "$WORK/out")" \
		"$([ "$cmd" = info ] && echo 1 || echo 0)"
done
"$SOCKCAP" info "$WORK/evil.skc" >"$WORK/info.out"
expect_eq "info: the hostname, escaped" "$(grep '^recorded:' "$WORK/info.out")" \
	'recorded:   on evil\x1b[2J\x1b[Hhost (Linux ) by skcgen'
expect_eq "info: the options, escaped" "$(grep '^options:' "$WORK/info.out")" 'options:    -w x\ndamage:     none'
expect_eq "info: the process name, escaped" "$(grep -F '  100 ' "$WORK/info.out")" \
	'  100      a\x1b[31mred     ppid 0'
"$SOCKCAP" dump "$WORK/evil.skc" >"$WORK/dump.out"
expect_eq "dump: the capture line, escaped" "$(head -1 "$WORK/dump.out" | cut -d' ' -f2-)" \
	'capture on evil\x1b[2J\x1b[Hhost (Linux ) by skcgen, started 2023-11-14 22:13:20.000000000, snaplen 0, options "-w x\ndamage:     none"'
expect_eq "dump: the Unix path and the process name, escaped" "$(sed -n 6p "$WORK/dump.out" | cut -d' ' -f2-)" \
	'100/a\x1b[31mred sock 2 connect unix "/run/\x1b]0;pwned\x07.sock" fd 5 inode 1002'
"$SOCKCAP" info --json "$WORK/evil.skc" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["capture"]["hostname"] == "evil\x1b[2J\x1b[Hhost", j["capture"]["hostname"]
assert j["processes"][0]["comm"] == "a\x1b[31mred", j["processes"][0]["comm"]
' && ok "info --json: the strings, exact once decoded" || fail "info --json: strings not kept exactly"

finish
