/* sc_pkt.c - one captured frame down to its TCP segment.
 *
 * Every untrusted byte is read through the checked cursor of sc_rd.h; nothing
 * is allocated.  Each function gets a cursor over the captured bytes of its
 * layer and `wire`, the bytes the layer has on the wire from the cursor on
 * (SIZE_MAX when unknown, as in sc_pcap_decode()), so that a length field can
 * be checked against what was sent, not only against what was captured.
 *
 * Running out of captured bytes means one of two things.  If the frame was cut
 * by the snaplen (caplen < len in the record, or len unknown), the frame is
 * "truncated"; if the record says the whole frame is here, the headers lie and
 * the frame is "malformed".
 *
 * Encapsulations, outermost first: Ethernet (with 802.1Q/802.1ad tags, 802.3
 * with LLC/SNAP, PPPoE sessions, MPLS), Linux cooked v1/v2, raw IP, BSD
 * loopback, PPP, Cisco HDLC, PPPoE (DLT_PPP_ETHER), NFLOG and Linux ARCNET;
 * inside IP: IP in IP (v4 and v6), GRE (with Ethernet, ERSPAN II/III, PPTP's
 * PPP), and over UDP VXLAN (port 4789) and Geneve (port 6081).  Each tunnel
 * entered counts toward SC_PKT_MAX_TUNNELS.
 */
#include "sc_pcap_int.h"

#include <pcap/pcap.h>
#include <string.h>

#include "sc_rd.h"

/* Link-type values as they appear in files (LINKTYPE_*), where they differ
 * from the platform's DLT_* value or may be missing from old headers. */
#define LINKTYPE_RAW 101
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_NFLOG
#define DLT_NFLOG 239
#endif
#ifndef DLT_ARCNET_LINUX
#define DLT_ARCNET_LINUX 129
#endif
#ifndef DLT_PPP_SERIAL
#define DLT_PPP_SERIAL 50
#endif
#ifndef DLT_PPP_ETHER
#define DLT_PPP_ETHER 51
#endif
#ifndef DLT_C_HDLC
#define DLT_C_HDLC 104
#endif

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86ddu
#define ETHERTYPE_VLAN 0x8100u     /* 802.1Q */
#define ETHERTYPE_QINQ 0x88a8u     /* 802.1ad service tag */
#define ETHERTYPE_QINQ_OLD 0x9100u /* pre-802.1ad vendor QinQ */
#define ETHERTYPE_PPPOE_SESS 0x8864u
#define ETHERTYPE_MPLS 0x8847u
#define ETHERTYPE_MPLS_MC 0x8848u
#define ETHERTYPE_TEB 0x6558u      /* transparent Ethernet bridging (GRE, Geneve) */
#define ETHERTYPE_ERSPAN2 0x88beu
#define ETHERTYPE_ERSPAN3 0x22ebu
#define ETHERTYPE_PPP 0x880bu      /* PPTP's enhanced GRE */
#define ETHER_MAX_LEN_FIELD 1500u  /* at or below: an 802.3 length, not a type */
#define ETH_P_802_2 0x0004u        /* Linux cooked: an 802.2 LLC frame follows */

/* Tags in a row we follow.  Real networks stack two (QinQ), rarely three; the
 * cap keeps the loop bounded on a frame that is nothing but tags. */
#define VLAN_MAX_TAGS 8
#define MPLS_MAX_LABELS 8

/* IPv6 extension headers we walk before giving up on a packet. */
#define IPV6_MAX_EXT_HDRS 8

#define IPPROTO_NUM_HOPOPTS 0
#define IPPROTO_NUM_IPIP 4
#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17
#define IPPROTO_NUM_IPV6 41
#define IPPROTO_NUM_ROUTING 43
#define IPPROTO_NUM_FRAGMENT 44
#define IPPROTO_NUM_GRE 47
#define IPPROTO_NUM_AH 51
#define IPPROTO_NUM_DSTOPTS 60

#define UDP_PORT_VXLAN 4789u  /* RFC 7348 §5 */
#define UDP_PORT_GENEVE 6081u /* RFC 8926 §3.3 */

/* PPP protocol numbers (RFC 1661 §2, RFC 5072 §3). */
#define PPP_IPV4 0x0021u
#define PPP_IPV6 0x0057u

/* BSD address families found in DLT_NULL / DLT_LOOP headers.  AF_INET6 differs
 * between the BSDs (tcpdump's BSD_AFNUM_INET6_*). */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24 /* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30

/* Linux address families in NFLOG headers. */
#define LINUX_AF_INET 2
#define LINUX_AF_INET6 10
#define NFULA_PAYLOAD 9

/* ARCNET packet types (Linux's include/uapi/linux/if_arcnet.h). */
#define ARC_P_IP 212
#define ARC_P_INET6 196
#define ARC_P_IP_RFC1051 240
#define ARC_P_ARP_RFC1051 241
#define ARC_P_DIAGNOSE 0x80

/* What every layer needs to know about the frame as a whole. */
struct dctx {
	bool cut;          /* bytes of the frame were not captured, or may not have been */
	unsigned tunnels;  /* tunnels entered */
	struct sc_tcp_seg *seg;
	struct sc_pkt_info *info;
};

static enum sc_pkt_outcome out_of_bytes(const struct dctx *c)
{
	return c->cut ? SC_PKT_TRUNCATED : SC_PKT_MALFORMED;
}

