#!/usr/bin/python3
"""make-test-pcaps.py - derive the link-type variants in tests/pcaps/ from one
real Ethernet capture.

The committed captures are test fixtures for formats/sc_pcap.c
(tests/unit/test_pcap.c asserts exact counts and bytes on each).  They all hold
the same TCP segments, so every variant must decode to the same result.

How the original was captured (as root, Debian 12, tcpdump 4.99.3, curl 7.88.1):

    mkdir -p /tmp/pcapcap/www
    printf '<!doctype html>\\n<title>sockcap test</title>\\n<p>Hello from sockcap test capture.</p>\\n' \\
        > /tmp/pcapcap/www/index.html
    /usr/bin/python3 -m http.server --bind 127.0.0.1 --directory /tmp/pcapcap/www 18431 &
    tcpdump -i lo -w lo.pcap -U 'tcp port 18431' &    # wait for "listening on"
    curl -s http://127.0.0.1:18431/ ; curl -s http://127.0.0.1:18431/
    kill -INT <tcpdump pid>; kill <server pid>

giving 24 frames: two connections, each SYN, SYN-ACK, ACK, a 79-byte request,
ACK, a 185-byte response header, ACK, an 84-byte body, ACK, FIN, FIN, ACK.

How this script was run (from the top of the source tree):

    /usr/bin/python3 scripts/make-test-pcaps.py /tmp/pcapcap/lo.pcap tests/pcaps tests/fuzz/corpus/pcap

The optional third argument also writes the seed corpus of tests/fuzz/fuzz_pcap.c:
a copy of every file above, and single frames (frame-*.bin) prefixed with the
fuzz target's link-type selector byte, some of them edited into edge cases;
and, in the sibling directory ipfrag/, the seeds of tests/fuzz/fuzz_ipfrag.c.

Outputs (all classic pcap, little-endian, microsecond timestamps, unless said):

    lo-en10mb.pcap    the original, copied byte for byte
    vlan-qinq.pcap    Ethernet with an 802.1ad tag (VLAN 100) and an 802.1Q tag (VLAN 200)
    sll.pcap          LINKTYPE_LINUX_SLL (113), 16-byte cooked header
    sll2.pcap         LINKTYPE_LINUX_SLL2 (276), 20-byte cooked header
    raw.pcap          LINKTYPE_RAW (101), bare IPv4
    null.pcap         LINKTYPE_NULL (0), AF_INET = 2 little-endian (host order of an x86 BSD)
    loop.pcap         LINKTYPE_LOOP (108), AF_INET = 2 big-endian
    ipv6-raw.pcap     LINKTYPE_RAW, the same TCP segments in IPv6 (::1 to ::1,
                      synthesized header, TCP checksum recomputed)
    lo-en10mb.pcapng  the Ethernet frames as pcapng (SHB + IDB + EPBs)
    truncated.pcap    the Ethernet file cut 100 bytes into the data of frame 18
    snaplen-64.pcap   caplen cut to 64 bytes (inside the TCP options), len kept
    snaplen-100.pcap  caplen cut to 100 bytes (inside the payloads), len kept

Encapsulations (issue 14), each decoding to the same TCP segments:

    pppoe.pcap        Ethernet, PPPoE session (RFC 2516), PPP protocol 0x0021
    llc-snap.pcap     802.3 with an LLC/SNAP header (RFC 1042)
    mpls.pcap         Ethernet, two MPLS labels (RFC 3032)
    vxlan.pcap        Ethernet, IPv4, UDP 4789, VXLAN (RFC 7348), inner Ethernet
    geneve.pcap       Ethernet, IPv6, UDP 6081, Geneve with an option (RFC 8926), inner Ethernet
    gre.pcap          Ethernet, IPv4, GRE with key and sequence number (RFC 2890)
    erspan.pcap       Ethernet, IPv4, GRE, ERSPAN type II, the mirrored Ethernet frame
    ip4in6.pcap       LINKTYPE_RAW, IPv6 carrying IPv4 (next header 4)
    chdlc.pcap        LINKTYPE_C_HDLC (104)
    ppp.pcap          LINKTYPE_PPP (9), with address and control bytes
    nflog.pcap        LINKTYPE_NFLOG (239): a packet header TLV and the payload TLV
    arcnet.pcap       LINKTYPE_ARCNET_LINUX (129), RFC 1201 header
    tso.pcap          each response's head and body in one TSO super-segment whose
                      IPv4 total length is 0 (the stream bytes are unchanged)
    ipv6-atomic.pcap  LINKTYPE_RAW IPv6, every packet with an atomic fragment
                      header (offset 0, M clear: RFC 6946)

IP fragments (every packet that carries payload is fragmented into 48-byte
pieces, sent last piece first; the stream bytes are unchanged):

    frag-v4.pcap      Ethernet IPv4, out of order, with an exact duplicate of one
                      piece and a piece overlapping two others with the same bytes
    frag-v4-conflict.pcap  as frag-v4.pcap, but the first request's datagram also
                      gets an overlapping piece whose bytes differ: it is given up
    frag-v6.pcap      LINKTYPE_RAW IPv6 (from ipv6-raw.pcap), out of order

HTTP/1 edge cases (issue 14 items 4 to 6), one synthesized connection each
(Ethernet, IPv4, a handshake, the payloads below in turn, FINs; checksums right):

    h1-stray-crlf.pcap     a response followed by a lone CRLF before the FIN (RFC 9112 §2.2)
    h1-bad-request.pcap    a request with two Content-Length values, then a good one;
                           the server answers 400, then 200
    h1-rejected-head.pcap  a HEAD request whose Transfer-Encoding is folded (obs-fold,
                           rejected), answered 200 with a Content-Length and no body,
                           then a GET answered 200
    h2c-upgrade.pcap       a GET with Upgrade: h2c, the 101, then HTTP/2: stream 1 answered 200
    h2c-lost-request.pcap  the same, but the segment of the request is not in the capture

pcapng with several interfaces:

    multi-if.pcapng   two sections: the first (little-endian) with an Ethernet
                      interface "eth0" carrying the first connection, a name
                      resolution and an interface statistics block; the second
                      (big-endian) with a LINKTYPE_NULL interface "lo0" at
                      nanosecond resolution carrying the second connection
    unsupported-if.pcapng  every frame on an Ethernet interface, plus one frame on a
                      LINKTYPE_USB_LINUX interface (not decoded) and one of an
                      interface id no block describes

Only the Python 3 standard library is used.
"""

