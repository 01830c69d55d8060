#!/bin/bash
# sockcap export --pcapng: the committed .skc samples become pcapng files that
# tshark reads without complaint, with one TCP conversation per connection
# (client sockets; their mirrored server sockets left out), good IPv4 and TCP
# checksums, no TCP analysis warnings, packets in time order, and the same
# HTTP/1 requests and HTTP/2 streams as `sockcap analyze` finds in the .skc;
# `sockcap analyze` on the pcapng finds the same transactions again.  A capture
# crafted here adds a recorder loss (left as a hole: tshark sees a lost
# segment), IPv6, a Unix-domain socket, a socket joined mid-stream, a
# dual-stack server's IPv4-mapped socket, and a record that is late in the file.
. "$top_srcdir/tests/e2e/lib.sh"
need_cmd tshark capinfos sqlite3
S=$top_srcdir/samples

# tshark run as root warns about it on stderr; every other line is a problem.
tsh() {
	tshark -n "$@" 2>"$WORK/tshark.err"
	local st=$?
	if [ "$st" -ne 0 ] || grep -qv '^Running as user' "$WORK/tshark.err"; then
		fail "tshark $* (exit $st): $(grep -v '^Running as user' "$WORK/tshark.err")"
	fi
}

# HTTP/2 streams of a pcapng as "client-port stream-id method path status"
# lines, from tshark's PDML (a packet may carry many frames of many streams).
h2_streams() {
	local pcap=$1 d=""
	shift
	for p in "$@"; do d="$d -d tcp.port==$p,http2"; done
	# shellcheck disable=SC2086
	tsh -r "$pcap" $d -Y http2 -T pdml >"$WORK/h2.pdml"
	/usr/bin/python3 - "$WORK/h2.pdml" <<'PY'
import sys
import xml.etree.ElementTree as ET

streams = {}
for _, pkt in ET.iterparse(sys.argv[1]):
    if pkt.tag != "packet":
        continue
    ports = {}
    for f in pkt.iter("field"):
        if f.get("name") in ("tcp.srcport", "tcp.dstport"):
            ports[f.get("name")] = int(f.get("show"))
    for st in pkt.iter("field"):
        if st.get("name") != "http2.stream":
            continue
        v = {}
        for f in st.iter("field"):
            n = f.get("name")
            if n in ("http2.streamid", "http2.headers.method", "http2.headers.path", "http2.headers.status"):
                v.setdefault(n, f.get("show"))
        if "http2.headers.method" in v or "http2.headers.path" in v:
            key = (ports["tcp.srcport"], int(v["http2.streamid"]))
            s = streams.setdefault(key, {})
            s["method"] = v.get("http2.headers.method", "")
            s["path"] = v.get("http2.headers.path", "")
        if "http2.headers.status" in v:
            s = streams.setdefault((ports["tcp.dstport"], int(v["http2.streamid"])), {})
            s.setdefault("status", v["http2.headers.status"])
    pkt.clear()
for (port, sid), s in sorted(streams.items()):
    print("\t".join([str(port), str(sid), s.get("method", ""), s.get("path", ""), s.get("status", "")]))
PY
}

TX_COLS="t.http_version, t.stream_id, t.method, t.path, t.status, t.req_header_bytes, t.req_body_bytes, t.resp_header_bytes, t.resp_body_bytes, t.complete, t.truncated, t.req_start_ns, t.resp_end_ns"
# tx DB ROLE: the transactions of ROLE's connections, in request order.
tx() {
	sqlite3 "$1" "SELECT $TX_COLS FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE c.role = '$2' ORDER BY t.req_start_ns, t.stream_id"
}