/* `wire` after `n` header bytes. */
static size_t wsub(size_t wire, size_t n)
{
	if (wire == SIZE_MAX)
		return SIZE_MAX;
	return wire > n ? wire - n : 0;
}

/* Limit the cursor to the `len` bytes a length field gave the layer (the
 * rest is padding or a trailer). */
static void limit(struct sc_rd *r, size_t len)
{
	if (len < sc_rd_left(r))
		r->end = r->p + len;
}

static bool enter_tunnel(struct dctx *c)
{
	c->info->tunnel = true;
	return ++c->tunnels <= SC_PKT_MAX_TUNNELS;
}

static enum sc_pkt_outcome decode_ethertype(struct dctx *c, struct sc_rd *r, size_t wire, uint16_t type);
static enum sc_pkt_outcome decode_ether(struct dctx *c, struct sc_rd *r, size_t wire);
static enum sc_pkt_outcome decode_ipv4(struct dctx *c, struct sc_rd *r, size_t wire);
static enum sc_pkt_outcome decode_ipv6(struct dctx *c, struct sc_rd *r, size_t wire);

/*
 * TCP header (RFC 9293 §3.1):
 *
 *    0                   1                   2                   3
 *   +-------------------------------+-------------------------------+
 *   |          Source Port          |       Destination Port        |
 *   +-------------------------------+-------------------------------+
 *   |                        Sequence Number                        |
 *   +---------------------------------------------------------------+
 *   |                    Acknowledgment Number                      |
 *   +-------+-------+---------------+-------------------------------+
 *   | DOff  | Rsrvd |     Flags     |            Window             |
 *   +-------+-------+---------------+-------------------------------+
 *   |           Checksum            |        Urgent Pointer         |
 *   +-------------------------------+-------------------------------+
 *   |                    Options (DOff*4 - 20 bytes)                |
 *
 * `r` holds the captured part of the IP payload (already trimmed to the IP
 * length), `wire` the IP payload length the IP header declared.
 */
static enum sc_pkt_outcome decode_tcp(struct dctx *c, struct sc_rd *r, size_t wire)
{
	struct sc_tcp_seg *seg = c->seg;
	uint8_t doff, flags;
	size_t hlen;
	/* A length taken from the frame (TSO) is short only because the frame
	 * is, when it is cut. */
	enum sc_pkt_outcome short_len = c->info->len_from_frame ? out_of_bytes(c) : SC_PKT_MALFORMED;

	if (wire < 20)
		return short_len;
	seg->src.port = sc_rd_be16(r);
	seg->dst.port = sc_rd_be16(r);
	seg->seq = sc_rd_be32(r);
	seg->ack = sc_rd_be32(r);
	doff = (uint8_t)(sc_rd_u8(r) >> 4);
	flags = sc_rd_u8(r);
	seg->window = sc_rd_be16(r);
	sc_rd_skip(r, 4); /* checksum, urgent pointer */
	if (r->err)
		return out_of_bytes(c);
	if (doff < 5)
		return SC_PKT_MALFORMED;
	hlen = (size_t)doff * 4;
	if (hlen > wire)
		return short_len;
	sc_rd_skip(r, hlen - 20);
	if (r->err)
		return out_of_bytes(c);
	if (wire - hlen > UINT32_MAX)
		return SC_PKT_MALFORMED;
	seg->flags = flags;
	seg->payload = r->p;
	seg->wire_len = (uint32_t)(wire - hlen);
	/* The cursor ends at min(captured, declared), so this cannot exceed
	 * wire_len; the min() states the invariant rather than trusts it. */
	seg->len = (uint32_t)(sc_rd_left(r) < seg->wire_len ? sc_rd_left(r) : seg->wire_len);
	return SC_PKT_SEGMENT;
}

/*
 * UDP (RFC 768), only for the tunnels it carries:
 *
 *   | Source Port (2) | Destination Port (2) | Length (2) | Checksum (2) |
 *
 * VXLAN (RFC 7348 §5), then an Ethernet frame:
 *   | Flags (1, I = 0x08) | Reserved (3) | VNI (3) | Reserved (1) |
 *
 * Geneve (RFC 8926 §3.4), then the protocol type's payload:
 *   | Ver (2 bits) Opt Len (6 bits) | O C Rsvd (1) | Protocol Type (2) |
 *   | VNI (3) | Reserved (1) | Options (Opt Len * 4 bytes) |
 */
static enum sc_pkt_outcome decode_udp(struct dctx *c, struct sc_rd *r, size_t wire)
{
	uint16_t dport, ulen, proto;
	uint8_t b0, flags;
	size_t optlen;

