/* test_pcap.c - TCP segments from pcap/pcapng files (formats/sc_pcap.h).
 *
 * Three layers: the per-frame decoder on frames built here byte by byte (each
 * one also cut at every caplen and placed before a PROT_NONE page), whole
 * files built in memory, and the committed captures in tests/pcaps/ (made by
 * scripts/make-test-pcaps.py from one real tcpdump capture) with exact counts.
 * The last test captures live HTTP traffic with tcpdump when run as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "formats/sc_pcap.h"

#include "sc_test.h"

extern char **environ;

/* ---- building frames ------------------------------------------------------------------ */

struct fb {
	uint8_t b[1024];
	size_t len;
};

static void put8(struct fb *f, unsigned v)
{
	cr_assert_lt(f->len, sizeof(f->b));
	f->b[f->len++] = (uint8_t)v;
}

static void put16(struct fb *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v);
}

static void put32(struct fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void put32le(struct fb *f, uint32_t v)
{
	put8(f, v & 0xff);
	put8(f, (v >> 8) & 0xff);
	put8(f, (v >> 16) & 0xff);
	put8(f, v >> 24);
}

static void putb(struct fb *f, const void *p, size_t n)
{
	cr_assert_leq(n, sizeof(f->b) - f->len);
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

#define SPORT 40000
#define DPORT 8080
#define SEQ 0x11223344u
#define ACK 0x55667788u
#define WIN 0x1234
#define FLAGS (SC_TCP_PSH | SC_TCP_ACK)
#define TCP_HLEN 32 /* 20 + NOP NOP timestamp, as real traffic has */
#define PAYLOAD "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

static const uint8_t V4_SRC[4] = { 192, 0, 2, 1 };
static const uint8_t V4_DST[4] = { 198, 51, 100, 2 };
static const uint8_t V6_SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t V6_DST[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* TCP header with a timestamp option, then the payload. */
static void tcp(struct fb *f, unsigned doff, const char *payload)
{
	put16(f, SPORT);
	put16(f, DPORT);
	put32(f, SEQ);
	put32(f, ACK);
	put8(f, doff << 4);
	put8(f, FLAGS);
	put16(f, WIN);
	put32(f, 0); /* checksum, urgent pointer */
	for (unsigned i = 20; i < doff * 4; i++)
		put8(f, i < 22 ? 1 : i == 22 ? 8 : i == 23 ? 10 : i); /* NOP NOP TS(8, 10) */
	putb(f, payload, strlen(payload));
}

static void udp(struct fb *f, const char *payload)
{
	put16(f, 5353);
	put16(f, 53);
	put16(f, 8 + strlen(payload));
	put16(f, 0);
	putb(f, payload, strlen(payload));
}

/* IPv4 header (+ opt_words of NOP options) around `l4`.  `total_adj` is added to
 * the total length field. */
static void ipv4(struct fb *f, unsigned opt_words, uint16_t frag, uint8_t proto, const struct fb *l4,
		 int total_adj)
{
	unsigned hlen = 20 + opt_words * 4;

	put8(f, 0x40 | hlen / 4);
	put8(f, 0);
	put16(f, (unsigned)((int)(hlen + l4->len) + total_adj));
	put16(f, 0x4242);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	putb(f, V4_SRC, 4);
	putb(f, V4_DST, 4);
	for (unsigned i = 20; i < hlen; i++)
		put8(f, 1); /* NOP */
	putb(f, l4->b, l4->len);
}

/* IPv6 header, extension headers `ext` (already chained), then `l4`. */
static void ipv6(struct fb *f, uint8_t nh, const struct fb *ext, const struct fb *l4, int plen_override)
{
	size_t plen = (ext ? ext->len : 0) + l4->len;

	put32(f, 6u << 28);
	put16(f, plen_override >= 0 ? (unsigned)plen_override : (unsigned)plen);
	put8(f, nh);
	put8(f, 64);
	putb(f, V6_SRC, 16);
	putb(f, V6_DST, 16);
	if (ext)
		putb(f, ext->b, ext->len);
	putb(f, l4->b, l4->len);
}

/* The usual IPv4 TCP packet (DF set). */
static struct fb v4_tcp(const char *payload)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 };

	tcp(&l4, TCP_HLEN / 4, payload);
	ipv4(&ip, 0, 0x4000, 6, &l4, 0);
	return ip;
}

static struct fb v6_tcp(const char *payload)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 };

	tcp(&l4, TCP_HLEN / 4, payload);
	ipv6(&ip, 6, NULL, &l4, -1);
	return ip;
}

/* Ethernet: zero MACs, then (TPID, TCI) pairs, then the type. */
static void eth(struct fb *f, const uint16_t *tags, size_t ntags, uint16_t type)
{
	for (int i = 0; i < 12; i++)
		put8(f, i);
	for (size_t i = 0; i < ntags; i++) {
		put16(f, tags[2 * i]);
		put16(f, tags[2 * i + 1]);
	}
	put16(f, type);
}

static struct fb frame(void (*hdr)(struct fb *), const struct fb *ip)
{
	struct fb f = { .len = 0 };

	hdr(&f);
	putb(&f, ip->b, ip->len);
	return f;
}

static void hdr_eth4(struct fb *f)
{
	eth(f, NULL, 0, 0x0800);
}

static void hdr_eth6(struct fb *f)
{
	eth(f, NULL, 0, 0x86dd);
}

static void hdr_vlan(struct fb *f)
{
	static const uint16_t t[] = { 0x8100, 42 };

	eth(f, t, 1, 0x0800);
}

static void hdr_qinq(struct fb *f)
{
	static const uint16_t t[] = { 0x88a8, 100, 0x8100, 200 };

	eth(f, t, 2, 0x0800);
}

static void hdr_qinq_9100(struct fb *f)
{
	static const uint16_t t[] = { 0x9100, 100, 0x8100, 200, 0x8100, 300 };

	eth(f, t, 3, 0x86dd);
}

/* Linux cooked v1: packet type, ARPHRD, address length, address(8), protocol. */
static void hdr_sll(struct fb *f)
{
	put16(f, 4);   /* outgoing */
	put16(f, 1);   /* ARPHRD_ETHER */
	put16(f, 6);
	for (int i = 0; i < 8; i++)
		put8(f, i < 6 ? 0xa0 + i : 0);
	put16(f, 0x0800);
}

static void hdr_sll_vlan(struct fb *f)
{
	put16(f, 0);
	put16(f, 1);
	put16(f, 6);
	for (int i = 0; i < 8; i++)
		put8(f, 0);
	put16(f, 0x8100);
	put16(f, 7);
	put16(f, 0x86dd);
}

/* Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address(8). */
static void hdr_sll2(struct fb *f)
{
	put16(f, 0x86dd);
	put16(f, 0);
	put32(f, 3);
	put16(f, 1);
	put8(f, 0);
	put8(f, 6);
	for (int i = 0; i < 8; i++)
		put8(f, i < 6 ? 0xb0 + i : 0);
}

static void hdr_null_le_v4(struct fb *f)
{
	put32le(f, 2);
}

static void hdr_null_be_v4(struct fb *f)
{
	put32(f, 2);
}

static void hdr_loop_v4(struct fb *f)
{
	put32(f, 2);
}

/* ---- decoding before a guard page ----------------------------------------------------- */

