#!/bin/bash
# Issue 14, items 2 and 3: pcapng files with interfaces of different link
# types, every encapsulation and IP fragments, on the captures that
# scripts/make-test-pcaps.py derives from one real capture (tests/pcaps/) and
# on the public captures that showed each problem
# (../shared/fixtures/realworld-pcaps/).  `sockcap analyze` must find the
# exchanges, say which interfaces it read, count what it skipped by reason in
# `captures`, and exit 1 when a skipped frame carried TCP.
. "$top_srcdir/tests/e2e/lib.sh"
need_cmd sqlite3
P=$top_srcdir/tests/pcaps
R=$top_srcdir/../shared/fixtures/realworld-pcaps

# analyze FILE: the database in $WORK/a.db, stderr in $WORK/a.err, status in $ST.
analyze() {
	rm -f "$WORK/a.db"
	"$SOCKCAP" analyze -o "$WORK/a.db" "$1" >/dev/null 2>"$WORK/a.err"
	ST=$?
}
q() { sqlite3 -separator ' ' "$WORK/a.db" "$1"; }

# The two exchanges of lo-en10mb.pcap, whatever wraps them.
for f in pppoe.pcap llc-snap.pcap mpls.pcap vxlan.pcap geneve.pcap gre.pcap erspan.pcap ip4in6.pcap \
	chdlc.pcap ppp.pcap nflog.pcap arcnet.pcap tso.pcap ipv6-atomic.pcap frag-v4.pcap frag-v6.pcap \
	multi-if.pcapng; do
	analyze "$P/$f"
	expect_eq "$f: exit status" "$ST" 0
	expect_eq "$f: the two exchanges" "$(q "SELECT group_concat(method || ' ' || path || ' ' || status || ' ' ||
		complete, ', ') FROM transactions")" "GET / 200 1, GET / 200 1"
	expect_eq "$f: no anomaly" "$(q "SELECT count(*) FROM anomalies")" 0
	expect_eq "$f: nothing skipped" "$(q "SELECT skipped_non_ip + skipped_non_tcp + skipped_truncated +
		skipped_malformed + skipped_link_type + skipped_fragments + skipped_tcp FROM captures")" 0
done
analyze "$P/frag-v4.pcap"
expect_eq "frag-v4.pcap: fragments and datagrams counted" "$(q "SELECT frames, ip_fragments, reassembled FROM captures")" \
	"52 34 6"

# A datagram whose overlapping fragments disagree is given up (RFC 5722 §4):
# its fragments carried TCP, so the exit status says data was lost.
analyze "$P/frag-v4-conflict.pcap"
expect_eq "frag-v4-conflict.pcap: exit status" "$ST" 1
expect_eq "frag-v4-conflict.pcap: counts" "$(q "SELECT ip_fragments, reassembled, skipped_fragments, skipped_tcp
	FROM captures")" "35 5 6 6"
expect_eq "frag-v4-conflict.pcap: stderr" "$(grep "carrying TCP" "$WORK/a.err")" \
	"$P/frag-v4-conflict.pcap: 6 frames carrying TCP were skipped, their bytes are missing from the streams (all skipped frames: fragments not reassembled 6)"

# Interfaces: which were read, and the one whose link type is not decoded.
analyze "$P/multi-if.pcapng"
expect_eq "multi-if.pcapng: interfaces" "$(q "SELECT interfaces FROM captures")" \
	"0: EN10MB eth0, 12 frames, 12 TCP segments
1: NULL lo0, 12 frames, 12 TCP segments"
expect_eq "multi-if.pcapng: tool" "$(q "SELECT tool FROM captures")" "pcapng, 2 interfaces"
grep -q "^  1: NULL lo0, 12 frames, 12 TCP segments$" "$WORK/a.err" && ok "multi-if.pcapng: interfaces on stderr" ||
	fail "multi-if.pcapng: interfaces not on stderr: $(cat "$WORK/a.err")"