	if (wire < 8)
		return SC_PKT_MALFORMED;
	sc_rd_skip(r, 2);
	dport = sc_rd_be16(r);
	ulen = sc_rd_be16(r);
	sc_rd_skip(r, 2);
	if (r->err)
		return out_of_bytes(c);
	if (dport != UDP_PORT_VXLAN && dport != UDP_PORT_GENEVE)
		return SC_PKT_NON_TCP;
	/* Length 0 is a jumbogram's (RFC 2675 §4); otherwise it bounds the payload. */
	if (ulen != 0) {
		if (ulen < 8 || ulen > wire)
			return SC_PKT_MALFORMED;
		wire = ulen;
		limit(r, (size_t)ulen - 8);
	}
	wire -= 8;
	if (!enter_tunnel(c))
		return SC_PKT_MALFORMED;
	if (dport == UDP_PORT_VXLAN) {
		flags = sc_rd_u8(r);
		sc_rd_skip(r, 7);
		if (r->err)
			return out_of_bytes(c);
		if (wire < 8)
			return SC_PKT_MALFORMED;
		if (!(flags & 0x08)) /* no VNI: not VXLAN as RFC 7348 defines it */
			return SC_PKT_NON_TCP;
		return decode_ether(c, r, wire - 8);
	}
	b0 = sc_rd_u8(r);
	sc_rd_skip(r, 1);
	proto = sc_rd_be16(r);
	sc_rd_skip(r, 4);
	if (r->err)
		return out_of_bytes(c);
	optlen = (size_t)(b0 & 0x3f) * 4;
	if (b0 >> 6 != 0 || wire < 8 + optlen)
		return SC_PKT_MALFORMED;
	sc_rd_skip(r, optlen);
	if (r->err)
		return out_of_bytes(c);
	wire -= 8 + optlen;
	if (proto == ETHERTYPE_TEB)
		return decode_ether(c, r, wire);
	return decode_ethertype(c, r, wire, proto);
}

/* PPP's protocol field (RFC 1661 §2), possibly compressed to one byte (odd
 * values, RFC 1661 §6.5), after the HDLC-like address and control bytes
 * 0xff 0x03 (RFC 1662 §3.1) when they are there. */
static enum sc_pkt_outcome decode_ppp(struct dctx *c, struct sc_rd *r, size_t wire)
{
	struct sc_rd peek = *r;
	uint16_t proto;

	if (sc_rd_left(r) < 2) /* a protocol field and a byte of payload, at least */
		return out_of_bytes(c);
	if (sc_rd_u8(&peek) == 0xff && sc_rd_u8(&peek) == 0x03) {
		sc_rd_skip(r, 2);
		wire = wsub(wire, 2);
	}
	proto = sc_rd_u8(r);
	if (r->err)
		return out_of_bytes(c);
	if (!(proto & 1)) {
		proto = (uint16_t)(proto << 8 | sc_rd_u8(r));
		if (r->err)
			return out_of_bytes(c);
		wire = wsub(wire, 1);
	}
	wire = wsub(wire, 1);
	if (proto == PPP_IPV4)
		return decode_ipv4(c, r, wire);
	if (proto == PPP_IPV6)
		return decode_ipv6(c, r, wire);
	return SC_PKT_NON_IP; /* LCP, IPCP, CHAP ... */
}

/*
 * PPPoE session stage (RFC 2516 §4), then PPP:
 *
 *   | Ver 1 | Type 1 | Code 0x00 | Session Id (2) | Length (2) | PPP ... |
 */
static enum sc_pkt_outcome decode_pppoe(struct dctx *c, struct sc_rd *r, size_t wire)
{
	uint8_t vt, code;
	uint16_t len;

	vt = sc_rd_u8(r);
	code = sc_rd_u8(r);
	sc_rd_skip(r, 2);
	len = sc_rd_be16(r);
	if (r->err)
		return out_of_bytes(c);
	if (vt != 0x11 || code != 0x00)
		return SC_PKT_NON_IP;
	if (len > wsub(wire, 6))
		return SC_PKT_MALFORMED;
	limit(r, len);
	return decode_ppp(c, r, len);
}

/*
 * MPLS label stack entries (RFC 3032 §2.1), bottom of stack when S is set:
 *
 *   | Label (20 bits) | TC (3) | S (1) | TTL (8) |
 *
 * The payload's type is not in the stack: like tcpdump and Wireshark, guess
 * from the first nibble (4: IPv4, 6: IPv6, 0: the pseudowire control word of
 * RFC 4385 §3, then an Ethernet frame, RFC 4448).
 */
static enum sc_pkt_outcome decode_mpls(struct dctx *c, struct sc_rd *r, size_t wire)
{
	struct sc_rd peek;
	uint8_t nib;

	for (unsigned i = 0;; i++) {
		uint32_t e;

		if (i == MPLS_MAX_LABELS)
			return SC_PKT_MALFORMED;
		e = sc_rd_be32(r);
		if (r->err)
			return out_of_bytes(c);
		wire = wsub(wire, 4);
		if (e & 0x100)
			break;
	}
	peek = *r;
	nib = (uint8_t)(sc_rd_u8(&peek) >> 4);
	if (peek.err)
		return out_of_bytes(c);
	if (nib == 4)
		return decode_ipv4(c, r, wire);
	if (nib == 6)
		return decode_ipv6(c, r, wire);
	if (nib == 0) {
		sc_rd_skip(r, 4);
		if (r->err)
			return out_of_bytes(c);
		return decode_ether(c, r, wsub(wire, 4));
	}
	return SC_PKT_NON_IP;
}

/*
 * 802.2 LLC (and SNAP, RFC 1042): an 802.3 frame's payload.
 *
 *   | DSAP | SSAP | Control 0x03 (UI) | [SNAP: OUI (3) | type (2)] |
 *
 * SNAP with OUI 00-00-00 (or Cisco's 00-00-F8) carries an ethertype; LSAP
 * 0x06 is IPv4 directly.  Everything else (spanning tree, NetBIOS ...) is not IP.
 */
