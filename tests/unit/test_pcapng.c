/* test_pcapng.c - the pcapng block reader (formats/sc_pcapng.c) through
 * sc_pcap_fopen() on files built in memory: interfaces of different link
 * types, timestamp resolutions and offsets, every packet block type, blocks
 * without packets, both byte orders, and damage reported where it is. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>

#include "formats/sc_pcap.h"

#include "sc_test.h"

struct ng {
	uint8_t b[8192];
	size_t len;
	bool be;
};

static void put(struct ng *g, const void *p, size_t n)
{
	cr_assert_leq(n, sizeof(g->b) - g->len);
	memcpy(g->b + g->len, p, n);
	g->len += n;
}

static void u16(struct ng *g, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(g->be ? v >> 8 : v), (uint8_t)(g->be ? v : v >> 8) };

	put(g, b, 2);
}

static void u32(struct ng *g, uint32_t v)
{
	if (g->be) {
		u16(g, (uint16_t)(v >> 16));
		u16(g, (uint16_t)v);
	} else {
		u16(g, (uint16_t)v);
		u16(g, (uint16_t)(v >> 16));
	}
}

static void pad(struct ng *g)
{
	static const uint8_t z[4];

	put(g, z, (4 - g->len % 4) % 4);
}

/* A block: type, length, body (padded), length again. */
static void block(struct ng *g, uint32_t type, const struct ng *body)
{
	uint32_t total = 12 + (uint32_t)((body->len + 3) & ~(size_t)3);

	u32(g, type);
	u32(g, total);
	put(g, body->b, body->len);
	pad(g);
	u32(g, total);
}

static void shb(struct ng *g, bool be)
{
	struct ng b = { .len = 0, .be = be };

	g->be = be;
	u32(&b, 0x1A2B3C4D);
	u16(&b, 1);
	u16(&b, 0);
	u32(&b, 0xffffffff);
	u32(&b, 0xffffffff);
	block(g, 0x0A0D0D0A, &b);
}

static void opt(struct ng *b, uint16_t code, const void *v, uint16_t len)
{
	u16(b, code);
	u16(b, len);
	put(b, v, len);
	pad(b);
}

static void idb(struct ng *g, uint16_t linktype, uint32_t snaplen, const char *name, int tsresol, int64_t tsoffset,
		int fcslen)
{
	struct ng b = { .len = 0, .be = g->be };

	u16(&b, linktype);
	u16(&b, 0);
	u32(&b, snaplen);
	if (name)
		opt(&b, 2, name, (uint16_t)strlen(name));
	if (tsresol >= 0) {
		uint8_t r = (uint8_t)tsresol;

		opt(&b, 9, &r, 1);
	}
	if (tsoffset) {
		struct ng v = { .len = 0, .be = g->be };

		if (g->be) {
			u32(&v, (uint32_t)((uint64_t)tsoffset >> 32));
			u32(&v, (uint32_t)tsoffset);
		} else {
			u32(&v, (uint32_t)tsoffset);
			u32(&v, (uint32_t)((uint64_t)tsoffset >> 32));
		}
		opt(&b, 14, v.b, 8);
	}
	if (fcslen >= 0) {
		uint8_t r = (uint8_t)fcslen;

		opt(&b, 13, &r, 1);
	}
	u16(&b, 0);
	u16(&b, 0);
	block(g, 1, &b);
}

static void epb(struct ng *g, uint32_t iface, uint64_t ts, const uint8_t *data, uint32_t cap, uint32_t orig)
{
	struct ng b = { .len = 0, .be = g->be };

	u32(&b, iface);
	u32(&b, (uint32_t)(ts >> 32));
	u32(&b, (uint32_t)ts);
	u32(&b, cap);
	u32(&b, orig);
	put(&b, data, cap);
	block(g, 6, &b);
}

/* A TCP segment in IPv4 (20 + 20 + payload), 192.0.2.1:40000 -> 198.51.100.2:80. */
static size_t ipv4_tcp(uint8_t *o, const char *payload)
{
	size_t n = strlen(payload), tot = 40 + n;
	static const uint8_t h[40] = { 0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2,
				       0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x10, 0, 0, 0, 0, 0 };

	memcpy(o, h, 40);
	o[2] = (uint8_t)(tot >> 8);
	o[3] = (uint8_t)tot;
	memcpy(o + 40, payload, n);
	return tot;
}

