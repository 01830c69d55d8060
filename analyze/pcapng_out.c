/* pcapng_out.c - IPv4/IPv6 TCP packets and the pcapng blocks that carry them.
 *
 * Every structure is put through the bounded writer (formats/sc_wr.h) into a
 * buffer whose size was computed first, and the writer's sticky error is
 * checked once per structure.
 */
#include "analyze/pcapng_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/sc_err.h"
#include "formats/sc_out.h"
#include "formats/sc_wr.h"

/* pcapng block types and option codes (draft-ietf-opsawg-pcapng §4, §11). */
#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_ENDOFOPT 0
#define OPT_COMMENT 1
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_IF_TSRESOL 9

#define IPPROTO_TCP_NUM 6
#define IP_TTL 64
#define IPV4_DF 0x4000u

/* Output buffer, flushed when less than BLOCK_MAX is left: a bound on every
 * block written here (the largest is an EPB of SC_PCAPNG_PKT_MAX bytes and a
 * comment of SC_PCAPNG_COMMENT_MAX, under 35 KiB). */
#define WBUF_CAP (256u << 10)
#define BLOCK_MAX (64u << 10)
_Static_assert(32 + SC_PCAPNG_PKT_MAX + 3 + 4 + SC_PCAPNG_COMMENT_MAX + 3 + 4 <= BLOCK_MAX, "BLOCK_MAX");

/* ---- checksums --------------------------------------------------------------------- */

/* One's complement sum of big-endian 16-bit words, carries kept in the upper
 * bits of the accumulator and folded at the end (RFC 1071 §4.1).  A 64-bit
 * accumulator cannot overflow for any length a size_t can hold before
 * 2^48 words. */
static uint64_t sum16(uint64_t acc, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}

uint16_t sc_pcapng_inet_checksum(const void *p, size_t n)
{
	return (uint16_t)~fold(sum16(0, p, n));
}

uint16_t sc_pcapng_tcp_checksum(unsigned family, const uint8_t src[16], const uint8_t dst[16], const uint8_t *seg,
				size_t len)
{
	size_t alen = family == SC_AF_INET6 ? 16 : 4;
	uint64_t acc = 0;

	/* Pseudo-header: addresses, zero, protocol, TCP length.  IPv6 carries a
	 * 32-bit length and three zero bytes before the next header; the sum is
	 * the same as adding both halves of the length and the protocol. */
	acc = sum16(acc, src, alen);
	acc = sum16(acc, dst, alen);
	acc += IPPROTO_TCP_NUM;
	acc += (uint64_t)(len >> 16) + (len & 0xffffu);
	acc = sum16(acc, seg, len);
	return (uint16_t)~fold(acc);
}

/* ---- packets ----------------------------------------------------------------------- */

/*
 * IPv4 (RFC 791), 20 bytes, no options:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-------+-------+---------------+-------------------------------+
 * |Version|  IHL  |    TOS (0)    |          Total Length         |
 * +-------+-------+---------------+-----+-------------------------+
 * |         Identification        |0|D|0|   Fragment Offset (0)   |
 * +---------------+---------------+-----+-------------------------+
 * |    TTL (64)   |  Protocol (6) |         Header Checksum       |
 * +---------------+---------------+-------------------------------+
 * |                     Source / Destination Address              |
 *
 * IPv6 (RFC 8200), 40 bytes: version 6, traffic class and flow label 0,
 * payload length, next header 6, hop limit 64, source, destination.
 *
 * TCP (RFC 9293): ports, seq, ack, data offset, flags, window, checksum,
 * urgent pointer (0), options.
 */
