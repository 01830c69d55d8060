/* sc_pcapng.c - a bounded reader of pcapng blocks.
 *
 * libpcap refuses a pcapng file whose interfaces have different link types
 * (what Wireshark writes when it captures on several interfaces at once), and
 * stops at the second interface's description block.  This reader keeps the
 * link type, snaplen and timestamp resolution of every interface of every
 * section, so each packet is decoded with its own interface's link type, and
 * says which interfaces it met.
 *
 * Every block is framed by its length, checked before use:
 *
 *   | Block Type (4) | Block Total Length (4) | Body ... | Block Total Length (4) |
 *
 * The length is a multiple of 4 and at least 12; blocks that carry packets or
 * describe interfaces are read into one buffer bounded by SC_PCAPNG_MAX_BLOCK;
 * every other block (statistics, name resolution, decryption secrets, custom
 * and unknown types) is skipped by its length without being buffered and
 * counted.  The byte order is the section header block's (pcapng §4.1), and
 * a new section starts a new set of interfaces.
 *
 * Damage (a short file, a length that does not frame its block) ends the
 * read with a precise message and the file offset of the block; every packet
 * before it has been delivered.
 */
#include "sc_pcap_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sc_grow.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_OPB 0x00000002u /* obsolete packet block */
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define SHB_MAGIC 0x1A2B3C4Du

#define OPT_ENDOFOPT 0
#define OPT_IF_NAME 2
#define OPT_IF_DESCRIPTION 3
#define OPT_IF_TSRESOL 9
#define OPT_IF_FCSLEN 13
#define OPT_IF_TSOFFSET 14

/* libpcap's bound on a block it reads (16 MiB); a packet is far smaller. */
#define SC_PCAPNG_MAX_BLOCK (16u << 20)
/* Interfaces over all sections: each costs a few hundred bytes. */
#define SC_PCAPNG_MAX_IFACES 65536u

#ifndef DLT_NFLOG
#define DLT_NFLOG 239
#endif

struct iface {
	struct sc_pcap_iface pub;
	bool ts_binary;      /* if_tsresol: 2^-exp rather than 10^-exp seconds */
	uint8_t ts_exp;
	int64_t ts_offset_s; /* if_tsoffset */
	uint8_t fcs_len;     /* if_fcslen: FCS bytes at the end of each frame */
};

struct sc_pcapng {
	FILE *f;
	uint64_t off;        /* file offset of the next byte */
	bool be;             /* the current section is big-endian */
	struct iface *ifs;
	size_t nifs, ifcap;
	size_t section_first; /* index of the current section's first interface */
	uint8_t *buf;
	size_t bufcap;
	uint64_t skipped_blocks;
	uint64_t last_ts;
	int err;
	struct sc_diag err_diag;
	bool eof;
};

static uint16_t get16(const struct sc_pcapng *g, const uint8_t *p)
{
	return g->be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const struct sc_pcapng *g, const uint8_t *p)
{
	if (g->be)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const struct sc_pcapng *g, const uint8_t *p)
{
	uint64_t a = get32(g, p), b = get32(g, p + 4);

	return g->be ? a << 32 | b : b << 32 | a;
}

/* Read exactly `n` bytes: 0, 1 when the file ended before the first of them
 * (and `at_start`), SC_ETRUNC when it ended inside, -EIO on a read error. */
static int read_exact(struct sc_pcapng *g, void *dst, size_t n, bool at_start)
{
	size_t got = fread(dst, 1, n, g->f);

	g->off += got;
	if (got == n)
		return 0;
	if (ferror(g->f))
		return -EIO;
	return got == 0 && at_start ? 1 : SC_ETRUNC;
}

/* Damage: the read ends here.  The message says where (`off`, the block's
 * file offset). */
static int fail(struct sc_pcapng *g, int err, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct sc_pcapng *g, int err, uint64_t off, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	g->err = err;
	sc_diag_set(&g->err_diag, err, off, "pcapng: %s (block at offset %" PRIu64 ")", what, off);
	return err;
}

/* A read that came up short: the file ends inside `what`. */
static int short_read(struct sc_pcapng *g, int rc, uint64_t off, const char *what)
{
	if (rc != SC_ETRUNC)
		return rc;
	return fail(g, rc, off, "%s cut by the end of the file", what);
}