import os
import shutil
import struct
import sys

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_PPP = 9
LINKTYPE_RAW = 101
LINKTYPE_C_HDLC = 104
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_ARCNET_LINUX = 129
LINKTYPE_USB_LINUX = 189
LINKTYPE_NFLOG = 239
LINKTYPE_LINUX_SLL2 = 276

FRAG_PIECE = 48  # bytes of IP payload per fragment (a multiple of 8)

TRUNCATE_FRAME = 18  # 1-based frame whose data the truncated file cuts
TRUNCATE_DATA_BYTES = 100  # bytes of that frame's data left in the file


def read_pcap(path):
    """Return (linktype, snaplen, records); records are (sec, usec, data, orig_len)."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 24:
        sys.exit(f"{path}: too short for a pcap file header")
    magic = buf[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        end, nano = "<", False
    elif magic == b"\xa1\xb2\xc3\xd4":
        end, nano = ">", False
    elif magic == b"\x4d\x3c\xb2\xa1":
        end, nano = "<", True
    elif magic == b"\xa1\xb2\x3c\x4d":
        end, nano = ">", True
    else:
        sys.exit(f"{path}: not a classic pcap file")
    _, _, _, _, snaplen, linktype = struct.unpack(end + "HHiIII", buf[4:24])
    recs = []
    off = 24
    while off < len(buf):
        if off + 16 > len(buf):
            sys.exit(f"{path}: truncated record header at offset {off}")
        sec, frac, caplen, orig = struct.unpack(end + "IIII", buf[off:off + 16])
        data = buf[off + 16:off + 16 + caplen]
        if len(data) != caplen:
            sys.exit(f"{path}: truncated record at offset {off}")
        recs.append((sec, frac // 1000 if nano else frac, data, orig))
        off += 16 + caplen
    return linktype, snaplen, recs


def pcap_bytes(linktype, snaplen, recs):
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)]
    for sec, usec, data, orig in recs:
        out.append(struct.pack("<IIII", sec, usec, len(data), orig))
        out.append(data)
    return b"".join(out)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def pcapng_bytes(linktype, snaplen, recs):
    def block(btype, body):
        body = pad4(body)
        total = 12 + len(body)
        return struct.pack("<II", btype, total) + body + struct.pack("<I", total)

    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    # No if_tsresol option: the default resolution is microseconds.
    out.append(block(0x00000001, struct.pack("<HHI", linktype, 0, snaplen)))
    for sec, usec, data, orig in recs:
        ts = sec * 1000000 + usec
        epb = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), orig) + data
        out.append(block(0x00000006, epb))
    return b"".join(out)


def pcapng_block(btype, body, be=False):
    e = ">" if be else "<"
    body = pad4(body)
    total = 12 + len(body)
    return struct.pack(e + "II", btype, total) + body + struct.pack(e + "I", total)


def pcapng_opt(code, value, be=False):
    e = ">" if be else "<"
    return struct.pack(e + "HH", code, len(value)) + pad4(value)


def pcapng_shb(be=False):
    e = ">" if be else "<"
    return pcapng_block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), be)


def pcapng_idb(linktype, snaplen, name, tsresol=None, be=False):
    e = ">" if be else "<"
    opts = pcapng_opt(2, name.encode(), be)
    if tsresol is not None:
        opts += pcapng_opt(9, bytes([tsresol]), be)
    opts += struct.pack(e + "HH", 0, 0)
    return pcapng_block(0x00000001, struct.pack(e + "HHI", linktype, 0, snaplen) + opts, be)


def pcapng_epb(iface, ts, data, orig, be=False):
    e = ">" if be else "<"
    return pcapng_block(0x00000006, struct.pack(e + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), orig)
                        + data, be)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_to_ipv6(ip):
    """The TCP segment of an IPv4 packet in an IPv6 packet from ::1 to ::1."""
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    if ip[9] != 6:
        sys.exit("ipv6 variant: not a TCP packet")
    tcp = bytearray(ip[ihl:total])
    src = dst = b"\0" * 15 + b"\1"
    tcp[16:18] = b"\0\0"
    pseudo = src + dst + struct.pack("!I3xB", len(tcp), 6)
    tcp[16:18] = struct.pack("!H", checksum(pseudo + bytes(tcp)))
    hdr = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + dst
    return hdr + bytes(tcp)


def ipv4_header(total, ident, frag, proto, src, dst):
    """A 20-byte IPv4 header with its checksum."""
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident, frag, 64, proto, 0, src, dst))
    h[10:12] = struct.pack("!H", checksum(bytes(h)))
    return bytes(h)


def ipv4_fields(ip):
    """(header length, total length, identification, protocol, source, destination)."""
    ihl = (ip[0] & 0x0F) * 4
    total, ident = struct.unpack("!HH", ip[2:6])
    return ihl, total, ident, ip[9], ip[12:16], ip[16:20]


MACS = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
OUTER4 = (bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
OUTER6 = (bytes.fromhex("20010db8000000000000000000000001"), bytes.fromhex("20010db8000000000000000000000002"))


def udp4(sport, dport, payload):
    """Ethernet, outer IPv4 and UDP (checksum 0: none, RFC 768) around `payload`."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return MACS + b"\x08\x00" + ipv4_header(20 + len(udp), 1, 0x4000, 17, *OUTER4) + udp


