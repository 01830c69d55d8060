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
fuzz target's link-type selector byte, some of them edited into edge cases.

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

Only the Python 3 standard library is used.
"""

import os
import shutil
import struct
import sys

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

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


# Link-type selector bytes of tests/fuzz/fuzz_pcap.c (index into its dlts[]).
FUZZ_SEL = {"en10mb": 0, "linux_sll": 1, "linux_sll2": 2, "raw": 3, "linktype_raw": 4,
            "ipv4": 5, "ipv6": 6, "null": 7, "loop": 8}


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

    if len(sys.argv) == 4:
        write_fuzz_seeds(outdir, sys.argv[3])


if __name__ == "__main__":
    main()