static int skip_bytes(struct sc_pcapng *g, uint64_t n)
{
	uint8_t tmp[4096];

	while (n) {
		size_t k = n < sizeof(tmp) ? (size_t)n : sizeof(tmp);
		int rc = read_exact(g, tmp, k, false);

		if (rc)
			return rc;
		n -= k;
	}
	return 0;
}

static int ensure_buf(struct sc_pcapng *g, size_t n)
{
	uint8_t *b;

	if (n <= g->bufcap)
		return 0;
	b = realloc(g->buf, n);
	if (!b)
		return -ENOMEM;
	g->buf = b;
	g->bufcap = n;
	return 0;
}

/* Interface names and descriptions are text from the file: printable ASCII
 * is kept, anything else becomes '?'. */
static void copy_text(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < cap && p[i]; i++)
		dst[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	dst[k] = '\0';
}

/*
 * Interface Description Block (pcapng §4.2):
 *
 *   | LinkType (2) | Reserved (2) | SnapLen (4) | Options ... |
 *
 * Options (§3.5): | Code (2) | Length (2) | Value, padded to 4 | ..., ending
 * with opt_endofopt or the block.
 */
static int parse_idb(struct sc_pcapng *g, const uint8_t *b, size_t n, uint64_t off)
{
	struct iface *i;
	size_t pos = 8;

	if (n < 8)
		return fail(g, SC_ECORRUPT, off, "interface description block body of %zu bytes is too short", n);
	if (g->nifs == SC_PCAPNG_MAX_IFACES)
		return fail(g, SC_ETOOBIG, off, "more than %u interfaces", SC_PCAPNG_MAX_IFACES);
	if (g->nifs == g->ifcap) {
		struct iface *t = sc_grow(g->ifs, &g->ifcap, sizeof(*t), 4);

		if (!t)
			return -ENOMEM;
		g->ifs = t;
	}
	i = &g->ifs[g->nifs];
	memset(i, 0, sizeof(*i));
	i->pub.linktype = get16(g, b);
	i->pub.dlt = sc_pkt_linktype_to_dlt(i->pub.linktype);
	i->pub.snaplen = get32(g, b + 4);
	i->pub.decoded = sc_pkt_dlt_supported(i->pub.dlt);
	i->ts_exp = 6; /* microseconds unless if_tsresol says otherwise */
	/* Options end at opt_endofopt or with the body; each is bounded by it. */
	while (pos + 4 <= n) {
		uint16_t code = get16(g, b + pos), len = get16(g, b + pos + 2);
		const uint8_t *v = b + pos + 4;

		if (code == OPT_ENDOFOPT || len > n - pos - 4)
			break;
		switch (code) {
		case OPT_IF_NAME:
			copy_text(i->pub.name, sizeof(i->pub.name), v, len);
			break;
		case OPT_IF_DESCRIPTION:
			copy_text(i->pub.description, sizeof(i->pub.description), v, len);
			break;
		case OPT_IF_TSRESOL:
			if (len >= 1) {
				i->ts_binary = (v[0] & 0x80) != 0;
				i->ts_exp = v[0] & 0x7f;
			}
			break;
		case OPT_IF_TSOFFSET:
			if (len >= 8)
				i->ts_offset_s = (int64_t)get64(g, v);
			break;
		case OPT_IF_FCSLEN:
			if (len >= 1)
				i->fcs_len = v[0];
			break;
		}
		pos += 4 + (((size_t)len + 3) & ~(size_t)3);
	}
	g->nifs++;
	return 0;
}

/* Powers of ten up to 10^19 (the largest that fits in 64 bits). */
static uint64_t pow10u(unsigned e)
{
	uint64_t v = 1;

	while (e--)
		v *= 10;
	return v;
}

/* A timestamp in units of the interface's resolution, in ns since the epoch;
 * 0 for times before it, UINT64_MAX past 2554. */
