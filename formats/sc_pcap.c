/* sc_pcap.c - TCP segments out of pcap and pcapng files.
 *
 * libpcap reads the file (both formats, both byte orders, every timestamp
 * resolution); everything above the capture record is decoded here, through
 * the checked cursor of sc_rd.h, one frame at a time and without allocating.
 *
 * Every frame ends in exactly one outcome, so that
 *   frames == tcp_segments + skipped_non_ip + skipped_non_tcp
 *             + skipped_fragments + skipped_truncated + skipped_malformed
 * always holds; the tests and the fuzz target check it.
 *
 * Running out of captured bytes means one of two things.  If the frame was cut
 * by the snaplen (caplen < len in the record header, or unknown as in
 * sc_pcap_decode()), the frame is "truncated"; if the record says the whole
 * frame is here, the headers lie and the frame is "malformed".  The same test
 * applies to IP length fields that claim more bytes than the frame had on the
 * wire.
 */
#include "sc_pcap.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86ddu
#define ETHERTYPE_VLAN 0x8100u   /* 802.1Q */
#define ETHERTYPE_QINQ 0x88a8u   /* 802.1ad service tag */
#define ETHERTYPE_QINQ_OLD 0x9100u /* pre-802.1ad vendor QinQ */
#define ETHER_MAX_LEN_FIELD 1500u /* below: an 802.3 length, not a type */

/* Tags in a row we follow.  Real networks stack two (QinQ), rarely three; the
 * cap keeps the loop bounded on a frame that is nothing but tags. */
#define VLAN_MAX_TAGS 8

/* IPv6 extension headers we walk before giving up on a packet. */
#define IPV6_MAX_EXT_HDRS 8

#define IPPROTO_NUM_HOPOPTS 0
#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_ROUTING 43
#define IPPROTO_NUM_FRAGMENT 44
#define IPPROTO_NUM_DSTOPTS 60

/* BSD address families found in DLT_NULL / DLT_LOOP headers.  AF_INET6 differs
 * between the BSDs (tcpdump's BSD_AFNUM_INET6_*). */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24     /* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30

enum outcome {
	OUT_SEGMENT,
	OUT_NON_IP,
	OUT_NON_TCP,
	OUT_FRAGMENT,
	OUT_TRUNCATED,
	OUT_MALFORMED,
};

/* What the decoder knows about the frame as a whole. */
struct frame {
	const uint8_t *pkt;
	size_t caplen;
	/* Whether bytes of this frame were not captured (caplen < len), or may
	 * not have been (len unknown).  Decides truncated vs malformed. */
	bool cut;
	/* Frame length on the wire; SIZE_MAX when unknown. */
	size_t wire_len;
};

struct sc_pcap {
	pcap_t *pc;
	int dlt;
	bool pcapng;
	uint64_t frame;  /* frames read so far */
	bool unseekable; /* ftello() failed once (a pipe): stop asking */
	/* Classic pcap: where the next record starts, counted from the record
	 * sizes once the first record has shown the header size, so that
	 * ftello() (an lseek() per call in glibc) is not asked per frame. */
	int64_t next_off;  /* -1: ask ftello() */
	int64_t prev_off; /* where the previous record started, -1 before it */
	uint32_t prev_caplen; /* its caplen */
	uint32_t hdr_len;  /* record header size, 0 until known */
	int err;         /* sticky error from sc_pcap_next, 0 if none */
	bool eof;
	struct sc_diag err_diag; /* repeated for every call after an error */
	struct sc_pcap_stats st;

	/* sc_pcap_fopen: the caller's stream behind our cookie stream (below). */
	FILE *src;
	bool src_owned;
};

/* ---- per-frame decoder ------------------------------------------------------ */

static enum outcome out_of_bytes(const struct frame *fr)
{
	return fr->cut ? OUT_TRUNCATED : OUT_MALFORMED;
}

/* Bytes of the frame on the wire from the cursor position to the end of the
 * frame, or SIZE_MAX when the frame length is unknown. */
static size_t wire_left(const struct frame *fr, const struct sc_rd *r)
{
	size_t off = (size_t)(r->p - fr->pkt);

	if (fr->wire_len == SIZE_MAX)
		return SIZE_MAX;
	return fr->wire_len - off; /* wire_len >= caplen >= off */
}

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
static enum outcome decode_tcp(const struct frame *fr, struct sc_rd *r, size_t wire, struct sc_tcp_seg *seg)
{
	uint8_t doff, flags;
	size_t hlen;

