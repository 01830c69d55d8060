#!/bin/bash
# Issue 14, items 4 to 6: HTTP/1 edge cases on the captures that
# scripts/make-test-pcaps.py synthesizes (tests/pcaps/h1-*.pcap) and on the
# public captures that showed each problem (../shared/fixtures/realworld-pcaps/).
. "$top_srcdir/tests/e2e/lib.sh"
need_cmd sqlite3
P=$top_srcdir/tests/pcaps
R=$top_srcdir/../shared/fixtures/realworld-pcaps

analyze() {
	rm -f "$WORK/a.db"
	"$SOCKCAP" analyze -q -o "$WORK/a.db" "$1" >/dev/null 2>"$WORK/a.err"
	ST=$?
}
q() { sqlite3 -separator ' ' "$WORK/a.db" "$1"; }
anomalies() { q "SELECT group_concat(kind || ' ' || stream_offset || ' ' || coalesce(length, '-'), ', ') FROM
	(SELECT * FROM anomalies ORDER BY id)"; }

# Item 4: an empty line after the last message is not a message cut short
# (RFC 9112 §2.2).
analyze "$P/h1-stray-crlf.pcap"
expect_eq "h1-stray-crlf.pcap: exit status" "$ST" 0
expect_eq "h1-stray-crlf.pcap: no anomaly" "$(anomalies)" ""
expect_eq "h1-stray-crlf.pcap: the exchange" "$(q "SELECT method, path, status, complete FROM transactions")" "GET / 200 1"

# Item 5: after a parse error, one error, and every skipped byte in an
# anomaly's length; resync after the bad line.
analyze "$P/h1-bad-request.pcap"
expect_eq "h1-bad-request.pcap: one parse error, then the skipped bytes" "$(anomalies)" \
	"parse_error 46 -, undecoded 0 67"
expect_eq "h1-bad-request.pcap: the next request is decoded" "$(q "SELECT count(*) FROM transactions WHERE
	method = 'GET' AND path = '/b'")" 1

[ -d "$R" ] || skip "no public captures at $R"
analyze "$R/zeek-interleaved-http-entity.pcap"
expect_eq "zeek-interleaved-http-entity.pcap: exit status" "$ST" 0
expect_eq "zeek-interleaved-http-entity.pcap: no anomaly" "$(anomalies)" ""
analyze "$R/sv-http-multiple-cl.pcap"
expect_eq "sv-http-multiple-cl.pcap: one parse error, every client byte skipped" "$(anomalies)" \
	"parse_error 62 -, undecoded 0 255"
finish