# ---- the committed samples -------------------------------------------------------------
# sample            TCP conversations
for line in "http1-pyhttp 3" "nginx-h1-h2 3"; do
	set -- $line
	s=$1 nconv=$2
	out="$WORK/$s.pcapng"
	"$SOCKCAP" export --pcapng "$out" "$S/$s.skc" 2>"$WORK/$s.err"
	expect_eq "$s: export exit status" "$?" 0
	grep -q "^$out: $nconv TCP connections" "$WORK/$s.err" && ok "$s: summary" || fail "$s: summary: $(cat "$WORK/$s.err")"
	tsh -r "$out" >"$WORK/$s.txt" && ok "$s: tshark reads it without errors"
	expect_eq "$s: every packet is there" "$(wc -l <"$WORK/$s.txt")" \
		"$(grep -o '[0-9]* packets' "$WORK/$s.err" | cut -d' ' -f1)"
	"$SOCKCAP" analyze -q -o "$WORK/$s.db" "$S/$s.skc" || fail "$s: analyze .skc"
	expect_eq "$s: client sockets in the .skc" \
		"$(sqlite3 "$WORK/$s.db" "SELECT count(*) FROM connections WHERE role = 'client'")" "$nconv"
	expect_eq "$s: TCP conversations (one per connection)" \
		"$(tsh -r "$out" -q -z conv,tcp | grep -c '<->')" "$nconv"
	expect_eq "$s: a handshake and FINs per connection" \
		"$(tsh -r "$out" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' | wc -l) $(tsh -r "$out" -Y 'tcp.flags.fin == 1' | wc -l)" \
		"$nconv $((2 * nconv))"
	expect_eq "$s: checksums (IPv4 and TCP) all good" \
		"$(tsh -r "$out" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
			-Y 'tcp.checksum.status != "Good" || (ip && ip.checksum.status != "Good")' | wc -l)" 0
	expect_eq "$s: no bad checksums (the brief's filter)" \
		"$(tsh -r "$out" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
			-Y 'tcp.checksum.status == "Bad" || ip.checksum.status == "Bad"' | wc -l)" 0
	expect_eq "$s: no TCP analysis warnings (seq and ack numbers consistent)" \
		"$(tsh -r "$out" -Y 'tcp.analysis.flags' | wc -l)" 0
	capinfos -o "$out" | grep -q 'Strict time order: *True' && ok "$s: time order" || fail "$s: not in time order"
	expect_eq "$s: comments on the first packets" \
		"$(tsh -r "$out" -Y 'frame.comment' -T fields -e frame.comment | grep -c '^pid [0-9]* comm .* sock [0-9]* fd [0-9]* role client')" \
		"$nconv"

	# HTTP/1: tshark's requests are the analyzer's, in order.
	tsh -r "$out" -Y http.request -T fields -e http.request.method -e http.request.uri >"$WORK/$s.h1.got"
	sqlite3 -separator $'\t' "$WORK/$s.db" "SELECT t.method, t.path FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE c.role = 'client' AND t.http_version LIKE 'HTTP/1%' ORDER BY t.req_start_ns" >"$WORK/$s.h1.want"
	[ -s "$WORK/$s.h1.want" ] || fail "$s: no HTTP/1 transactions to compare"
	expect_file_eq "$s: HTTP/1 requests tshark finds" "$WORK/$s.h1.got" "$WORK/$s.h1.want"

	# HTTP/2: streams with method, :path and :status, decoded on the servers' ports.
	ports=$(sqlite3 "$WORK/$s.db" "SELECT DISTINCT remote_port FROM connections WHERE role = 'client' AND protocol = 'h2'")
	sqlite3 -separator $'\t' "$WORK/$s.db" "SELECT c.local_port, t.stream_id, t.method, t.path, t.status FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE c.role = 'client' AND t.http_version = 'HTTP/2' ORDER BY c.local_port, t.stream_id" >"$WORK/$s.h2.want"
	if [ -n "$ports" ]; then
		# shellcheck disable=SC2086
		h2_streams "$out" $ports >"$WORK/$s.h2.got"
		expect_file_eq "$s: HTTP/2 streams tshark finds (:method, :path, :status)" "$WORK/$s.h2.got" "$WORK/$s.h2.want"
	fi

	# Analysed again from the pcapng: the same transactions, times included.
	"$SOCKCAP" analyze -q -o "$WORK/$s-x.db" "$out" || fail "$s: analyze the pcapng"
	tx "$WORK/$s.db" client >"$WORK/$s.tx.want"
	tx "$WORK/$s-x.db" network >"$WORK/$s.tx.got"
	expect_file_eq "$s: analyze on the pcapng = analyze on the .skc (client side)" "$WORK/$s.tx.got" "$WORK/$s.tx.want"