static uint64_t to_ns(const struct iface *i, uint64_t ts)
{
	uint64_t ns, off;

	if (i->ts_binary) {
		/* ts / 2^e seconds, without 128-bit arithmetic: whole seconds,
		 * then the fraction, scaled so that fraction * 10^9 fits. */
		unsigned e = i->ts_exp;
		uint64_t secs = e >= 64 ? 0 : ts >> e;
		uint64_t frac = e >= 64 ? ts : ts & ((UINT64_C(1) << e) - 1);
		uint64_t frac_ns;

		if (e <= 34)
			frac_ns = (frac * UINT64_C(1000000000)) >> e;
		else if (e - 34 >= 64)
			frac_ns = 0;
		else
			frac_ns = ((frac >> (e - 34)) * UINT64_C(1000000000)) >> 34;
		if (secs > UINT64_MAX / 1000000000u)
			return UINT64_MAX;
		ns = secs * 1000000000u + frac_ns;
	} else if (i->ts_exp <= 9) {
		uint64_t m = pow10u(9u - i->ts_exp);

		if (ts > UINT64_MAX / m)
			return UINT64_MAX;
		ns = ts * m;
	} else {
		ns = i->ts_exp - 9u > 19u ? 0 : ts / pow10u(i->ts_exp - 9u);
	}
	if (i->ts_offset_s >= 0) {
		off = (uint64_t)i->ts_offset_s;
		if (off > (UINT64_MAX - ns) / 1000000000u)
			return UINT64_MAX;
		return ns + off * 1000000000u;
	}
	off = (uint64_t)-(i->ts_offset_s + 1) + 1;
	if (off > ns / 1000000000u)
		return 0;
	return ns - off * 1000000000u;
}

/* NFLOG's TLV headers are in the capturing host's byte order (the section's);
 * the decoder reads them in ours, as libpcap presents them. */
static void nflog_to_host(const struct sc_pcapng *g, uint8_t *p, size_t n)
{
	const bool host_be = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
	size_t pos = 4;

	if (g->be == host_be)
		return;
	while (pos + 4 <= n) {
		uint16_t len = get16(g, p + pos), type = get16(g, p + pos + 2);

		memcpy(p + pos, &len, 2);
		memcpy(p + pos + 2, &type, 2);
		if (len < 4)
			break;
		pos += ((size_t)len + 3) & ~(size_t)3;
	}
}

/* A packet of interface `idx` (relative to the section), `cap` bytes at
 * `data` in the block buffer. */
static int packet(struct sc_pcapng *g, struct sc_pcapng_pkt *pkt, uint32_t idx, uint64_t ts, bool have_ts,
		  uint8_t *data, uint32_t cap, uint32_t wire, uint64_t off)
{
	struct iface *i;

	pkt->offset = off;
	pkt->data = data;
	pkt->caplen = cap;
	pkt->wire_len = wire;
	pkt->ts_ns = g->last_ts;
	if (idx >= g->nifs - g->section_first) {
		pkt->iface = SC_PCAP_NO_IFACE;
		return 1;
	}
	pkt->iface = (uint32_t)(g->section_first + idx);
	i = &g->ifs[pkt->iface];
	if (have_ts) {
		pkt->ts_ns = to_ns(i, ts);
		g->last_ts = pkt->ts_ns;
	}
	/* A frame check sequence at the end is not part of the packet. */
	if (i->fcs_len && i->fcs_len <= pkt->caplen && pkt->caplen == pkt->wire_len) {
		pkt->caplen -= i->fcs_len;
		pkt->wire_len -= i->fcs_len;
	}
	if (i->pub.dlt == DLT_NFLOG)
		nflog_to_host(g, data, pkt->caplen);
	return 1;
}

/*
 * Section Header Block (pcapng §4.1):
 *
 *   | Byte-Order Magic 0x1A2B3C4D (4) | Major 1 (2) | Minor (2) | Section Length (8) | Options |
 *
 * `hdr` holds the block type and length as read, `magic` the next 4 bytes.
 */