static size_t eth(uint8_t *o, const char *payload)
{
	memset(o, 0, 12);
	o[12] = 0x08;
	o[13] = 0x00;
	return 14 + ipv4_tcp(o + 14, payload);
}

static size_t null4(uint8_t *o, const char *payload)
{
	o[0] = 2;
	o[1] = o[2] = o[3] = 0;
	return 4 + ipv4_tcp(o + 4, payload);
}

static struct sc_pcap *open_ng(struct ng *g, struct sc_diag *diag)
{
	FILE *f = fmemopen(g->b, g->len, "rb");
	struct sc_pcap *p;

	cr_assert_not_null(f);
	p = sc_pcap_fopen(f, diag);
	if (!p)
		fclose(f);
	return p;
}

struct got {
	int rc;
	size_t n;
	struct sc_tcp_seg seg[8];
	char payload[8][32];
	struct sc_diag diag;
};

static void read_all(struct sc_pcap *p, struct got *o)
{
	struct sc_tcp_seg s;

	memset(o, 0, sizeof(*o));
	while ((o->rc = sc_pcap_next(p, &s, &o->diag)) == 1) {
		cr_assert_lt(o->n, 8);
		o->seg[o->n] = s;
		snprintf(o->payload[o->n], sizeof(o->payload[0]), "%.*s", (int)s.len, (const char *)s.payload);
		o->n++;
	}
}