	if (wire < 20)
		return OUT_MALFORMED;
	seg->src.port = sc_rd_be16(r);
	seg->dst.port = sc_rd_be16(r);
	seg->seq = sc_rd_be32(r);
	seg->ack = sc_rd_be32(r);
	doff = (uint8_t)(sc_rd_u8(r) >> 4);
	flags = sc_rd_u8(r);
	seg->window = sc_rd_be16(r);
	sc_rd_skip(r, 4); /* checksum, urgent pointer */
	if (r->err)
		return out_of_bytes(fr);
	if (doff < 5)
		return OUT_MALFORMED;
	hlen = (size_t)doff * 4;
	if (hlen > wire)
		return OUT_MALFORMED;
	sc_rd_skip(r, hlen - 20);
	if (r->err)
		return out_of_bytes(fr);
	seg->flags = flags;
	seg->payload = r->p;
	seg->wire_len = (uint32_t)(wire - hlen);
	/* The cursor ends at min(captured, declared), so this cannot exceed
	 * wire_len; the min() states the invariant rather than trusts it. */
	seg->len = (uint32_t)(sc_rd_left(r) < seg->wire_len ? sc_rd_left(r) : seg->wire_len);
	return OUT_SEGMENT;
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
 */
static enum outcome decode_ipv4(const struct frame *fr, struct sc_rd *r, struct sc_tcp_seg *seg)
{
	struct sc_rd whole = *r, ip;
	size_t avail = sc_rd_left(r), on_wire = wire_left(fr, r), hlen;
	uint8_t vihl, proto;
	uint16_t total, frag;
	const uint8_t *src, *dst;

	vihl = sc_rd_u8(r);
	sc_rd_skip(r, 1); /* TOS */
	total = sc_rd_be16(r);
	sc_rd_skip(r, 2); /* identification */
	frag = sc_rd_be16(r);
	sc_rd_skip(r, 1); /* TTL */
	proto = sc_rd_u8(r);
	sc_rd_skip(r, 2); /* header checksum */
	src = sc_rd_bytes(r, 4);
	dst = sc_rd_bytes(r, 4);
	if (r->err)
		return out_of_bytes(fr);
	if (vihl >> 4 != 4)
		return OUT_MALFORMED;
	hlen = (size_t)(vihl & 0x0f) * 4;
	if (hlen < 20 || total < hlen)
		return OUT_MALFORMED;
	/* Longer than the frame was on the wire: no snaplen explains that.
	 * Shorter is Ethernet padding (or an FCS) and is trimmed below. */
	if (total > on_wire)
		return OUT_MALFORMED;
	/* MF set or a non-zero offset: a piece of a datagram.  Reassembly is not
	 * ours to do; TCP stacks avoid fragmentation anyway (PMTUD, DF). */
	if ((frag & 0x2000u) || (frag & 0x1fffu))
		return OUT_FRAGMENT;
	if (proto != IPPROTO_NUM_TCP)
		return OUT_NON_TCP;

	ip = sc_rd_sub(&whole, total < avail ? total : avail);
	sc_rd_skip(&ip, hlen);
	if (ip.err)
		return out_of_bytes(fr);
	memset(seg->src.addr, 0, sizeof(seg->src.addr));
	memset(seg->dst.addr, 0, sizeof(seg->dst.addr));
	memcpy(seg->src.addr, src, 4);
	memcpy(seg->dst.addr, dst, 4);
	seg->family = SC_AF_INET;
	return decode_tcp(fr, &ip, total - hlen, seg);
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
 *
 * A fragment header (44) means a fragment: skipped like IPv4 fragments.  A
 * payload length of 0 announces a jumbogram (RFC 2675), which needs a
 * hop-by-hop option to be understood and never crosses the links we read;
 * we call it malformed rather than guess.
 */
static enum outcome decode_ipv6(const struct frame *fr, struct sc_rd *r, struct sc_tcp_seg *seg)
{
	struct sc_rd whole = *r, ip;
	size_t avail = sc_rd_left(r), on_wire = wire_left(fr, r), plen, wire;
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
		return out_of_bytes(fr);
	if (vers != 6 || plen == 0)
		return OUT_MALFORMED;
	if (on_wire < 40 || plen > on_wire - 40)
		return OUT_MALFORMED;