static int start_section(struct sc_pcapng *g, const uint8_t hdr[8], const uint8_t magic[4], uint64_t off,
			 uint32_t *len)
{
	uint16_t major;
	uint8_t ver[4];
	int rc;

	if (magic[0] == 0x1A && magic[1] == 0x2B && magic[2] == 0x3C && magic[3] == 0x4D)
		g->be = true;
	else if (magic[0] == 0x4D && magic[1] == 0x3C && magic[2] == 0x2B && magic[3] == 0x1A)
		g->be = false;
	else
		return fail(g, SC_ECORRUPT, off, "section header block: byte-order magic %02x%02x%02x%02x is not 1a2b3c4d",
			    magic[0], magic[1], magic[2], magic[3]);
	*len = get32(g, hdr + 4);
	rc = read_exact(g, ver, 4, false);
	if (rc)
		return short_read(g, rc, off, "section header block");
	major = get16(g, ver);
	if (major != 1)
		return fail(g, SC_EVERSION, off, "section header block of version %u.x, not 1.x", major);
	g->section_first = g->nifs;
	return 0;
}

static int next_block(struct sc_pcapng *g, struct sc_pcapng_pkt *pkt, const uint8_t *first4)
{
	uint8_t hdr[8], magic[4], tail[4];
	uint64_t off = g->off - (first4 ? 4 : 0);
	uint32_t type, len = 0, body;
	size_t have = 0; /* body bytes already read (the section header's) */
	int rc;

	if (first4) {
		memcpy(hdr, first4, 4);
		rc = read_exact(g, hdr + 4, 4, false);
	} else {
		rc = read_exact(g, hdr, 8, true);
		if (rc == 1)
			return 0;
	}
	if (rc)
		return short_read(g, rc, off, "block header");
	type = get32(g, hdr);
	if (type == BT_SHB) {
		rc = read_exact(g, magic, 4, false);
		if (rc)
			return short_read(g, rc, off, "section header block");
		rc = start_section(g, hdr, magic, off, &len);
		if (rc)
			return rc;
		have = 8;
	} else {
		len = get32(g, hdr + 4);
	}
	if (len < (type == BT_SHB ? 28u : 12u) || len % 4 != 0)
		return fail(g, SC_ECORRUPT, off, "block of type 0x%08" PRIx32 ": total length %" PRIu32
			    " does not frame a block", type, len);
	body = len - 12;
	if (type == BT_EPB || type == BT_SPB || type == BT_OPB || type == BT_IDB || type == BT_SHB) {
		if (len > SC_PCAPNG_MAX_BLOCK)
			return fail(g, SC_ETOOBIG, off, "block of type 0x%08" PRIx32 " and %" PRIu32
				    " bytes is over the 16 MiB bound", type, len);
		if (ensure_buf(g, body ? body : 1) < 0)
			return -ENOMEM;
		rc = read_exact(g, g->buf + have, body - have, false);
	} else {
		g->skipped_blocks++;
		rc = skip_bytes(g, body);
	}
	if (rc == 0)
		rc = read_exact(g, tail, 4, false);
	if (rc)
		return short_read(g, rc, off, "block");
	if (get32(g, tail) != len)
		return fail(g, SC_ECORRUPT, off, "block of type 0x%08" PRIx32 ": total length %" PRIu32
			    " at its end, %" PRIu32 " at its start", type, get32(g, tail), len);

	switch (type) {
	case BT_SHB:
		return -1; /* no packet; the caller goes on */
	case BT_IDB:
		rc = parse_idb(g, g->buf, body, off);
		return rc < 0 ? rc : -1;
	case BT_EPB: {
		/* | Interface ID (4) | Timestamp high (4) | low (4) | Captured
		 * Length (4) | Original Length (4) | Packet Data | Options | */
		uint32_t cap;

		if (body < 20)
			return fail(g, SC_ECORRUPT, off, "enhanced packet block of %" PRIu32 " bytes is too short", len);
		cap = get32(g, g->buf + 12);
		if (cap > body - 20)
			return fail(g, SC_ECORRUPT, off, "enhanced packet block: captured length %" PRIu32
				    " is longer than the block", cap);
		return packet(g, pkt, get32(g, g->buf), (uint64_t)get32(g, g->buf + 4) << 32 | get32(g, g->buf + 8),
			      true, g->buf + 20, cap, get32(g, g->buf + 16), off);
	}
	case BT_OPB: {
		/* | Interface ID (2) | Drops Count (2) | Timestamp high, low |
		 * Captured Length | Packet Length | Packet Data | Options | */
		uint32_t cap;

		if (body < 20)
			return fail(g, SC_ECORRUPT, off, "packet block of %" PRIu32 " bytes is too short", len);
		cap = get32(g, g->buf + 12);
		if (cap > body - 20)
			return fail(g, SC_ECORRUPT, off, "packet block: captured length %" PRIu32
				    " is longer than the block", cap);
		return packet(g, pkt, get16(g, g->buf), (uint64_t)get32(g, g->buf + 4) << 32 | get32(g, g->buf + 8),
			      true, g->buf + 20, cap, get32(g, g->buf + 16), off);
	}
	case BT_SPB: {
		/* | Original Packet Length (4) | Packet Data |: interface 0, no
		 * timestamp (the previous packet's is used), and as much data as
		 * the snaplen and the block allow (pcapng §4.4). */
		uint32_t wire, cap;

		if (body < 4)
			return fail(g, SC_ECORRUPT, off, "simple packet block of %" PRIu32 " bytes is too short", len);
		wire = get32(g, g->buf);
		cap = wire < body - 4 ? wire : body - 4;
		if (g->nifs > g->section_first) {
			uint32_t snap = g->ifs[g->section_first].pub.snaplen;

			if (snap && cap > snap)
				cap = snap;
		}
		return packet(g, pkt, 0, 0, false, g->buf + 4, cap, wire, off);
	}
	}
	return -1; /* skipped */
}