static enum sc_pkt_outcome decode_llc(struct dctx *c, struct sc_rd *r, size_t wire)
{
	uint8_t dsap, ssap, ctrl;
	uint32_t oui;
	uint16_t type;

	dsap = sc_rd_u8(r);
	ssap = sc_rd_u8(r);
	ctrl = sc_rd_u8(r);
	if (r->err)
		return out_of_bytes(c);
	wire = wsub(wire, 3);
	if (ctrl != 0x03)
		return SC_PKT_NON_IP;
	if (dsap == 0x06 && ssap == 0x06)
		return decode_ipv4(c, r, wire);
	if (dsap != 0xaa || ssap != 0xaa)
		return SC_PKT_NON_IP;
	oui = sc_rd_be24(r);
	type = sc_rd_be16(r);
	if (r->err)
		return out_of_bytes(c);
	if (oui != 0 && oui != 0xf8)
		return SC_PKT_NON_IP;
	return decode_ethertype(c, r, wsub(wire, 5), type);
}

/* An ethertype, after following any stack of VLAN tags:
 *
 *   ... | TPID 0x88a8/0x8100/0x9100 | TCI (2) | TPID ... | TCI | type | payload
 *
 * The TPID of each tag sits where the type would be, so each tag is the TCI
 * and the next type field.  A "type" up to 1500 is an 802.3 length. */
static enum sc_pkt_outcome decode_ethertype(struct dctx *c, struct sc_rd *r, size_t wire, uint16_t type)
{
	unsigned tags = 0;

	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
		if (tags++ == VLAN_MAX_TAGS)
			return SC_PKT_MALFORMED;
		sc_rd_skip(r, 2); /* TCI: priority, DEI, VLAN id */
		type = sc_rd_be16(r);
		if (r->err)
			return out_of_bytes(c);
		wire = wsub(wire, 4);
	}
	switch (type) {
	case ETHERTYPE_IPV4:
		return decode_ipv4(c, r, wire);
	case ETHERTYPE_IPV6:
		return decode_ipv6(c, r, wire);
	case ETHERTYPE_PPPOE_SESS:
		return decode_pppoe(c, r, wire);
	case ETHERTYPE_MPLS:
	case ETHERTYPE_MPLS_MC:
		return decode_mpls(c, r, wire);
	}
	if (type <= ETHER_MAX_LEN_FIELD) {
		/* 802.3: the length of the LLC payload; the rest is padding. */
		if (type > wire)
			return SC_PKT_MALFORMED;
		limit(r, type);
		return decode_llc(c, r, type);
	}
	return SC_PKT_NON_IP; /* ARP, LLDP, PPPoE discovery ... */
}

/* dst MAC (6), src MAC (6), type or length (2) */
static enum sc_pkt_outcome decode_ether(struct dctx *c, struct sc_rd *r, size_t wire)
{
	uint16_t type;

	sc_rd_skip(r, 12);
	type = sc_rd_be16(r);
	if (r->err)
		return out_of_bytes(c);
	return decode_ethertype(c, r, wsub(wire, 14), type);
}

/*
 * GRE (RFC 2784, keys and sequence numbers RFC 2890; version 1 is PPTP's
 * enhanced GRE, RFC 2637 §4.1):
 *
 *   |C|R|K|S|s|Recur|A| Flags | Ver |       Protocol Type           |
 *   | Checksum, Reserved1 (if C)  | Key (if K) | Sequence (if S) | Ack (if A, v1) |
 *
 * ERSPAN (draft-foschiano-erspan): type I has no header of its own, type II
 * (sequence number present) 8 bytes, type III 12 (+ 8 with the O bit); then
 * the mirrored Ethernet frame.
 */
static enum sc_pkt_outcome decode_gre(struct dctx *c, struct sc_rd *r, size_t wire)
{
	uint16_t fl, proto;
	unsigned ver;
	size_t opt = 0;
	const uint8_t *h;

	fl = sc_rd_be16(r);
	proto = sc_rd_be16(r);
	if (r->err)
		return out_of_bytes(c);
	wire = wsub(wire, 4);
	ver = fl & 7u;
	if (ver > 1 || (fl & 0x4000u))
		return SC_PKT_NON_TCP; /* RFC 1701 source routing, unknown versions */
	if (fl & 0x8000u)
		opt += 4;
	if (fl & 0x2000u)
		opt += 4;
	if (fl & 0x1000u)
		opt += 4;
	if (ver == 1 && (fl & 0x0080u))
		opt += 4;
	sc_rd_skip(r, opt);
	if (r->err)
		return out_of_bytes(c);
	wire = wsub(wire, opt);
	if (!enter_tunnel(c))
		return SC_PKT_MALFORMED;
	if (ver == 1)
		return proto == ETHERTYPE_PPP ? decode_ppp(c, r, wire) : SC_PKT_NON_TCP;
	switch (proto) {
	case ETHERTYPE_TEB:
		return decode_ether(c, r, wire);
	case ETHERTYPE_ERSPAN2:
		if (fl & 0x1000u) { /* type II */
			sc_rd_skip(r, 8);
			wire = wsub(wire, 8);
		}
		if (r->err)
			return out_of_bytes(c);
		return decode_ether(c, r, wire);
	case ETHERTYPE_ERSPAN3:
		h = sc_rd_bytes(r, 12);
		if (!h)
			return out_of_bytes(c);
		wire = wsub(wire, 12);
		if (((h[10] >> 2) & 0x1f) != 0) /* frame type 0: Ethernet */
			return SC_PKT_NON_IP;
		if (h[11] & 1) { /* O: a platform-specific subheader */
			sc_rd_skip(r, 8);
			if (r->err)
				return out_of_bytes(c);
			wire = wsub(wire, 8);
		}
		return decode_ether(c, r, wire);
	}
	return decode_ethertype(c, r, wire, proto);
}