long sc_pcapng_encode_tcp(uint8_t *buf, size_t cap, const struct sc_pcapng_tcp *t)
{
	size_t ip_len = t->family == SC_AF_INET6 ? 40 : 20;
	size_t tcp_hlen = 20 + t->opts_len;
	size_t tcp_len, total;
	struct sc_wr w;
	uint8_t *ip, *tcp;
	uint16_t ck;

	if (t->family != SC_AF_INET && t->family != SC_AF_INET6)
		return SC_EUNSUPP;
	if (t->opts_len > SC_PCAPNG_TCP_OPTS_MAX || t->opts_len % 4 != 0)
		return SC_EUNSUPP;
	if (t->len > 65535)
		return SC_ETOOBIG;
	tcp_len = tcp_hlen + t->len;
	/* IPv4 total length and the IPv6 payload length are both 16 bits. */
	if ((t->family == SC_AF_INET ? ip_len + tcp_len : tcp_len) > 65535)
		return SC_ETOOBIG;
	total = ip_len + tcp_len;
	if (total > cap)
		return SC_ETOOBIG;
	sc_wr_init(&w, buf, cap);
	ip = w.p;
	if (t->family == SC_AF_INET) {
		sc_wr_u8(&w, 0x45);
		sc_wr_u8(&w, 0);
		sc_wr_be16(&w, (uint16_t)total);
		sc_wr_be16(&w, t->ip_id);
		sc_wr_be16(&w, IPV4_DF);
		sc_wr_u8(&w, IP_TTL);
		sc_wr_u8(&w, IPPROTO_TCP_NUM);
		sc_wr_be16(&w, 0);
		sc_wr_bytes(&w, t->src, 4);
		sc_wr_bytes(&w, t->dst, 4);
	} else {
		sc_wr_be32(&w, 0x60000000u);
		sc_wr_be16(&w, (uint16_t)tcp_len);
		sc_wr_u8(&w, IPPROTO_TCP_NUM);
		sc_wr_u8(&w, IP_TTL);
		sc_wr_bytes(&w, t->src, 16);
		sc_wr_bytes(&w, t->dst, 16);
	}
	tcp = w.p;
	sc_wr_be16(&w, t->sport);
	sc_wr_be16(&w, t->dport);
	sc_wr_be32(&w, t->seq);
	sc_wr_be32(&w, t->ack);
	sc_wr_u8(&w, (uint8_t)((tcp_hlen / 4) << 4));
	sc_wr_u8(&w, t->flags);
	sc_wr_be16(&w, t->window);
	sc_wr_be16(&w, 0); /* checksum, below */
	sc_wr_be16(&w, 0); /* urgent pointer */
	sc_wr_bytes(&w, t->opts, t->opts_len);
	sc_wr_bytes(&w, t->payload, t->len);
	if (w.err)
		return w.err;
	if (t->family == SC_AF_INET) {
		ck = sc_pcapng_inet_checksum(ip, 20);
		ip[10] = (uint8_t)(ck >> 8);
		ip[11] = (uint8_t)ck;
	}
	ck = sc_pcapng_tcp_checksum(t->family, t->src, t->dst, tcp, tcp_len);
	tcp[16] = (uint8_t)(ck >> 8);
	tcp[17] = (uint8_t)ck;
	return (long)total;
}

/* ---- blocks ------------------------------------------------------------------------ */

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static size_t cut(size_t n)
{
	return n < SC_PCAPNG_COMMENT_MAX ? n : SC_PCAPNG_COMMENT_MAX;
}

/* Bytes an option of `n` value bytes takes: code, length, value padded. */
static size_t opt_size(size_t n)
{
	return 4 + pad4(n);
}

static void put_opt(struct sc_wr *w, uint16_t code, const void *v, size_t n)
{
	sc_wr_le16(w, code);
	sc_wr_le16(w, (uint16_t)n);
	sc_wr_bytes(w, v, n);
	sc_wr_zero(w, pad4(n) - n);
}

/*
 * Section Header Block (§4.1):
 *  type 0x0A0D0D0A | total length | byte-order magic 0x1A2B3C4D |
 *  major 1, minor 0 | section length (s64, -1) | options | total length
 */
