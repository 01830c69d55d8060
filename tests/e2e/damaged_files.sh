#!/bin/bash
# Damaged and truncated captures: everything readable is printed, a precise
# message goes to stderr and the exit status is 1; intact files read the same
# from a pipe as from a file; non-captures are refused with exit 2.
. "$top_srcdir/tests/e2e/lib.sh"
S=$top_srcdir/samples

# Every cut of a real capture: dump prints a prefix of the full dump, and a cut
# inside a block is reported with exit 1.
TZ=UTC "$SOCKCAP" dump "$S/nginx-h1-h2.skc" >"$WORK/full.txt"
size=$(stat -c %s "$S/nginx-h1-h2.skc")
bad=0
for cut in $(seq 40 97 "$size"); do
	head -c "$cut" "$S/nginx-h1-h2.skc" >"$WORK/cut.skc"
	TZ=UTC "$SOCKCAP" dump "$WORK/cut.skc" >"$WORK/cut.txt" 2>"$WORK/cut.err"
	st=$?
	n=$(wc -l <"$WORK/cut.txt")
	head -n "$n" "$WORK/full.txt" | cmp -s - "$WORK/cut.txt" || { bad=1; echo "cut $cut: not a prefix"; }
	if grep -q "truncated" "$WORK/cut.err"; then
		[ "$st" -eq 1 ] || { bad=1; echo "cut $cut: damage but exit $st"; }
	else
		grep -q "unfinished capture" "$WORK/cut.err" || { bad=1; echo "cut $cut: $(cat "$WORK/cut.err")"; }
	fi
done
expect_eq "every cut prints a prefix of the full dump and says why it stops" "$bad" 0

# Flipping any byte of the file never crashes; damage means exit 1.
bad=0
for pos in $(seq 0 53 "$((size - 1))"); do
	/usr/bin/python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2])] ^= 0x20; open(sys.argv[3], "wb").write(b)' \
		"$S/nginx-h1-h2.skc" "$pos" "$WORK/flip.skc"
	"$SOCKCAP" info "$WORK/flip.skc" >/dev/null 2>"$WORK/flip.err"
	st=$?
	if [ "$st" -gt 2 ]; then bad=1; echo "flip at $pos: exit $st"; fi
	if [ "$st" -eq 0 ] && [ -s "$WORK/flip.err" ]; then bad=1; echo "flip at $pos: exit 0 with $(cat "$WORK/flip.err")"; fi
done
expect_eq "a flipped byte anywhere: no crash, exit 1 or 2 with a message" "$bad" 0

# Streaming: a pipe reads like a file.
TZ=UTC "$SOCKCAP" dump - <"$S/nginx-h1-h2.skc" >"$WORK/pipe.txt"
expect_file_eq "dump - reads standard input" "$WORK/pipe.txt" "$WORK/full.txt"
cat "$S/curl-pyhttp.pcap" | TZ=UTC "$SOCKCAP" dump - >"$WORK/pcap-pipe.txt"
TZ=UTC "$SOCKCAP" dump "$S/curl-pyhttp.pcap" >"$WORK/pcap-file.txt"
expect_file_eq "a pcap from standard input" "$WORK/pcap-pipe.txt" "$WORK/pcap-file.txt"

# Not a capture, and missing files.
echo "hello" >"$WORK/text.txt"
"$SOCKCAP" info "$WORK/text.txt" 2>"$WORK/e1"
expect_eq "a text file: exit 2" "$?" 2
expect_eq "a text file: message" "$(cat "$WORK/e1")" \
	"sockcap info: $WORK/text.txt: not a capture file (neither .skc, pcap nor pcapng)"
"$SOCKCAP" dump "$WORK/nope.skc" 2>"$WORK/e2"
expect_eq "a missing file: exit 2" "$?" 2
expect_eq "a missing file: message" "$(cat "$WORK/e2")" "sockcap dump: $WORK/nope.skc: No such file or directory"
"$SOCKCAP" frobnicate 2>"$WORK/e3"
expect_eq "an unknown command: exit 2" "$?" 2
"$SOCKCAP" --version >"$WORK/v"
expect_eq "--version" "$(cut -d' ' -f1 "$WORK/v")" sockcap
for c in info dump; do
	"$SOCKCAP" "$c" --help >"$WORK/h" || fail "$c --help exit status"
	grep -q "^Exit status:" "$WORK/h" && ok "$c --help documents the exit codes" || fail "$c --help: no exit codes"
done
finish