Test(pcapng, interfaces_of_different_link_types_each_decoded_with_its_own)
{
	struct ng g = { .len = 0 };
	uint8_t f[256];
	struct sc_diag diag = { 0 };
	struct got o;
	struct sc_pcap *p;

	shb(&g, false);
	idb(&g, 0, 65535, "lo0", 9, 0, -1);          /* LINKTYPE_NULL, nanoseconds */
	idb(&g, 1, 65535, "en0", -1, 0, -1);         /* Ethernet, microseconds */
	epb(&g, 1, 1700000000123456ull, f, (uint32_t)eth(f, "on en0"), (uint32_t)eth(f, "on en0"));
	epb(&g, 0, 1700000000123456789ull, f, (uint32_t)null4(f, "on lo0"), (uint32_t)null4(f, "on lo0"));
	p = open_ng(&g, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	cr_assert(sc_pcap_is_pcapng(p));
	read_all(p, &o);
	cr_assert_eq(o.rc, 0, "%s", o.diag.msg);
	cr_assert_eq(o.n, 2);
	cr_assert_str_eq(o.payload[0], "on en0");
	cr_assert_eq(o.seg[0].ts_ns, 1700000000123456000ull);
	cr_assert_str_eq(o.payload[1], "on lo0");
	cr_assert_eq(o.seg[1].ts_ns, 1700000000123456789ull);
	cr_assert_eq(sc_pcap_ninterfaces(p), 2);
	cr_assert_eq(sc_pcap_interface(p, 0)->dlt, DLT_NULL);
	cr_assert_eq(sc_pcap_interface(p, 1)->dlt, DLT_EN10MB);
	cr_assert_eq(sc_pcap_interface(p, 1)->frames, 1);
	cr_assert_eq(sc_pcap_linktype(p), DLT_NULL, "the first interface's");
	sc_pcap_close(p);
}

Test(pcapng, timestamp_resolutions_and_offsets)
{
	static const struct {
		int tsresol;
		int64_t offset;
		uint64_t ts, want_ns;
	} c[] = {
		{ -1, 0, 1700000000000001ull, 1700000000000001000ull },     /* default: microseconds */
		{ 3, 0, 1700000000001ull, 1700000000001000000ull },         /* milliseconds */
		{ 9, 0, 1700000000000000001ull, 1700000000000000001ull },   /* nanoseconds */
		{ 12, 0, 0, 0 }, /* picoseconds (set below) */
		{ 0x80 | 30, 0, (1700000000ull << 30) | (1u << 29), 1700000000500000000ull }, /* 2^-30 s */
		{ 0x80 | 0, 0, 1700000000ull, 1700000000000000000ull },     /* 2^0: seconds */
		{ 6, 100, 1000000ull, 101000000000ull },                    /* if_tsoffset: +100 s */
		{ 6, -5, 1000000ull, 0 },                                   /* before the epoch: 0 */
		{ 0, 0, UINT64_MAX, UINT64_MAX },                           /* past 2554: saturated */
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct ng g = { .len = 0 };
		uint8_t f[128];
		uint32_t n = (uint32_t)null4(f, "x");
		struct sc_diag diag = { 0 };
		struct got o;
		struct sc_pcap *p;
		uint64_t ts = c[i].ts, want = c[i].want_ns;

		if (c[i].tsresol == 12) { /* picoseconds: 1.7e21 does not fit; use 1.7e18 ps */
			ts = 1700000000000000000ull;
			want = 1700000000000000ull;
		}
		shb(&g, false);
		idb(&g, 0, 65535, NULL, c[i].tsresol, c[i].offset, -1);
		epb(&g, 0, ts, f, n, n);
		p = open_ng(&g, &diag);
		cr_assert_not_null(p, "%s", diag.msg);
		read_all(p, &o);
		cr_assert_eq(o.n, 1, "case %zu: %s", i, o.diag.msg);
		cr_assert_eq(o.seg[0].ts_ns, want, "case %zu: %" PRIu64, i, o.seg[0].ts_ns);
		sc_pcap_close(p);
	}
}

Test(pcapng, big_endian_section_then_little_endian_section)
{
	struct ng g = { .len = 0 };
	uint8_t f[128];
	struct sc_diag diag = { 0 };
	struct got o;
	struct sc_pcap *p;
	uint32_t n;

	shb(&g, true);
	idb(&g, 1, 65535, "be0", -1, 0, -1);
	n = (uint32_t)eth(f, "big");
	epb(&g, 0, 1, f, n, n);
	shb(&g, false);
	idb(&g, 0, 65535, "le0", -1, 0, -1);
	n = (uint32_t)null4(f, "little");
	epb(&g, 0, 2, f, n, n);
	p = open_ng(&g, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	read_all(p, &o);
	cr_assert_eq(o.rc, 0, "%s", o.diag.msg);
	cr_assert_eq(o.n, 2);
	cr_assert_str_eq(o.payload[0], "big");
	cr_assert_str_eq(o.payload[1], "little");
	cr_assert_eq(sc_pcap_ninterfaces(p), 2, "a new section's interface 0 is a new interface");
	cr_assert_str_eq(sc_pcap_interface(p, 0)->name, "be0");
	cr_assert_str_eq(sc_pcap_interface(p, 1)->name, "le0");
	sc_pcap_close(p);
}

Test(pcapng, simple_and_obsolete_packet_blocks)
{
	struct ng g = { .len = 0 }, b = { .len = 0 };
	uint8_t f[128];
	struct sc_diag diag = { 0 };
	struct got o;
	struct sc_pcap *p;
	uint32_t n;

	shb(&g, false);
	idb(&g, 1, 65535, NULL, -1, 0, -1);
	n = (uint32_t)eth(f, "enhanced");
	epb(&g, 0, 5000000, f, n, n);
	/* Simple packet block: original length, data; no time (the previous packet's is used). */
	n = (uint32_t)eth(f, "simple");
	u32(&b, n);
	put(&b, f, n);
	block(&g, 3, &b);
	/* Obsolete packet block: interface (2), drops (2), time, lengths, data. */
	b.len = 0;
	n = (uint32_t)eth(f, "obsolete");
	u16(&b, 0);
	u16(&b, 0);
	u32(&b, 0);
	u32(&b, 7000000);
	u32(&b, n);
	u32(&b, n);
	put(&b, f, n);
	block(&g, 2, &b);
	p = open_ng(&g, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	read_all(p, &o);
	cr_assert_eq(o.rc, 0, "%s", o.diag.msg);
	cr_assert_eq(o.n, 3);
	cr_assert_str_eq(o.payload[1], "simple");
	cr_assert_eq(o.seg[1].ts_ns, 5000000000ull);
	cr_assert_str_eq(o.payload[2], "obsolete");
	cr_assert_eq(o.seg[2].ts_ns, 7000000000ull);
	sc_pcap_close(p);
}

Test(pcapng, blocks_without_packets_are_skipped_and_counted)
{
	struct ng g = { .len = 0 }, b = { .len = 0 };
	uint8_t f[128];
	struct sc_diag diag = { 0 };
	struct got o;
	struct sc_pcap *p;
	uint32_t n = (uint32_t)eth(f, "after");

	shb(&g, false);
	idb(&g, 1, 65535, NULL, -1, 0, -1);
	put(&b, "opaque", 6);
	block(&g, 0x0000000A, &b);  /* decryption secrets */
	block(&g, 0x40000BAD, &b);  /* custom */
	block(&g, 0x12345678, &b);  /* unknown */
	epb(&g, 0, 1, f, n, n);
	p = open_ng(&g, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	read_all(p, &o);
	cr_assert_eq(o.rc, 0, "%s", o.diag.msg);
	cr_assert_eq(o.n, 1);
	cr_assert_eq(sc_pcap_stats(p)->skipped_blocks, 3);
	sc_pcap_close(p);
}

Test(pcapng, packet_of_an_undescribed_interface_is_malformed_not_the_end)
{
	struct ng g = { .len = 0 };
	uint8_t f[128];
	struct sc_diag diag = { 0 };
	struct got o;
	struct sc_pcap *p;
	uint32_t n = (uint32_t)eth(f, "known");

	shb(&g, false);
	idb(&g, 1, 65535, NULL, -1, 0, -1);
	epb(&g, 3, 1, f, n, n);
	epb(&g, 0, 2, f, n, n);
	p = open_ng(&g, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	read_all(p, &o);
	cr_assert_eq(o.rc, 0, "%s", o.diag.msg);
	cr_assert_eq(o.n, 1);
	cr_assert_eq(sc_pcap_stats(p)->frames, 2);
	cr_assert_eq(sc_pcap_stats(p)->skipped_malformed, 1);
	sc_pcap_close(p);
}

Test(pcapng, frame_check_sequence_is_not_payload)
{
	struct ng g = { .len = 0 };
	uint8_t f[128];
	struct sc_diag diag = { 0 };
	struct got o;
	struct sc_pcap *p;
	uint32_t n;

	/* A TSO-style frame (IPv4 total length 0) ends in a 4-byte FCS: only
	 * if_fcslen tells it apart from payload. */
	n = (uint32_t)eth(f, "payload");
	f[16] = f[17] = 0;
	memcpy(f + n, "FCS!", 4);
	n += 4;
	shb(&g, false);
	idb(&g, 1, 65535, NULL, -1, 0, 4);
	epb(&g, 0, 1, f, n, n);
	p = open_ng(&g, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	read_all(p, &o);
	cr_assert_eq(o.n, 1, "%s", o.diag.msg);
	cr_assert_str_eq(o.payload[0], "payload");
	sc_pcap_close(p);
}

Test(pcapng, nflog_tlvs_of_a_big_endian_section_are_read)
{
	struct ng g = { .len = 0 }, v = { .len = 0, .be = true };
	uint8_t f[256], ip[128];
	struct sc_diag diag = { 0 };
	struct got o;
	struct sc_pcap *p;
	size_t n = ipv4_tcp(ip, "logged");

	/* NFLOG header, then TLVs in the capturing host's (big-endian) order. */
	put(&v, "\x02\x00\x00\x00", 4);
	u16(&v, 8);
	u16(&v, 1);
	put(&v, "\x08\x00\x03\x00", 4);
	u16(&v, (uint16_t)(4 + n));
	u16(&v, 9);
	put(&v, ip, n);
	pad(&v);
	memcpy(f, v.b, v.len);
	shb(&g, true);
	idb(&g, 239, 65535, "nflog", -1, 0, -1);
	epb(&g, 0, 1, f, (uint32_t)v.len, (uint32_t)v.len);
	p = open_ng(&g, &diag);
	cr_assert_not_null(p, "%s", diag.msg);
	read_all(p, &o);
	cr_assert_eq(o.n, 1, "%s", o.diag.msg);
	cr_assert_str_eq(o.payload[0], "logged");
	sc_pcap_close(p);
}

/* Damage: every packet before it, then the message with the block's offset. */
Test(pcapng, damage_is_reported_where_it_is)
{
	static const struct {
		const char *what;
		int kind;
		int err;
		const char *msg;
	} c[] = {
		{ "length not a multiple of 4", 0, SC_ECORRUPT,
		  "block of type 0x00000006: total length 50 does not frame a block" },
		{ "length below 12", 1, SC_ECORRUPT, "block of type 0x00000006: total length 8 does not frame a block" },
		{ "lengths differ", 2, SC_ECORRUPT,
		  "block of type 0x00000006: total length 88 at its end, 92 at its start" },
		{ "file ends inside a block", 3, SC_ETRUNC, "block cut by the end of the file" },
		{ "captured length past the block", 4, SC_ECORRUPT,
		  "enhanced packet block: captured length 1000 is longer than the block" },
		{ "block over 16 MiB", 5, SC_ETOOBIG,
		  "block of type 0x00000006 and 33554432 bytes is over the 16 MiB bound" },
		{ "section of version 2", 6, SC_EVERSION, "section header block of version 2.x, not 1.x" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct ng g = { .len = 0 };
		uint8_t f[128];
		uint32_t n = (uint32_t)eth(f, "first");
		struct sc_diag diag = { 0 };
		struct got o;
		struct sc_pcap *p;
		size_t at;
		char want[256];

		shb(&g, false);
		idb(&g, 1, 65535, NULL, -1, 0, -1);
		epb(&g, 0, 1, f, n, n);
		at = g.len;
		switch (c[i].kind) {
		case 0: u32(&g, 6); u32(&g, 50); break;
		case 1: u32(&g, 6); u32(&g, 8); break;
		case 2:
			epb(&g, 0, 2, f, n, n);
			g.b[g.len - 4] -= 4;
			break;
		case 3:
			epb(&g, 0, 2, f, n, n);
			g.len -= 10;
			break;
		case 4:
			epb(&g, 0, 2, f, n, n);
			g.b[at + 20] = 0xe8; /* captured length 1000 */
			g.b[at + 21] = 0x03;
			break;
		case 5: u32(&g, 6); u32(&g, 32u << 20); break;
		case 6:
			shb(&g, false);
			g.b[at + 12] = 2;
			break;
		}
		p = open_ng(&g, &diag);
		cr_assert_not_null(p, "%s: %s", c[i].what, diag.msg);
		read_all(p, &o);
		cr_assert_eq(o.n, 1, "%s: the packet before the damage", c[i].what);
		cr_assert_eq(o.rc, c[i].err, "%s: rc %d %s", c[i].what, o.rc, o.diag.msg);
		snprintf(want, sizeof(want), "frame 2: pcapng: %s (block at offset %zu)", c[i].msg, at);
		cr_assert_str_eq(o.diag.msg, want, "%s: %s", c[i].what, o.diag.msg);
		cr_assert_eq(o.diag.offset, at, "%s", c[i].what);
		cr_assert_eq(sc_pcap_next(p, &o.seg[0], &diag), c[i].err, "%s: sticky", c[i].what);
		sc_pcap_close(p);
	}
}

Test(pcapng, a_file_that_is_not_a_section_is_refused_and_left_open)
{
	struct ng g = { .len = 0 };
	struct sc_diag diag = { 0 };
	FILE *f;

	shb(&g, false);
	g.b[8] = 0x11; /* byte-order magic */
	f = fmemopen(g.b, g.len, "rb");
	cr_assert_null(sc_pcap_fopen(f, &diag));
	cr_assert_eq(diag.err, SC_ECORRUPT);
	cr_assert_str_eq(diag.msg, "pcapng: section header block: byte-order magic 113c2b1a is not 1a2b3c4d (block at "
				   "offset 0)");
	cr_assert_eq(fclose(f), 0, "the stream is still the caller's");
}