long sc_pcapng_encode_shb(uint8_t *buf, size_t cap, const char *app, const char *comment)
{
	size_t napp = app ? cut(strlen(app)) : 0, ncom = comment ? cut(strlen(comment)) : 0;
	size_t opts = (app ? opt_size(napp) : 0) + (comment ? opt_size(ncom) : 0);
	size_t total;
	struct sc_wr w;

	if (opts)
		opts += 4; /* opt_endofopt */
	total = 28 + opts;
	sc_wr_init(&w, buf, cap);
	sc_wr_le32(&w, BT_SHB);
	sc_wr_le32(&w, (uint32_t)total);
	sc_wr_le32(&w, BYTE_ORDER_MAGIC);
	sc_wr_le16(&w, 1);
	sc_wr_le16(&w, 0);
	sc_wr_le64(&w, UINT64_MAX); /* -1: the section's length is not given */
	if (comment)
		put_opt(&w, OPT_COMMENT, comment, ncom);
	if (app)
		put_opt(&w, OPT_SHB_USERAPPL, app, napp);
	if (opts)
		put_opt(&w, OPT_ENDOFOPT, NULL, 0);
	sc_wr_le32(&w, (uint32_t)total);
	return w.err ? w.err : (long)total;
}

/*
 * Interface Description Block (§4.2):
 *  type 1 | total length | link type (u16) | reserved (u16) | snaplen |
 *  options | total length
 */
long sc_pcapng_encode_idb(uint8_t *buf, size_t cap, uint16_t linktype, const char *name)
{
	size_t nname = name ? cut(strlen(name)) : 0;
	size_t opts = (name ? opt_size(nname) : 0) + opt_size(1) + 4;
	size_t total = 20 + opts;
	uint8_t tsresol = 9; /* 10^-9 s: the .skc's nanoseconds, kept exactly */
	struct sc_wr w;

	sc_wr_init(&w, buf, cap);
	sc_wr_le32(&w, BT_IDB);
	sc_wr_le32(&w, (uint32_t)total);
	sc_wr_le16(&w, linktype);
	sc_wr_le16(&w, 0);
	sc_wr_le32(&w, SC_PCAPNG_SNAPLEN);
	if (name)
		put_opt(&w, OPT_IF_NAME, name, nname);
	put_opt(&w, OPT_IF_TSRESOL, &tsresol, 1);
	put_opt(&w, OPT_ENDOFOPT, NULL, 0);
	sc_wr_le32(&w, (uint32_t)total);
	return w.err ? w.err : (long)total;
}

/*
 * Enhanced Packet Block (§4.3):
 *  type 6 | total length | interface id | timestamp (upper 32) |
 *  timestamp (lower 32) | captured length | original length |
 *  packet data, padded to 32 bits | options | total length
 */
long sc_pcapng_encode_epb(uint8_t *buf, size_t cap, uint64_t ts_ns, const uint8_t *pkt, size_t len,
			  const char *comment, size_t comment_len)
{
	size_t ncom = cut(comment ? comment_len : 0);
	size_t opts = ncom ? opt_size(ncom) + 4 : 0;
	size_t total;
	struct sc_wr w;

	if (len > SC_PCAPNG_PKT_MAX)
		return SC_ETOOBIG;
	total = 32 + pad4(len) + opts;
	sc_wr_init(&w, buf, cap);
	sc_wr_le32(&w, BT_EPB);
	sc_wr_le32(&w, (uint32_t)total);
	sc_wr_le32(&w, 0);
	sc_wr_le32(&w, (uint32_t)(ts_ns >> 32));
	sc_wr_le32(&w, (uint32_t)ts_ns);
	sc_wr_le32(&w, (uint32_t)len);
	sc_wr_le32(&w, (uint32_t)len);
	sc_wr_bytes(&w, pkt, len);
	sc_wr_zero(&w, pad4(len) - len);
	if (ncom) {
		put_opt(&w, OPT_COMMENT, comment, ncom);
		put_opt(&w, OPT_ENDOFOPT, NULL, 0);
	}
	sc_wr_le32(&w, (uint32_t)total);
	return w.err ? w.err : (long)total;
}

/* ---- the writer -------------------------------------------------------------------- */