struct sc_pcapng *sc_pcapng_open(FILE *f, const uint8_t magic[4], struct sc_diag *diag)
{
	struct sc_pcapng *g = calloc(1, sizeof(*g));
	struct sc_pcapng_pkt pkt;
	int rc;

	if (!g) {
		sc_diag_set(diag, -ENOMEM, 0, "out of memory");
		return NULL;
	}
	g->f = f;
	g->off = 4;
	if (magic[0] != 0x0A || magic[1] != 0x0D || magic[2] != 0x0D || magic[3] != 0x0A) {
		sc_diag_set(diag, SC_EFORMAT, 0, "pcapng: the file does not start with a section header block");
		free(g);
		return NULL;
	}
	/* The section header block: the file's first; nothing else is read. */
	rc = next_block(g, &pkt, magic);
	if (rc != -1) {
		if (g->err && diag)
			*diag = g->err_diag;
		else
			sc_diag_set(diag, rc < 0 ? rc : SC_EFORMAT, 0, "pcapng: %s",
				    rc < 0 ? sc_strerror(rc) : "not a section header block");
		sc_pcapng_close(g);
		return NULL;
	}
	return g;
}

int sc_pcapng_next(struct sc_pcapng *g, struct sc_pcapng_pkt *pkt, struct sc_diag *diag)
{
	int rc;

	if (g->eof)
		return 0;
	/* Each turn reads one block, so the loop ends with the file. */
	while (!g->err) {
		rc = next_block(g, pkt, NULL);
		if (rc == -1)
			continue;
		if (rc == 0)
			g->eof = true;
		if (rc >= 0)
			return rc;
		if (!g->err) { /* a system error: memory, I/O */
			g->err = rc;
			sc_diag_set(&g->err_diag, rc, g->off, "pcapng: %s at offset %" PRIu64, sc_strerror(rc), g->off);
		}
	}
	if (diag)
		*diag = g->err_diag;
	return g->err;
}

size_t sc_pcapng_ninterfaces(const struct sc_pcapng *g)
{
	return g->nifs;
}

struct sc_pcap_iface *sc_pcapng_interface(struct sc_pcapng *g, size_t i)
{
	return i < g->nifs ? &g->ifs[i].pub : NULL;
}

uint64_t sc_pcapng_skipped_blocks(const struct sc_pcapng *g)
{
	return g->skipped_blocks;
}

uint64_t sc_pcapng_offset(const struct sc_pcapng *g)
{
	return g->off;
}

void sc_pcapng_close(struct sc_pcapng *g)
{
	if (!g)
		return;
	free(g->ifs);
	free(g->buf);
	free(g);
}