/* The payload of an IP packet (or of a reassembled datagram): `proto` is the
 * IPv4 protocol or the IPv6 next header. */
static enum sc_pkt_outcome decode_ip_payload(struct dctx *c, struct sc_rd *r, size_t wire, uint8_t proto)
{
	switch (proto) {
	case IPPROTO_NUM_TCP:
		return decode_tcp(c, r, wire);
	case IPPROTO_NUM_UDP:
		return decode_udp(c, r, wire);
	case IPPROTO_NUM_GRE:
		return decode_gre(c, r, wire);
	case IPPROTO_NUM_IPIP:
		if (!enter_tunnel(c))
			return SC_PKT_MALFORMED;
		return decode_ipv4(c, r, wire);
	case IPPROTO_NUM_IPV6:
		if (!enter_tunnel(c))
			return SC_PKT_MALFORMED;
		return decode_ipv6(c, r, wire);
	}
	return SC_PKT_NON_TCP;
}

/* A fragment for the reassembler: the whole fragment must be captured. */
static enum sc_pkt_outcome fragment(struct dctx *c, struct sc_rd *r, size_t wire, uint8_t family,
				    const uint8_t *src, const uint8_t *dst, uint32_t id, uint8_t proto,
				    uint32_t offset, bool more)
{
	struct sc_ipfrag_piece *pc = &c->info->frag;
	size_t alen = family == SC_AF_INET ? 4 : 16;

	if (proto == IPPROTO_NUM_TCP)
		c->info->tcp = true;
	if (sc_rd_left(r) < wire)
		return out_of_bytes(c);
	/* Every fragment but the last carries a multiple of 8 bytes (RFC 791
	 * §3.2, RFC 8200 §4.5); an empty one carries nothing. */
	if (wire == 0 || (more && wire % 8 != 0))
		return SC_PKT_MALFORMED;
	memset(pc, 0, sizeof(*pc));
	pc->family = family;
	pc->proto = proto;
	memcpy(pc->src, src, alen);
	memcpy(pc->dst, dst, alen);
	pc->id = id;
	pc->offset = offset;
	pc->more = more;
	pc->data = r->p;
	pc->len = wire;
	return SC_PKT_FRAGMENT;
}

static void set_addrs(struct dctx *c, uint8_t family, const uint8_t *src, const uint8_t *dst)
{
	size_t alen = family == SC_AF_INET ? 4 : 16;

	memset(c->seg->src.addr, 0, sizeof(c->seg->src.addr));
	memset(c->seg->dst.addr, 0, sizeof(c->seg->dst.addr));
	memcpy(c->seg->src.addr, src, alen);
	memcpy(c->seg->dst.addr, dst, alen);
	c->seg->family = family;
}

/*
 * IPv4 header (RFC 791 §3.1):
 *
 *   +-------+-------+---------------+-------------------------------+
 *   |Version|  IHL  |      TOS      |          Total Length         |
 *   +-------+-------+---------------+-----+-------------------------+
 *   |         Identification        |Flags|     Fragment Offset     |
 *   +---------------+---------------+-----+-------------------------+
 *   |      TTL      |   Protocol    |         Header Checksum       |
 *   +---------------+---------------+-------------------------------+
 *   |                       Source Address                          |
 *   |                    Destination Address                        |
 *   |                    Options (IHL*4 - 20 bytes)                 |
 *
 * A total length of 0 is what a capture on the sending host shows for a TCP
 * segmentation offload super-segment (the NIC fills in each segment's
 * length): the length is then the frame's, as Wireshark takes it.
 */
static enum sc_pkt_outcome decode_ipv4(struct dctx *c, struct sc_rd *r, size_t wire)
{
	struct sc_rd whole = *r, ip;
	size_t avail = sc_rd_left(r), hlen, total;
	uint8_t vihl, proto;
	uint16_t id, frag;
	const uint8_t *src, *dst;

	vihl = sc_rd_u8(r);
	sc_rd_skip(r, 1); /* TOS */
	total = sc_rd_be16(r);
	id = sc_rd_be16(r);
	frag = sc_rd_be16(r);
	sc_rd_skip(r, 1); /* TTL */
	proto = sc_rd_u8(r);
	sc_rd_skip(r, 2); /* header checksum */
	src = sc_rd_bytes(r, 4);
	dst = sc_rd_bytes(r, 4);
	if (r->err)
		return out_of_bytes(c);
	if (vihl >> 4 != 4)
		return SC_PKT_MALFORMED;
	if (proto == IPPROTO_NUM_TCP)
		c->info->tcp = true;
	hlen = (size_t)(vihl & 0x0f) * 4;
	if (total == 0) {
		total = wire == SIZE_MAX ? avail : wire;
		c->info->len_from_frame = true;
	}
	if (hlen < 20 || total < hlen)
		return SC_PKT_MALFORMED;
	/* Longer than the frame was on the wire: no snaplen explains that.
	 * Shorter is Ethernet padding (or an FCS) and is trimmed below. */
	if (total > wire)
		return SC_PKT_MALFORMED;