struct sc_pcapng_writer {
	int fd;
	struct sc_out *out; /* the file, or NULL when given a descriptor */
	int err;            /* sticky: the first failure */
	uint8_t *buf;
	size_t len;
	uint64_t bytes;
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int flush(struct sc_pcapng_writer *w)
{
	int rc;

	if (w->err)
		return w->err;
	rc = write_all(w->fd, w->buf, w->len);
	w->len = 0;
	if (rc < 0)
		w->err = rc;
	return rc;
}

/* Make room for one block: every block is shorter than BLOCK_MAX, so after
 * this an encoder's SC_ETOOBIG can only mean a bad argument. */
static int room(struct sc_pcapng_writer *w)
{
	if (w->err)
		return w->err;
	return WBUF_CAP - w->len < BLOCK_MAX ? flush(w) : 0;
}

static int put(struct sc_pcapng_writer *w, long n)
{
	if (n < 0)
		return (int)n;
	w->len += (size_t)n;
	w->bytes += (uint64_t)n;
	return 0;
}

static int put_header(struct sc_pcapng_writer *w, const struct sc_pcapng_writer_opts *o)
{
	int rc = room(w);

	if (rc >= 0)
		rc = put(w, sc_pcapng_encode_shb(w->buf + w->len, WBUF_CAP - w->len, o ? o->app : NULL,
						 o ? o->comment : NULL));
	if (rc >= 0)
		rc = room(w);
	if (rc >= 0)
		rc = put(w, sc_pcapng_encode_idb(w->buf + w->len, WBUF_CAP - w->len, SC_PCAPNG_LINKTYPE_RAW,
						 o ? o->if_name : NULL));
	return rc;
}

struct sc_pcapng_writer *sc_pcapng_writer_fdopen(int fd, const struct sc_pcapng_writer_opts *opts, int *err)
{
	struct sc_pcapng_writer *w = calloc(1, sizeof(*w));
	int rc;

	if (w)
		w->buf = malloc(WBUF_CAP);
	if (!w || !w->buf) {
		free(w);
		if (err)
			*err = -ENOMEM;
		return NULL;
	}
	w->fd = fd;
	rc = put_header(w, opts);
	if (rc < 0) {
		free(w->buf);
		free(w);
		if (err)
			*err = rc;
		return NULL;
	}
	return w;
}

struct sc_pcapng_writer *sc_pcapng_writer_open(const char *path, const struct sc_pcapng_writer_opts *opts,
						struct sc_diag *diag)
{
	struct sc_pcapng_writer *w;
	struct sc_out *out;
	int rc = sc_out_open(&out, path, opts && opts->overwrite ? SC_OUT_FORCE : 0, diag);

	if (rc < 0)
		return NULL;
	w = sc_pcapng_writer_fdopen(sc_out_fd(out), opts, &rc);
	if (!w) {
		sc_diag_set(diag, rc, 0, "writing %s: %s", path, sc_strerror(rc));
		sc_out_abort(out);
		return NULL;
	}
	w->out = out;
	return w;
}

int sc_pcapng_writer_packet(struct sc_pcapng_writer *w, uint64_t ts_ns, const uint8_t *pkt, size_t len,
			    const char *comment, size_t comment_len)
{
	int rc = room(w);

	if (rc < 0)
		return rc;
	return put(w, sc_pcapng_encode_epb(w->buf + w->len, WBUF_CAP - w->len, ts_ns, pkt, len, comment,
					   comment_len));
}

uint64_t sc_pcapng_writer_bytes(const struct sc_pcapng_writer *w)
{
	return w->bytes;
}

static void writer_free(struct sc_pcapng_writer *w)
{
	free(w->buf);
	free(w);
}

int sc_pcapng_writer_close(struct sc_pcapng_writer *w, struct sc_diag *diag)
{
	int rc;

	if (!w)
		return 0;
	rc = w->err ? w->err : flush(w);
	if (!w->out) {
		if (close(w->fd) < 0 && rc >= 0)
			rc = -errno;
		if (rc < 0)
			sc_diag_set(diag, rc, 0, "writing the pcapng: %s", sc_strerror(rc));
	} else if (rc < 0) {
		sc_diag_set(diag, rc, 0, "writing %s: %s", sc_out_path(w->out), sc_strerror(rc));
		sc_out_abort(w->out);
	} else {
		rc = sc_out_commit(w->out, diag);
	}
	writer_free(w);
	return rc;
}

void sc_pcapng_writer_abort(struct sc_pcapng_writer *w)
{
	if (!w)
		return;
	if (w->out)
		sc_out_abort(w->out);
	else
		close(w->fd);
	writer_free(w);
}