done
expect_eq "nginx-h1-h2: h2load's 20 streams and curl's 1 are all there" \
	"$(wc -l <"$WORK/nginx-h1-h2.h2.got")" 21

# ---- a crafted capture ---------------------------------------------------------------------
# One block whose zstd frame stores the records raw (RFC 8878 §3.1.1.2: a
# Raw_Block), so that no compressor is needed; CRC-32C as SKC-FORMAT.md says.
/usr/bin/python3 - "$WORK/craft.skc" <<'PY'
import struct
import sys

TAB = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    TAB.append(c)


def crc32c(b):
    crc = 0xFFFFFFFF
    for x in b:
        crc = TAB[(crc ^ x) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def s16(b):
    b = b.encode() if isinstance(b, str) else b
    return struct.pack("<H", len(b)) + b


def ep(port, addr):
    return struct.pack("<H", port) + addr.ljust(16, b"\0")


def v4(a):
    return bytes(int(x) for x in a.split("."))


V6LO = bytes(15) + b"\x01"
recs = []
n = {"records": 0, "data": 0, "captured": 0, "lost": 0, "events": 0}


def rec(t, body):
    recs.append(struct.pack("<HBBI", t, 1, 0, len(body)) + body)
    n["records"] += 1


T0, MS, REAL0 = 5_000_000_000, 1_000_000, 1_700_000_000_000_000_000
rec(1, struct.pack("<QQII", REAL0, T0, 0, 0) + s16("craft") + s16("6.1") + s16("sockcap 0.1.0") + s16("crafted"))
for pid, comm in ((100, "curl"), (200, "server"), (300, "h2load"), (400, "nginx")):
    rec(2, struct.pack("<QIII", T0, pid, pid, 1) + s16(comm))


def sock_open(sid, ts, pid, fd, how, fam, local, remote, flags=0, path=b""):
    rec(3, struct.pack("<QQQIIiBBBB", sid, ts, 1000 + sid, pid, pid, fd, how, fam, 1, flags) + local + remote
        + struct.pack("<QQ", 0, 0) + s16(path))


def data(sid, ts, pid, off, d, inbound):
    rec(4, struct.pack("<QQQIIIBBHI", sid, ts, off, pid, pid, len(d), inbound, 6 if inbound else 5, 0, len(d)) + d)
    n["data"] += 1
    n["captured"] += len(d)


def loss(sid, ts, pid, off, length, inbound):
    rec(6, struct.pack("<QQQQIIBBBBI", sid, ts, off, length, pid, 1, inbound, 1, 6, 0, 0))
    n["lost"] += length
    n["events"] += 1


def close(sid, ts, pid, sent, recv):
    rec(5, struct.pack("<QQQQII", sid, ts, sent, recv, pid, pid))


# sock 1: IPv4; the recorder lost 1000 bytes in the middle of the first body.
req1 = b"GET /first HTTP/1.1\r\nHost: 192.0.2.10:8080\r\n\r\n"
resp1 = b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + bytes((i * 7) & 0x7F | 0x20 for i in range(3000))
req2 = b"GET /second HTTP/1.1\r\nHost: 192.0.2.10:8080\r\n\r\n"
resp2 = b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope\n"
h = len(resp1) - 3000
sock_open(1, T0 + 1 * MS, 100, 5, 1, 4, ep(40001, v4("192.0.2.1")), ep(8080, v4("192.0.2.10")))
data(1, T0 + 2 * MS, 100, 0, req1, 0)
data(1, T0 + 3 * MS, 100, 0, resp1[:h + 1000], 1)
loss(1, T0 + 4 * MS, 100, h + 1000, 1000, 1)
data(1, T0 + 5 * MS, 100, h + 2000, resp1[h + 2000:], 1)
data(1, T0 + 6 * MS, 100, len(req1), req2, 0)
data(1, T0 + 7 * MS, 100, len(resp1), resp2, 1)
close(1, T0 + 8 * MS, 100, len(req1) + len(req2), len(resp1) + len(resp2))

# socks 2 and 3: both ends of an IPv6 connection; the server's socket opens first.
req3 = b"GET /v6 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n"
resp3 = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
c6, s6 = ep(50002, V6LO), ep(8443, V6LO)
sock_open(3, T0 + 10 * MS, 200, 7, 2, 6, s6, c6)
sock_open(2, T0 + 10 * MS + 5000, 100, 6, 1, 6, c6, s6)
data(2, T0 + 11 * MS, 100, 0, req3, 0)
data(3, T0 + 11 * MS + 100, 200, 0, req3, 1)
data(3, T0 + 12 * MS, 200, 0, resp3, 0)
data(2, T0 + 12 * MS + 100, 100, 0, resp3, 1)
close(2, T0 + 13 * MS, 100, len(req3), len(resp3))
close(3, T0 + 13 * MS + 100, 200, len(resp3), len(req3))

# sock 4: Unix-domain, not TCP/IP.
unix = b"GET /unix HTTP/1.1\r\nHost: x\r\n\r\n"
sock_open(4, T0 + 14 * MS, 100, 8, 1, 1, ep(0, b""), ep(0, b""), path=b"/run/x.sock")
data(4, T0 + 15 * MS, 100, 0, unix, 0)
close(4, T0 + 16 * MS, 100, len(unix), 0)

# sock 5: found already open (mid-stream) and never closed.
req5 = b"GET /midstream HTTP/1.1\r\nHost: 192.0.2.20\r\n\r\n"
resp5 = b"HTTP/1.1 204 No Content\r\n\r\n"
sock_open(5, T0 + 17 * MS, 300, 9, 3, 4, ep(40005, v4("192.0.2.1")), ep(80, v4("192.0.2.20")), flags=1)
data(5, T0 + 18 * MS, 300, 0, req5, 0)
data(5, T0 + 19 * MS, 300, 0, resp5, 1)

# socks 6 and 7: an IPv4 client, and a dual-stack server that sees it as ::ffff:127.0.0.1.
req6 = b"GET /mapped HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n"
resp6 = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
mapped = bytes(10) + b"\xff\xff" + v4("127.0.0.1")
sock_open(6, T0 + 20 * MS, 100, 10, 1, 4, ep(40006, v4("127.0.0.1")), ep(8081, v4("127.0.0.1")))
sock_open(7, T0 + 20 * MS + 10, 400, 11, 2, 6, ep(8081, mapped), ep(40006, mapped))
data(6, T0 + 21 * MS, 100, 0, req6, 0)
data(7, T0 + 21 * MS + 10, 400, 0, req6, 1)
data(7, T0 + 22 * MS, 400, 0, resp6, 0)
data(6, T0 + 22 * MS + 10, 100, 0, resp6, 1)
close(6, T0 + 23 * MS, 100, len(req6), len(resp6))
close(7, T0 + 23 * MS + 10, 400, len(resp6), len(req6))

# Late in the file: sock 5 sent this before sock 6 opened.
data(5, T0 + 19 * MS + 500000, 300, len(req5), b"GET /late HTTP/1.1\r\nHost: 192.0.2.20\r\n\r\n", 0)

lost = [(n["lost"], n["events"])] + [(0, 0)] * 5
rec(7, struct.pack("<QQQQQQI", REAL0 + 30 * MS, T0 + 30 * MS, n["records"], 0, n["data"], n["captured"], 6)
    + b"".join(struct.pack("<QQ", b, e) for b, e in lost))

raw = b"".join(recs)
frame = struct.pack("<IBI", 0xFD2FB528, 0xA0, len(raw)) + struct.pack("<I", 1 | len(raw) << 3)[:3] + raw
hdr = struct.pack("<QIIII", 0, len(frame), len(raw), len(recs), crc32c(frame))
fh = b"\x89SKC\r\n\x1a\n" + struct.pack("<HHIIII", 1, 0, 0, 32, 1 << 20, 0)
with open(sys.argv[1], "wb") as f:
    f.write(fh + struct.pack("<I", crc32c(fh)) + b"SKCB" + struct.pack("<I", crc32c(hdr)) + hdr + frame)
PY
c=$WORK/craft.skc
"$SOCKCAP" info "$c" >"$WORK/craft-info.out" 2>"$WORK/craft-info.err"
expect_eq "crafted .skc: a valid capture" \
	"$(grep '^status:' "$WORK/craft-info.out" | tr -s ' '):$(cat "$WORK/craft-info.err")" "status: complete:"
out=$WORK/craft.pcapng
"$SOCKCAP" export --pcapng "$out" "$c" 2>"$WORK/craft.err"
expect_eq "crafted: exit 1 (the capture lost data)" "$?" 1
cat >"$WORK/craft.err.want" <<EOF
$out: 4 TCP connections, 30 packets, 2458 payload bytes, from 7 sockets of $c
$out: 2 sockets not exported: the other end of a connection exported from its client's socket
$out: 1 Unix-domain sockets not exported (not TCP/IP)
$out: 1 gaps (1000 bytes the recorder lost) left as holes in the TCP sequence space
EOF
expect_file_eq "crafted: summary" "$WORK/craft.err" "$WORK/craft.err.want"
tsh -r "$out" >/dev/null && ok "crafted: tshark reads it without errors"
expect_eq "crafted: checksums (IPv4, IPv6, TCP) all good" \
	"$(tsh -r "$out" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
		-Y 'tcp.checksum.status != "Good" || (ip && ip.checksum.status != "Good")' | wc -l)" 0