	ip = sc_rd_sub(&whole, 40 + plen < avail ? 40 + plen : avail);
	sc_rd_skip(&ip, 40);
	wire = plen;
	for (unsigned i = 0;; i++) {
		uint8_t next, xlen;
		size_t len;

		if (nh == IPPROTO_NUM_TCP)
			break;
		if (nh == IPPROTO_NUM_FRAGMENT)
			return OUT_FRAGMENT;
		if (nh != IPPROTO_NUM_HOPOPTS && nh != IPPROTO_NUM_ROUTING && nh != IPPROTO_NUM_DSTOPTS)
			return OUT_NON_TCP;
		if (i == IPV6_MAX_EXT_HDRS)
			return OUT_MALFORMED;
		if (wire < 2)
			return OUT_MALFORMED;
		next = sc_rd_u8(&ip);
		xlen = sc_rd_u8(&ip);
		if (ip.err)
			return out_of_bytes(fr);
		len = ((size_t)xlen + 1) * 8;
		if (len > wire)
			return OUT_MALFORMED;
		sc_rd_skip(&ip, len - 2);
		if (ip.err)
			return out_of_bytes(fr);
		wire -= len;
		nh = next;
	}
	memcpy(seg->src.addr, src, 16);
	memcpy(seg->dst.addr, dst, 16);
	seg->family = SC_AF_INET6;
	return decode_tcp(fr, &ip, wire, seg);
}

/* Raw IP: the version nibble says which. */
static enum outcome decode_ip_any(const struct frame *fr, struct sc_rd *r, struct sc_tcp_seg *seg)
{
	struct sc_rd peek = *r;
	uint8_t v = (uint8_t)(sc_rd_u8(&peek) >> 4);

	if (peek.err)
		return out_of_bytes(fr);
	if (v == 4)
		return decode_ipv4(fr, r, seg);
	if (v == 6)
		return decode_ipv6(fr, r, seg);
	return OUT_MALFORMED;
}

/* An ethertype, after following any stack of VLAN tags:
 *
 *   ... | TPID 0x88a8/0x8100/0x9100 | TCI (2) | TPID ... | TCI | type | payload
 *
 * The TPID of each tag sits where the type would be, so each tag is the TCI
 * and the next type field. */
static enum outcome decode_ethertype(const struct frame *fr, struct sc_rd *r, uint16_t type,
				     struct sc_tcp_seg *seg)
{
	unsigned tags = 0;

	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
		if (tags++ == VLAN_MAX_TAGS)
			return OUT_MALFORMED;
		sc_rd_skip(r, 2); /* TCI: priority, DEI, VLAN id */
		type = sc_rd_be16(r);
		if (r->err)
			return out_of_bytes(fr);
	}
	if (type == ETHERTYPE_IPV4)
		return decode_ipv4(fr, r, seg);
	if (type == ETHERTYPE_IPV6)
		return decode_ipv6(fr, r, seg);
	/* ARP, LLDP, ..., and 802.3 frames whose type field is a length. */
	return OUT_NON_IP;
}

static enum outcome decode_bsd_family(const struct frame *fr, struct sc_rd *r, uint32_t family,
				      struct sc_tcp_seg *seg)
{
	switch (family) {
	case BSD_AF_INET:
		return decode_ipv4(fr, r, seg);
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return decode_ipv6(fr, r, seg);
	}
	return OUT_NON_IP;
}

static enum outcome decode_frame(int dlt, const struct frame *fr, struct sc_tcp_seg *seg)
{
	struct sc_rd r;
	uint16_t type;
	uint32_t le, be;
	const uint8_t *b;