/* The byte after the frame is PROT_NONE: any over-read faults. */
static uint8_t *guard(void)
{
	static uint8_t *g;

	if (!g) {
		long psz = sysconf(_SC_PAGESIZE);
		uint8_t *m = mmap(NULL, 2 * (size_t)psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		cr_assert_neq(m, MAP_FAILED);
		cr_assert_eq(mprotect(m + psz, (size_t)psz, PROT_NONE), 0);
		g = m + psz;
	}
	return g;
}

/* Outcomes of frames and reassembled datagrams other than a segment
 * (sc_pcap.h's invariant). */
static uint64_t skipped(const struct sc_pcap_stats *st)
{
	return st->ip_fragments + st->skipped_non_ip + st->skipped_non_tcp + st->skipped_truncated +
	       st->skipped_malformed + st->skipped_link_type;
}

/* Decode the first `caplen` bytes of `f`, placed so that they end at the guard
 * page, and check what must hold for any frame. */
static int decode_n(int dlt, const struct fb *f, size_t caplen, struct sc_tcp_seg *seg, struct sc_pcap_stats *st)
{
	uint8_t *p = guard() - caplen;
	int rc;

	cr_assert_leq(caplen, f->len);
	memcpy(p, f->b, caplen);
	memset(st, 0, sizeof(*st));
	memset(seg, 0xa5, sizeof(*seg));
	rc = sc_pcap_decode(dlt, p, (uint32_t)caplen, seg, st);
	cr_assert(rc == 0 || rc == 1, "rc %d", rc);
	cr_assert_eq(st->frames, 1);
	cr_assert_eq(st->bytes, caplen);
	cr_assert_eq(st->tcp_segments + skipped(st), 1, "every frame has exactly one outcome");
	cr_assert_eq(st->tcp_segments, (uint64_t)rc);
	if (rc == 1) {
		cr_assert_geq(seg->payload, p);
		cr_assert_leq(seg->len, (size_t)(guard() - seg->payload), "payload claims bytes beyond caplen");
		cr_assert_leq(seg->len, seg->wire_len);
		cr_assert_eq(st->tcp_payload_bytes, seg->len);
		cr_assert_eq(st->truncated_payload, seg->len < seg->wire_len);
		cr_assert_eq(st->truncated_bytes, seg->wire_len - seg->len);
	}
	return rc;
}

static int decode(int dlt, const struct fb *f, struct sc_tcp_seg *seg, struct sc_pcap_stats *st)
{
	return decode_n(dlt, f, f->len, seg, st);
}

static void assert_payload(const struct sc_tcp_seg *seg, const char *want)
{
	cr_assert_eq(seg->len, strlen(want), "len %" PRIu32 ", want %zu", seg->len, strlen(want));
	cr_assert_eq(memcmp(seg->payload, want, seg->len), 0);
}

static void assert_v4_seg(const struct sc_tcp_seg *seg, const char *payload)
{
	static const uint8_t zero[12];

	cr_assert_eq(seg->family, SC_AF_INET);
	cr_assert_eq(memcmp(seg->src.addr, V4_SRC, 4), 0);
	cr_assert_eq(memcmp(seg->dst.addr, V4_DST, 4), 0);
	cr_assert_eq(memcmp(seg->src.addr + 4, zero, 12), 0, "IPv4 address tail must be zero");
	cr_assert_eq(memcmp(seg->dst.addr + 4, zero, 12), 0);
	cr_assert_eq(seg->src.port, SPORT);
	cr_assert_eq(seg->dst.port, DPORT);
	cr_assert_eq(seg->seq, SEQ);
	cr_assert_eq(seg->ack, ACK);
	cr_assert_eq(seg->flags, FLAGS);
	cr_assert_eq(seg->window, WIN);
	cr_assert_eq(seg->wire_len, strlen(payload));
	assert_payload(seg, payload);
}

static void assert_v6_seg(const struct sc_tcp_seg *seg, const char *payload)
{
	cr_assert_eq(seg->family, SC_AF_INET6);
	cr_assert_eq(memcmp(seg->src.addr, V6_SRC, 16), 0);
	cr_assert_eq(memcmp(seg->dst.addr, V6_DST, 16), 0);
	cr_assert_eq(seg->src.port, SPORT);
	cr_assert_eq(seg->dst.port, DPORT);
	cr_assert_eq(seg->seq, SEQ);
	cr_assert_eq(seg->ack, ACK);
	cr_assert_eq(seg->flags, FLAGS);
	cr_assert_eq(seg->window, WIN);
	cr_assert_eq(seg->wire_len, strlen(payload));
	assert_payload(seg, payload);
}

/* ---- link types -------------------------------------------------------------------------- */

Test(pcap, ethernet_ipv4_tcp_segment)
{
	struct fb ip = v4_tcp(PAYLOAD), f = frame(hdr_eth4, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	assert_v4_seg(&seg, PAYLOAD);
	cr_assert_eq(seg.payload, guard() - strlen(PAYLOAD), "payload is a view of the frame's last bytes");
}

Test(pcap, ethernet_ipv6_tcp_segment)
{
	struct fb ip = v6_tcp(PAYLOAD), f = frame(hdr_eth6, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	assert_v6_seg(&seg, PAYLOAD);
}

Test(pcap, ethernet_vlan_8021q_tcp_segment)
{
	struct fb ip = v4_tcp(PAYLOAD), f = frame(hdr_vlan, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	assert_v4_seg(&seg, PAYLOAD);
}

Test(pcap, ethernet_vlan_qinq_tcp_segment)
{
	struct fb ip = v4_tcp(PAYLOAD), f = frame(hdr_qinq, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	assert_v4_seg(&seg, PAYLOAD);
}

Test(pcap, ethernet_vlan_9100_and_two_8021q_tags_ipv6_segment)
{
	struct fb ip = v6_tcp(PAYLOAD), f = frame(hdr_qinq_9100, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	assert_v6_seg(&seg, PAYLOAD);
}

Test(pcap, ethernet_eight_vlan_tags_accepted_nine_malformed)
{
	uint16_t tags[2 * 9];
	struct fb ip = v4_tcp(PAYLOAD), f;
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	for (int i = 0; i < 9; i++) {
		tags[2 * i] = 0x8100;
		tags[2 * i + 1] = (uint16_t)i;
	}
	f.len = 0;
	eth(&f, tags, 8, 0x0800);
	putb(&f, ip.b, ip.len);
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	assert_v4_seg(&seg, PAYLOAD);

	f.len = 0;
	eth(&f, tags, 9, 0x0800);
	putb(&f, ip.b, ip.len);
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
}

Test(pcap, linux_sll_tcp_segment)
{
	struct fb ip = v4_tcp(PAYLOAD), f = frame(hdr_sll, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(f.len, 16 + ip.len);
	cr_assert_eq(decode(DLT_LINUX_SLL, &f, &seg, &st), 1);
	assert_v4_seg(&seg, PAYLOAD);
}

Test(pcap, linux_sll_with_vlan_tag_ipv6_segment)
{
	struct fb ip = v6_tcp(PAYLOAD), f = frame(hdr_sll_vlan, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_LINUX_SLL, &f, &seg, &st), 1);
	assert_v6_seg(&seg, PAYLOAD);
}

Test(pcap, linux_sll2_tcp_segment)
{
	struct fb ip = v6_tcp(PAYLOAD), f = frame(hdr_sll2, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(f.len, 20 + ip.len);
	cr_assert_eq(decode(DLT_LINUX_SLL2, &f, &seg, &st), 1);
	assert_v6_seg(&seg, PAYLOAD);
}

Test(pcap, raw_ip_version_from_first_nibble)
{
	struct fb ip4 = v4_tcp(PAYLOAD), ip6 = v6_tcp(PAYLOAD);
	static const int dlts[] = { DLT_RAW, 101 /* LINKTYPE_RAW */ };
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		cr_assert_eq(decode(dlts[i], &ip4, &seg, &st), 1);
		assert_v4_seg(&seg, PAYLOAD);
		cr_assert_eq(decode(dlts[i], &ip6, &seg, &st), 1);
		assert_v6_seg(&seg, PAYLOAD);
	}
	ip4.b[0] = 0x55; /* version 5 */
	cr_assert_eq(decode(DLT_RAW, &ip4, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
}

Test(pcap, ipv4_and_ipv6_link_types_check_the_version)
{
	struct fb ip4 = v4_tcp(PAYLOAD), ip6 = v6_tcp(PAYLOAD);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_IPV4, &ip4, &seg, &st), 1);
	assert_v4_seg(&seg, PAYLOAD);
	cr_assert_eq(decode(DLT_IPV6, &ip6, &seg, &st), 1);
	assert_v6_seg(&seg, PAYLOAD);
	cr_assert_eq(decode(DLT_IPV4, &ip6, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
	cr_assert_eq(decode(DLT_IPV6, &ip4, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
}

Test(pcap, null_family_in_either_byte_order)
{
	struct fb ip = v4_tcp(PAYLOAD), le = frame(hdr_null_le_v4, &ip), be = frame(hdr_null_be_v4, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_NULL, &le, &seg, &st), 1);
	assert_v4_seg(&seg, PAYLOAD);
	cr_assert_eq(decode(DLT_NULL, &be, &seg, &st), 1);
	assert_v4_seg(&seg, PAYLOAD);
}

Test(pcap, null_and_loop_accept_every_bsd_inet6_value)
{
	static const uint32_t fams[] = { 24, 28, 30 };
	struct fb ip = v6_tcp(PAYLOAD), f;
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	for (size_t i = 0; i < 3; i++) {
		f.len = 0;
		put32le(&f, fams[i]);
		putb(&f, ip.b, ip.len);
		cr_assert_eq(decode(DLT_NULL, &f, &seg, &st), 1, "DLT_NULL LE family %u", fams[i]);
		assert_v6_seg(&seg, PAYLOAD);
		f.len = 0;
		put32(&f, fams[i]);
		putb(&f, ip.b, ip.len);
		cr_assert_eq(decode(DLT_NULL, &f, &seg, &st), 1, "DLT_NULL BE family %u", fams[i]);
		assert_v6_seg(&seg, PAYLOAD);
		cr_assert_eq(decode(DLT_LOOP, &f, &seg, &st), 1, "DLT_LOOP family %u", fams[i]);
		assert_v6_seg(&seg, PAYLOAD);
	}
}

Test(pcap, loop_family_is_network_order_only)
{
	struct fb ip = v4_tcp(PAYLOAD), be = frame(hdr_loop_v4, &ip), le = frame(hdr_null_le_v4, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_LOOP, &be, &seg, &st), 1);
	assert_v4_seg(&seg, PAYLOAD);
	/* 0x02000000 is no family we know. */
	cr_assert_eq(decode(DLT_LOOP, &le, &seg, &st), 0);
	cr_assert_eq(st.skipped_non_ip, 1);
}

Test(pcap, null_unknown_family_is_non_ip)
{
	struct fb ip = v4_tcp(PAYLOAD), f = { .len = 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	put32le(&f, 7); /* AF_ISO or so */
	putb(&f, ip.b, ip.len);
	cr_assert_eq(decode(DLT_NULL, &f, &seg, &st), 0);
	cr_assert_eq(st.skipped_non_ip, 1);
}

Test(pcap, unsupported_dlt_is_counted_not_decoded)
{
	struct fb ip = v4_tcp(PAYLOAD);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_not(sc_pcap_dlt_supported(DLT_IEEE802_11));
	cr_assert_eq(decode(DLT_IEEE802_11, &ip, &seg, &st), 0);
	cr_assert_eq(st.skipped_link_type, 1);
	cr_assert_eq(st.skipped_tcp, 0, "nothing is known of what it carried");
}

Test(pcap, supported_link_types)
{
	static const int yes[] = { DLT_NULL, DLT_EN10MB, DLT_RAW, 101, DLT_LOOP, DLT_LINUX_SLL, DLT_LINUX_SLL2,
				   DLT_IPV4, DLT_IPV6, DLT_PPP, 50 /* PPP_SERIAL */, 51 /* PPP_ETHER */,
				   104 /* C_HDLC */, 129 /* ARCNET_LINUX */, 239 /* NFLOG */ };
	static const int no[] = { DLT_IEEE802_11, DLT_USB_LINUX, DLT_ARCNET, -1, 100000 };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert(sc_pcap_dlt_supported(yes[i]), "dlt %d", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert_not(sc_pcap_dlt_supported(no[i]), "dlt %d", no[i]);
}

Test(pcap, decode_accepts_null_empty_frame)
{
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st = { 0 };

	cr_assert_eq(sc_pcap_decode(DLT_EN10MB, NULL, 0, &seg, &st), 0);
	cr_assert_eq(st.frames, 1);
	cr_assert_eq(st.skipped_truncated, 1);
}

/* ---- IP and TCP ------------------------------------------------------------------------------ */

Test(pcap, ipv4_options_skipped)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 }, f;
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	tcp(&l4, TCP_HLEN / 4, PAYLOAD);
	ipv4(&ip, 10, 0, 6, &l4, 0); /* IHL 15, the maximum */
	f = frame(hdr_eth4, &ip);
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	assert_v4_seg(&seg, PAYLOAD);
}

Test(pcap, ipv6_hop_by_hop_routing_and_dstopts_walked)
{
	struct fb ext = { .len = 0 }, l4 = { .len = 0 }, ip = { .len = 0 }, f;
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	/* hop-by-hop: PadN(4) */
	put8(&ext, 43);
	put8(&ext, 0);
	put8(&ext, 1);
	put8(&ext, 4);
	put32(&ext, 0);
	/* routing: type 0, segments left 0, reserved */
	put8(&ext, 60);
	put8(&ext, 0);
	put8(&ext, 0);
	put8(&ext, 0);
	put32(&ext, 0);
	/* destination options, 16 bytes: PadN(12) */
	put8(&ext, 6);
	put8(&ext, 1);
	put8(&ext, 1);
	put8(&ext, 12);
	for (int i = 0; i < 12; i++)
		put8(&ext, 0);
	tcp(&l4, TCP_HLEN / 4, PAYLOAD);
	ipv6(&ip, 0, &ext, &l4, -1);
	f = frame(hdr_eth6, &ip);
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	assert_v6_seg(&seg, PAYLOAD);
}

static struct fb v6_dstopts_chain(unsigned n)
{
	struct fb ext = { .len = 0 }, l4 = { .len = 0 }, ip = { .len = 0 };

	for (unsigned i = 0; i < n; i++) {
		put8(&ext, i + 1 < n ? 60 : 6);
		put8(&ext, 0);
		put8(&ext, 1);
		put8(&ext, 4);
		put32(&ext, 0);
	}
	tcp(&l4, TCP_HLEN / 4, PAYLOAD);
	ipv6(&ip, 60, &ext, &l4, -1);
	return ip;
}

Test(pcap, ipv6_eight_extension_headers_accepted_nine_malformed)
{
	struct fb ip8 = v6_dstopts_chain(8), ip9 = v6_dstopts_chain(9);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_RAW, &ip8, &seg, &st), 1);
	assert_v6_seg(&seg, PAYLOAD);
	cr_assert_eq(decode(DLT_RAW, &ip9, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
}

Test(pcap, ipv6_extension_header_longer_than_payload_is_malformed)
{
	struct fb ext = { .len = 0 }, l4 = { .len = 0 }, ip = { .len = 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	put8(&ext, 6);
	put8(&ext, 200); /* 1608 bytes */
	put8(&ext, 1);
	put8(&ext, 4);
	put32(&ext, 0);
	tcp(&l4, TCP_HLEN / 4, PAYLOAD);
	ipv6(&ip, 0, &ext, &l4, -1);
	cr_assert_eq(decode(DLT_RAW, &ip, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
}

Test(pcap, ipv6_fragment_header_is_a_fragment)
{
	struct fb ext = { .len = 0 }, l4 = { .len = 0 }, ip = { .len = 0 }, f;
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	put8(&ext, 6);
	put8(&ext, 0);
	put16(&ext, 1); /* offset 0, M set */
	put32(&ext, 0xdeadbeef);
	tcp(&l4, TCP_HLEN / 4, "01234567");
	ipv6(&ip, 44, &ext, &l4, -1);
	f = frame(hdr_eth6, &ip);
	/* Without the reader's state the fragment is only counted. */
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 0);
	cr_assert_eq(st.ip_fragments, 1);
}

Test(pcap, ipv6_atomic_fragment_is_a_whole_packet)
{
	struct fb ext = { .len = 0 }, l4 = { .len = 0 }, ip = { .len = 0 }, f;
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	/* Offset 0 and M clear: RFC 6946 §4, processed as a whole packet. */
	put8(&ext, 6);
	put8(&ext, 0);
	put16(&ext, 0);
	put32(&ext, 0xdeadbeef);
	tcp(&l4, TCP_HLEN / 4, PAYLOAD);
	ipv6(&ip, 44, &ext, &l4, -1);
	f = frame(hdr_eth6, &ip);
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	assert_v6_seg(&seg, PAYLOAD);
	cr_assert_eq(st.ip_fragments, 0);
}

Test(pcap, ipv6_payload_length_0_is_taken_from_the_frame)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	/* BIG TCP super-segments (and jumbograms) say 0. */
	tcp(&l4, TCP_HLEN / 4, PAYLOAD);
	ipv6(&ip, 6, NULL, &l4, 0);
	cr_assert_eq(decode(DLT_RAW, &ip, &seg, &st), 1);
	assert_v6_seg(&seg, PAYLOAD);
	cr_assert_eq(st.len_from_frame, 1);
}

Test(pcap, ipv6_udp_is_non_tcp)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	udp(&l4, "query");
	ipv6(&ip, 17, NULL, &l4, -1);
	cr_assert_eq(decode(DLT_RAW, &ip, &seg, &st), 0);
	cr_assert_eq(st.skipped_non_tcp, 1);
}

Test(pcap, ipv4_fragments_counted_by_stateless_decode)
{
	/* first fragment (MF), a middle one (MF + offset), the last (offset only) */
	static const uint16_t frags[] = { 0x2000, 0x2000 | 185, 370 };
	struct fb l4 = { .len = 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	tcp(&l4, TCP_HLEN / 4, "01234567"); /* a multiple of 8 bytes */
	for (size_t i = 0; i < 3; i++) {
		struct fb ip = { .len = 0 }, f;

		ipv4(&ip, 0, frags[i], 6, &l4, 0);
		f = frame(hdr_eth4, &ip);
		cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 0);
		cr_assert_eq(st.ip_fragments, 1, "frag field %#x", frags[i]);
	}
}

Test(pcap, ipv4_non_final_fragment_not_a_multiple_of_8_is_malformed)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 }, f;
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	tcp(&l4, TCP_HLEN / 4, "0123456"); /* RFC 791 §3.2: multiples of 8 but the last */
	ipv4(&ip, 0, 0x2000, 6, &l4, 0);
	f = frame(hdr_eth4, &ip);
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
	cr_assert_eq(st.skipped_tcp, 1);
}

Test(pcap, udp_skipped_as_non_tcp)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 }, f;
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	udp(&l4, "query");
	ipv4(&ip, 0, 0, 17, &l4, 0);
	f = frame(hdr_eth4, &ip);
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 0);
	cr_assert_eq(st.skipped_non_tcp, 1);
}

static struct fb arp_frame(void)
{
	struct fb f = { .len = 0 };

	eth(&f, NULL, 0, 0x0806);
	put16(&f, 1);      /* Ethernet */
	put16(&f, 0x0800); /* IPv4 */
	put8(&f, 6);
	put8(&f, 4);
	put16(&f, 1); /* request */
	for (int i = 0; i < 20; i++)
		put8(&f, i);
	for (int i = 0; i < 18; i++)
		put8(&f, 0); /* padding to 60 */
	return f;
}

Test(pcap, arp_skipped_as_non_ip)
{
	struct fb f = arp_frame();
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 0);
	cr_assert_eq(st.skipped_non_ip, 1);
}

Test(pcap, ethernet_8023_length_field_is_non_ip)
{
	struct fb ip = v4_tcp(PAYLOAD), f = { .len = 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	eth(&f, NULL, 0, (uint16_t)ip.len); /* 802.3 length, LLC follows */
	putb(&f, ip.b, ip.len);
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 0);
	cr_assert_eq(st.skipped_non_ip, 1);
}

Test(pcap, ipv4_ihl_below_5_is_malformed)
{
	struct fb ip = v4_tcp(PAYLOAD);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	ip.b[0] = 0x44;
	cr_assert_eq(decode(DLT_RAW, &ip, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
}

Test(pcap, ipv4_total_length_below_header_is_malformed)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	tcp(&l4, TCP_HLEN / 4, PAYLOAD);
	ipv4(&ip, 2, 0, 6, &l4, -(int)l4.len - 4); /* total 24 < IHL*4 = 28 */
	cr_assert_eq(decode(DLT_RAW, &ip, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
}

Test(pcap, tcp_data_offset_below_5_is_malformed)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	tcp(&l4, 4, PAYLOAD);
	ipv4(&ip, 0, 0, 6, &l4, 0);
	cr_assert_eq(decode(DLT_RAW, &ip, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
}

Test(pcap, tcp_header_longer_than_ip_payload_is_malformed)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	tcp(&l4, 15, ""); /* 60-byte header */
	ipv4(&ip, 0, 0, 6, &l4, -8); /* the IP length leaves 52 bytes for it */
	cr_assert_eq(decode(DLT_RAW, &ip, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);

	ip.len = 0;
	l4.len = 0;
	tcp(&l4, 5, "");
	ipv4(&ip, 0, 0, 6, &l4, -1); /* 19 bytes for a 20-byte header */
	cr_assert_eq(decode(DLT_RAW, &ip, &seg, &st), 0);
	cr_assert_eq(st.skipped_malformed, 1);
}

Test(pcap, truncated_tcp_header_skipped)
{
	struct fb ip = v4_tcp(PAYLOAD), f = frame(hdr_eth4, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	/* Cut inside the TCP options, as tcpdump -s 64 does. */
	cr_assert_eq(decode_n(DLT_EN10MB, &f, 64, &seg, &st), 0);
	cr_assert_eq(st.skipped_truncated, 1);
	/* ... and one byte short of the end of the header. */
	cr_assert_eq(decode_n(DLT_EN10MB, &f, 14 + 20 + TCP_HLEN - 1, &seg, &st), 0);
	cr_assert_eq(st.skipped_truncated, 1);
}

Test(pcap, payload_cut_by_snaplen_delivered_with_exact_len)
{
	struct fb ip = v4_tcp(PAYLOAD), f = frame(hdr_eth4, &ip);
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;
	size_t hdr = 14 + 20 + TCP_HLEN;

	cr_assert_eq(decode_n(DLT_EN10MB, &f, hdr + 5, &seg, &st), 1);
	cr_assert_eq(seg.len, 5);
	cr_assert_eq(seg.wire_len, strlen(PAYLOAD));
	cr_assert_eq(memcmp(seg.payload, "GET /", 5), 0);
	cr_assert_eq(st.truncated_payload, 1);
	cr_assert_eq(st.truncated_bytes, strlen(PAYLOAD) - 5);
	cr_assert_eq(st.tcp_payload_bytes, 5);

	/* Cut right after the header: a segment with nothing captured. */
	cr_assert_eq(decode_n(DLT_EN10MB, &f, hdr, &seg, &st), 1);
	cr_assert_eq(seg.len, 0);
	cr_assert_eq(seg.wire_len, strlen(PAYLOAD));
	cr_assert_eq(st.truncated_bytes, strlen(PAYLOAD));
}

Test(pcap, ethernet_padding_trimmed)
{
	struct fb l4 = { .len = 0 }, ip = { .len = 0 }, f;
	struct sc_tcp_seg seg;
	struct sc_pcap_stats st;

	tcp(&l4, 5, "hi"); /* 14 + 20 + 20 + 2 = 56 bytes: padded to 60 */
	ipv4(&ip, 0, 0, 6, &l4, 0);
	f = frame(hdr_eth4, &ip);
	for (int i = 0; i < 4; i++)
		put8(&f, 0xee);
	cr_assert_eq(f.len, 60);
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	cr_assert_eq(seg.len, 2);
	cr_assert_eq(seg.wire_len, 2);
	cr_assert_eq(memcmp(seg.payload, "hi", 2), 0);
	cr_assert_eq(st.truncated_payload, 0);

	/* The same for IPv6 (payload length trims). */
	l4.len = 0;
	ip.len = 0;
	tcp(&l4, 5, "hi");
	ipv6(&ip, 6, NULL, &l4, -1);
	f = frame(hdr_eth6, &ip);
	for (int i = 0; i < 6; i++)
		put8(&f, 0xee);
	cr_assert_eq(decode(DLT_EN10MB, &f, &seg, &st), 1);
	cr_assert_eq(seg.len, 2);
	cr_assert_eq(seg.wire_len, 2);
}

/* Every frame of this file, cut at every length and placed before the guard
 * page.  A TCP frame must be "truncated" while the headers are incomplete and
 * deliver exactly the captured payload bytes after that; others must give
 * their own outcome or "truncated". */
enum want { W_SEG, W_NON_IP, W_NON_TCP, W_FRAG, W_MALFORMED };

Test(pcap, every_frame_every_caplen_before_guard_page)
{
	struct fb v4 = v4_tcp(PAYLOAD), v6 = v6_tcp(PAYLOAD), arp = arp_frame(), l4 = { .len = 0 }, u = { .len = 0 },
		  fr4 = { .len = 0 }, pad = { .len = 0 }, ext = { .len = 0 }, hbh = { .len = 0 }, opt4 = { .len = 0 };
	struct {
		const char *name;
		int dlt;
		struct fb f;
		enum want want;
		size_t hdr; /* bytes before the TCP payload */
		size_t plen; /* payload bytes on the wire */
	} c[32];
	size_t n = 0;

	udp(&l4, "query");
	ipv4(&u, 0, 0, 17, &l4, 0);
	l4.len = 0;
	tcp(&l4, TCP_HLEN / 4, "01234567"); /* non-final fragments hold multiples of 8 bytes */
	ipv4(&fr4, 0, 0x2000, 6, &l4, 0);
	l4.len = 0;
	tcp(&l4, TCP_HLEN / 4, PAYLOAD);
	ipv4(&opt4, 3, 0, 6, &l4, 0);
	put8(&ext, 6);
	put8(&ext, 0);
	put16(&ext, 0);
	put32(&ext, 0);
	ipv6(&hbh, 0, &ext, &l4, -1);
	l4.len = 0;
	tcp(&l4, 5, "hi");
	ipv4(&pad, 0, 0, 6, &l4, 0);

#define ADD(nm, d, frm, w, h, p)                                                                  \
	do {                                                                                      \
		c[n].name = nm;                                                                   \
		c[n].dlt = d;                                                                     \
		c[n].f = frm;                                                                     \
		c[n].want = w;                                                                    \
		c[n].hdr = h;                                                                     \
		c[n].plen = p;                                                                    \
		n++;                                                                              \
	} while (0)
	size_t P = strlen(PAYLOAD), T4 = 20 + TCP_HLEN, T6 = 40 + TCP_HLEN;

	ADD("eth4", DLT_EN10MB, frame(hdr_eth4, &v4), W_SEG, 14 + T4, P);
	ADD("eth6", DLT_EN10MB, frame(hdr_eth6, &v6), W_SEG, 14 + T6, P);
	ADD("vlan", DLT_EN10MB, frame(hdr_vlan, &v4), W_SEG, 18 + T4, P);
	ADD("qinq", DLT_EN10MB, frame(hdr_qinq, &v4), W_SEG, 22 + T4, P);
	ADD("9100", DLT_EN10MB, frame(hdr_qinq_9100, &v6), W_SEG, 26 + T6, P);
	ADD("sll", DLT_LINUX_SLL, frame(hdr_sll, &v4), W_SEG, 16 + T4, P);
	ADD("sll-vlan", DLT_LINUX_SLL, frame(hdr_sll_vlan, &v6), W_SEG, 20 + T6, P);
	ADD("sll2", DLT_LINUX_SLL2, frame(hdr_sll2, &v6), W_SEG, 20 + T6, P);
	ADD("raw4", DLT_RAW, v4, W_SEG, T4, P);
	ADD("raw6", DLT_RAW, v6, W_SEG, T6, P);
	ADD("linktype-raw", 101, v4, W_SEG, T4, P);
	ADD("ipv4", DLT_IPV4, v4, W_SEG, T4, P);
	ADD("ipv6", DLT_IPV6, v6, W_SEG, T6, P);
	ADD("null", DLT_NULL, frame(hdr_null_le_v4, &v4), W_SEG, 4 + T4, P);
	ADD("loop", DLT_LOOP, frame(hdr_loop_v4, &v4), W_SEG, 4 + T4, P);
	ADD("ipv4-options", DLT_RAW, opt4, W_SEG, 12 + T4, P);
	ADD("ipv6-hbh", DLT_RAW, hbh, W_SEG, 8 + T6, P);
	{
		struct fb f = frame(hdr_eth4, &pad);

		for (int i = 0; i < 4; i++)
			put8(&f, 0);
		ADD("padded", DLT_EN10MB, f, W_SEG, 14 + 40, 2);
	}
	ADD("arp", DLT_EN10MB, arp, W_NON_IP, 0, 0);
	ADD("udp", DLT_EN10MB, frame(hdr_eth4, &u), W_NON_TCP, 0, 0);
	ADD("fragment", DLT_EN10MB, frame(hdr_eth4, &fr4), W_FRAG, 0, 0);
	{
		struct fb bad = v4;

		bad.b[0] = 0x43;
		ADD("bad-ihl", DLT_RAW, bad, W_MALFORMED, 0, 0);
	}
#undef ADD

	for (size_t i = 0; i < n; i++) {
		for (size_t cap = 0; cap <= c[i].f.len; cap++) {
			struct sc_tcp_seg seg;
			struct sc_pcap_stats st;
			int rc = decode_n(c[i].dlt, &c[i].f, cap, &seg, &st);

			if (c[i].want == W_SEG && cap < c[i].hdr) {
				cr_assert_eq(st.skipped_truncated, 1, "%s caplen %zu", c[i].name, cap);
			} else if (c[i].want == W_SEG) {
				size_t got = cap - c[i].hdr < c[i].plen ? cap - c[i].hdr : c[i].plen;

				cr_assert_eq(rc, 1, "%s caplen %zu", c[i].name, cap);
				cr_assert_eq(seg.payload, guard() - cap + c[i].hdr, "%s caplen %zu", c[i].name, cap);
				cr_assert_eq(seg.len, got, "%s caplen %zu", c[i].name, cap);
				cr_assert_eq(seg.wire_len, c[i].plen, "%s caplen %zu", c[i].name, cap);
			} else {
				uint64_t own = c[i].want == W_NON_IP	? st.skipped_non_ip
					       : c[i].want == W_NON_TCP ? st.skipped_non_tcp
					       : c[i].want == W_FRAG	? st.ip_fragments
									: st.skipped_malformed;

				cr_assert_eq(rc, 0, "%s caplen %zu", c[i].name, cap);
				cr_assert(own == 1 || st.skipped_truncated == 1, "%s caplen %zu", c[i].name, cap);
				if (cap == c[i].f.len)
					cr_assert_eq(own, 1, "%s at full length", c[i].name);
			}
		}
	}
}

/* ---- whole files built in memory ------------------------------------------------------------ */

struct pbuf {
	uint8_t b[16384];
	size_t len;
};

static void pb_le32(struct pbuf *p, uint32_t v)
{
	cr_assert_leq(4, sizeof(p->b) - p->len);
	for (int i = 0; i < 4; i++)
		p->b[p->len++] = (uint8_t)(v >> (8 * i));
}

static void pb_le16(struct pbuf *p, uint16_t v)
{
	cr_assert_leq(2, sizeof(p->b) - p->len);
	p->b[p->len++] = (uint8_t)v;
	p->b[p->len++] = (uint8_t)(v >> 8);
}

#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du

static void pcap_file_hdr(struct pbuf *p, uint32_t magic, uint32_t linktype, uint32_t snaplen)
{
	p->len = 0;
	pb_le32(p, magic);
	pb_le16(p, 2);
	pb_le16(p, 4);
	pb_le32(p, 0);
	pb_le32(p, 0);
	pb_le32(p, snaplen);
	pb_le32(p, linktype);
}

static void pcap_rec(struct pbuf *p, uint32_t sec, uint32_t frac, const struct fb *f, size_t caplen, uint32_t len)
{
	pb_le32(p, sec);
	pb_le32(p, frac);
	pb_le32(p, (uint32_t)caplen);
	pb_le32(p, len);
	cr_assert_leq(caplen, sizeof(p->b) - p->len);
	memcpy(p->b + p->len, f->b, caplen);
	p->len += caplen;
}

/* sc_pcap_fopen over the buffer; *fp is the stream (closed by sc_pcap_close). */
static struct sc_pcap *open_mem(struct pbuf *p, struct sc_diag *diag, FILE **fp)
{
	FILE *f = fmemopen(p->b, p->len, "rb");
	struct sc_pcap *pc;

	cr_assert_not_null(f);
	pc = sc_pcap_fopen(f, diag);
	if (fp)
		*fp = f;
	else if (!pc)
		fclose(f);
	return pc;
}

Test(pcap, fopen_reads_segments_from_a_memory_stream)
{
	struct pbuf pb;
	struct fb ip = v4_tcp(PAYLOAD), f = frame(hdr_eth4, &ip), a = arp_frame();
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;

	pcap_file_hdr(&pb, MAGIC_US, DLT_EN10MB, 65535);
	pcap_rec(&pb, 1700000000, 123456, &a, a.len, (uint32_t)a.len);
	pcap_rec(&pb, 1700000001, 999999, &f, f.len, (uint32_t)f.len);
	p = open_mem(&pb, &diag, NULL);
	cr_assert_not_null(p, "%s", diag.msg);
	cr_assert_eq(sc_pcap_linktype(p), DLT_EN10MB);
	cr_assert_str_eq(sc_pcap_linktype_name(p), "EN10MB");
	cr_assert_eq(sc_pcap_snaplen(p), 65535);
	cr_assert_not(sc_pcap_is_pcapng(p));
	cr_assert_eq(sc_pcap_next(p, &seg, &diag), 1);
	assert_v4_seg(&seg, PAYLOAD);
	cr_assert_eq(seg.frame, 2);
	cr_assert_eq(seg.ts_ns, 1700000001999999000ull, "microseconds become nanoseconds");
	cr_assert_eq(sc_pcap_next(p, &seg, &diag), 0);
	cr_assert_eq(sc_pcap_next(p, &seg, &diag), 0, "end of file stays the end");
	cr_assert_eq(sc_pcap_stats(p)->frames, 2);
	cr_assert_eq(sc_pcap_stats(p)->bytes, a.len + f.len);
	cr_assert_eq(sc_pcap_stats(p)->skipped_non_ip, 1);
	cr_assert_eq(sc_pcap_stats(p)->tcp_segments, 1);
	sc_pcap_close(p);
}

Test(pcap, nanosecond_pcap_timestamps_exact)
{
	struct pbuf pb;
	struct fb ip = v6_tcp(PAYLOAD);
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;

	pcap_file_hdr(&pb, MAGIC_NS, 101, 262144);
	pcap_rec(&pb, 1700000000, 123456789, &ip, ip.len, (uint32_t)ip.len);
	p = open_mem(&pb, &diag, NULL);
	cr_assert_not_null(p, "%s", diag.msg);
	cr_assert_eq(sc_pcap_linktype(p), DLT_RAW, "LINKTYPE_RAW 101 is reported as DLT_RAW");
	cr_assert_str_eq(sc_pcap_linktype_name(p), "RAW");
	cr_assert_eq(sc_pcap_next(p, &seg, &diag), 1);
	cr_assert_eq(seg.ts_ns, 1700000000123456789ull);
	assert_v6_seg(&seg, PAYLOAD);
	sc_pcap_close(p);
}

Test(pcap, ip_length_beyond_a_complete_frame_is_malformed)
{
	struct pbuf pb;
	struct fb l4 = { .len = 0 }, ip = { .len = 0 }, f;
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;

	tcp(&l4, TCP_HLEN / 4, PAYLOAD);
	ipv4(&ip, 0, 0, 6, &l4, 10); /* claims 10 bytes more than there are */
	f = frame(hdr_eth4, &ip);
	pcap_file_hdr(&pb, MAGIC_US, DLT_EN10MB, 262144);
	pcap_rec(&pb, 1, 0, &f, f.len, (uint32_t)f.len);      /* complete: the IP header lies */
	pcap_rec(&pb, 2, 0, &f, f.len, (uint32_t)f.len + 10); /* 10 bytes not captured */
	pcap_rec(&pb, 3, 0, &f, f.len, (uint32_t)f.len + 9);  /* still one byte too long */
	p = open_mem(&pb, &diag, NULL);
	cr_assert_not_null(p, "%s", diag.msg);
	cr_assert_eq(sc_pcap_next(p, &seg, &diag), 1);
	cr_assert_eq(seg.frame, 2);
	cr_assert_eq(seg.len, strlen(PAYLOAD));
	cr_assert_eq(seg.wire_len, strlen(PAYLOAD) + 10);
	cr_assert_eq(sc_pcap_next(p, &seg, &diag), 0);
	cr_assert_eq(sc_pcap_stats(p)->skipped_malformed, 2);
	cr_assert_eq(sc_pcap_stats(p)->truncated_payload, 1);
	cr_assert_eq(sc_pcap_stats(p)->truncated_bytes, 10);
	sc_pcap_close(p);
}

Test(pcap, short_header_of_a_complete_frame_is_malformed_not_truncated)
{
	struct pbuf pb;
	struct fb ip = v4_tcp(PAYLOAD), f = frame(hdr_eth4, &ip);
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;

	pcap_file_hdr(&pb, MAGIC_US, DLT_EN10MB, 262144);
	pcap_rec(&pb, 1, 0, &f, 30, 30);          /* the frame really was 30 bytes */
	pcap_rec(&pb, 2, 0, &f, 30, (uint32_t)f.len); /* the snaplen cut it */
	p = open_mem(&pb, &diag, NULL);
	cr_assert_not_null(p, "%s", diag.msg);
	cr_assert_eq(sc_pcap_next(p, &seg, &diag), 0);
	cr_assert_eq(sc_pcap_stats(p)->skipped_malformed, 1);
	cr_assert_eq(sc_pcap_stats(p)->skipped_truncated, 1);
	sc_pcap_close(p);
}

Test(pcap, unsupported_link_type_rejected_and_stream_left_open)
{
	struct pbuf pb;
	struct sc_diag diag = { 0 };
	uint8_t magic[4];
	FILE *f;

	pcap_file_hdr(&pb, MAGIC_US, DLT_IEEE802_11, 262144);
	cr_assert_null(open_mem(&pb, &diag, &f));
	cr_assert_eq(diag.err, SC_EUNSUPP);
	cr_assert_str_eq(diag.msg, "unsupported link type IEEE802_11 (105)");
	/* Ownership moves only on success: the stream is still ours. */
	cr_assert_eq(fseek(f, 0, SEEK_SET), 0);
	cr_assert_eq(fread(magic, 1, 4, f), 4);
	cr_assert_eq(magic[0], 0xd4);
	cr_assert_eq(fclose(f), 0);
}

Test(pcap, fopen_garbage_fails_and_leaves_stream_open)
{
	struct pbuf pb;
	struct sc_diag diag = { 0 };
	FILE *f;

	memcpy(pb.b, "this is not a capture file at all", 33);
	pb.len = 33;
	cr_assert_null(open_mem(&pb, &diag, &f));
	cr_assert_eq(diag.err, SC_EFORMAT);
	cr_assert_str_eq(diag.msg, "unknown file format");
	cr_assert_eq(fclose(f), 0);
}

Test(pcap, open_empty_file_is_truncated)
{
	struct pbuf pb;
	struct sc_diag diag = { 0 };

	pb.len = 0;
	cr_assert_null(open_mem(&pb, &diag, NULL));
	cr_assert_eq(diag.err, SC_ETRUNC, "%s", diag.msg);
	cr_assert_str_eq(diag.msg, "truncated dump file; tried to read 4 file header bytes, only got 0");
}

Test(pcap, open_missing_file_reports_errno)
{
	struct sc_diag diag = { 0 };

	cr_assert_null(sc_pcap_open("/nonexistent/sockcap/x.pcap", &diag));
	cr_assert_eq(diag.err, -ENOENT);
	cr_assert_str_eq(diag.msg, "No such file or directory");
}

Test(pcap, corrupt_record_length_reported_with_frame_number)
{
	struct pbuf pb;
	struct fb ip = v4_tcp(PAYLOAD);
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;
	size_t rec2;

	pcap_file_hdr(&pb, MAGIC_US, DLT_RAW, 262144);
	pcap_rec(&pb, 1, 0, &ip, ip.len, (uint32_t)ip.len);
	rec2 = pb.len;
	pb_le32(&pb, 2);
	pb_le32(&pb, 0);
	pb_le32(&pb, 0x7fffffff); /* caplen */
	pb_le32(&pb, 0x7fffffff);
	p = open_mem(&pb, &diag, NULL);
	cr_assert_not_null(p, "%s", diag.msg);
	cr_assert_eq(sc_pcap_next(p, &seg, &diag), 1);
	cr_assert_eq(sc_pcap_next(p, &seg, &diag), SC_ECORRUPT, "%s", diag.msg);
	cr_assert_eq(strncmp(diag.msg, "frame 2: invalid packet capture length 2147483647", 49), 0, "%s", diag.msg);
	cr_assert_eq(diag.offset, rec2);
	sc_pcap_close(p);
}

/* The offset of a damaged record is counted from the record sizes, not asked
 * of the stream per frame: it must stay exact after many records, after
 * records that libpcap reports cut to the snaplen (it reads them whole), and
 * wherever the damage falls. */
Test(pcap, damaged_record_offset_stays_exact_after_records_cut_to_the_snaplen)
{
	struct fb ip = v4_tcp(PAYLOAD);
	uint32_t snap = (uint32_t)ip.len - 8;

	for (int nrec = 1; nrec <= 12; nrec++) {
		static struct pbuf pb;
		struct sc_diag diag = { 0 };
		struct sc_tcp_seg seg;
		struct sc_pcap *p;
		size_t bad;
		int got = 0, rc;

		/* Records 3, 6, 9, ... hold more than the snaplen. */
		pcap_file_hdr(&pb, MAGIC_US, DLT_RAW, snap);
		for (int i = 1; i <= nrec; i++)
			pcap_rec(&pb, (uint32_t)i, 0, &ip, i % 3 == 0 ? ip.len : snap - 4, (uint32_t)ip.len);
		bad = pb.len;
		pb_le32(&pb, 99);
		pb_le32(&pb, 0);
		pb_le32(&pb, 0x7fffffff); /* caplen */
		pb_le32(&pb, 0x7fffffff);
		p = open_mem(&pb, &diag, NULL);
		cr_assert_not_null(p, "%s", diag.msg);
		while ((rc = sc_pcap_next(p, &seg, &diag)) == 1)
			got++;
		cr_assert_eq(rc, SC_ECORRUPT, "%d records: %s", nrec, diag.msg);
		cr_assert_eq(diag.offset, bad, "%d records: offset %" PRIu64 ", want %zu", nrec, diag.offset, bad);
		sc_pcap_close(p);
	}
}

/* ---- committed captures (tests/pcaps/, scripts/make-test-pcaps.py) ------------------------- */

#define PORT 18431
#define NFRAMES 24
#define REQUEST "GET / HTTP/1.1\r\nHost: 127.0.0.1:18431\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
#define FIRST_REQ_TS_NS 1795564988963322000ull
#define FIRST_REQ_SEQ 2577785542u
#define FIRST_REQ_ACK 2508153687u

struct seginfo {
	uint64_t ts_ns, frame;
	uint8_t family, flags;
	uint16_t sport, dport, window;
	uint32_t seq, ack, len, wire_len;
	uint8_t data[512]; /* the payload (every one of these captures has less) */
};

struct capture {
	struct sc_pcap_stats st;
	int dlt;
	char dlt_name[32];
	uint32_t snaplen;
	bool pcapng;
	size_t nseg;
	struct seginfo seg[64];
	int rc;              /* last sc_pcap_next return */
	struct sc_diag diag; /* its diag if < 0 */
};

static void fixture_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/tests/pcaps/%s", sc_test_srcdir(), name);
}

static void read_capture(const char *name, struct capture *c)
{
	char path[4096];
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;

	memset(c, 0, sizeof(*c));
	fixture_path(path, sizeof(path), name);
	p = sc_pcap_open(path, &diag);
	cr_assert_not_null(p, "%s: %s (is top_srcdir set?)", path, diag.msg);
	c->pcapng = sc_pcap_is_pcapng(p);
	while ((c->rc = sc_pcap_next(p, &seg, &c->diag)) == 1) {
		struct seginfo *s;

		cr_assert_lt(c->nseg, sizeof(c->seg) / sizeof(c->seg[0]));
		s = &c->seg[c->nseg++];
		s->ts_ns = seg.ts_ns;
		s->frame = seg.frame;
		s->family = seg.family;
		s->flags = seg.flags;
		s->sport = seg.src.port;
		s->dport = seg.dst.port;
		s->window = seg.window;
		s->seq = seg.seq;
		s->ack = seg.ack;
		s->len = seg.len;
		s->wire_len = seg.wire_len;
		cr_assert_leq(seg.len, sizeof(s->data));
		memcpy(s->data, seg.payload, seg.len);
	}
	c->st = *sc_pcap_stats(p);
	/* A pcapng file describes its interfaces as it goes: asked at the end. */
	c->dlt = sc_pcap_linktype(p);
	snprintf(c->dlt_name, sizeof(c->dlt_name), "%s", sc_pcap_linktype_name(p));
	c->snaplen = sc_pcap_snaplen(p);
	sc_pcap_close(p);
}

static void assert_stats(const struct capture *c, const char *name, uint64_t frames, uint64_t bytes,
			 uint64_t segs, uint64_t payload, uint64_t truncated, uint64_t trunc_payload,
			 uint64_t trunc_bytes)
{
	cr_assert_eq(c->st.frames, frames, "%s frames %" PRIu64, name, c->st.frames);
	cr_assert_eq(c->st.bytes, bytes, "%s bytes %" PRIu64, name, c->st.bytes);
	cr_assert_eq(c->st.tcp_segments, segs, "%s segments %" PRIu64, name, c->st.tcp_segments);
	cr_assert_eq(c->nseg, segs, "%s", name);
	cr_assert_eq(c->st.tcp_payload_bytes, payload, "%s payload %" PRIu64, name, c->st.tcp_payload_bytes);
	cr_assert_eq(c->st.skipped_non_ip, 0, "%s", name);
	cr_assert_eq(c->st.skipped_non_tcp, 0, "%s", name);
	cr_assert_eq(c->st.skipped_fragments, 0, "%s", name);
	cr_assert_eq(c->st.skipped_malformed, 0, "%s", name);
	cr_assert_eq(c->st.skipped_truncated, truncated, "%s", name);
	cr_assert_eq(c->st.truncated_payload, trunc_payload, "%s", name);
	cr_assert_eq(c->st.truncated_bytes, trunc_bytes, "%s", name);
}

/* The first request segment: frame 4, 127.0.0.1:59126 -> 127.0.0.1:18431. */
static void assert_first_request(const struct capture *c, const char *name, uint8_t family)
{
	const struct seginfo *s = &c->seg[3];

	cr_assert_geq(c->nseg, 4, "%s", name);
	cr_assert_eq(s->frame, 4, "%s", name);
	cr_assert_eq(s->ts_ns, FIRST_REQ_TS_NS, "%s ts %" PRIu64, name, s->ts_ns);
	cr_assert_eq(s->family, family, "%s", name);
	cr_assert_eq(s->sport, 59126, "%s", name);
	cr_assert_eq(s->dport, PORT, "%s", name);
	cr_assert_eq(s->seq, FIRST_REQ_SEQ, "%s", name);
	cr_assert_eq(s->ack, FIRST_REQ_ACK, "%s", name);
	cr_assert_eq(s->flags, SC_TCP_PSH | SC_TCP_ACK, "%s", name);
	cr_assert_eq(s->window, 64, "%s", name);
	cr_assert_eq(s->len, strlen(REQUEST), "%s len %" PRIu32, name, s->len);
	cr_assert_eq(s->wire_len, strlen(REQUEST), "%s", name);
	cr_assert_eq(memcmp(s->data, REQUEST, strlen(REQUEST)), 0, "%s: %.*s", name, (int)s->len, s->data);
}

/* 24 frames of two connections: 2 x (79 + 185 + 84) payload bytes. */
#define PAYLOAD_BYTES 696
#define ETH_BYTES 2312 /* captured bytes of the Ethernet file */
#define IP_BYTES (ETH_BYTES - NFRAMES * 14)

Test(pcap, lo_en10mb_capture_exact_counts)
{
	struct capture c;

	read_capture("lo-en10mb.pcap", &c);
	cr_assert_eq(c.rc, 0, "%s", c.diag.msg);
	cr_assert_eq(c.dlt, DLT_EN10MB);
	cr_assert_str_eq(c.dlt_name, "EN10MB");
	cr_assert_eq(c.snaplen, 262144);
	cr_assert_not(c.pcapng);
	assert_stats(&c, "lo-en10mb", NFRAMES, ETH_BYTES, NFRAMES, PAYLOAD_BYTES, 0, 0, 0);
	assert_first_request(&c, "lo-en10mb", SC_AF_INET);
	/* The SYN, and the response header that starts the reply. */
	cr_assert_eq(c.seg[0].flags, SC_TCP_SYN);
	cr_assert_eq(c.seg[0].seq, 2577785541u);
	cr_assert_eq(c.seg[1].flags, SC_TCP_SYN | SC_TCP_ACK);
	cr_assert_eq(c.seg[5].len, 185);
	cr_assert_eq(memcmp(c.seg[5].data, "HTTP/1.0 200 OK\r\n", 17), 0);
	cr_assert_eq(c.seg[7].len, 84);
	cr_assert_eq(memcmp(c.seg[7].data, "<!doctype html>\n", 16), 0);
	for (size_t i = 0; i < c.nseg; i++)
		cr_assert_eq(c.seg[i].frame, i + 1);
}

/* The segments of `c` are those of `ref` (frame numbers apart when
 * !same_frames: fragments and merged segments renumber them). */
static void assert_same_segments(const struct capture *ref, const struct capture *c, const char *name,
				 bool same_frames)
{
	cr_assert_eq(c->nseg, ref->nseg, "%s: %zu segments", name, c->nseg);
	for (size_t k = 0; k < c->nseg; k++) {
		const struct seginfo *a = &ref->seg[k], *b = &c->seg[k];

		cr_assert(a->ts_ns == b->ts_ns && (!same_frames || a->frame == b->frame) && a->flags == b->flags &&
				  a->sport == b->sport && a->dport == b->dport && a->window == b->window &&
				  a->seq == b->seq && a->ack == b->ack && a->len == b->len &&
				  a->wire_len == b->wire_len && memcmp(a->data, b->data, a->len) == 0,
			  "%s: segment %zu differs", name, k);
	}
}

/* Every frame and reassembled datagram has one outcome; every fragment one fate. */
static void assert_invariants(const struct capture *c, const char *name)
{
	const struct sc_pcap_stats *st = &c->st;

	cr_assert_eq(st->frames + st->reassembled,
		     st->tcp_segments + st->ip_fragments + st->skipped_non_ip + st->skipped_non_tcp +
			     st->skipped_truncated + st->skipped_malformed + st->skipped_link_type,
		     "%s: every frame has one outcome", name);
	cr_assert_eq(st->ip_fragments, st->fragments_used + st->skipped_fragments, "%s: every fragment one fate",
		     name);
}

Test(pcap, every_link_type_variant_delivers_identical_segments)
{
	static const struct {
		const char *file;
		int dlt;
		const char *name;
		uint64_t bytes;
		uint8_t family;
		bool pcapng;
		bool tunnel;
	} v[] = {
		{ "vlan-qinq.pcap", DLT_EN10MB, "EN10MB", ETH_BYTES + NFRAMES * 8, SC_AF_INET, false, false },
		{ "sll.pcap", DLT_LINUX_SLL, "LINUX_SLL", IP_BYTES + NFRAMES * 16, SC_AF_INET, false, false },
		{ "sll2.pcap", DLT_LINUX_SLL2, "LINUX_SLL2", IP_BYTES + NFRAMES * 20, SC_AF_INET, false, false },
		{ "raw.pcap", DLT_RAW, "RAW", IP_BYTES, SC_AF_INET, false, false },
		{ "null.pcap", DLT_NULL, "NULL", IP_BYTES + NFRAMES * 4, SC_AF_INET, false, false },
		{ "loop.pcap", DLT_LOOP, "LOOP", IP_BYTES + NFRAMES * 4, SC_AF_INET, false, false },
		{ "ipv6-raw.pcap", DLT_RAW, "RAW", IP_BYTES + NFRAMES * 20, SC_AF_INET6, false, false },
		{ "lo-en10mb.pcapng", DLT_EN10MB, "EN10MB", ETH_BYTES, SC_AF_INET, true, false },
		/* Issue 14: encapsulations (scripts/make-test-pcaps.py says how each is built). */
		{ "pppoe.pcap", DLT_EN10MB, "EN10MB", IP_BYTES + NFRAMES * (14 + 8), SC_AF_INET, false, false },
		{ "llc-snap.pcap", DLT_EN10MB, "EN10MB", IP_BYTES + NFRAMES * (14 + 8), SC_AF_INET, false, false },
		{ "mpls.pcap", DLT_EN10MB, "EN10MB", IP_BYTES + NFRAMES * (14 + 8), SC_AF_INET, false, false },
		{ "vxlan.pcap", DLT_EN10MB, "EN10MB", ETH_BYTES + NFRAMES * (14 + 20 + 8 + 8), SC_AF_INET, false, true },
		{ "geneve.pcap", DLT_EN10MB, "EN10MB", ETH_BYTES + NFRAMES * (14 + 40 + 8 + 8 + 8), SC_AF_INET, false,
		  true },
		{ "gre.pcap", DLT_EN10MB, "EN10MB", IP_BYTES + NFRAMES * (14 + 20 + 12), SC_AF_INET, false, true },
		{ "erspan.pcap", DLT_EN10MB, "EN10MB", ETH_BYTES + NFRAMES * (14 + 20 + 8 + 8), SC_AF_INET, false, true },
		{ "ip4in6.pcap", DLT_RAW, "RAW", IP_BYTES + NFRAMES * 40, SC_AF_INET, false, true },
		{ "chdlc.pcap", 104, "C_HDLC", IP_BYTES + NFRAMES * 4, SC_AF_INET, false, false },
		{ "ppp.pcap", DLT_PPP, "PPP", IP_BYTES + NFRAMES * 4, SC_AF_INET, false, false },
		{ "nflog.pcap", 239, "NFLOG", 0, SC_AF_INET, false, false },
		{ "arcnet.pcap", 129, "ARCNET_LINUX", IP_BYTES + NFRAMES * 8, SC_AF_INET, false, false },
		{ "ipv6-atomic.pcap", DLT_RAW, "RAW", IP_BYTES + NFRAMES * (20 + 8), SC_AF_INET6, false, false },
		/* Two sections, one interface each: EN10MB, then NULL (big-endian, ns). */
		{ "multi-if.pcapng", DLT_EN10MB, "EN10MB", ETH_BYTES - (NFRAMES / 2) * 10, SC_AF_INET, true, false },
	};
	static struct capture ref, c; /* large: keep them off the stack */

	read_capture("lo-en10mb.pcap", &ref);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		read_capture(v[i].file, &c);
		cr_assert_eq(c.rc, 0, "%s: %s", v[i].file, c.diag.msg);
		cr_assert_eq(c.dlt, v[i].dlt, "%s", v[i].file);
		cr_assert_str_eq(c.dlt_name, v[i].name, "%s", v[i].file);
		cr_assert_eq(c.pcapng, v[i].pcapng, "%s", v[i].file);
		assert_stats(&c, v[i].file, NFRAMES, v[i].bytes ? v[i].bytes : c.st.bytes, NFRAMES, PAYLOAD_BYTES, 0, 0,
			     0);
		cr_assert_eq(c.st.tunneled, v[i].tunnel ? NFRAMES : 0, "%s", v[i].file);
		assert_first_request(&c, v[i].file, v[i].family);
		assert_same_segments(&ref, &c, v[i].file, true);
	}
}

Test(pcap, ipv4_fragments_out_of_order_duplicated_and_overlapping_reassembled)
{
	static struct capture ref, c;

	read_capture("lo-en10mb.pcap", &ref);
	read_capture("frag-v4.pcap", &c);
	cr_assert_eq(c.rc, 0, "%s", c.diag.msg);
	assert_same_segments(&ref, &c, "frag-v4.pcap", false);
	assert_invariants(&c, "frag-v4.pcap");
	/* Six data segments: requests of 111, heads of 217, bodies of 116 IP
	 * payload bytes, in 48-byte pieces (3, 5, 3), the first three of each
	 * with a duplicate and an overlapping piece (2 more). */
	cr_assert_eq(c.st.reassembled, 6);
	cr_assert_eq(c.st.ip_fragments, 2 * (3 + 5 + 3) + 6 * 2);
	cr_assert_eq(c.st.fragments_used, c.st.ip_fragments);
	cr_assert_eq(c.st.frag_overlaps, 6 * 2 + 6, "each duplicate, overlap, and the piece it overlapped last");
	cr_assert_eq(c.st.skipped_fragments, 0);
	cr_assert_eq(c.st.frag_conflicts, 0);
	cr_assert_eq(c.st.skipped_tcp, 0);
}

Test(pcap, ipv4_fragments_whose_overlap_disagrees_are_given_up_and_counted)
{
	static struct capture ref, c;

	read_capture("lo-en10mb.pcap", &ref);
	read_capture("frag-v4-conflict.pcap", &c);
	cr_assert_eq(c.rc, 0, "%s", c.diag.msg);
	assert_invariants(&c, "frag-v4-conflict.pcap");
	/* RFC 5722 §4: the first request's datagram, with all its 6 pieces. */
	cr_assert_eq(c.st.frag_conflicts, 1);
	cr_assert_eq(c.st.reassembled, 5);
	cr_assert_eq(c.st.skipped_fragments, 6);
	cr_assert_eq(c.st.skipped_tcp, 6, "the lost pieces carried TCP");
	cr_assert_eq(c.nseg, ref.nseg - 1);
	for (size_t k = 0; k < c.nseg; k++)
		cr_assert_eq(c.seg[k].seq, ref.seg[k < 3 ? k : k + 1].seq, "segment %zu", k);
}

Test(pcap, ipv6_fragments_out_of_order_reassembled)
{
	static struct capture ref, c;

	read_capture("ipv6-raw.pcap", &ref);
	read_capture("frag-v6.pcap", &c);
	cr_assert_eq(c.rc, 0, "%s", c.diag.msg);
	assert_same_segments(&ref, &c, "frag-v6.pcap", false);
	assert_invariants(&c, "frag-v6.pcap");
	cr_assert_eq(c.st.reassembled, 6);
	cr_assert_eq(c.st.ip_fragments, 2 * (3 + 5 + 3));
	cr_assert_eq(c.st.skipped_tcp, 0);
}

Test(pcap, tso_super_segment_with_ipv4_total_length_0_takes_the_frame_length)
{
	static struct capture ref, c;
	uint8_t want[2][2048], got[2][2048];
	size_t nw[2] = { 0, 0 }, ng[2] = { 0, 0 };

	read_capture("lo-en10mb.pcap", &ref);
	read_capture("tso.pcap", &c);
	cr_assert_eq(c.rc, 0, "%s", c.diag.msg);
	assert_invariants(&c, "tso.pcap");
	cr_assert_eq(c.st.len_from_frame, 2, "each response's head and body in one frame");
	cr_assert_eq(c.nseg, NFRAMES - 2);
	cr_assert_eq(c.st.tcp_payload_bytes, PAYLOAD_BYTES);
	/* The server's stream bytes are the same. */
	for (size_t k = 0; k < ref.nseg; k++) {
		int d = ref.seg[k].sport == PORT;

		cr_assert_leq(ref.seg[k].len, sizeof(want[d]) - nw[d]);
		memcpy(want[d] + nw[d], ref.seg[k].data, ref.seg[k].len);
		nw[d] += ref.seg[k].len;
	}
	for (size_t k = 0; k < c.nseg; k++) {
		int d = c.seg[k].sport == PORT;

		cr_assert_leq(c.seg[k].len, sizeof(got[d]) - ng[d]);
		memcpy(got[d] + ng[d], c.seg[k].data, c.seg[k].len);
		ng[d] += c.seg[k].len;
	}
	cr_assert(nw[0] == ng[0] && memcmp(want[0], got[0], nw[0]) == 0);
	cr_assert(nw[1] == ng[1] && memcmp(want[1], got[1], nw[1]) == 0);
	cr_assert_eq(c.seg[5].len, 185 + 84);
	cr_assert_eq(c.seg[5].wire_len, 185 + 84);
}

Test(pcap, pcapng_sections_and_interfaces_of_different_link_types)
{
	char path[4096];
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	const struct sc_pcap_iface *i;
	struct sc_pcap *p;
	char buf[512];
	int n = 0;

	fixture_path(path, sizeof(path), "multi-if.pcapng");
	p = sc_pcap_open(path, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	while (sc_pcap_next(p, &seg, &diag) == 1)
		n++;
	cr_assert_eq(n, NFRAMES);
	cr_assert_eq(sc_pcap_ninterfaces(p), 2);
	i = sc_pcap_interface(p, 0);
	cr_assert(i->dlt == DLT_EN10MB && i->decoded && i->frames == NFRAMES / 2 && i->tcp_segments == NFRAMES / 2);
	cr_assert_str_eq(i->name, "eth0");
	i = sc_pcap_interface(p, 1);
	cr_assert(i->dlt == DLT_NULL && i->decoded && i->frames == NFRAMES / 2 && i->tcp_segments == NFRAMES / 2);
	cr_assert_str_eq(i->name, "lo0");
	cr_assert_null(sc_pcap_interface(p, 2));
	cr_assert_eq(sc_pcap_stats(p)->skipped_blocks, 2, "the name resolution and statistics blocks");
	sc_pcap_describe_interfaces(p, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0: EN10MB eth0, 12 frames, 12 TCP segments\n1: NULL lo0, 12 frames, 12 TCP segments");
	sc_pcap_close(p);
}

Test(pcap, pcapng_interface_of_an_unsupported_link_type_is_counted_and_named)
{
	static struct capture ref, c;
	char path[4096], buf[512];
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;

	read_capture("lo-en10mb.pcap", &ref);
	read_capture("unsupported-if.pcapng", &c);
	cr_assert_eq(c.rc, 0, "%s", c.diag.msg);
	assert_same_segments(&ref, &c, "unsupported-if.pcapng", true);
	assert_invariants(&c, "unsupported-if.pcapng");
	cr_assert_eq(c.st.skipped_link_type, 1);
	cr_assert_eq(c.st.skipped_malformed, 1, "the frame of interface 5, which no block describes");
	fixture_path(path, sizeof(path), "unsupported-if.pcapng");
	p = sc_pcap_open(path, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	while (sc_pcap_next(p, &seg, &diag) == 1)
		;
	sc_pcap_describe_interfaces(p, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0: EN10MB eth0, 24 frames, 24 TCP segments\n"
			      "1: USB_LINUX usbmon0, 1 frames not decoded (link type not supported)");
	sc_pcap_close(p);
}

/* The request frame of every encapsulated variant, cut at every length and
 * placed before a guard page: never a read outside the frame, one outcome. */
Test(pcap, every_encapsulation_every_caplen_before_guard_page)
{
	static const char *const files[] = { "pppoe.pcap", "llc-snap.pcap", "mpls.pcap", "vxlan.pcap",
					     "geneve.pcap", "gre.pcap", "erspan.pcap", "ip4in6.pcap",
					     "chdlc.pcap", "ppp.pcap", "nflog.pcap", "arcnet.pcap",
					     "ipv6-atomic.pcap", "tso.pcap" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[4096], errbuf[PCAP_ERRBUF_SIZE];
		struct pcap_pkthdr *h;
		const u_char *data;
		struct fb f = { .len = 0 };
		pcap_t *pc;
		int dlt;

		fixture_path(path, sizeof(path), files[i]);
		pc = pcap_open_offline(path, errbuf);
		cr_assert_not_null(pc, "%s", errbuf);
		dlt = pcap_datalink(pc);
		for (int k = 0; k < 6; k++) /* frame 6: a response head (merged in tso.pcap) */
			cr_assert_eq(pcap_next_ex(pc, &h, &data), 1);
		putb(&f, data, h->caplen);
		pcap_close(pc);
		for (size_t cap = 0; cap <= f.len; cap++) {
			struct sc_tcp_seg seg;
			struct sc_pcap_stats st;
			int rc = decode_n(dlt, &f, cap, &seg, &st);

			if (cap == f.len)
				cr_assert_eq(rc, 1, "%s: the whole frame is a segment", files[i]);
			else if (rc == 0)
				cr_assert_eq(st.skipped_truncated, 1, "%s caplen %zu", files[i], cap);
		}
	}
}

Test(pcap, snaplen_64_capture_every_tcp_header_cut)
{
	struct capture c;

	/* 64 bytes end inside the TCP timestamp option of every frame. */
	read_capture("snaplen-64.pcap", &c);
	cr_assert_eq(c.rc, 0, "%s", c.diag.msg);
	cr_assert_eq(c.snaplen, 64);
	assert_stats(&c, "snaplen-64", NFRAMES, NFRAMES * 64, 0, 0, NFRAMES, 0, 0);
}

Test(pcap, snaplen_100_capture_payload_cut_counted)
{
	struct capture c;

	/* Headers end at 66: the six data segments keep 34 payload bytes each. */
	read_capture("snaplen-100.pcap", &c);
	cr_assert_eq(c.rc, 0, "%s", c.diag.msg);
	cr_assert_eq(c.snaplen, 100);
	assert_stats(&c, "snaplen-100", NFRAMES, ETH_BYTES - 492, NFRAMES, 6 * 34, 0, 6, 492);
	cr_assert_eq(c.seg[3].len, 34);
	cr_assert_eq(c.seg[3].wire_len, 79);
	cr_assert_eq(memcmp(c.seg[3].data, REQUEST, 34), 0);
	cr_assert_eq(c.seg[5].wire_len, 185);
	cr_assert_eq(c.seg[7].wire_len, 84);
}

Test(pcap, truncated_capture_delivers_segments_before_the_error)
{
	struct capture c;

	read_capture("truncated.pcap", &c);
	cr_assert_eq(c.rc, SC_ETRUNC, "rc %d: %s", c.rc, c.diag.msg);
	cr_assert_eq(c.diag.err, SC_ETRUNC);
	cr_assert_str_eq(c.diag.msg, "frame 18: truncated dump file; tried to read 251 captured bytes, only got 100");
	/* The record header of frame 18 starts after the file header and 17 records. */
	cr_assert_eq(c.diag.offset, 24 + 17 * 16 + 1581, "offset %" PRIu64, c.diag.offset);
	assert_stats(&c, "truncated", 17, 1581, 17, 79 + 185 + 84 + 79, 0, 0, 0);
	assert_first_request(&c, "truncated", SC_AF_INET);
}

Test(pcap, error_is_sticky_after_truncation)
{
	char path[4096];
	struct sc_diag diag = { 0 }, again = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;
	int rc;

	fixture_path(path, sizeof(path), "truncated.pcap");
	p = sc_pcap_open(path, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	while ((rc = sc_pcap_next(p, &seg, &diag)) == 1)
		;
	cr_assert_eq(rc, SC_ETRUNC);
	cr_assert_eq(sc_pcap_next(p, &seg, &again), SC_ETRUNC);
	cr_assert_str_eq(again.msg, diag.msg);
	cr_assert_eq(again.offset, diag.offset);
	cr_assert_eq(sc_pcap_stats(p)->frames, 17, "nothing more is read after the error");
	sc_pcap_close(p);
}

/* A pipe cannot tell positions: the same error, offset 0 ("unknown"). */
Test(pcap, truncated_capture_through_a_pipe)
{
	char path[4096];
	static uint8_t buf[8192];
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;
	size_t n;
	int fds[2], rc;
	uint64_t segs = 0;
	FILE *in, *f;

	fixture_path(path, sizeof(path), "truncated.pcap");
	in = fopen(path, "rb");
	cr_assert_not_null(in, "%s", path);
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	cr_assert_eq(n, 1877 + 16 + 100);
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], buf, n), (ssize_t)n, "fits in the pipe buffer");
	close(fds[1]);
	f = fdopen(fds[0], "rb");
	cr_assert_not_null(f);
	p = sc_pcap_fopen(f, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	while ((rc = sc_pcap_next(p, &seg, &diag)) == 1)
		segs++;
	cr_assert_eq(segs, 17);
	cr_assert_eq(rc, SC_ETRUNC);
	cr_assert_str_eq(diag.msg, "frame 18: truncated dump file; tried to read 251 captured bytes, only got 100");
	cr_assert_eq(diag.offset, 0);
	sc_pcap_close(p);
	cr_assert_eq(fcntl(fds[0], F_GETFD), -1, "sc_pcap_close closed the stream it took");
}

Test(pcap, open_dash_reads_standard_input)
{
	char path[4096];
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;
	uint64_t n = 0;

	fixture_path(path, sizeof(path), "lo-en10mb.pcapng");
	cr_assert_not_null(freopen(path, "rb", stdin));
	p = sc_pcap_open("-", &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	cr_assert(sc_pcap_is_pcapng(p));
	while (sc_pcap_next(p, &seg, &diag) == 1)
		n++;
	cr_assert_eq(n, NFRAMES);
	sc_pcap_close(p);
	cr_assert_neq(fcntl(0, F_GETFD), -1, "standard input is not closed");
}

/* ---- live capture with tcpdump ------------------------------------------------------------------ */

#define FILE_LEN 5000
#define WAIT_MS 10000

static pid_t live_pids[3];
static char live_dir[] = "/tmp/sc-test-pcap-XXXXXX";
static bool live_dir_made;

static bool find_exe(const char *name, char *out, size_t n)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin",
					    "/usr/local/bin" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, n, "%s/%s", dirs[i], name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait for `pid` at most `ms`; returns its wait status, or -1 on timeout. */
static int wait_ms(pid_t pid, uint64_t ms)
{
	uint64_t end = now_ms() + ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 || now_ms() >= end)
			return -1;
		sleep_ms(20);
	}
}

/* Stop a child we started: `sig`, then SIGKILL if it does not exit in time. */
static int stop_child(pid_t *pid, int sig, uint64_t ms)
{
	int status;

	if (*pid <= 0)
		return -1;
	kill(*pid, sig);
	status = wait_ms(*pid, ms);
	if (status == -1) {
		kill(*pid, SIGKILL);
		status = wait_ms(*pid, 2000);
	}
	*pid = 0;
	return status;
}

static pid_t spawn(char *const argv[], int out_fd, int err_fd)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -1;
}

static void live_cleanup(void)
{
	static const char *const files[] = { "file", "cap.pcap", "out", "server.log" };
	char path[256];

	for (size_t i = 0; i < 3; i++)
		stop_child(&live_pids[i], SIGKILL, 2000);
	if (!live_dir_made)
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", live_dir, files[i]);
		unlink(path);
	}
	rmdir(live_dir);
	live_dir_made = false;
}

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool port_accepts(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Read `fd` until `needle` shows up or `ms` pass. */
static bool wait_for_text(int fd, const char *needle, uint64_t ms)
{
	char buf[4096];
	size_t len = 0;
	uint64_t end = now_ms() + ms;

	while (now_ms() < end) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, needle))
			return true;
		if (len == sizeof(buf) - 1)
			len = 0;
	}
	return false;
}

/* What the live run produced; checked after every child is gone. */
struct live_result {
	const char *failed; /* the step that failed, or NULL */
	uint8_t *resp;      /* server -> client stream, by sequence offset */
	size_t resp_len;
	char req[64];
	size_t req_len;
	uint64_t segs, truncated;
	int rc;
	char msg[256];
};

#define RESP_CAP (1u << 20)

static void read_live_capture(const char *path, int port, struct live_result *r)
{
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p = sc_pcap_open(path, &diag);
	uint32_t isn = 0;
	bool have_isn = false;

	if (!p) {
		r->failed = "sc_pcap_open";
		snprintf(r->msg, sizeof(r->msg), "%s", diag.msg);
		return;
	}
	while ((r->rc = sc_pcap_next(p, &seg, &diag)) == 1) {
		r->segs++;
		if (seg.src.port == port) {
			/* Server to client.  Place each payload at its offset from
			 * the ISN: retransmissions land on themselves. */
			if (seg.flags & SC_TCP_SYN) {
				isn = seg.seq + 1;
				have_isn = true;
				continue;
			}
			if (!have_isn || !seg.len)
				continue;
			uint32_t off = seg.seq - isn;

			if (off < RESP_CAP && seg.len <= RESP_CAP - off) {
				memcpy(r->resp + off, seg.payload, seg.len);
				if (off + seg.len > r->resp_len)
					r->resp_len = off + seg.len;
			}
		} else if (seg.dst.port == port && seg.len && !r->req_len) {
			r->req_len = seg.len < sizeof(r->req) ? seg.len : sizeof(r->req);
			memcpy(r->req, seg.payload, r->req_len);
		}
	}
	if (r->rc < 0)
		snprintf(r->msg, sizeof(r->msg), "%s", diag.msg);
	r->truncated = sc_pcap_stats(p)->truncated_payload;
	sc_pcap_close(p);
}

static void live_run(const uint8_t *content, struct live_result *r)
{
	char tcpdump[256], python[256], curl[256], path[256], pcap_path[256], out_path[256], url[128], portstr[16],
		filter[64], dir_arg[256];
	int devnull = -1, errpipe[2] = { -1, -1 }, fd, port;

	if (!find_exe("tcpdump", tcpdump, sizeof(tcpdump)) || !find_exe("curl", curl, sizeof(curl))) {
		r->failed = "skip: tcpdump or curl not installed";
		return;
	}
	/* The system python: a pyenv shim on PATH may not run here. */
	snprintf(python, sizeof(python), "/usr/bin/python3");
	if (access(python, X_OK) != 0 && !find_exe("python3", python, sizeof(python))) {
		r->failed = "skip: python3 not installed";
		return;
	}
	if (!mkdtemp(live_dir)) {
		r->failed = "mkdtemp";
		return;
	}
	live_dir_made = true;
	snprintf(path, sizeof(path), "%s/file", live_dir);
	snprintf(pcap_path, sizeof(pcap_path), "%s/cap.pcap", live_dir);
	snprintf(out_path, sizeof(out_path), "%s/out", live_dir);
	snprintf(dir_arg, sizeof(dir_arg), "%s", live_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, content, FILE_LEN) != FILE_LEN) {
		r->failed = "writing the served file";
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	port = free_port();
	if (port <= 0) {
		r->failed = "no free port";
		return;
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	snprintf(filter, sizeof(filter), "tcp port %d", port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/file", port);
	devnull = open("/dev/null", O_WRONLY);
	if (devnull < 0 || pipe(errpipe) < 0) {
		r->failed = "open /dev/null or pipe";
		goto out;
	}

	char *server_argv[] = { python, "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir_arg, portstr,
				NULL };
	live_pids[0] = spawn(server_argv, devnull, devnull);
	if (live_pids[0] <= 0) {
		r->failed = "spawning python3 -m http.server";
		goto out;
	}
	{
		uint64_t end = now_ms() + WAIT_MS;

		while (!port_accepts(port) && now_ms() < end)
			sleep_ms(50);
		if (!port_accepts(port)) {
			r->failed = "http.server did not start listening";
			goto out;
		}
	}

	/* -Z root: tcpdump must not drop to a user that cannot write to our
	 * private directory.  --immediate-mode: with TPACKET_V3, packets wait
	 * in the ring until a block fills or times out, and those still there
	 * at SIGINT are lost; -U alone does not help. */
	char *tcpdump_argv[] = { tcpdump, "-i", "lo", "-n", "-U", "--immediate-mode", "-Z", "root", "-w",
				 pcap_path, filter, NULL };
	live_pids[1] = spawn(tcpdump_argv, devnull, errpipe[1]);
	close(errpipe[1]);
	errpipe[1] = -1;
	if (live_pids[1] <= 0) {
		r->failed = "spawning tcpdump";
		goto out;
	}
	if (!wait_for_text(errpipe[0], "listening on", WAIT_MS)) {
		r->failed = "tcpdump did not say \"listening on\"";
		goto out;
	}

	char *curl_argv[] = { curl, "-s", "--max-time", "10", "-o", out_path, url, NULL };
	live_pids[2] = spawn(curl_argv, devnull, devnull);
	if (live_pids[2] <= 0) {
		r->failed = "spawning curl";
		goto out;
	}
	{
		int st = wait_ms(live_pids[2], 15000);

		if (st == -1) {
			r->failed = "curl did not finish";
			goto out;
		}
		live_pids[2] = 0;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			r->failed = "curl failed";
			goto out;
		}
	}
	/* -U writes each packet as it comes; give the last ACKs a moment. */
	sleep_ms(300);
	if (stop_child(&live_pids[1], SIGINT, WAIT_MS) == -1) {
		r->failed = "tcpdump did not exit";
		goto out;
	}
	stop_child(&live_pids[0], SIGTERM, 5000);
	read_live_capture(pcap_path, port, r);
out:
	if (devnull >= 0)
		close(devnull);
	if (errpipe[0] >= 0)
		close(errpipe[0]);
	if (errpipe[1] >= 0)
		close(errpipe[1]);
	live_cleanup();
}

Test(pcap, live_tcpdump_capture_of_an_http_download, .timeout = 90, .fini = live_cleanup)
{
	static uint8_t content[FILE_LEN];
	struct live_result r = { 0 };

	if (geteuid() != 0)
		SC_SKIP("tcpdump needs root");
	for (size_t i = 0; i < FILE_LEN; i++)
		content[i] = (uint8_t)(i % 64 == 63 ? '\n' : 'A' + (i * 7 + i / 64) % 26);
	r.resp = calloc(1, RESP_CAP);
	cr_assert_not_null(r.resp);
	live_run(content, &r);
	if (r.failed && strncmp(r.failed, "skip: ", 6) == 0) {
		free(r.resp);
		SC_SKIP("%s", r.failed + 6);
	}
	cr_assert_null(r.failed, "%s %s", r.failed, r.msg);
	cr_assert_eq(r.rc, 0, "%s", r.msg);
	cr_assert_geq(r.segs, 6, "segments %" PRIu64, r.segs);
	cr_assert_eq(r.truncated, 0);
	cr_assert_geq(r.req_len, 20);
	cr_assert_eq(memcmp(r.req, "GET /file HTTP/1.1\r\n", 20), 0, "request %.*s", (int)r.req_len, r.req);
	cr_assert_not_null(memmem(r.resp, r.resp_len, content, FILE_LEN),
			   "the %zu response bytes do not contain the file", r.resp_len);
	cr_assert_not_null(memmem(r.resp, r.resp_len, "Content-Length: 5000\r\n", 22));
	free(r.resp);
}