expect_eq "crafted: the gap is a lost segment, with a comment" \
	"$(tsh -r "$out" -Y 'tcp.analysis.lost_segment' -T fields -e tcp.srcport -e tcp.seq -e frame.comment)" \
	"$(printf '8080\t2042\t1000 bytes not captured before this segment')"
expect_eq "crafted: conversations (IPv6 and mapped pairs once, Unix left out)" \
	"$(tsh -r "$out" -q -z conv,tcp | grep '<->' | awk '{print $1, $3}' | sort)" \
	"$(printf '%s\n' '127.0.0.1:40006 127.0.0.1:8081' '192.0.2.1:40001 192.0.2.10:8080' \
		'192.0.2.1:40005 192.0.2.20:80' '::1:50002 ::1:8443')"
expect_eq "crafted: IPv6 packets" "$(tsh -r "$out" -Y 'ipv6 && tcp' | wc -l)" 8
expect_eq "crafted: mid-stream socket: no handshake, no FIN (never closed)" \
	"$(tsh -r "$out" -Y 'tcp.port == 40005 && (tcp.flags.syn == 1 || tcp.flags.fin == 1)' | wc -l)" 0
tsh -r "$out" -Y 'frame.comment && !tcp.analysis.lost_segment' -T fields -e frame.comment >"$WORK/craft.comments"
cat >"$WORK/craft.comments.want" <<'EOF'
pid 100 comm curl sock 1 fd 5 role client
pid 100 comm curl sock 2 fd 6 role client; other end: sock 3 pid 200 (not exported)
pid 300 comm h2load sock 5 fd 9 role unknown (joined mid-stream)
pid 100 comm curl sock 6 fd 10 role client; other end: sock 7 pid 400 (not exported)
EOF
expect_file_eq "crafted: first-packet comments" "$WORK/craft.comments" "$WORK/craft.comments.want"
capinfos -o "$out" | grep -q 'Strict time order: *True' && ok "crafted: time order" || fail "crafted: not in time order"
expect_eq "crafted: the late record is put back in time order" \
	"$(tsh -r "$out" -Y 'http.request' -T fields -e http.request.uri | tr '\n' ' ')" \
	"/first /second /v6 /midstream /late /mapped "