	ip = sc_rd_sub(&whole, total < avail ? total : avail);
	sc_rd_skip(&ip, hlen);
	if (ip.err)
		return out_of_bytes(c);
	/* MF set or a non-zero offset: a piece of a datagram. */
	if ((frag & 0x2000u) || (frag & 0x1fffu))
		return fragment(c, &ip, total - hlen, SC_AF_INET, src, dst, id, proto,
				(uint32_t)(frag & 0x1fffu) * 8, (frag & 0x2000u) != 0);
	if (proto == IPPROTO_NUM_TCP)
		set_addrs(c, SC_AF_INET, src, dst);
	return decode_ip_payload(c, &ip, total - hlen, proto);
}

/*
 * IPv6 header (RFC 8200 §3) and the extension headers we walk (§4):
 *
 *   +-------+---------------+---------------------------------------+
 *   |Version| Traffic Class |              Flow Label               |
 *   +-------+---------------+-------+---------------+---------------+
 *   |         Payload Length        |  Next Header  |   Hop Limit   |
 *   +-------------------------------+---------------+---------------+
 *   |                  Source Address (16 bytes)                    |
 *   |               Destination Address (16 bytes)                  |
 *
 *   hop-by-hop (0), routing (43), destination options (60):
 *   +---------------+---------------+-------------------------------+
 *   |  Next Header  |  Hdr Ext Len  |  (Hdr Ext Len + 1) * 8 bytes  |
 *   authentication header (51, RFC 4302 §2): (Payload Len + 2) * 4 bytes
 *
 *   fragment (44, §4.5):
 *   |  Next Header  |   Reserved    | Fragment Offset (13)|Res|M|  Identification (4) |
 *
 * A fragment header with offset 0 and M clear is an atomic fragment: the
 * packet is whole and is processed as such (RFC 6946 §4).  A payload length
 * of 0 is a jumbogram (RFC 2675) or, as a capture on the sending host shows
 * it, a BIG TCP super-segment: the length is then the frame's.
 */
static enum sc_pkt_outcome decode_ipv6(struct dctx *c, struct sc_rd *r, size_t wire)
{
	struct sc_rd whole = *r, ip;
	size_t avail = sc_rd_left(r), plen;
	uint8_t vers, nh;
	const uint8_t *src, *dst;

	vers = (uint8_t)(sc_rd_u8(r) >> 4);
	sc_rd_skip(r, 3); /* traffic class, flow label */
	plen = sc_rd_be16(r);
	nh = sc_rd_u8(r);
	sc_rd_skip(r, 1); /* hop limit */
	src = sc_rd_bytes(r, 16);
	dst = sc_rd_bytes(r, 16);
	if (r->err)
		return out_of_bytes(c);
	if (vers != 6)
		return SC_PKT_MALFORMED;
	if (wire != SIZE_MAX && wire < 40)
		return SC_PKT_MALFORMED;
	if (plen == 0) {
		plen = (wire == SIZE_MAX ? avail : wire) - 40;
		c->info->len_from_frame = true;
	}
	if (plen > wsub(wire, 40))
		return SC_PKT_MALFORMED;

	ip = sc_rd_sub(&whole, 40 + plen < avail ? 40 + plen : avail);
	sc_rd_skip(&ip, 40);
	wire = plen;
	for (unsigned i = 0;; i++) {
		uint8_t next, xlen;
		uint16_t offfl;
		uint32_t id;
		size_t len;

		if (nh == IPPROTO_NUM_TCP)
			c->info->tcp = true;
		if (nh != IPPROTO_NUM_HOPOPTS && nh != IPPROTO_NUM_ROUTING && nh != IPPROTO_NUM_DSTOPTS &&
		    nh != IPPROTO_NUM_AH && nh != IPPROTO_NUM_FRAGMENT)
			break;
		if (i == IPV6_MAX_EXT_HDRS)
			return SC_PKT_MALFORMED;
		if (nh == IPPROTO_NUM_FRAGMENT) {
			if (wire < 8)
				return SC_PKT_MALFORMED;
			next = sc_rd_u8(&ip);
			sc_rd_skip(&ip, 1);
			offfl = sc_rd_be16(&ip);
			id = sc_rd_be32(&ip);
			if (ip.err)
				return out_of_bytes(c);
			wire -= 8;
			if ((offfl & 0xfff8u) || (offfl & 1u))
				return fragment(c, &ip, wire, SC_AF_INET6, src, dst, id, next, offfl & 0xfff8u,
						(offfl & 1u) != 0);
			nh = next; /* atomic fragment: RFC 6946 §4 */
			continue;
		}
		if (wire < 2)
			return SC_PKT_MALFORMED;
		next = sc_rd_u8(&ip);
		xlen = sc_rd_u8(&ip);
		if (ip.err)
			return out_of_bytes(c);
		len = nh == IPPROTO_NUM_AH ? ((size_t)xlen + 2) * 4 : ((size_t)xlen + 1) * 8;
		if (len > wire)
			return SC_PKT_MALFORMED;
		sc_rd_skip(&ip, len - 2);
		if (ip.err)
			return out_of_bytes(c);
		wire -= len;
		nh = next;
	}
	if (nh == IPPROTO_NUM_TCP)
		set_addrs(c, SC_AF_INET6, src, dst);
	return decode_ip_payload(c, &ip, wire, nh);
}

