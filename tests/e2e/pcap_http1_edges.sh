#!/bin/bash
# Issue 14, items 4 to 7: HTTP/1 edge cases, the switch to h2c and `info`
# without TCP, on the captures that scripts/make-test-pcaps.py makes
# (tests/pcaps/) and on the public captures that showed each problem
# (../shared/fixtures/realworld-pcaps/).
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

# Item 7: the 101 of an h2c upgrade is stream 1's interim response, and a 101
# to h2c is followed into HTTP/2 even when its request was not captured.
tx() { q "SELECT group_concat(http_version || ' ' || coalesce(stream_id, '-') || ' ' || coalesce(method, '-') || ' ' ||
	coalesce(path, '-') || ' ' || coalesce(status, '-') || ' ' || coalesce(interim_status, '-'), ', ')
	FROM (SELECT * FROM transactions ORDER BY id)"; }
analyze "$P/h2c-upgrade.pcap"
expect_eq "h2c-upgrade.pcap: exit status" "$ST" 0
expect_eq "h2c-upgrade.pcap: stream 1, 101 then 200" "$(tx)" "HTTP/2 1 GET /up 200 101"
analyze "$P/h2c-lost-request.pcap"
expect_eq "h2c-lost-request.pcap: stream 1 without its request" "$(tx)" "HTTP/2 1 - - 200 101"
expect_eq "h2c-lost-request.pcap: the lost request is a gap before the preface, nothing else" "$(anomalies)" "gap 0 114"

# Item 7: `info` gives the frames' time range when no TCP segment was decoded.
TZ=UTC "$SOCKCAP" info "$P/snaplen-64.pcap" >"$WORK/info.txt" 2>/dev/null
expect_eq "info snaplen-64.pcap: the frames' time range, not 1970" "$(grep '^time:' "$WORK/info.txt")" \
	"time:       2026-11-25 00:03:08.963185000 .. 2026-11-25 00:03:08.979891000 (0.016706000 s)"
analyze "$P/snaplen-64.pcap"
expect_eq "analyze snaplen-64.pcap: the capture's time range" "$(q "SELECT start_ns, end_ns FROM captures")" \
	"1795564988963185000 1795564988979891000"

[ -d "$R" ] || skip "no public captures at $R"
analyze "$R/zeek-interleaved-http-entity.pcap"
expect_eq "zeek-interleaved-http-entity.pcap: exit status" "$ST" 0
expect_eq "zeek-interleaved-http-entity.pcap: no anomaly" "$(anomalies)" ""
analyze "$R/sv-http-multiple-cl.pcap"
expect_eq "sv-http-multiple-cl.pcap: one parse error, every client byte skipped" "$(anomalies)" \
	"parse_error 62 -, undecoded 0 255"
analyze "$R/sv-drop-protocol-change.pcap"
expect_eq "sv-drop-protocol-change.pcap: followed into HTTP/2" "$(tx)" "HTTP/2 1 - - 200 101"
analyze "$R/sv-http2-range.pcap"
expect_eq "sv-http2-range.pcap: each upgrade's 101 is kept" "$(q "SELECT group_concat(interim_status) FROM transactions
	WHERE http_version = 'HTTP/2'")" "101,101,101"
analyze "$R/sv-http2-authority-mismatch.pcap"
expect_eq "sv-http2-authority-mismatch.pcap: a SETTINGS ACK first is named as such" \
	"$(q "SELECT message FROM anomalies WHERE stream_offset = 24")" \
	"HTTP/2 frame at offset 24: the first frame from the client is a SETTINGS acknowledgement, not its own SETTINGS (RFC 9113 §3.4)"
finish