"$SOCKCAP" analyze -q -o "$WORK/craft.db" "$c" 2>/dev/null
"$SOCKCAP" analyze -q -o "$WORK/craft-x.db" "$out" 2>/dev/null
q="SELECT t.method, t.path, t.status, t.resp_body_bytes, t.complete, t.truncated FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE c.family != 'unix' AND c.role IN (ROLES) ORDER BY t.req_start_ns"
expect_eq "crafted: analyze on the pcapng = analyze on the .skc" \
	"$(sqlite3 "$WORK/craft-x.db" "${q/ROLES/\'network\'}")" "$(sqlite3 "$WORK/craft.db" "${q/ROLES/\'client\', \'unknown\'}")"
expect_eq "crafted: the gap is found again" \
	"$(sqlite3 "$WORK/craft-x.db" "SELECT kind, stream_offset, length FROM anomalies")" "gap|1041|1000"

# ---- the file itself ---------------------------------------------------------------------
"$SOCKCAP" export --pcapng "$out" "$c" 2>"$WORK/exists.err"
expect_eq "an existing output: exit 2" "$?" 2
expect_eq "an existing output: message" "$(cat "$WORK/exists.err")" "sockcap export: $out exists; -f replaces it"
cp "$out" "$WORK/first.pcapng"
"$SOCKCAP" export -f --pcapng "$out" "$c" 2>/dev/null
expect_eq "-f replaces it" "$?" 1
cmp -s "$out" "$WORK/first.pcapng" && ok "the same input gives the same bytes" || fail "two exports differ"
"$SOCKCAP" export --pcapng - "$c" 2>/dev/null >"$WORK/stdout.pcapng"
cmp -s "$WORK/stdout.pcapng" "$out" && ok "--pcapng - writes standard output" || fail "--pcapng -"
"$SOCKCAP" export --pcapng "$WORK/p.pcapng" "$S/curl-pyhttp.pcap" 2>"$WORK/pcap.err"
expect_eq "a pcap input: exit 2" "$?" 2
grep -q "is a packet capture already" "$WORK/pcap.err" && ok "a pcap input: says why" || fail "pcap: $(cat "$WORK/pcap.err")"
[ ! -e "$WORK/p.pcapng" ] && ok "a refused input leaves no output" || fail "an output was left"
if [ -c /dev/full ]; then
	"$SOCKCAP" export -f --pcapng /dev/full "$c" 2>"$WORK/full.err"
	expect_eq "a full disk: exit 2 and why" "$?:$(cat "$WORK/full.err")" \
		"2:sockcap export: writing /dev/full: No space left on device"
	[ -c /dev/full ] && ok "-f writes into a device, never unlinks it" || fail "/dev/full is gone"
fi
cp "$c" "$WORK/same.skc"
"$SOCKCAP" export -f --pcapng "$WORK/same.skc" "$WORK/same.skc" 2>/dev/null
expect_eq "the output naming the input: exit 2" "$?" 2
cmp -s "$c" "$WORK/same.skc" && ok "the input is left alone" || fail "the input was overwritten"
finish