	sc_rd_init(&r, fr->pkt, fr->caplen);
	switch (dlt) {
	case DLT_EN10MB:
		/* dst MAC (6), src MAC (6), type (2) */
		sc_rd_skip(&r, 12);
		type = sc_rd_be16(&r);
		if (r.err)
			return out_of_bytes(fr);
		return decode_ethertype(fr, &r, type, seg);

	case DLT_LINUX_SLL:
		/* packet type (2), ARPHRD (2), address length (2), address (8),
		 * protocol (2).  libpcap inserts VLAN tags after it. */
		sc_rd_skip(&r, 14);
		type = sc_rd_be16(&r);
		if (r.err)
			return out_of_bytes(fr);
		return decode_ethertype(fr, &r, type, seg);

	case DLT_LINUX_SLL2:
		/* protocol (2), reserved (2), ifindex (4), ARPHRD (2), packet
		 * type (1), address length (1), address (8) */
		type = sc_rd_be16(&r);
		sc_rd_skip(&r, 18);
		if (r.err)
			return out_of_bytes(fr);
		return decode_ethertype(fr, &r, type, seg);

	case DLT_RAW:
#if DLT_RAW != LINKTYPE_RAW
	case LINKTYPE_RAW:
#endif
		return decode_ip_any(fr, &r, seg);

	case DLT_IPV4:
		return decode_ipv4(fr, &r, seg);

	case DLT_IPV6:
		return decode_ipv6(fr, &r, seg);

	case DLT_NULL:
		/* The family in the byte order of the machine that captured.
		 * Every value we know fits in a byte, so the order in which the
		 * value is small is the right one. */
		b = sc_rd_bytes(&r, 4);
		if (!b)
			return out_of_bytes(fr);
		le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		be = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		return decode_bsd_family(fr, &r, le <= 0xff ? le : be, seg);

	case DLT_LOOP:
		/* As DLT_NULL, but always network byte order (OpenBSD). */
		be = sc_rd_be32(&r);
		if (r.err)
			return out_of_bytes(fr);
		return decode_bsd_family(fr, &r, be, seg);
	}
	return OUT_NON_IP;
}

/* One frame in, one outcome counted.  `wire_len` is the record's original
 * length, or 0 when unknown. */
static int decode_count(int dlt, const uint8_t *pkt, uint32_t caplen, uint32_t wire_len, struct sc_tcp_seg *seg,
			struct sc_pcap_stats *st)
{
	static const uint8_t empty[1];
	struct frame fr = { pkt, caplen, true, SIZE_MAX };
	struct sc_tcp_seg s;

	if (!pkt) { /* NULL + 0 is undefined; an empty frame points somewhere */
		fr.pkt = empty;
		fr.caplen = 0;
	}
	if (wire_len) {
		/* A record with len < caplen is damaged; trust what is there. */
		fr.wire_len = wire_len > caplen ? wire_len : caplen;
		fr.cut = caplen < wire_len;
	}
	memset(&s, 0, sizeof(s));
	st->frames++;
	st->bytes += caplen;
	switch (decode_frame(dlt, &fr, &s)) {
	case OUT_SEGMENT:
		break;
	case OUT_NON_IP:
		st->skipped_non_ip++;
		return 0;
	case OUT_NON_TCP:
		st->skipped_non_tcp++;
		return 0;
	case OUT_FRAGMENT:
		st->skipped_fragments++;
		return 0;
	case OUT_TRUNCATED:
		st->skipped_truncated++;
		return 0;
	case OUT_MALFORMED:
		st->skipped_malformed++;
		return 0;
	}
	st->tcp_segments++;
	st->tcp_payload_bytes += s.len;
	if (s.len < s.wire_len) {
		st->truncated_payload++;
		st->truncated_bytes += s.wire_len - s.len;
	}
	*seg = s;
	return 1;
}

int sc_pcap_decode(int dlt, const uint8_t *pkt, uint32_t caplen, struct sc_tcp_seg *seg,
		   struct sc_pcap_stats *st)
{
	return decode_count(dlt, pkt, caplen, 0, seg, st);
}

bool sc_pcap_dlt_supported(int dlt)
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
		return true;
	}
	return false;
}

/* ---- files ------------------------------------------------------------------- */

/* libpcap reports every failure as text; its truncation messages all say
 * "truncated" ("truncated dump file; tried to read ...", "truncated pcapng
 * dump file; ..."), everything else is damage of another kind. */
static int classify_pcap_error(const char *msg)
{
	if (strstr(msg, "error reading dump file"))
		return -EIO; /* the read itself failed: fatal, not bad data */
	return strstr(msg, "truncated") ? SC_ETRUNC : SC_ECORRUPT;
}

/* Open-time errors: a short file header is still "truncated"; anything else
 * libpcap refuses is not a capture file we can read. */
static int classify_open_error(const char *msg)
{
	return strstr(msg, "truncated") ? SC_ETRUNC : SC_EFORMAT;
}