/* Raw IP: the version nibble says which. */
static enum sc_pkt_outcome decode_ip_any(struct dctx *c, struct sc_rd *r, size_t wire)
{
	struct sc_rd peek = *r;
	uint8_t v = (uint8_t)(sc_rd_u8(&peek) >> 4);

	if (peek.err)
		return out_of_bytes(c);
	if (v == 4)
		return decode_ipv4(c, r, wire);
	if (v == 6)
		return decode_ipv6(c, r, wire);
	return SC_PKT_MALFORMED;
}

static enum sc_pkt_outcome decode_bsd_family(struct dctx *c, struct sc_rd *r, size_t wire, uint32_t family)
{
	switch (family) {
	case BSD_AF_INET:
		return decode_ipv4(c, r, wire);
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return decode_ipv6(c, r, wire);
	}
	return SC_PKT_NON_IP;
}

/*
 * NFLOG (Linux netfilter's log, libpcap's LINKTYPE_NFLOG):
 *
 *   | family (1) | version (1) | resource id (2, big-endian) |
 *   then TLVs: | length (2) | type (2) | value, padded to 4 bytes |
 *
 * The TLV length and type are in the capturing host's byte order; libpcap
 * turns them into the reading host's (as sc_pcapng.c does), so they are read
 * in host order here.  The length counts the 4-byte TLV header.  The packet is
 * the value of the NFULA_PAYLOAD TLV.
 */
static enum sc_pkt_outcome decode_nflog(struct dctx *c, struct sc_rd *r)
{
	uint8_t family;
	const uint8_t *h;

	family = sc_rd_u8(r);
	sc_rd_skip(r, 3);
	if (r->err)
		return out_of_bytes(c);
	/* Each TLV takes at least 4 bytes: the loop ends with the frame. */
	while (sc_rd_left(r) > 0) {
		uint16_t tlen, ttype;
		size_t padded;
		struct sc_rd v;

		h = sc_rd_bytes(r, 4);
		if (!h)
			return out_of_bytes(c);
		memcpy(&tlen, h, 2);
		memcpy(&ttype, h + 2, 2);
		if (tlen < 4)
			return SC_PKT_MALFORMED;
		padded = ((size_t)tlen + 3) & ~(size_t)3;
		if ((ttype & 0x3fffu) == NFULA_PAYLOAD) {
			v = *r;
			limit(&v, (size_t)tlen - 4);
			/* The value's length is exact, whatever was captured: a
			 * shorter capture cut it. */
			if (family == LINUX_AF_INET)
				return decode_ipv4(c, &v, (size_t)tlen - 4);
			if (family == LINUX_AF_INET6)
				return decode_ipv6(c, &v, (size_t)tlen - 4);
			return SC_PKT_NON_IP;
		}
		if ((size_t)tlen - 4 > sc_rd_left(r))
			return out_of_bytes(c);
		/* The last TLV may end the frame without its padding. */
		sc_rd_skip(r, padded - 4 < sc_rd_left(r) ? padded - 4 : sc_rd_left(r));
	}
	/* No packet in this log message, or not in what was captured of it. */
	return c->cut ? SC_PKT_TRUNCATED : SC_PKT_NON_IP;
}

/*
 * Linux ARCNET (LINKTYPE_ARCNET_LINUX):
 *
 *   | source (1) | destination (1) | offset (2) | type (1) | [flag (1) | sequence (2)] |
 *
 * The RFC 1201 types carry the fragmentation flag and sequence number; the
 * old RFC 1051 ones and diagnostics do not.
 */
static enum sc_pkt_outcome decode_arcnet_linux(struct dctx *c, struct sc_rd *r, size_t wire)
{
	uint8_t type;

	sc_rd_skip(r, 4);
	type = sc_rd_u8(r);
	if (r->err)
		return out_of_bytes(c);
	wire = wsub(wire, 5);
	if (type != ARC_P_IP_RFC1051 && type != ARC_P_ARP_RFC1051 && type != ARC_P_DIAGNOSE) {
		sc_rd_skip(r, 3);
		if (r->err)
			return out_of_bytes(c);
		wire = wsub(wire, 3);
	}
	if (type == ARC_P_IP || type == ARC_P_IP_RFC1051)
		return decode_ipv4(c, r, wire);
	if (type == ARC_P_INET6)
		return decode_ipv6(c, r, wire);
	return SC_PKT_NON_IP;
}

/* Cisco HDLC: | address 0x0f/0x8f | control 0x00 | ethertype (2) | */
static enum sc_pkt_outcome decode_chdlc(struct dctx *c, struct sc_rd *r, size_t wire)
{
	uint16_t type;

	sc_rd_skip(r, 2);
	type = sc_rd_be16(r);
	if (r->err)
		return out_of_bytes(c);
	return decode_ethertype(c, r, wsub(wire, 4), type);
}

