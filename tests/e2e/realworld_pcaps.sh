#!/bin/bash
# sockcap analyze on every public capture in ../shared/fixtures/realworld-pcaps/
# (Zeek's, suricata-verify's, PcapPlusPlus's, tcpdump's ... test traces), each
# within a time bound, compared with the counts pinned in
# tests/e2e/expected/realworld-pcaps.txt: exit status, requests, final
# responses, paired exchanges, anomalies by kind.  In the ASan build a crash,
# a leak or undefined behaviour fails the capture that caused it.
#
# After a deliberate change, rewrite the pinned counts (comments are kept) and
# review the diff:
#   /usr/bin/python3 tests/e2e/realworld.py build/cli/sockcap \
#       ../shared/fixtures/realworld-pcaps tests/e2e/expected/realworld-pcaps.txt --update [--tshark]
. "$top_srcdir/tests/e2e/lib.sh"

dir="$top_srcdir/../shared/fixtures/realworld-pcaps"
[ -d "$dir" ] || skip "no public captures at $dir"
need_cmd sqlite3
if /usr/bin/python3 "$top_srcdir/tests/e2e/realworld.py" "$SOCKCAP" "$dir" \
	"$top_srcdir/tests/e2e/expected/realworld-pcaps.txt" --timeout=${REALWORLD_TIMEOUT:-120}; then
	ok "every capture as pinned"
else
	fail "see the lines above"
fi
finish