static struct sc_pcap *finish_open(struct sc_pcap *p, pcap_t *pc, struct sc_diag *diag)
{
	const char *name;

	p->pc = pc;
	p->next_off = p->prev_off = -1;
	p->dlt = pcap_datalink(pc);
	if (!sc_pcap_dlt_supported(p->dlt)) {
		name = pcap_datalink_val_to_name(p->dlt);
		sc_diag_set(diag, SC_EUNSUPP, 0, "unsupported link type %s (%d)", name ? name : "unknown", p->dlt);
		return NULL;
	}
	/* libpcap reports the pcapng section's version (1.x); classic pcap
	 * files are 2.x. */
	p->pcapng = pcap_major_version(pc) == 1;
	return p;
}

struct sc_pcap *sc_pcap_open(const char *path, struct sc_diag *diag)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct sc_pcap *p;
	pcap_t *pc;
	FILE *f;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p) {
		sc_diag_set(diag, -ENOMEM, 0, "out of memory");
		return NULL;
	}
	/* What pcap_open_offline_with_tstamp_precision() does, but opening the
	 * file ourselves reports the errno as -errno and keeps the path out of
	 * the message (the caller prints it, as for every other diag). */
	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else {
		f = fopen(path, "rb");
		if (!f) {
			err = errno;
			sc_diag_set(diag, -err, 0, "%s", strerror(err));
			free(p);
			return NULL;
		}
	}
	pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		sc_diag_set(diag, classify_open_error(errbuf), 0, "%s", errbuf);
		if (f != stdin)
			fclose(f);
		free(p);
		return NULL;
	}
	/* From here libpcap owns f (and never closes stdin). */
	if (!finish_open(p, pc, diag)) {
		pcap_close(pc);
		free(p);
		return NULL;
	}
	return p;
}

/*
 * sc_pcap_fopen() must leave the caller's stream open when it fails (the
 * ownership rule of STYLE.md §4), but the link type is known only after
 * libpcap has taken the stream, and pcap_close() closes it.  So libpcap reads
 * through a cookie stream of ours whose close closes the caller's stream only
 * once we own it.  (Peeking at the header ourselves would not work on pipes:
 * the bytes could not be given back.)
 */
static ssize_t src_read(void *cookie, char *buf, size_t n)
{
	struct sc_pcap *p = cookie;
	size_t got = fread(buf, 1, n, p->src);

	if (got == 0 && ferror(p->src)) {
		errno = EIO;
		return -1;
	}
	return (ssize_t)got;
}

static int src_close(void *cookie)
{
	struct sc_pcap *p = cookie;

	if (p->src_owned)
		return fclose(p->src);
	return 0;
}

#if defined(__APPLE__)
/* macOS has funopen() but no fopencookie(). */
static int src_read_int(void *cookie, char *buf, int n)
{
	return (int)src_read(cookie, buf, n < 0 ? 0 : (size_t)n);
}

static fpos_t src_seek_pos(void *cookie, fpos_t off, int whence)
{
	struct sc_pcap *p = cookie;

	if (fseeko(p->src, off, whence) < 0)
		return -1;
	return ftello(p->src);
}

static FILE *src_stream(struct sc_pcap *p)
{
	return funopen(p, src_read_int, NULL, src_seek_pos, src_close);
}
#else
/* Seeking is passed through so that ftello() works for diag offsets. */
static int src_seek(void *cookie, off64_t *off, int whence)
{
	struct sc_pcap *p = cookie;
	off_t pos;

	if (fseeko(p->src, (off_t)*off, whence) < 0)
		return -1;
	pos = ftello(p->src);
	if (pos < 0)
		return -1;
	*off = pos;
	return 0;
}

static FILE *src_stream(struct sc_pcap *p)
{
	cookie_io_functions_t io = { .read = src_read, .write = NULL, .seek = src_seek, .close = src_close };

	return fopencookie(p, "rb", io);
}
#endif