static enum sc_pkt_outcome decode_link(int dlt, struct dctx *c, struct sc_rd *r, size_t wire)
{
	struct sc_rd peek;
	uint16_t type;
	uint32_t le, be;
	const uint8_t *b;

	switch (dlt) {
	case DLT_EN10MB:
		return decode_ether(c, r, wire);

	case DLT_LINUX_SLL:
		/* packet type (2), ARPHRD (2), address length (2), address (8),
		 * protocol (2).  libpcap inserts VLAN tags after it. */
		sc_rd_skip(r, 14);
		type = sc_rd_be16(r);
		if (r->err)
			return out_of_bytes(c);
		if (type == ETH_P_802_2)
			return decode_llc(c, r, wsub(wire, 16));
		return decode_ethertype(c, r, wsub(wire, 16), type);

	case DLT_LINUX_SLL2:
		/* protocol (2), reserved (2), ifindex (4), ARPHRD (2), packet
		 * type (1), address length (1), address (8) */
		type = sc_rd_be16(r);
		sc_rd_skip(r, 18);
		if (r->err)
			return out_of_bytes(c);
		if (type == ETH_P_802_2)
			return decode_llc(c, r, wsub(wire, 20));
		return decode_ethertype(c, r, wsub(wire, 20), type);

	case DLT_RAW:
#if DLT_RAW != LINKTYPE_RAW
	case LINKTYPE_RAW:
#endif
		return decode_ip_any(c, r, wire);

	case DLT_IPV4:
		return decode_ipv4(c, r, wire);

	case DLT_IPV6:
		return decode_ipv6(c, r, wire);

	case DLT_NULL:
		/* The family in the byte order of the machine that captured.
		 * Every value we know fits in a byte, so the order in which the
		 * value is small is the right one. */
		b = sc_rd_bytes(r, 4);
		if (!b)
			return out_of_bytes(c);
		le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		be = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		return decode_bsd_family(c, r, wsub(wire, 4), le <= 0xff ? le : be);

	case DLT_LOOP:
		/* As DLT_NULL, but always network byte order (OpenBSD). */
		be = sc_rd_be32(r);
		if (r->err)
			return out_of_bytes(c);
		return decode_bsd_family(c, r, wsub(wire, 4), be);

	case DLT_PPP:
		return decode_ppp(c, r, wire);

	case DLT_PPP_SERIAL:
		/* PPP in HDLC-like framing, or Cisco HDLC on the same link type
		 * (RFC 1547 §4.3.1, as tcpdump tells them apart). */
		peek = *r;
		type = sc_rd_u8(&peek);
		if (!peek.err && (type == 0x0f || type == 0x8f))
			return decode_chdlc(c, r, wire);
		return decode_ppp(c, r, wire);

	case DLT_C_HDLC:
		return decode_chdlc(c, r, wire);

	case DLT_PPP_ETHER:
		return decode_pppoe(c, r, wire);

	case DLT_NFLOG:
		return decode_nflog(c, r);

	case DLT_ARCNET_LINUX:
		return decode_arcnet_linux(c, r, wire);
	}
	return SC_PKT_UNSUPPORTED;
}

bool sc_pkt_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
#if DLT_RAW != LINKTYPE_RAW
	case LINKTYPE_RAW:
#endif
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_PPP:
	case DLT_PPP_SERIAL:
	case DLT_C_HDLC:
	case DLT_PPP_ETHER:
	case DLT_NFLOG:
	case DLT_ARCNET_LINUX:
		return true;
	}
	return false;
}

int sc_pkt_linktype_to_dlt(uint32_t linktype)
{
	/* LINKTYPE_RAW is the one a file of ours may meet whose DLT differs
	 * on Linux (DLT_RAW is 12, or 14 on OpenBSD); the others we decode
	 * have equal values. */
	if (linktype == LINKTYPE_RAW)
		return DLT_RAW;
	return linktype > 0x7fffffffu ? -1 : (int)linktype;
}

static void init_ctx(struct dctx *c, struct sc_tcp_seg *seg, struct sc_pkt_info *info, bool cut)
{
	memset(c, 0, sizeof(*c));
	memset(info, 0, sizeof(*info));
	c->cut = cut;
	c->seg = seg;
	c->info = info;
}

enum sc_pkt_outcome sc_pkt_decode(int dlt, const uint8_t *pkt, size_t caplen, size_t wire_len, struct sc_tcp_seg *seg,
				  struct sc_pkt_info *info)
{
	static const uint8_t empty[1];
	struct dctx c;
	struct sc_rd r;

	if (!pkt) { /* NULL + 0 is undefined; an empty frame points somewhere */
		pkt = empty;
		caplen = 0;
	}
	/* A record with len < caplen is damaged; trust what is there. */
	if (wire_len != SIZE_MAX && wire_len < caplen)
		wire_len = caplen;
	init_ctx(&c, seg, info, wire_len == SIZE_MAX || caplen < wire_len);
	sc_rd_init(&r, pkt, caplen);
	return decode_link(dlt, &c, &r, wire_len);
}

enum sc_pkt_outcome sc_pkt_decode_ip(const uint8_t *dgram, size_t len, struct sc_tcp_seg *seg,
				     struct sc_pkt_info *info)
{
	struct dctx c;
	struct sc_rd r;

	init_ctx(&c, seg, info, false);
	sc_rd_init(&r, dgram, len);
	return decode_ip_any(&c, &r, len);
}