analyze "$P/unsupported-if.pcapng"
expect_eq "unsupported-if.pcapng: exit status" "$ST" 1
expect_eq "unsupported-if.pcapng: the exchanges are there" "$(q "SELECT count(*) FROM transactions WHERE status = 200")" 2
expect_eq "unsupported-if.pcapng: counts" "$(q "SELECT skipped_link_type, skipped_malformed, skipped_tcp FROM captures")" "1 1 0"
grep -q "^1: USB_LINUX usbmon0, 1 frames not decoded (link type not supported)$" "$WORK/a.err" &&
	ok "unsupported-if.pcapng: the interface is named on stderr" || fail "unsupported-if.pcapng: $(cat "$WORK/a.err")"
"$SOCKCAP" info "$P/unsupported-if.pcapng" >"$WORK/info.txt" 2>"$WORK/info.err"
expect_eq "info unsupported-if.pcapng: exit status" "$?" 1
grep -q "^  1   USB_LINUX    usbmon0          snaplen 262144         1 frames  not decoded" "$WORK/info.txt" &&
	ok "info lists the interfaces" || fail "info: $(cat "$WORK/info.txt")"

# Frames cut by the snaplen inside their TCP headers carried TCP: exit 1.
analyze "$P/snaplen-64.pcap"
expect_eq "snaplen-64.pcap: exit status" "$ST" 1
expect_eq "snaplen-64.pcap: counts" "$(q "SELECT skipped_truncated, skipped_tcp FROM captures")" "24 24"

# The public captures that showed each problem.
[ -d "$R" ] || skip "no public captures at $R"
check() { # FILE EXPECTED-EXCHANGES (paths cut to 40 bytes) [EXIT]
	analyze "$R/$1"
	expect_eq "$1: exit status" "$ST" "${3:-0}"
	expect_eq "$1: exchanges" "$(q "SELECT group_concat(coalesce(method, '-') || ' ' || coalesce(substr(path, 1, 40), '-') || ' ' ||
		coalesce(status, '-'), ', ') FROM (SELECT * FROM transactions ORDER BY req_start_ns)")" "$2"
}
check pfe-sample_multi_nanosecond.pcapng "POST /api/login 404, POST /login 404, GET /hello 200, POST /submit 201" 1
expect_eq "pfe-sample_multi_nanosecond.pcapng: interfaces" "$(q "SELECT interfaces FROM captures")" \
	"0: NULL lo0, 50 frames, 50 TCP segments
1: EN10MB en0, 0 frames, 0 TCP segments"
analyze "$R/ppp-pcapng-example.pcapng"
expect_eq "ppp-pcapng-example.pcapng: interfaces" "$(q "SELECT interfaces FROM captures")" \
	"0: EN10MB lo, 59 frames, 59 TCP segments
1: LINUX_SLL, 100 frames, 100 TCP segments"
check sv-pppoe-session-http.pcap "GET / 200"
check ppp-one_http_stream_rst.pcap "GET /engine/download.php?id=97853 503"
check ppp-frag_http_req.pcap "GET /convert_data.js?partner_id=29 -"
expect_eq "ppp-frag_http_req.pcap: reassembled" "$(q "SELECT ip_fragments, reassembled FROM captures")" "11 1"
check tcpdump-ipv4_tcp_http_xml_tso.pcap "POST http://gwm-ml-a2.wsodqa.com//research/mo -"
check zeek-snap-tcp.pcap "GET / 200"
check zeek-vxlan-encapsulated-http.pcap "GET /image/svg 200"
check zeek-mixed-vlan-mpls.pcap "GET / 200" 1
check sv-hdlc-http_1tx.pcap "GET /CNT/iview/161445187/direct;wi.160;hi.60 200"
check zeek-nflog-http.pcap "GET / 200"
check tcpdump-arcnet-rfc1201-http.pcap "GET / 301"
analyze "$R/zeek-ipv6-http-atomic-frag.pcap"
expect_eq "zeek-ipv6-http-atomic-frag.pcap: atomic fragments are whole packets" \
	"$(q "SELECT frames, ip_fragments, skipped_non_tcp, skipped_tcp FROM captures")" "38 0 2 0"
finish