def udp6(sport, dport, payload):
    udp = bytearray(struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)
    pseudo = OUTER6[0] + OUTER6[1] + struct.pack("!I3xB", len(udp), 17)
    udp[6:8] = struct.pack("!H", checksum(pseudo + bytes(udp)) or 0xFFFF)
    return (MACS + b"\x86\xdd" + struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + OUTER6[0] + OUTER6[1]
            + bytes(udp))


def eth_frame(ip):
    return MACS + b"\x08\x00" + ip


ENCAPS = {
    # name: (linktype, function of the IPv4 packet giving the frame)
    "pppoe.pcap": (LINKTYPE_ETHERNET, lambda ip: MACS + b"\x88\x64" +
                   struct.pack("!BBHH", 0x11, 0x00, 0x1234, 2 + len(ip)) + b"\x00\x21" + ip),
    "llc-snap.pcap": (LINKTYPE_ETHERNET, lambda ip: MACS + struct.pack("!H", 8 + len(ip)) +
                      b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + ip),
    "mpls.pcap": (LINKTYPE_ETHERNET, lambda ip: MACS + b"\x88\x47" +
                  struct.pack("!II", 16 << 12 | 64, 17 << 12 | 1 << 8 | 64) + ip),
    "vxlan.pcap": (LINKTYPE_ETHERNET, lambda ip: udp4(54321, 4789, struct.pack("!B3xI", 0x08, 100 << 8) +
                                                       eth_frame(ip))),
    "geneve.pcap": (LINKTYPE_ETHERNET, lambda ip: udp6(54321, 6081, struct.pack("!BBH3sB", 2, 0, 0x6558,
                                                                                 b"\0\0\x64", 0) +
                                                        struct.pack("!HBB4s", 0x0101, 0x01, 1, b"opt!") +
                                                        eth_frame(ip))),
    "gre.pcap": (LINKTYPE_ETHERNET, lambda ip: MACS + b"\x08\x00" +
                 ipv4_header(20 + 12 + len(ip), 2, 0x4000, 47, *OUTER4) +
                 struct.pack("!HHII", 0x3000, 0x0800, 0xCAFE, 7) + ip),
    "erspan.pcap": (LINKTYPE_ETHERNET, lambda ip: MACS + b"\x08\x00" +
                    ipv4_header(20 + 8 + 8 + 14 + len(ip), 3, 0x4000, 47, *OUTER4) +
                    struct.pack("!HHI", 0x1000, 0x88BE, 9) + struct.pack("!HHI", 0x1000 | 100, 0x0001, 0) +
                    eth_frame(ip)),
    "ip4in6.pcap": (LINKTYPE_RAW, lambda ip: struct.pack("!IHBB", 6 << 28, len(ip), 4, 64) + OUTER6[0] +
                    OUTER6[1] + ip),
    "chdlc.pcap": (LINKTYPE_C_HDLC, lambda ip: b"\x0f\x00\x08\x00" + ip),
    "ppp.pcap": (LINKTYPE_PPP, lambda ip: b"\xff\x03\x00\x21" + ip),
    # NFLOG: AF_INET, version 0, resource id 0 (big-endian); TLVs in the
    # writing host's byte order (little-endian here): NFULA_PACKET_HDR (1)
    # with hw_protocol 0x0800, then NFULA_PAYLOAD (9), padded to 4 bytes.
    "nflog.pcap": (LINKTYPE_NFLOG, lambda ip: b"\x02\x00\x00\x00" + struct.pack("<HH", 8, 1) +
                   b"\x08\x00\x03\x00" + pad4(struct.pack("<HH", 4 + len(ip), 9) + ip)),
    "arcnet.pcap": (LINKTYPE_ARCNET_LINUX, lambda ip: b"\x01\x02\x00\x00\xd4\x00\x00\x01" + ip),
}