struct sc_pcap *sc_pcap_fopen(FILE *f, struct sc_diag *diag)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct sc_pcap *p;
	pcap_t *pc;
	FILE *cs;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p) {
		sc_diag_set(diag, -ENOMEM, 0, "out of memory");
		return NULL;
	}
	p->src = f;
	errno = 0;
	cs = src_stream(p);
	if (!cs) {
		err = errno ? errno : ENOMEM;
		sc_diag_set(diag, -err, 0, "cannot wrap the input stream: %s", strerror(err));
		free(p);
		return NULL;
	}
	pc = pcap_fopen_offline_with_tstamp_precision(cs, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		sc_diag_set(diag, classify_open_error(errbuf), 0, "%s", errbuf);
		fclose(cs); /* not owned: leaves f open */
		free(p);
		return NULL;
	}
	if (!finish_open(p, pc, diag)) {
		pcap_close(pc); /* closes cs, not f */
		free(p);
		return NULL;
	}
	p->src_owned = true;
	return p;
}

static uint64_t ts_to_ns(const struct timeval *tv)
{
	/* With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds.  Times
	 * before the epoch (a negative pcapng if_tsoffset) are clamped. */
	if (tv->tv_sec < 0 || tv->tv_usec < 0)
		return 0;
	return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec;
}

int sc_pcap_next(struct sc_pcap *p, struct sc_tcp_seg *seg, struct sc_diag *diag)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	off_t off;
	int rc;

	if (p->err) {
		if (diag)
			*diag = p->err_diag;
		return p->err;
	}
	if (p->eof)
		return 0;
	/* Each turn reads one record, so the loop ends with the file. */
	for (;;) {
		/* Where the next record starts, for the diag of a damaged one. */
		off = -1;
		if (p->next_off >= 0) {
			off = p->next_off;
		} else if (!p->unseekable) {
			off = ftello(pcap_file(p->pc));
			p->unseekable = off < 0;
		}
		rc = pcap_next_ex(p->pc, &h, &data);
		if (rc == 1) {
			p->frame++;
			if (!p->pcapng && off >= 0) {
				/* A record longer than the file's snaplen is read whole
				 * but reported cut to the snaplen: its size is unknown. */
				bpf_u_int32 snap = (bpf_u_int32)pcap_snapshot(p->pc);

				if (!p->hdr_len && p->prev_off >= 0 && p->prev_caplen < snap) {
					/* The record before this one shows the header size:
					 * 16, or 24 in the modified formats. */
					int64_t hdr = off - p->prev_off - (int64_t)p->prev_caplen;

					if (hdr == 16 || hdr == 24)
						p->hdr_len = (uint32_t)hdr;
				}
				p->prev_off = off;
				p->prev_caplen = h->caplen;
				if (p->hdr_len && h->caplen < snap)
					p->next_off = off + p->hdr_len + h->caplen;
				else
					p->next_off = -1;
			}
			if (decode_count(p->dlt, data, h->caplen, h->len, seg, &p->st)) {
				seg->ts_ns = ts_to_ns(&h->ts);
				seg->frame = p->frame;
				return 1;
			}
			continue;
		}
		if (rc == PCAP_ERROR_BREAK) {
			p->eof = true;
			return 0;
		}
		/* 0 (a live-capture timeout) cannot happen on a file; treat any
		 * other value as the error libpcap says it is. */
		p->err = rc == 0 ? SC_ECORRUPT : classify_pcap_error(pcap_geterr(p->pc));
		sc_diag_set(&p->err_diag, p->err, off < 0 ? 0 : (uint64_t)off, "frame %" PRIu64 ": %s",
			    p->frame + 1, rc == 0 ? "libpcap returned no packet and no error" : pcap_geterr(p->pc));
		if (diag)
			*diag = p->err_diag;
		return p->err;
	}
}

int sc_pcap_linktype(const struct sc_pcap *p)
{
	return p->dlt;
}

const char *sc_pcap_linktype_name(const struct sc_pcap *p)
{
	const char *name = pcap_datalink_val_to_name(p->dlt);

	return name ? name : "unknown";
}

uint32_t sc_pcap_snaplen(const struct sc_pcap *p)
{
	int s = pcap_snapshot(p->pc);

	return s < 0 ? 0 : (uint32_t)s;
}

bool sc_pcap_is_pcapng(const struct sc_pcap *p)
{
	return p->pcapng;
}

const struct sc_pcap_stats *sc_pcap_stats(const struct sc_pcap *p)
{
	return &p->st;
}

void sc_pcap_close(struct sc_pcap *p)
{
	if (!p)
		return;
	pcap_close(p->pc);
	free(p);
}