def fragments_v4(ip, ident):
    """The IPv4 packet's payload in FRAG_PIECE-byte fragments, last first."""
    ihl, total, _, proto, src, dst = ipv4_fields(ip)
    payload = ip[ihl:total]
    pieces = []
    for off in range(0, len(payload), FRAG_PIECE):
        chunk = payload[off:off + FRAG_PIECE]
        more = off + FRAG_PIECE < len(payload)
        pieces.append((off, chunk, ipv4_header(20 + len(chunk), ident, (0x2000 if more else 0) | off // 8, proto,
                                               src, dst) + chunk))
    return list(reversed(pieces)), payload, (proto, src, dst)


def frag_v4_frames(recs, conflict):
    """frag-v4.pcap's records (and frag-v4-conflict.pcap's)."""
    out, ident, first_request = [], 0x100, True
    for sec, usec, frame, _ in recs:
        ip = frame[14:]
        ihl, total, _, proto, src, dst = ipv4_fields(ip)
        tcp_hlen = (ip[ihl + 12] >> 4) * 4
        if total - ihl - tcp_hlen == 0:
            out.append((sec, usec, frame, len(frame)))
            continue
        pieces, payload, _ = fragments_v4(ip, ident)
        frames = [eth_frame(p[2]) for p in pieces]
        if len(pieces) >= 3:
            # An exact duplicate of a middle piece, and, before the first
            # piece (the last to arrive), one that overlaps two pieces with
            # the same bytes.
            frames.insert(2, frames[1])
            ov = payload[40:56]
            frames.insert(len(frames) - 1,
                          eth_frame(ipv4_header(20 + len(ov), ident, 0x2000 | 40 // 8, proto, src, dst) + ov))
        if conflict and first_request:
            bad = bytes(b ^ 0xFF for b in payload[8:24])
            frames.insert(1, eth_frame(ipv4_header(20 + len(bad), ident, 0x2000 | 1, proto, src, dst) + bad))
            first_request = False
        out += [(sec, usec, f, len(f)) for f in frames]
        ident += 1
    return out


def frag_v6_frames(recs):
    out, ident = [], 0x1000
    for sec, usec, ip6, _ in recs:
        nh, payload = ip6[6], ip6[40:]
        tcp_hlen = (payload[12] >> 4) * 4
        if len(payload) == tcp_hlen:
            out.append((sec, usec, ip6, len(ip6)))
            continue
        pieces = []
        for off in range(0, len(payload), FRAG_PIECE):
            chunk = payload[off:off + FRAG_PIECE]
            more = off + FRAG_PIECE < len(payload)
            fh = struct.pack("!BBHI", nh, 0, off | (1 if more else 0), ident)
            pkt = struct.pack("!IHBB", 6 << 28, 8 + len(chunk), 44, 64) + ip6[8:40] + fh + chunk
            pieces.append(pkt)
        out += [(sec, usec, p, len(p)) for p in reversed(pieces)]
        ident += 1
    return out


def atomic_v6_frames(recs):
    out = []
    for sec, usec, ip6, _ in recs:
        fh = struct.pack("!BBHI", ip6[6], 0, 0, 0xA70C)
        pkt = struct.pack("!IHBB", 6 << 28, len(ip6) - 40 + 8, 44, 64) + ip6[8:40] + fh + ip6[40:]
        out.append((sec, usec, pkt, len(pkt)))
    return out


def tso_frames(recs):
    """Each response's head and body (the two server segments with payload
    that follow each other with only an ACK between) in one frame whose IPv4
    total length is 0, as a capture on the sending host shows TSO."""
    def seg(frame):
        ip = frame[14:]
        ihl, total = ipv4_fields(ip)[:2]
        hl = (ip[ihl + 12] >> 4) * 4
        return ip, ihl, total, hl, struct.unpack("!H", ip[ihl:ihl + 2])[0]

    out, skip = [], set()
    for i, (sec, usec, frame, orig) in enumerate(recs):
        if i in skip:
            continue
        ip, ihl, total, hl, sport = seg(frame)
        if total - ihl - hl > 0 and i + 2 < len(recs):
            nip, nihl, ntotal, nhl, nsport = seg(recs[i + 2][2])
            if nsport == sport and ntotal - nihl - nhl > 0 and seg(recs[i + 1][2])[4] != sport:
                merged = bytearray(ip[:total] + nip[nihl + nhl:ntotal])
                merged[2:4] = b"\0\0"
                merged[10:12] = b"\0\0"
                f = frame[:14] + bytes(merged)
                out.append((sec, usec, f, len(f)))
                skip.add(i + 2)
                continue
        out.append((sec, usec, frame, orig))
    return out


def synth_conn(exchanges, t0=1700000000, port=(40000, 80)):
    """Records of one TCP connection on Ethernet/IPv4: handshake, then each
    (side, payload[, lost]) of `exchanges` as one segment acknowledged by the
    other side (a lost one takes its sequence numbers and leaves no frame),
    then FIN from the client, FIN from the server and the last ACK."""
    ips = (bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2]))
    seq = [1000, 5000]
    recs, t = [], [0]

    def seg(side, flags, payload=b""):
        src, dst = ips[side], ips[1 - side]
        sp, dp = port[side], port[1 - side]
        tcp = bytearray(struct.pack("!HHIIBBHHH", sp, dp, seq[side], seq[1 - side], 5 << 4, flags, 65535, 0, 0)
                        + payload)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp[16:18] = struct.pack("!H", checksum(pseudo + bytes(tcp)))
        ip = ipv4_header(20 + len(tcp), 100 + len(recs), 0x4000, 6, src, dst)
        frame = MACS + b"\x08\x00" + ip + bytes(tcp)
        recs.append((t0, t[0], frame, len(frame)))
        t[0] += 1000
        seq[side] += len(payload) + (1 if flags & 0x03 else 0)

    seg(0, 0x02)
    seg(1, 0x12)
    seg(0, 0x10)
    for side, payload, *lost in exchanges:
        if lost and lost[0]:
            seq[side] += len(payload)
            continue
        seg(side, 0x18, payload)
        seg(1 - side, 0x10)
    seg(0, 0x11)
    seg(1, 0x11)
    seg(0, 0x10)
    return recs


def h2_frame(ftype, flags, sid, payload=b""):
    return struct.pack("!I", len(payload))[1:] + struct.pack("!BBI", ftype, flags, sid) + payload


H2C_REQUEST = (b"GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
               b"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
H2C_AFTER = [
    (1, b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"),
    (0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0) + h2_frame(4, 1, 0)),
    # SETTINGS, its ACK, then HEADERS (:status 200, HPACK static index 8)
    # ending stream 1.
    (1, h2_frame(4, 0, 0) + h2_frame(4, 1, 0) + h2_frame(1, 0x5, 1, b"\x88")),
]

H1_CAPTURES = {
    "h1-stray-crlf.pcap": [
        (0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        (1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
        (1, b"\r\n"),
    ],
    "h1-bad-request.pcap": [
        (0, b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        (0, b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
        (1, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        (1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
    ],
    "h1-rejected-head.pcap": [
        (0, b"HEAD /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"),
        (1, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
        (0, b"GET /y HTTP/1.1\r\nHost: x\r\n\r\n"),
        (1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
    ],
    "h2c-upgrade.pcap": [(0, H2C_REQUEST)] + H2C_AFTER,
    "h2c-lost-request.pcap": [(0, H2C_REQUEST, True)] + H2C_AFTER,
}


def write_pcapngs(outdir, snaplen, recs):
    conns = {}
    for r in recs:
        ihl = (r[2][14] & 0x0F) * 4
        ports = tuple(sorted(struct.unpack("!HH", r[2][14 + ihl:14 + ihl + 4])))
        conns.setdefault(ports, []).append(r)
    first, second = list(conns.values())[:2]
    # Section 1, little-endian: eth0 (microseconds), the first connection,
    # a name resolution block and an interface statistics block.
    out = [pcapng_shb(), pcapng_idb(LINKTYPE_ETHERNET, snaplen, "eth0")]
    nrb = struct.pack("<HH4s", 1, 4 + 10, bytes([127, 0, 0, 1])) + b"localhost\0"
    out.append(pcapng_block(0x00000004, pad4(nrb) + struct.pack("<HH", 0, 0)))
    for sec, usec, data, orig in first:
        out.append(pcapng_epb(0, sec * 1000000 + usec, data, orig))
    out.append(pcapng_block(0x00000005, struct.pack("<III", 0, 0, 0) + struct.pack("<HH", 0, 0)))
    # Section 2, big-endian: lo0 (LINKTYPE_NULL, nanoseconds), the second.
    out += [pcapng_shb(True), pcapng_idb(LINKTYPE_NULL, snaplen, "lo0", tsresol=9, be=True)]
    for sec, usec, data, orig in second:
        null = struct.pack("<I", 2) + data[14:]
        out.append(pcapng_epb(0, (sec * 1000000 + usec) * 1000, null, orig - 14 + 4, be=True))
    write(os.path.join(outdir, "multi-if.pcapng"), b"".join(out))

    out = [pcapng_shb(), pcapng_idb(LINKTYPE_ETHERNET, snaplen, "eth0"),
           pcapng_idb(LINKTYPE_USB_LINUX, snaplen, "usbmon0")]
    for sec, usec, data, orig in recs:
        out.append(pcapng_epb(0, sec * 1000000 + usec, data, orig))
    last = recs[-1]
    usb = bytes(range(48))
    out.append(pcapng_epb(1, last[0] * 1000000 + last[1], usb, len(usb)))
    out.append(pcapng_epb(5, last[0] * 1000000 + last[1], recs[0][2], recs[0][3]))
    write(os.path.join(outdir, "unsupported-if.pcapng"), b"".join(out))


# Link-type selector bytes of tests/fuzz/fuzz_pcap.c (index into its dlts[]).
FUZZ_SEL = {"en10mb": 0, "linux_sll": 1, "linux_sll2": 2, "raw": 3, "linktype_raw": 4,
            "ipv4": 5, "ipv6": 6, "null": 7, "loop": 8, "ppp": 9, "ppp_serial": 10, "c_hdlc": 11,
            "ppp_ether": 12, "nflog": 13, "arcnet_linux": 14}


def write_fuzz_seeds(pcapdir, corpus):
    os.makedirs(corpus, exist_ok=True)
    for name in sorted(os.listdir(pcapdir)):
        shutil.copyfile(os.path.join(pcapdir, name), os.path.join(corpus, name))

    def frames(name):
        return [r[2] for r in read_pcap(os.path.join(pcapdir, name))[2]]

    def seed(name, sel, data):
        write(os.path.join(corpus, f"frame-{name}.bin"), bytes([FUZZ_SEL[sel]]) + data)

    for name, sel, src in [("en10mb", "en10mb", "lo-en10mb.pcap"), ("en10mb-qinq", "en10mb", "vlan-qinq.pcap"),
                           ("linux_sll", "linux_sll", "sll.pcap"), ("linux_sll2", "linux_sll2", "sll2.pcap"),
                           ("raw", "raw", "raw.pcap"), ("raw-ipv6", "raw", "ipv6-raw.pcap"),
                           ("linktype_raw", "linktype_raw", "raw.pcap"), ("ipv4", "ipv4", "raw.pcap"),
                           ("ipv6", "ipv6", "ipv6-raw.pcap"), ("null", "null", "null.pcap"),
                           ("loop", "loop", "loop.pcap")]:
        fr = frames(src)
        seed(f"{name}-syn", sel, fr[0])
        seed(f"{name}-request", sel, fr[3])

    eth = frames("lo-en10mb.pcap")[3]
    arp = b"\0" * 12 + b"\x08\x06" + bytes.fromhex("0001080006040001") + bytes(38)
    seed("en10mb-arp", "en10mb", arp)
    frag = bytearray(eth)
    frag[14 + 6] = 0x20  # IPv4 MF
    seed("en10mb-ipv4-fragment", "en10mb", bytes(frag))
    udp = bytearray(eth)
    udp[14 + 9] = 17
    seed("en10mb-udp", "en10mb", bytes(udp))
    tags = b"".join(b"\x81\x00" + struct.pack("!H", i) for i in range(9))
    seed("en10mb-nine-vlan-tags", "en10mb", eth[:12] + tags + eth[12:])
    v6 = frames("ipv6-raw.pcap")[3]
    hbh = bytes([44, 0, 1, 4, 0, 0, 0, 0])  # hop-by-hop, PadN, then a fragment header
    fh = bytes([6, 0, 0, 1, 0, 0, 0, 1])
    hdr = bytearray(v6[:40])
    hdr[4:6] = struct.pack("!H", struct.unpack("!H", v6[4:6])[0] + 16)
    hdr[6] = 0
    seed("raw-ipv6-hbh-fragment", "raw", bytes(hdr) + hbh + fh + v6[40:])
    for name, sel in [("pppoe", "en10mb"), ("llc-snap", "en10mb"), ("mpls", "en10mb"), ("vxlan", "en10mb"),
                      ("geneve", "en10mb"), ("gre", "en10mb"), ("erspan", "en10mb"), ("ip4in6", "raw"),
                      ("chdlc", "c_hdlc"), ("ppp", "ppp"), ("nflog", "nflog"), ("arcnet", "arcnet_linux"),
                      ("ipv6-atomic", "raw")]:
        seed(f"{name}-request", sel, frames(name + ".pcap")[3])
    seed("chdlc-on-ppp-serial", "ppp_serial", frames("chdlc.pcap")[3])
    seed("ppp-serial", "ppp_serial", frames("ppp.pcap")[3])
    seed("ppp-ether", "ppp_ether", frames("pppoe.pcap")[3][14:])
    tso = [f for f in frames("tso.pcap") if len(f) > 300]
    seed("tso", "en10mb", tso[0])
    seed("frag-v4-piece", "en10mb", frames("frag-v4.pcap")[4])
    seed("frag-v6-piece", "raw", frames("frag-v6.pcap")[4])


def write_ipfrag_seeds(corpus):
    """Fragment sequences in tests/fuzz/fuzz_ipfrag.c's input format."""
    os.makedirs(corpus, exist_ok=True)

    def frag(flags, ident, off8, data, step=0):
        return struct.pack("!BBHBB", flags, ident, off8, len(data), step) + data

    data = bytes(range(256))
    seeds = {
        "in-order": frag(2, 1, 0, data[:64]) + frag(2, 1, 8, data[64:128]) + frag(0, 1, 16, data[128:140]),
        "reverse": frag(0, 1, 16, data[128:140]) + frag(2, 1, 8, data[64:128]) + frag(2, 1, 0, data[:64]),
        "overlap-agrees": frag(2, 1, 0, data[:64]) + frag(2, 1, 7, data[56:72]) + frag(0, 1, 8, data[64:80]),
        "overlap-disagrees": frag(2, 1, 0, data[:64]) + frag(2, 1, 7, bytes(16)) + frag(0, 1, 8, data[64:80]),
        "v6-two-datagrams": frag(3, 1, 0, data[:64]) + frag(3, 2, 0, data[:64]) + frag(1, 2, 8, data[64:70])
                            + frag(1, 1, 8, data[64:70]),
        "timeout": frag(2, 1, 0, data[:64]) + frag(0, 1, 8, data[64:70], 31),
        "too-big": frag(2, 1, 0, data[:64]) + frag(0, 1, 8189, data[:64]),
        "late-duplicate": frag(2, 1, 0, data[:64]) + frag(0, 1, 8, data[64:70]) + frag(0, 1, 8, data[64:70]),
    }
    for name, b in seeds.items():
        write(os.path.join(corpus, name + ".bin"), b)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: make-test-pcaps.py ETHERNET.pcap OUTDIR [FUZZ_CORPUS_DIR]")
    src, outdir = sys.argv[1], sys.argv[2]
    linktype, snaplen, recs = read_pcap(src)
    if linktype != LINKTYPE_ETHERNET:
        sys.exit(f"{src}: link type {linktype}, expected Ethernet (1)")
    os.makedirs(outdir, exist_ok=True)

    ips = []  # (sec, usec, IPv4 packet, orig IP length)
    for sec, usec, frame, orig in recs:
        if frame[12:14] != b"\x08\x00" or len(frame) != orig:
            sys.exit(f"{src}: expected complete Ethernet IPv4 frames only")
        ips.append((sec, usec, frame[14:], orig - 14))

    def variant(name, lt, header, ip_of=lambda ip: ip):
        out = []
        for sec, usec, ip, _ in ips:
            frame = header(ip_of(ip)) + ip_of(ip)
            out.append((sec, usec, frame, len(frame)))
        write(os.path.join(outdir, name), pcap_bytes(lt, snaplen, out))

    dst_lo = os.path.join(outdir, "lo-en10mb.pcap")
    if not (os.path.exists(dst_lo) and os.path.samefile(src, dst_lo)):
        shutil.copyfile(src, dst_lo)

    macs = b"\0" * 12  # Linux loopback frames carry zero MAC addresses
    variant("vlan-qinq.pcap", LINKTYPE_ETHERNET,
            lambda ip: macs + struct.pack("!HHHHH", 0x88A8, 100, 0x8100, 200, 0x0800))
    # SLL: packet type 0 (to us), ARPHRD_LOOPBACK 772, address length 6, address (8), protocol
    variant("sll.pcap", LINKTYPE_LINUX_SLL,
            lambda ip: struct.pack("!HHH8sH", 0, 772, 6, b"\0" * 8, 0x0800))
    # SLL2: protocol, reserved, ifindex 1, ARPHRD_LOOPBACK, packet type 0, address length 6, address (8)
    variant("sll2.pcap", LINKTYPE_LINUX_SLL2,
            lambda ip: struct.pack("!HHIHBB8s", 0x0800, 0, 1, 772, 0, 6, b"\0" * 8))
    variant("raw.pcap", LINKTYPE_RAW, lambda ip: b"")
    variant("null.pcap", LINKTYPE_NULL, lambda ip: struct.pack("<I", 2))
    variant("loop.pcap", LINKTYPE_LOOP, lambda ip: struct.pack(">I", 2))
    variant("ipv6-raw.pcap", LINKTYPE_RAW, lambda ip: b"", ipv4_to_ipv6)

    write(os.path.join(outdir, "lo-en10mb.pcapng"), pcapng_bytes(LINKTYPE_ETHERNET, snaplen, recs))

    whole = pcap_bytes(linktype, snaplen, recs)
    cut = 24 + sum(16 + len(r[2]) for r in recs[:TRUNCATE_FRAME - 1]) + 16 + TRUNCATE_DATA_BYTES
    write(os.path.join(outdir, "truncated.pcap"), whole[:cut])

    for n in (64, 100):
        short = [(sec, usec, data[:n], orig) for sec, usec, data, orig in recs]
        write(os.path.join(outdir, f"snaplen-{n}.pcap"), pcap_bytes(linktype, n, short))

    for name, (lt, fn) in ENCAPS.items():
        variant(name, lt, lambda ip, fn=fn: b"", fn)
    write(os.path.join(outdir, "tso.pcap"), pcap_bytes(linktype, snaplen, tso_frames(recs)))
    write(os.path.join(outdir, "frag-v4.pcap"), pcap_bytes(linktype, snaplen, frag_v4_frames(recs, False)))
    write(os.path.join(outdir, "frag-v4-conflict.pcap"), pcap_bytes(linktype, snaplen, frag_v4_frames(recs, True)))
    v6 = [(sec, usec, ipv4_to_ipv6(ip), 0) for sec, usec, ip, _ in ips]
    write(os.path.join(outdir, "frag-v6.pcap"), pcap_bytes(LINKTYPE_RAW, snaplen, frag_v6_frames(v6)))
    write(os.path.join(outdir, "ipv6-atomic.pcap"), pcap_bytes(LINKTYPE_RAW, snaplen, atomic_v6_frames(v6)))
    write_pcapngs(outdir, snaplen, recs)
    for name, exchanges in H1_CAPTURES.items():
        write(os.path.join(outdir, name), pcap_bytes(LINKTYPE_ETHERNET, 65535, synth_conn(exchanges)))

    if len(sys.argv) == 4:
        write_fuzz_seeds(outdir, sys.argv[3])
        write_ipfrag_seeds(os.path.join(os.path.dirname(os.path.abspath(sys.argv[3])), "ipfrag"))


if __name__ == "__main__":
    main()
