/* h2conn.c - HTTP/2 (RFC 9113) connection decoder: frames in, one transaction
 * per stream out.
 *
 * Each direction runs its own byte-driven state machine (preface, frame
 * header, payload, resynchronisation, failed), so input may be split at any
 * byte.  Only what a frame needs is buffered: the 9-byte header, up to 6
 * bytes of padding/priority/promise fields, a small control payload, and the
 * fragments of a header block (capped).  DATA payloads go straight to the
 * stream's body.
 *
 * Error classes.  A violation that leaves the framing or the HPACK state of a
 * direction untrustworthy (bad preface, a frame over the size limit, broken
 * CONTINUATION sequencing, a header block over the cap, a control frame of
 * the wrong length or on the wrong stream, bad padding, an HPACK error while
 * the settings are exactly known) is a connection error: it is reported and
 * that direction stops decoding (sticky; RFC 9113 §5.4.1 has the peer close
 * the connection anyway).  Violations that do not disturb decoding (a
 * malformed message, a bad SETTINGS value, DATA on a closed stream...) are
 * reported and decoding goes on; the stream concerned gets tx.error.
 *
 * What cannot be known is marked, never guessed: after a gap or a mid-stream
 * join the HPACK decoder of the direction is put in its unknown state
 * (analyze/hpack.h) and fields it cannot resolve become header rows with
 * SC_HDR_NAME_UNKNOWN / SC_HDR_VALUE_UNKNOWN and tx.headers_incomplete.
 */
#include "analyze/codec.h"
#include "analyze/h2conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/hpack.h"
#include "analyze/txb.h"
#include "formats/sc_rd.h"
#include "formats/sc_u64map.h"
#include "formats/sc_grow.h"

/* ---- Constants --------------------------------------------------------------- */

static const uint8_t preface[24] = { 'P', 'R', 'I', ' ', '*', ' ', 'H', 'T', 'T', 'P', '/', '2',
				     '.', '0', '\r', '\n', '\r', '\n', 'S', 'M', '\r', '\n', '\r', '\n' };

#define FRAME_HDR 9u

enum {
	FT_DATA = 0x0,
	FT_HEADERS = 0x1,
	FT_PRIORITY = 0x2,
	FT_RST_STREAM = 0x3,
	FT_SETTINGS = 0x4,
	FT_PUSH_PROMISE = 0x5,
	FT_PING = 0x6,
	FT_GOAWAY = 0x7,
	FT_WINDOW_UPDATE = 0x8,
	FT_CONTINUATION = 0x9,
	FT_KNOWN = 10,
};

#define F_END_STREAM 0x01u
#define F_ACK 0x01u
#define F_END_HEADERS 0x04u
#define F_PADDED 0x08u
#define F_PRIORITY 0x20u

/* Flags each type defines (RFC 9113 §6).  Others must be ignored on receipt
 * (§4.1), but senders leave them clear, which makes them a good test of a
 * candidate frame boundary. */
static const uint8_t defined_flags[FT_KNOWN] = {
	F_END_STREAM | F_PADDED,                             /* DATA */
	F_END_STREAM | F_END_HEADERS | F_PADDED | F_PRIORITY, /* HEADERS */
	0, 0, F_ACK,                                         /* PRIORITY, RST_STREAM, SETTINGS */
	F_END_HEADERS | F_PADDED,                            /* PUSH_PROMISE */
	F_ACK, 0, 0,                                         /* PING, GOAWAY, WINDOW_UPDATE */
	F_END_HEADERS,                                       /* CONTINUATION */
};

static const char *const type_names[FT_KNOWN] = {
	"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE",
	"CONTINUATION",
};

/* SETTINGS identifiers (RFC 9113 §6.5.2). */
#define S_HEADER_TABLE_SIZE 0x1
#define S_ENABLE_PUSH 0x2
#define S_INITIAL_WINDOW_SIZE 0x4
#define S_MAX_FRAME_SIZE 0x5
#define S_NO_RFC7540_PRIORITIES 0x9

#define CLOSED_RING 1024u         /* recently closed stream ids remembered (late frames are ignored) */
#define RESYNC_CAP (64u << 10)    /* lookahead kept while looking for a frame boundary */
#define RESYNC_TRUST 8u           /* frames after a resync in which an error means a false boundary */
#define RESYNC_MARKS 32u          /* timestamps kept for the bytes of the search buffer */
#define GOAWAY_DEBUG_KEEP 96u     /* GOAWAY debug data kept for the anomaly message */
#define PENDING_MAX 16u           /* SETTINGS awaiting an ACK, per side */
#define BLOCK_KEEP (64u << 10)    /* header block buffer kept between blocks */

/* HPACK table bounds assumed when a side's SETTINGS_HEADER_TABLE_SIZE is not
 * known (mid-stream join): the default first (most encoders never use more,
 * and a small bound lets the decoder prove its state known again soonest),
 * then larger ones after an HPACK error shows the bound was too small (a
 * bound too small yields errors, never wrong fields: analyze/hpack.h). */
static const uint32_t unsure_table_bounds[3] = { SC_HPACK_DEFAULT_TABLE_SIZE, 65536u, UINT32_MAX };

enum dir_state {
	ST_PREFACE,
	ST_HEAD,   /* reading a frame header */
	ST_PAY,    /* inside a frame payload */
	ST_RESYNC, /* looking for a frame boundary */
	ST_FAILED, /* after a connection error: bytes are ignored */
};

static const char *const side_names[2] = { "client", "server" };

/* ---- Structures ----------------------------------------------------------------- */

/* Settings a side announced in one SETTINGS frame. */
struct pset {
	bool has_hts, has_mfs, has_push;
	uint32_t hts, mfs, push;
};

/* A header block being collected: HEADERS or PUSH_PROMISE and its
 * CONTINUATION frames. */
struct hblock {
	uint8_t *buf;
	size_t len, cap;
	bool active;      /* END_HEADERS not seen yet: only CONTINUATION may follow (§6.10) */
	bool lost;        /* bytes of it fell in a gap: it is not decoded */
	uint8_t kind;     /* FT_HEADERS or FT_PUSH_PROMISE */
	bool end_stream;
	uint32_t sid, promised;
	bool promised_known;
	unsigned ncont;
	uint64_t off, ts; /* first frame */
	uint64_t wire;    /* fragment bytes (HPACK-encoded bytes on the wire) */
};

struct h2dir {
	enum dir_state st;
	uint64_t pos;                /* stream offset of the next byte run() consumes */
	uint64_t in_off;             /* stream offset of the next input byte */
	bool in_set;
	bool at_start;               /* the direction is seen from its first byte */
	unsigned pm;                 /* preface bytes matched */
	uint8_t hb[FRAME_HDR];
	unsigned hn;

	/* The frame being read. */
	uint32_t flen, fsid, fdone;
	uint8_t ftype, fflags;
	uint64_t foff, fts;
	uint8_t pre[6];
	uint32_t pre_need, pre_have;
	uint32_t content_len, content_done;
	bool flost;                  /* a gap fell inside this frame */
	bool data_ok;                /* DATA: its payload goes to stream fsid */
	bool skip;                   /* payload ignored (unknown type, wrong-length PRIORITY) */
	uint8_t ctl[8 + GOAWAY_DEBUG_KEEP];
	uint32_t ctl_have;
	uint8_t set6[6];
	unsigned set_n;
	struct pset pcur;

	struct hblock blk;
	struct sc_hpack *hp;         /* decodes this side's header blocks */
	bool check_first;            /* the next frame is the first of the direction: it must be SETTINGS */
	unsigned hp_step;            /* index into unsure_table_bounds when not sure */

	/* Resynchronisation. */
	uint8_t *rb;
	size_t rlen;
	uint64_t rb_off;             /* stream offset of rb[0] */
	struct {
		uint64_t off, ts;    /* bytes from stream offset `off` on arrived at `ts` */
	} mark[RESYNC_MARKS];
	unsigned nmark;
	uint64_t resync_from;        /* offset where the search began */
	bool resynced;
	bool preface_seen;           /* a mid-stream join that began with the client preface after all */
	uint32_t frames_since_resync;

	/* This side's settings as the peer applies them. */
	struct pset pend[PENDING_MAX]; /* announced, awaiting the peer's ACK (oldest first) */
	unsigned npend;
	uint32_t hts;                /* SETTINGS_HEADER_TABLE_SIZE in force for the peer's encoder (upper bound) */
	bool settings_sure;          /* every SETTINGS frame of this side was seen */
	uint32_t max_frame;          /* frames THIS side may send: the peer's SETTINGS_MAX_FRAME_SIZE */
};

struct grpc {
	uint8_t state;  /* G_OFF, G_ON, G_LOST */
	bool web;       /* application/grpc-web: flag 0x80 marks a trailers frame */
	uint8_t hdr[5];
	uint8_t hn;
	uint8_t flag;    /* of the message being read */
	uint32_t len, left;
};

enum { G_OFF = 0, G_ON, G_LOST };

struct h2s {
	uint32_t id;
	struct sc_txb *b;
	bool seen[2];     /* a frame of that side's message was seen */
	bool ended[2];    /* END_STREAM from that side (or implied: a promise) */
	uint8_t phase[2]; /* 0: no head yet, 1: head seen, 2: trailers seen */
	bool partial;     /* began before what we saw (mid-stream join, gap) */
	bool gap[2];      /* bytes of that side's message may be missing */
	bool data_seen[2];
	bool not_processed;
	int64_t clen[2];  /* content-length, -1 none, -2 invalid or conflicting */
	bool malformed_reported;
	bool status_unknown; /* the response head's :status could not be decoded */
	struct grpc g[2];
};

struct sc_h2conn {
	struct sc_conn *c;
	const struct sc_dec_env *env;
	struct h2dir d[2];
	struct sc_u64map streams; /* id -> struct h2s */
	struct sc_u64map closed;  /* id -> closed_normal / closed_rst */
	uint32_t ring[CLOSED_RING];
	size_t ring_head, ring_n;
	uint32_t max_id[2];       /* highest stream id seen opening: [0] odd (client), [1] even (server) */
	bool midstream;
	bool lossy;               /* frames on unseen streams may belong to streams we missed */
	bool push_ok;             /* the client's SETTINGS_ENABLE_PUSH as acknowledged */
	bool goaway[2];
	uint32_t goaway_last[2];
	uint64_t goaway_off[2];
	uint64_t ts;              /* timestamp of the current call */
	int fatal;
	bool ended;
	bool unknown_type_reported, over_cap_reported;
	/* Fields of the block being decoded (views into the decoder). */
	struct sc_hpack_field *f;
	size_t nf, fcap;
};

/* Values of h->closed: how a stream we no longer track ended. */
static const char closed_normal = 'c', closed_rst = 'r', closed_untracked = 'u';

/* ---- Small helpers ------------------------------------------------------------- */

static const char *type_name(uint8_t t, char *buf, size_t n)
{
	if (t < FT_KNOWN)
		return type_names[t];
	snprintf(buf, n, "type 0x%02x", t);
	return buf;
}

static int anomaly(struct sc_h2conn *h, enum sc_anomaly_kind kind, int side, uint64_t off, uint64_t len,
		   uint32_t sid, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int anomaly(struct sc_h2conn *h, enum sc_anomaly_kind kind, int side, uint64_t off, uint64_t len,
		   uint32_t sid, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	int rc;

	if (h->fatal)
		return h->fatal;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc = sc_convo_anomaly(h->env, h->c, kind, side, off, len, h->ts, sid, "%s", msg);
	if (rc < 0)
		h->fatal = rc;
	return rc;
}

static void set_fatal(struct sc_h2conn *h, int rc)
{
	if (rc < 0 && !h->fatal)
		h->fatal = rc;
}

static bool view_eq(struct sc_view v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n && memcmp(v.p, s, n) == 0;
}

static uint8_t lower(uint8_t ch)
{
	return ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + 32) : ch;
}

/* ASCII case-insensitive equality of byte strings (NULs included). */
static bool views_eq_ci(struct sc_view a, struct sc_view b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (lower(a.p[i]) != lower(b.p[i]))
			return false;
	return true;
}

static bool view_prefix_ci(struct sc_view v, const char *s)
{
	size_t n = strlen(s);

	if (v.len < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = v.p[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (uint8_t)(ch + 32);
		if (ch != (uint8_t)s[i])
			return false;
	}
	return true;
}

/* ---- Streams ------------------------------------------------------------------- */

static struct h2s *stream_get(const struct sc_h2conn *h, uint32_t sid)
{
	return sid ? sc_u64map_get(&h->streams, sid) : NULL;
}

/* 0: not known closed; 1: closed normally; 2: reset (late frames are
 * expected); 3: never tracked (over the stream cap). */
static int closed_state(const struct sc_h2conn *h, uint32_t sid)
{
	const void *v = sc_u64map_get(&h->closed, sid);

	return v == &closed_rst ? 2 : v == &closed_untracked ? 3 : v ? 1 : 0;
}

static void closed_add(struct sc_h2conn *h, uint32_t sid, int how)
{
	if (h->ring_n == CLOSED_RING) {
		(void)sc_u64map_del(&h->closed, h->ring[h->ring_head]);
		h->ring[h->ring_head] = sid;
		h->ring_head = (h->ring_head + 1) % CLOSED_RING;
	} else {
		h->ring[(h->ring_head + h->ring_n) % CLOSED_RING] = sid;
		h->ring_n++;
	}
	set_fatal(h, sc_u64map_put(&h->closed, sid,
				   (void *)(how == 2 ? &closed_rst : how == 3 ? &closed_untracked : &closed_normal)));
}

static void stream_free(struct h2s *st)
{
	if (!st)
		return;
	if (st->b) {
		sc_txb_fini(st->b);
		free(st->b);
	}
	free(st);
}

/* A stream for `sid`, or NULL (over the cap, or out of memory: h->fatal). */
static struct h2s *stream_new(struct sc_h2conn *h, int side, uint32_t sid)
{
	struct h2s *st;
	int rc;

	if (h->streams.n >= SC_H2_MAX_STREAMS) {
		if (!h->over_cap_reported) {
			h->over_cap_reported = true;
			anomaly(h, SC_ANOM_UNKNOWN, side, h->d[side].foff, 0, sid,
				"HTTP/2 frame at offset %llu: more than %u streams open at once; stream %u and later ones "
				"over the cap are not recorded",
				(unsigned long long)h->d[side].foff, SC_H2_MAX_STREAMS, sid);
		}
		closed_add(h, sid, 3);
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st)
		st->b = calloc(1, sizeof(*st->b));
	if (!st || !st->b) {
		free(st);
		set_fatal(h, -ENOMEM);
		return NULL;
	}
	sc_txb_init(st->b, h->c->id, h->env->max_body);
	st->id = sid;
	st->b->tx.stream_id = sid;
	st->b->tx.version = "HTTP/2";
	st->clen[0] = st->clen[1] = -1;
	rc = sc_u64map_put(&h->streams, sid, st);
	if (rc < 0) {
		stream_free(st);
		set_fatal(h, rc);
		return NULL;
	}
	if (sid > h->max_id[!(sid & 1)])
		h->max_id[!(sid & 1)] = sid;
	return st;
}

/* Hand the stream to the sink and forget it. */
static void stream_emit(struct sc_h2conn *h, struct h2s *st, bool rst)
{
	struct sc_tx *t = &st->b->tx;
	int rc;

	if (st->partial || st->gap[0] || st->gap[1])
		t->truncated = true;
	if (st->b->overflow)
		t->headers_incomplete = true;
	t->complete = st->ended[0] && st->ended[1] && !t->truncated && !t->error && !t->rst;
	(void)sc_u64map_del(&h->streams, st->id);
	closed_add(h, st->id, rst ? 2 : 1);
	rc = h->fatal ? 0 : sc_txb_emit(st->b, h->env, h->c);
	set_fatal(h, rc);
	stream_free(st);
}

static void stream_error(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A malformed message or a stream error (RFC 9113 §5.4.2, §8.1.1): the
 * stream is flagged and decoding goes on.  One report per stream. */
static void stream_error(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (st) {
		st->b->tx.error = true;
		if (st->malformed_reported)
			return;
		st->malformed_reported = true;
	}
	anomaly(h, SC_ANOM_PARSE, side, off, 0, st ? st->id : h->d[side].fsid, "HTTP/2 frame at offset %llu: %s",
		(unsigned long long)off, msg);
}

static void conn_error(struct sc_h2conn *h, int side, uint32_t sid, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static bool just_resynced(const struct sc_h2conn *h, int side)
{
	const struct h2dir *d = &h->d[side];

	return d->resynced && d->frames_since_resync <= RESYNC_TRUST && (d->st == ST_HEAD || d->st == ST_PAY);
}

static void state_error(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A frame that does not fit the stream's state (RFC 9113 §5.1).  Right
 * after a resynchronisation that says more about the boundary we chose than
 * about the peer: look for another one and accuse no stream.  Otherwise a
 * stream error.  Callers return when the direction left ST_HEAD/ST_PAY. */
static void state_error(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (just_resynced(h, side))
		conn_error(h, side, st ? st->id : h->d[side].fsid, off, "%s", msg);
	else
		stream_error(h, st, side, off, "%s", msg);
}

static bool framing(const struct sc_h2conn *h, int side)
{
	return !h->fatal && (h->d[side].st == ST_HEAD || h->d[side].st == ST_PAY);
}

/* ---- gRPC -------------------------------------------------------------------------
 * Messages in DATA (gRPC over HTTP/2, "Length-Prefixed-Message"):
 *
 *   +---------------+-----------------------------------------+---------------+
 *   | Compressed (1)| Message-Length (4, big endian)          | Message ...   |
 *   +---------------+-----------------------------------------+---------------+
 *
 * They cross DATA frame boundaries freely, so the 5-byte prefix is collected
 * byte by byte.  A message is counted once all its bytes have arrived. */

static void grpc_start(struct h2s *st, int side, bool web)
{
	struct grpc *g = &st->g[side];

	if (g->state != G_OFF)
		return;
	/* Only from the first body byte on: a parser started later would read
	 * message bytes as prefixes. */
	g->state = st->data_seen[side] || st->gap[side] || !st->seen[side] ? G_LOST : G_ON;
	g->web = web;
}

static void grpc_feed(struct sc_h2conn *h, struct h2s *st, int side, const uint8_t *p, size_t n)
{
	struct grpc *g = &st->g[side];
	struct sc_tx *t = &st->b->tx;

	while (n && g->state == G_ON) {
		if (g->hn < 5) {
			size_t k = 5u - g->hn < n ? 5u - g->hn : n;
			struct sc_rd r;
			uint8_t flag;

			memcpy(g->hdr + g->hn, p, k);
			g->hn = (uint8_t)(g->hn + k);
			p += k;
			n -= k;
			if (g->hn < 5)
				break;
			sc_rd_init(&r, g->hdr, 5);
			flag = sc_rd_u8(&r);
			g->flag = flag;
			g->len = g->left = sc_rd_be32(&r);
			if (flag & ~(g->web ? 0x81u : 0x01u)) {
				g->state = G_LOST;
				stream_error(h, st, side, h->d[side].foff,
					     "gRPC message on stream %u from the %s has flags 0x%02x (gRPC over HTTP/2: "
					     "Compressed-Flag is 0 or 1)",
					     st->id, side_names[side], flag);
				break;
			}
		}
		size_t k = g->left < n ? g->left : n;

		g->left -= (uint32_t)k;
		p += k;
		n -= k;
		if (g->left == 0) {
			g->hn = 0;
			if (g->flag & 0x80)
				continue; /* grpc-web trailers frame: not a message */
			if (side == SC_FROM_CLIENT) {
				t->grpc_req_msgs++;
				t->grpc_req_msg_bytes += g->len;
			} else {
				t->grpc_resp_msgs++;
				t->grpc_resp_msg_bytes += g->len;
			}
			if (g->flag & 1)
				t->grpc_compressed_msgs++;
		}
	}
}

/* Percent-decoding of grpc-message (gRPC over HTTP/2: "Percent-Encoded",
 * RFC 3986 §2.1); a '%' not followed by two hex digits is kept as it is, as
 * the gRPC spec asks decoders to do.  The header row keeps the wire form. */
static void grpc_message_set(struct h2s *st, struct sc_view v)
{
	uint8_t *buf = malloc(v.len ? v.len : 1);
	size_t n = 0;

	if (!buf) {
		st->b->overflow = true;
		return;
	}
	for (size_t i = 0; i < v.len; i++) {
		int hi = i + 2 < v.len && v.p[i] == '%' ? sc_hexval(v.p[i + 1]) : -1;
		int lo = hi >= 0 ? sc_hexval(v.p[i + 2]) : -1;

		if (lo >= 0) {
			buf[n++] = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else {
			buf[n++] = v.p[i];
		}
	}
	(void)sc_txb_set(st->b, &st->b->tx.grpc_message, buf, n);
	free(buf);
}

static int parse_status_digits(struct sc_view v, int maxlen)
{
	int x = 0;

	if (v.len == 0 || v.len > (size_t)maxlen)
		return -1;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		x = x * 10 + (v.p[i] - '0');
	}
	return x;
}

/* ---- Header fields ------------------------------------------------------------------ */

static int collect_field(void *ctx, const struct sc_hpack_field *f)
{
	struct sc_h2conn *h = ctx;

	if (h->nf == h->fcap) {
		struct sc_hpack_field *nf = sc_grow(h->f, &h->fcap, sizeof(*nf), 32);

		if (!nf)
			return -ENOMEM;
		h->f = nf;
	}
	h->f[h->nf++] = *f;
	return 0;
}

static bool known_name(const struct sc_hpack_field *f)
{
	return !(f->flags & SC_HPACK_NAME_UNKNOWN);
}

static bool known_value(const struct sc_hpack_field *f)
{
	return !(f->flags & SC_HPACK_VALUE_UNKNOWN);
}

static bool is_pseudo(const struct sc_hpack_field *f)
{
	return known_name(f) && f->name.len && f->name.p[0] == ':';
}

/* Record a side's frame for the message times and offsets. */
static void msg_frame(struct h2s *st, int side, uint64_t off, uint64_t ts_first, uint64_t ts_last)
{
	struct sc_tx *t = &st->b->tx;

	if (!st->seen[side]) {
		st->seen[side] = true;
		if (side == SC_FROM_CLIENT) {
			t->req_start_ns = ts_first;
			t->req_offset = off;
		} else {
			t->resp_start_ns = ts_first;
			t->resp_offset = off;
		}
	}
	if (side == SC_FROM_CLIENT)
		t->req_end_ns = ts_last;
	else
		t->resp_end_ns = ts_last;
}

/* RFC 9113 §8.2.1: a field name is a lowercase token. */
static const char *bad_name(struct sc_view n)
{
	static const char tchar_punct[] = "!#$%&'*+-.^_`|~";

	if (n.len == 0)
		return "an empty field name";
	for (size_t i = 0; i < n.len; i++) {
		uint8_t ch = n.p[i];

		if (ch >= 'A' && ch <= 'Z')
			return "uppercase characters in a field name";
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      (ch && memchr(tchar_punct, ch, sizeof(tchar_punct) - 1))))
			return "a field name with a character outside token";
	}
	return NULL;
}

static const char *bad_value(struct sc_view v)
{
	if (memchr(v.p, '\0', v.len) || memchr(v.p, '\r', v.len) || memchr(v.p, '\n', v.len))
		return "a field value with NUL, CR or LF";
	if (v.len && (v.p[0] == ' ' || v.p[0] == '\t' || v.p[v.len - 1] == ' ' || v.p[v.len - 1] == '\t'))
		return "a field value with leading or trailing whitespace";
	return NULL;
}

static void content_length(struct h2s *st, int side, struct sc_view v)
{
	int64_t x = 0;

	if (v.len == 0 || v.len > 18)
		x = -2;
	for (size_t i = 0; i < v.len && x >= 0; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			x = -2;
		else
			x = x * 10 + (v.p[i] - '0');
	}
	if (st->clen[side] == -1 || x == -2)
		st->clen[side] = x;
	else if (st->clen[side] != x)
		st->clen[side] = -2;
}

enum role { ROLE_REQ, ROLE_RESP, ROLE_TRAILERS };

#define PS_METHOD 0x01u
#define PS_SCHEME 0x02u
#define PS_AUTHORITY 0x04u
#define PS_PATH 0x08u
#define PS_PROTOCOL 0x10u
#define PS_STATUS 0x20u

/* The collected fields of one block become rows of `side`'s message, and the
 * pseudo-header fields become tx fields.  Checks of RFC 9113 §8.1-§8.3 and
 * §8.5 report the first problem of the block as a malformed message. */
static void apply_fields(struct sc_h2conn *h, struct h2s *st, int side, enum role role, int wire_side, uint64_t off,
			 bool whole)
{
	struct sc_txb *b = st->b;
	struct sc_tx *t = &b->tx;
	enum sc_txb_dir dir = side == SC_FROM_CLIENT ? SC_TXB_REQ : SC_TXB_RESP;
	const char *problem = NULL;
	char pbuf[200];
	bool regular_seen = false, any_unknown_name = false, grpc_now = false;
	unsigned pseudo = 0;
	struct sc_view host = { NULL, 0 };
	bool host_set = false;

	pbuf[0] = '\0';
	for (size_t i = 0; i < h->nf; i++) {
		const struct sc_hpack_field *f = &h->f[i];
		uint8_t fl = role == ROLE_TRAILERS ? SC_HDR_TRAILER : 0;

		if (f->flags & SC_HPACK_NEVER_INDEXED)
			fl |= SC_HDR_NEVER_INDEXED;
		if (!known_name(f))
			fl |= SC_HDR_NAME_UNKNOWN;
		if (!known_value(f))
			fl |= SC_HDR_VALUE_UNKNOWN;
		if (fl & (SC_HDR_NAME_UNKNOWN | SC_HDR_VALUE_UNKNOWN))
			t->headers_incomplete = true;
		if (sc_txb_add_hdr(b, dir, known_name(f) ? f->name.p : NULL, f->name.len,
				   known_value(f) ? f->value.p : NULL, f->value.len, fl) < 0)
			t->headers_incomplete = true;

		if (!known_name(f)) {
			any_unknown_name = true;
			continue;
		}
		if (is_pseudo(f)) {
			unsigned bit = 0;
			struct sc_view *dst = NULL;

			if (role == ROLE_REQ) {
				if (view_eq(f->name, ":method"))
					bit = PS_METHOD, dst = &t->method;
				else if (view_eq(f->name, ":scheme"))
					bit = PS_SCHEME, dst = &t->scheme;
				else if (view_eq(f->name, ":authority"))
					bit = PS_AUTHORITY, dst = &t->authority;
				else if (view_eq(f->name, ":path"))
					bit = PS_PATH, dst = &t->path;
				else if (view_eq(f->name, ":protocol"))
					bit = PS_PROTOCOL; /* RFC 8441 §4 extended CONNECT */
			} else if (role == ROLE_RESP && view_eq(f->name, ":status")) {
				bit = PS_STATUS;
			}
			if (!problem && role == ROLE_TRAILERS) {
				problem = pbuf;
				snprintf(pbuf, sizeof(pbuf), "pseudo-header %.*s in trailers (RFC 9113 §8.1)",
					 (int)(f->name.len > 40 ? 40 : f->name.len), f->name.p);
			} else if (!problem && !bit) {
				problem = pbuf;
				snprintf(pbuf, sizeof(pbuf), "pseudo-header %.*s is not defined for a %s (RFC 9113 §8.3)",
					 (int)(f->name.len > 40 ? 40 : f->name.len), f->name.p,
					 role == ROLE_REQ ? "request" : "response");
			} else if (!problem && regular_seen) {
				problem = pbuf;
				snprintf(pbuf, sizeof(pbuf), "pseudo-header %.*s after a regular field (RFC 9113 §8.3)",
					 (int)(f->name.len > 40 ? 40 : f->name.len), f->name.p);
			} else if (!problem && (pseudo & bit)) {
				problem = pbuf;
				snprintf(pbuf, sizeof(pbuf), "pseudo-header %.*s repeated (RFC 9113 §8.3.1)",
					 (int)(f->name.len > 40 ? 40 : f->name.len), f->name.p);
			}
			if (bit == PS_STATUS && !known_value(f))
				st->status_unknown = true;
			if (!(pseudo & bit) && known_value(f)) {
				if (dst)
					(void)sc_txb_set(b, dst, f->value.p, f->value.len);
				if (bit == PS_STATUS) {
					t->status = parse_status_digits(f->value, 3);
					if (f->value.len != 3 || t->status < 100) {
						t->status = t->status < 0 ? 0 : t->status;
						if (!problem) {
							problem = pbuf;
							snprintf(pbuf, sizeof(pbuf),
								 ":status is not a 3-digit code (RFC 9113 §8.3.2)");
						}
					}
				}
			}
			pseudo |= bit;
			continue;
		}
		regular_seen = true;
		if (!problem && (problem = bad_name(f->name)) != NULL) {
			snprintf(pbuf, sizeof(pbuf), "%s: \"%.*s\" (RFC 9113 §8.2.1)", problem,
				 (int)(f->name.len > 40 ? 40 : f->name.len), f->name.p);
			problem = pbuf;
		}
		if (view_eq(f->name, "connection") || view_eq(f->name, "keep-alive") ||
		    view_eq(f->name, "proxy-connection") || view_eq(f->name, "transfer-encoding") ||
		    view_eq(f->name, "upgrade") ||
		    (view_eq(f->name, "te") && known_value(f) && !view_eq(f->value, "trailers"))) {
			if (!problem) {
				problem = pbuf;
				snprintf(pbuf, sizeof(pbuf), "connection-specific field \"%.*s\" (RFC 9113 §8.2.2)",
					 (int)f->name.len, f->name.p);
			}
		}
		if (!known_value(f))
			continue;
		if (!problem && (problem = bad_value(f->value)) != NULL) {
			snprintf(pbuf, sizeof(pbuf), "%s in \"%.*s\" (RFC 9113 §8.2.1)", problem,
				 (int)(f->name.len > 40 ? 40 : f->name.len), f->name.p);
			problem = pbuf;
		}
		if (view_eq(f->name, "content-length") && role != ROLE_TRAILERS) {
			content_length(st, side, f->value);
		} else if (view_eq(f->name, "host") && role == ROLE_REQ && !host_set) {
			host = f->value;
			host_set = true;
		} else if (view_eq(f->name, "content-type") && role != ROLE_TRAILERS) {
			if (role == ROLE_RESP && !t->content_type.p)
				(void)sc_txb_set(b, &t->content_type, f->value.p, f->value.len);
			if (view_prefix_ci(f->value, "application/grpc") && !t->grpc) {
				t->grpc = true;
				grpc_now = true;
				st->g[0].web = st->g[1].web = view_prefix_ci(f->value, "application/grpc-web");
				if (view_prefix_ci(f->value, "application/grpc-web-text"))
					st->g[0].state = st->g[1].state = G_LOST; /* base64 body: not framed */
			}
		} else if (view_eq(f->name, "content-encoding") && role == ROLE_RESP && !t->content_encoding.p) {
			(void)sc_txb_set(b, &t->content_encoding, f->value.p, f->value.len);
		} else if (side == SC_FROM_SERVER && view_eq(f->name, "grpc-status")) {
			/* Only gRPC sends it: evidence enough on a stream whose
			 * content-type was not seen (joined late). */
			t->grpc = true;
			t->grpc_status = parse_status_digits(f->value, 9);
		} else if (side == SC_FROM_SERVER && view_eq(f->name, "grpc-message")) {
			grpc_message_set(st, f->value);
		}
	}
	/* A response head with unknown names may have hidden its :status. */
	if (role == ROLE_RESP && !(pseudo & PS_STATUS) && any_unknown_name)
		st->status_unknown = true;
	/* RFC 9113 §8.3.1: :authority wins over Host, which a request converted
	 * from HTTP/1 may carry instead; when both are there they must agree. */
	if (host_set && !(pseudo & PS_AUTHORITY))
		(void)sc_txb_set(b, &t->authority, host.p, host.len);
	if (!problem && host_set && (pseudo & PS_AUTHORITY) && t->authority.p && !views_eq_ci(t->authority, host))
		problem = "Host differs from :authority (RFC 9113 §8.3.1)";
	/* Whether a pseudo-header is missing is known only for a whole block
	 * whose names are all known. */
	if (!problem && !any_unknown_name && whole) {
		if (role == ROLE_REQ) {
			bool connect = view_eq(t->method, "CONNECT");

			if (!(pseudo & PS_METHOD))
				problem = "request without :method (RFC 9113 §8.3.1)";
			else if (connect && !(pseudo & PS_PROTOCOL) &&
				 ((pseudo & (PS_SCHEME | PS_PATH)) || !(pseudo & PS_AUTHORITY)))
				problem = "CONNECT request with :scheme or :path, or without :authority (RFC 9113 §8.5)";
			else if ((!connect || (pseudo & PS_PROTOCOL)) && (pseudo & (PS_SCHEME | PS_PATH)) != (PS_SCHEME | PS_PATH))
				problem = "request without :scheme or :path (RFC 9113 §8.3.1)";
			else if (t->path.p && t->path.len == 0 &&
				 (view_eq(t->scheme, "http") || view_eq(t->scheme, "https")))
				problem = "empty :path in an http or https request (RFC 9113 §8.3.1)";
		} else if (role == ROLE_RESP && !(pseudo & PS_STATUS)) {
			problem = "response without :status (RFC 9113 §8.3.2)";
		}
	}
	if (problem)
		stream_error(h, st, wire_side, off, "stream %u: malformed %s: %s", st->id,
			     role == ROLE_REQ ? "request" : role == ROLE_RESP ? "response" : "trailers", problem);
	if (t->grpc && (grpc_now || role != ROLE_TRAILERS)) {
		/* A direction's messages are parsed from its first DATA byte on,
		 * once its own head has been seen. */
		for (int s = 0; s < 2; s++)
			if (st->phase[s] >= 1 || s == side)
				grpc_start(st, s, st->g[s].web);
	}
}

/* An interim (1xx) response: its status is kept, its fields are not listed
 * (the rows of a response are those of its final head and trailers). */
static bool interim_status(const struct sc_h2conn *h, int *status)
{
	for (size_t i = 0; i < h->nf; i++) {
		const struct sc_hpack_field *f = &h->f[i];

		if (is_pseudo(f) && view_eq(f->name, ":status") && known_value(f)) {
			int s = parse_status_digits(f->value, 3);

			if (s >= 100 && s <= 199) {
				*status = s;
				return true;
			}
			return false;
		}
	}
	return false;
}

static bool has_known_status(const struct sc_h2conn *h)
{
	for (size_t i = 0; i < h->nf; i++)
		if (is_pseudo(&h->f[i]) && view_eq(h->f[i].name, ":status") && known_value(&h->f[i]))
			return true;
	return false;
}

/* Whether a block on a stream we joined late is trailers rather than a head:
 * a head starts with a pseudo-header (RFC 9113 §8.3). */
static bool late_block_is_trailers(const struct sc_h2conn *h, const struct h2s *st, int side, bool end_stream)
{
	if (h->nf && known_name(&h->f[0]))
		return !is_pseudo(&h->f[0]);
	return end_stream && st->data_seen[side];
}

static void end_side(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off);

/* A complete header block (HEADERS + CONTINUATION) of `side` for stream st.
 * `decoded`: h->f holds the block's fields (else the block was lost in a
 * gap).  Ends the side's message on END_STREAM; the stream may be emitted
 * (and freed) before this returns. */
static void apply_headers(struct sc_h2conn *h, int side, struct h2s *st, bool decoded, bool end_stream,
			  bool incomplete, bool error)
{
	const struct hblock *bk = &h->d[side].blk;
	struct sc_tx *t = &st->b->tx;
	enum role role;
	int status;

	if (st->ended[side]) {
		state_error(h, st, side, bk->off,
			    "HEADERS on stream %u after END_STREAM from the %s (RFC 9113 §5.1: STREAM_CLOSED)", st->id,
			    side_names[side]);
		return;
	}
	/* A head whose :status was unknown may have been a 1xx: a block with a
	 * known :status is then the response head, not trailers. */
	if (side == SC_FROM_SERVER && st->phase[side] == 1 && st->status_unknown && !st->data_seen[side] && decoded &&
	    has_known_status(h)) {
		st->phase[side] = 0;
		st->status_unknown = false;
	}
	if (st->phase[side] >= 2) {
		state_error(h, st, side, bk->off, "stream %u: a header block from the %s after its trailers (RFC 9113 §8.1)",
			    st->id, side_names[side]);
		return;
	}
	if (st->phase[side] == 1 && !end_stream) {
		state_error(h, st, side, bk->off, "stream %u: trailers from the %s without END_STREAM (RFC 9113 §8.1)",
			    st->id, side_names[side]);
		if (!framing(h, side))
			return;
	}
	msg_frame(st, side, bk->off, bk->ts, h->ts);
	if (side == SC_FROM_CLIENT)
		t->req_header_bytes += bk->wire;
	else
		t->resp_header_bytes += bk->wire;
	if (!decoded || incomplete)
		t->headers_incomplete = true;
	if (!decoded)
		st->gap[side] = true;
	if (error)
		t->error = true;

	if (st->phase[side] == 0 && st->partial && decoded && late_block_is_trailers(h, st, side, end_stream))
		st->phase[side] = 1;
	if (st->phase[side] == 1) {
		role = ROLE_TRAILERS;
		st->phase[side] = 2;
		if (decoded)
			apply_fields(h, st, side, role, side, bk->off, !incomplete);
	} else if (side == SC_FROM_SERVER && decoded && interim_status(h, &status)) {
		t->interim_status = status;
		if (status == 101)
			stream_error(h, st, side, bk->off,
				     "stream %u: 101 response; HTTP/2 has no Switching Protocols (RFC 9113 §8.6)", st->id);
		else if (end_stream)
			stream_error(h, st, side, bk->off, "stream %u: %d response with END_STREAM (RFC 9113 §8.1)", st->id,
				     status);
	} else {
		role = side == SC_FROM_CLIENT ? ROLE_REQ : ROLE_RESP;
		st->phase[side] = 1;
		if (decoded)
			apply_fields(h, st, side, role, side, bk->off, !incomplete);
	}
	if (end_stream)
		end_side(h, st, side, bk->off);
}

/* ---- Ends ---------------------------------------------------------------------- */

static bool body_exempt(const struct h2s *st, int side)
{
	const struct sc_tx *t = &st->b->tx;

	/* RFC 9110 §8.6: responses to HEAD and 304 carry the length of the
	 * representation, not of a body; 1xx, 204 carry none. */
	return side == SC_FROM_SERVER && (view_eq(t->method, "HEAD") || t->status == 304 || t->status == 204);
}

static void maybe_emit(struct sc_h2conn *h, struct h2s *st)
{
	if ((st->ended[0] || (st->partial && !st->seen[0])) && st->ended[1])
		stream_emit(h, st, false);
}

static void end_side(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off)
{
	const struct sc_tx *t = &st->b->tx;
	uint64_t body = side == SC_FROM_CLIENT ? t->req_body_bytes : t->resp_body_bytes;
	const struct grpc *g = &st->g[side];

	st->ended[side] = true;
	/* RFC 9113 §8.1.1: content-length must equal the DATA payload sum. */
	if (st->clen[side] >= 0 && !st->gap[side] && !st->partial && !body_exempt(st, side) &&
	    (uint64_t)st->clen[side] != body)
		stream_error(h, st, side, off,
			     "stream %u: content-length %lld but %llu bytes of DATA from the %s (RFC 9113 §8.1.1)", st->id,
			     (long long)st->clen[side], (unsigned long long)body, side_names[side]);
	if (g->state == G_ON && g->hn)
		stream_error(h, st, side, off, "stream %u: the %s's DATA ends inside a gRPC message (gRPC over HTTP/2)",
			     st->id, side_names[side]);
	maybe_emit(h, st);
}

/* ---- Frame headers ------------------------------------------------------------------
 *
 *   +-----------------------------------------------+
 *   |                 Length (24)                   |
 *   +---------------+---------------+---------------+
 *   |   Type (8)    |   Flags (8)   |
 *   +-+-------------+---------------+-------------------------------+
 *   |R|                 Stream Identifier (31)                      |
 *   +=+=============================================================+
 *   |                   Frame Payload (0...)                      ...
 *   +---------------------------------------------------------------+
 *                     RFC 9113 §4.1
 */
struct fh {
	uint32_t len, sid;
	uint8_t type, flags;
	bool r;
};

static void fh_parse(const uint8_t *p, struct fh *f)
{
	struct sc_rd r;
	uint32_t w;

	sc_rd_init(&r, p, FRAME_HDR);
	f->len = sc_rd_be24(&r);
	f->type = sc_rd_u8(&r);
	f->flags = sc_rd_u8(&r);
	w = sc_rd_be32(&r);
	f->r = (w >> 31) != 0;
	f->sid = w & 0x7fffffffu;
}

/* Could this header start a frame that `side` (-1: either) sends?  Used to
 * find a frame boundary, so it is stricter than the protocol: known types
 * only, no undefined flags, the R bit clear, and the fixed lengths and
 * stream-id rules of RFC 9113 §6. */
static bool fh_plausible(const struct fh *f, int side, uint32_t max_len)
{
	uint32_t pre;

	if (f->type >= FT_KNOWN || f->r || (f->flags & ~defined_flags[f->type]) || f->len > max_len)
		return false;
	pre = (f->flags & F_PADDED) ? 1 : 0;
	switch (f->type) {
	case FT_DATA:
		return f->sid && f->len >= pre && !(side == SC_FROM_CLIENT && !(f->sid & 1));
	case FT_HEADERS:
		pre += (f->flags & F_PRIORITY) ? 5 : 0;
		return f->sid && f->len >= pre && !(side == SC_FROM_CLIENT && !(f->sid & 1));
	case FT_PRIORITY:
		return f->sid && f->len == 5;
	case FT_RST_STREAM:
		return f->sid && f->len == 4;
	case FT_SETTINGS:
		return !f->sid && ((f->flags & F_ACK) ? f->len == 0 : f->len % 6 == 0);
	case FT_PUSH_PROMISE:
		return (f->sid & 1) && f->len >= pre + 4 && side != SC_FROM_CLIENT;
	case FT_PING:
		return !f->sid && f->len == 8;
	case FT_GOAWAY:
		return !f->sid && f->len >= 8;
	case FT_WINDOW_UPDATE:
		return f->len == 4;
	case FT_CONTINUATION:
		return f->sid != 0;
	}
	return false;
}

/* ---- Connection errors, resynchronisation ------------------------------------------- */

static void lose_block(struct sc_h2conn *h, int side)
{
	struct hblock *bk = &h->d[side].blk;
	struct h2s *st = bk->active ? stream_get(h, bk->kind == FT_PUSH_PROMISE ? 0 : bk->sid) : NULL;

	if (st) {
		st->b->tx.headers_incomplete = true;
		st->gap[side] = true;
	}
	bk->active = false;
	bk->lost = false;
	bk->len = 0;
}

/* The direction stops decoding (sticky): every stream whose message from it
 * is unfinished can no longer be decoded. */
static void fail_dir(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	size_t pos = 0;
	uint64_t key;
	void *val;

	lose_block(h, side);
	d->st = ST_FAILED;
	while (sc_u64map_next(&h->streams, &pos, &key, &val)) {
		struct h2s *st = val;

		if (!st->ended[side])
			st->b->tx.error = true;
	}
}

/* Bytes of `side` are lost or were misframed: from here on, look for a frame
 * boundary.  The HPACK table of the direction can no longer be known, and any
 * unfinished message of the direction may have lost frames. */
static void enter_resync(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	size_t pos = 0;
	uint64_t key;
	void *val;

	lose_block(h, side);
	sc_hpack_set_unknown(d->hp);
	while (sc_u64map_next(&h->streams, &pos, &key, &val)) {
		struct h2s *st = val;

		if (!st->ended[side]) {
			st->gap[side] = true;
			if (st->g[side].state == G_ON)
				st->g[side].state = G_LOST;
		}
	}
	h->lossy = true;
	d->st = ST_RESYNC;
	d->hn = 0;
	d->resynced = false;
	d->frames_since_resync = 0;
	d->check_first = false;
	/* SETTINGS (and ACKs) of this side may be among the lost bytes: the
	 * bounds the peer's settings put on us stay as they are (never too
	 * small), but the peer's pending SETTINGS can no longer be matched to
	 * our ACKs, and our own settings are no longer known exactly. */
	d->settings_sure = false;
	h->d[!side].npend = 0;
}

/* A connection error (RFC 9113 §5.4.1) found in `side`'s bytes.  Right after
 * a resynchronisation it more likely means the boundary was false: then look
 * for another one instead of giving up. */
static void conn_error(struct sc_h2conn *h, int side, uint32_t sid, uint64_t off, const char *fmt, ...)
{
	struct h2dir *d = &h->d[side];
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->resynced && d->frames_since_resync <= RESYNC_TRUST) {
		anomaly(h, SC_ANOM_UNKNOWN, side, off, 0, sid,
			"HTTP/2 frame at offset %llu: %s; %u frames after a resynchronisation, so taken as a false "
			"frame boundary: resynchronising again",
			(unsigned long long)off, msg, d->frames_since_resync);
		enter_resync(h, side);
		return;
	}
	anomaly(h, SC_ANOM_PARSE, side, off, 0, sid, "HTTP/2 frame at offset %llu: %s", (unsigned long long)off, msg);
	fail_dir(h, side);
}

/* Would a frame starting at p (avail bytes) make a good boundary for `side`?
 * 1 yes, 0 no, -1 more bytes are needed.  The frame after it must be
 * plausible too, unless it lies beyond what the search keeps: then only a
 * DATA frame of a stream known open in this direction is taken. */
static int candidate(const struct sc_h2conn *h, int side, const uint8_t *p, size_t avail)
{
	const struct h2dir *d = &h->d[side];
	struct fh f, g;
	const struct h2s *st;

	if (avail < FRAME_HDR)
		return -1;
	fh_parse(p, &f);
	if (!fh_plausible(&f, side, d->max_frame) || f.type == FT_CONTINUATION)
		return 0;
	if ((f.flags & F_PADDED) && f.type != FT_PUSH_PROMISE) {
		uint32_t fixed = 1 + ((f.type == FT_HEADERS && (f.flags & F_PRIORITY)) ? 5 : 0);
		struct sc_rd r;
		uint8_t padlen;

		sc_rd_init(&r, p + FRAME_HDR, avail - FRAME_HDR);
		padlen = sc_rd_u8(&r);
		if (r.err)
			return -1;
		if (padlen > f.len - fixed)
			return 0;
	}
	if ((uint64_t)f.len + 2 * FRAME_HDR > RESYNC_CAP) {
		st = stream_get(h, f.sid);
		return f.type == FT_DATA && st && !st->ended[side];
	}
	if (avail < (size_t)f.len + 2 * FRAME_HDR)
		return -1;
	fh_parse(p + FRAME_HDR + f.len, &g);
	if ((f.type == FT_HEADERS || f.type == FT_PUSH_PROMISE) && !(f.flags & F_END_HEADERS))
		return g.type == FT_CONTINUATION && g.sid == f.sid && fh_plausible(&g, side, d->max_frame);
	return fh_plausible(&g, side, d->max_frame) && g.type != FT_CONTINUATION;
}

/* Scan the search buffer: returns the index of an accepted boundary, or -1
 * when more bytes are needed.  Rejected bytes are dropped from the front. */
static long resync_scan(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	size_t i = 0;
	long found = -1;

	while (i < d->rlen) {
		const uint8_t *p = d->rb + i;
		size_t avail = d->rlen - i;
		int v;

		/* Joined "mid-stream" at the very start after all. */
		if (side == SC_FROM_CLIENT && i == 0 && d->at_start) {
			size_t k = avail < sizeof(preface) ? avail : sizeof(preface);

			if (memcmp(p, preface, k) == 0) {
				if (k < sizeof(preface))
					return -1;
				d->resync_from = d->rb_off + sizeof(preface);
				d->preface_seen = true;
				return (long)sizeof(preface);
			}
		}
		v = candidate(h, side, p, avail);
		if (v < 0)
			break;
		if (v > 0) {
			found = 0;
			break;
		}
		i++;
	}
	if (i) {
		memmove(d->rb, d->rb + i, d->rlen - i);
		d->rlen -= i;
		d->rb_off += i;
		d->at_start = false;
	}
	return found;
}

/* ---- SETTINGS --------------------------------------------------------------------- */

/* Side S's settings take effect for the peer.  `exact`: the peer
 * acknowledged them (RFC 9113 §6.5.3: it applies them before it sends the
 * ACK, and the ACK travels in the same byte stream as the header blocks its
 * encoder produces, so the ACK is exactly where the new bound starts).
 * Before the ACK only increases are applied: a bound that is too large never
 * turns a header into a wrong one, one too small could turn valid blocks into
 * errors. */
static void settings_apply(struct sc_h2conn *h, int s, const struct pset *ps, bool exact)
{
	struct h2dir *d = &h->d[s], *peer = &h->d[!s];

	if (ps->has_hts && (exact || ps->hts > d->hts)) {
		d->hts = ps->hts;
		sc_hpack_set_max_table_size(peer->hp, ps->hts);
	}
	if (ps->has_mfs && (exact || ps->mfs > peer->max_frame))
		peer->max_frame = ps->mfs;
	if (ps->has_push && s == SC_FROM_CLIENT && (exact || ps->push))
		h->push_ok = ps->push != 0;
}

/*   +-------------------------------+
 *   |       Identifier (16)         |
 *   +-------------------------------+-------------------------------+
 *   |                        Value (32)                             |
 *   +---------------------------------------------------------------+
 *                     RFC 9113 §6.5.1 */
static void setting_entry(struct sc_h2conn *h, int side, struct pset *ps, const uint8_t *p, uint64_t off)
{
	struct sc_rd r;
	uint16_t id;
	uint32_t v;

	sc_rd_init(&r, p, 6);
	id = sc_rd_be16(&r);
	v = sc_rd_be32(&r);
	switch (id) {
	case S_HEADER_TABLE_SIZE:
		ps->has_hts = true;
		ps->hts = v;
		break;
	case S_ENABLE_PUSH:
		if (v > 1)
			stream_error(h, NULL, side, off, "SETTINGS_ENABLE_PUSH of %u from the %s (RFC 9113 §6.5.2)", v,
				     side_names[side]);
		else if (side == SC_FROM_SERVER && v == 1)
			stream_error(h, NULL, side, off, "SETTINGS_ENABLE_PUSH of 1 from the server (RFC 9113 §6.5.2)");
		else if (side == SC_FROM_CLIENT) {
			ps->has_push = true;
			ps->push = v;
		}
		break;
	case S_INITIAL_WINDOW_SIZE:
		if (v > 0x7fffffffu)
			stream_error(h, NULL, side, off,
				     "SETTINGS_INITIAL_WINDOW_SIZE of %u is over 2^31-1 (RFC 9113 §6.5.2: FLOW_CONTROL_ERROR)",
				     v);
		break;
	case S_MAX_FRAME_SIZE:
		if (v < SC_H2_DEFAULT_MAX_FRAME || v > SC_H2_MAX_FRAME_LEN) {
			stream_error(h, NULL, side, off,
				     "SETTINGS_MAX_FRAME_SIZE of %u is outside 16384..16777215 (RFC 9113 §6.5.2)", v);
		} else {
			ps->has_mfs = true;
			ps->mfs = v;
		}
		break;
	case S_NO_RFC7540_PRIORITIES:
		if (v > 1)
			stream_error(h, NULL, side, off, "SETTINGS_NO_RFC7540_PRIORITIES of %u (RFC 9218 §2.1)", v);
		break;
	default:
		break; /* RFC 9113 §6.5.2: unknown settings are ignored */
	}
}

static void settings_end(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side], *peer = &h->d[!side];
	struct pset empty = { 0 };

	if (d->fflags & F_ACK) {
		/* The oldest SETTINGS of the peer not yet acknowledged (§6.5.3:
		 * acknowledged in order).  None: it was sent before we joined or
		 * lost in a gap, and its values stay bounded from above. */
		if (peer->npend) {
			struct pset ps = peer->pend[0];

			memmove(peer->pend, peer->pend + 1, (peer->npend - 1) * sizeof(peer->pend[0]));
			peer->npend--;
			settings_apply(h, !side, &ps, true);
		}
		return;
	}
	if (d->flost)
		d->settings_sure = false;
	settings_apply(h, side, d->flost ? &empty : &d->pcur, false);
	if (d->npend == PENDING_MAX) {
		/* Never acknowledged: forget the oldest (a decrease it held is
		 * not applied, which leaves the bound larger, never wrong). */
		memmove(d->pend, d->pend + 1, (PENDING_MAX - 1) * sizeof(d->pend[0]));
		d->npend--;
	}
	d->pend[d->npend++] = d->flost ? empty : d->pcur;
}

/* ---- Control frames ------------------------------------------------------------- */

static const char *error_code_name(uint32_t code)
{
	static const char *const names[] = {
		"NO_ERROR",     "PROTOCOL_ERROR",    "INTERNAL_ERROR",     "FLOW_CONTROL_ERROR",  "SETTINGS_TIMEOUT",
		"STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",     "CANCEL",              "COMPRESSION_ERROR",
		"CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : "unknown error code";
}

static void rst_end(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct h2s *st = stream_get(h, d->fsid);
	struct sc_rd r;
	uint32_t code;

	sc_rd_init(&r, d->ctl, d->ctl_have);
	code = sc_rd_be32(&r);
	if (!st) {
		if (!h->lossy && !closed_state(h, d->fsid) && d->fsid > h->max_id[!(d->fsid & 1)])
			state_error(h, NULL, side, d->foff, "RST_STREAM on idle stream %u (RFC 9113 §6.4)", d->fsid);
		return;
	}
	st->b->tx.rst = true;
	if (d->flost)
		st->gap[side] = true; /* the error code was lost */
	else
		st->b->tx.rst_code = code;
	stream_emit(h, st, true);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Streams opened by `opener` with an id above `last`, in id order (NULL
 * and *n = 0 when none or out of memory, then h->fatal). */
static uint32_t *streams_above(struct sc_h2conn *h, int opener, uint32_t last, bool any, size_t *n)
{
	uint32_t *ids = NULL;
	size_t pos = 0, k = 0;
	uint64_t key;
	void *val;

	*n = 0;
	if (!h->streams.n)
		return NULL;
	ids = malloc(h->streams.n * sizeof(*ids));
	if (!ids) {
		set_fatal(h, -ENOMEM);
		return NULL;
	}
	while (sc_u64map_next(&h->streams, &pos, &key, &val))
		if (any || ((key & 1) == (opener == SC_FROM_CLIENT) && key > last))
			ids[k++] = (uint32_t)key;
	qsort(ids, k, sizeof(*ids), cmp_u32);
	*n = k;
	return ids;
}

static void not_processed(struct sc_h2conn *h, struct h2s *st, int goaway_side)
{
	st->not_processed = true;
	st->b->tx.truncated = true;
	anomaly(h, SC_ANOM_TRUNCATED, goaway_side, h->goaway_off[goaway_side], 0, st->id,
		"HTTP/2 stream %u was not processed: GOAWAY from the %s with last-stream-id %u (RFC 9113 §6.8)", st->id,
		side_names[goaway_side], h->goaway_last[goaway_side]);
	stream_emit(h, st, false);
}

/*   +-+-------------------------------------------------------------+
 *   |R|                  Last-Stream-ID (31)                        |
 *   +-+-------------------------------------------------------------+
 *   |                      Error Code (32)                          |
 *   +---------------------------------------------------------------+
 *   |                  Additional Debug Data (*)                    |
 *   +---------------------------------------------------------------+
 *                     RFC 9113 §6.8 */
static void goaway_end(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct sc_rd r;
	uint32_t last, code;
	char dbg[GOAWAY_DEBUG_KEEP + 1];
	size_t ndbg = 0, n;
	uint32_t *ids;

	if (d->flost)
		return;
	sc_rd_init(&r, d->ctl, d->ctl_have);
	last = sc_rd_be32(&r) & 0x7fffffffu;
	code = sc_rd_be32(&r);
	while (sc_rd_left(&r) && ndbg < GOAWAY_DEBUG_KEEP) {
		uint8_t ch = sc_rd_u8(&r);

		dbg[ndbg++] = ch >= 0x20 && ch < 0x7f && ch != '"' ? (char)ch : '.';
	}
	dbg[ndbg] = '\0';
	if (code)
		anomaly(h, SC_ANOM_PARSE, side, d->foff, 0, 0,
			"HTTP/2 frame at offset %llu: GOAWAY from the %s with error %s (0x%x), last-stream-id %u%s%s%s",
			(unsigned long long)d->foff, side_names[side], error_code_name(code), code, last,
			ndbg ? ", debug data \"" : "", dbg, ndbg ? "\"" : "");
	if (!h->goaway[side] || last < h->goaway_last[side])
		h->goaway_last[side] = last;
	h->goaway[side] = true;
	h->goaway_off[side] = d->foff;
	/* The streams the receiver opened above last-stream-id were not
	 * processed and never will be. */
	ids = streams_above(h, !side, h->goaway_last[side], false, &n);
	for (size_t i = 0; i < n && !h->fatal; i++) {
		struct h2s *st = stream_get(h, ids[i]);

		if (st)
			not_processed(h, st, side);
	}
	free(ids);
}

static void ctl_end(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct sc_rd r;
	uint32_t v;

	if (d->flost || d->skip)
		return;
	sc_rd_init(&r, d->ctl, d->ctl_have);
	v = sc_rd_be32(&r) & 0x7fffffffu;
	if (d->ftype == FT_WINDOW_UPDATE && v == 0) {
		/* A stream error on a stream, a connection error on stream 0
		 * (§6.9); flow control is not followed, so decoding goes on. */
		stream_error(h, stream_get(h, d->fsid), side, d->foff,
			     "WINDOW_UPDATE on stream %u with an increment of 0 (RFC 9113 §6.9)", d->fsid);
	} else if (d->ftype == FT_PRIORITY && v == d->fsid) {
		stream_error(h, stream_get(h, d->fsid), side, d->foff, "PRIORITY: stream %u depends on itself (RFC 9113 §5.3.1)",
			     d->fsid);
	}
}

/* ---- Header blocks ------------------------------------------------------------------ */

/* Returns the bytes consumed: all of them, or up to and including the one
 * that takes the block over the cap (where the error is, whatever the
 * split). */
static size_t block_append(struct sc_h2conn *h, int side, const uint8_t *p, size_t n)
{
	struct h2dir *d = &h->d[side];
	struct hblock *bk = &d->blk;
	size_t room = SC_H2_MAX_HEADER_BLOCK - bk->len, all = n;
	bool over = n > room;

	if (bk->lost)
		return n;
	if (over)
		n = room;
	if (bk->len + n > bk->cap) {
		size_t ncap = bk->cap ? bk->cap : 4096;
		uint8_t *nb;

		while (ncap < bk->len + n)
			ncap *= 2;
		nb = realloc(bk->buf, ncap);
		if (!nb) {
			set_fatal(h, -ENOMEM);
			return all;
		}
		bk->buf = nb;
		bk->cap = ncap;
	}
	if (n)
		memcpy(bk->buf + bk->len, p, n);
	bk->len += n;
	if (over) {
		conn_error(h, side, bk->sid, d->foff, "header block of stream %u is over the cap of %u bytes (RFC 9113 §10.5.1)",
			   bk->sid, SC_H2_MAX_HEADER_BLOCK);
		return room + 1;
	}
	return n;
}

/* A HEADERS block is complete: find or open its stream. */
static void headers_block(struct sc_h2conn *h, int side, bool decoded, bool incomplete, bool error)
{
	const struct hblock *bk = &h->d[side].blk;
	uint32_t sid = bk->sid;
	int opener = (sid & 1) ? SC_FROM_CLIENT : SC_FROM_SERVER;
	struct h2s *st = stream_get(h, sid);
	bool is_head = false;

	for (size_t i = 0; i < h->nf && decoded; i++)
		if (is_pseudo(&h->f[i]))
			is_head = true;
	if (!st) {
		int cs = closed_state(h, sid);
		bool idle = sid > h->max_id[!(sid & 1)];

		if (cs) {
			/* Trailers or a response racing a RST_STREAM are normal
			 * (RFC 9113 §5.4.2, §6.4); after a normal close they are not. */
			if (cs == 1)
				state_error(h, NULL, side, bk->off, "HEADERS on closed stream %u (RFC 9113 §5.1)", sid);
			return;
		}
		if (side == SC_FROM_CLIENT && opener == SC_FROM_SERVER) {
			state_error(h, NULL, side, bk->off,
				    "HEADERS from the client on stream %u, a server-initiated stream (RFC 9113 §5.1.1)", sid);
			return;
		}
		if (!h->lossy && !idle) {
			state_error(h, NULL, side, bk->off, "HEADERS on closed stream %u (RFC 9113 §5.1)", sid);
			return;
		}
		if (!h->lossy && side != opener) {
			state_error(h, NULL, side, bk->off,
				    "HEADERS from the server on idle stream %u; a server opens streams with PUSH_PROMISE "
				    "(RFC 9113 §5.1, §8.4)",
				    sid);
			return;
		}
		st = stream_new(h, side, sid);
		if (!st)
			return;
		/* In a lossy connection a stream is whole only if this is the
		 * opener's head on a new stream id. */
		if (h->lossy && !(side == opener && idle && (is_head || !decoded)))
			st->partial = true;
		if (side == opener && h->goaway[!opener] && sid > h->goaway_last[!opener])
			st->not_processed = true;
	}
	apply_headers(h, side, st, decoded, bk->end_stream, incomplete, error);
	st = framing(h, side) ? stream_get(h, sid) : NULL;
	if (st && st->not_processed)
		not_processed(h, st, !opener);
}

/* A PUSH_PROMISE block is complete: the promised stream opens with the
 * request it carries (RFC 9113 §8.4). */
static void promise_block(struct sc_h2conn *h, int side, bool decoded, bool incomplete, bool error)
{
	const struct hblock *bk = &h->d[side].blk;
	uint32_t p = bk->promised;
	struct h2s *st;
	struct sc_tx *t;

	if (side != SC_FROM_SERVER)
		return; /* reported at the frame; the block was decoded for the HPACK state only */
	if (!bk->promised_known) {
		h->lossy = true; /* a stream we cannot name is open */
		return;
	}
	if (!stream_get(h, bk->sid) && !h->lossy && !closed_state(h, bk->sid)) {
		state_error(h, NULL, side, bk->off, "PUSH_PROMISE on stream %u, which is not open (RFC 9113 §6.6)", bk->sid);
		if (!framing(h, side))
			return;
	}
	if (p == 0 || (p & 1)) {
		state_error(h, NULL, side, bk->off,
			    "PUSH_PROMISE promises stream %u, not a server-initiated stream (RFC 9113 §6.6)", p);
		return;
	}
	if (stream_get(h, p) || closed_state(h, p) || (!h->lossy && p <= h->max_id[1])) {
		state_error(h, NULL, side, bk->off, "PUSH_PROMISE promises stream %u, which is not idle (RFC 9113 §6.6)", p);
		return;
	}
	if (!h->push_ok)
		stream_error(h, NULL, side, bk->off,
			     "PUSH_PROMISE for stream %u although the client disabled push (RFC 9113 §6.6)", p);
	st = stream_new(h, side, p);
	if (!st)
		return;
	t = &st->b->tx;
	t->promised_by = bk->sid;
	msg_frame(st, SC_FROM_CLIENT, bk->off, bk->ts, h->ts);
	t->req_header_bytes += bk->wire;
	if (!decoded || incomplete)
		t->headers_incomplete = true;
	if (!decoded)
		st->gap[SC_FROM_CLIENT] = true;
	if (error)
		t->error = true;
	st->phase[SC_FROM_CLIENT] = 1;
	if (decoded)
		apply_fields(h, st, SC_FROM_CLIENT, ROLE_REQ, side, bk->off, !incomplete);
	/* The promised request is complete: it has no body (§8.4.1), and the
	 * stream is reserved (remote) for the client. */
	st->ended[SC_FROM_CLIENT] = true;
	if (h->goaway[SC_FROM_CLIENT] && p > h->goaway_last[SC_FROM_CLIENT])
		not_processed(h, st, SC_FROM_CLIENT);
}

/* The block's last fragment has arrived: decode it with the direction's
 * HPACK decoder (always, even for a stream we ignore: the dynamic table must
 * follow every block), then hand the fields on. */
static void block_done(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct hblock *bk = &d->blk;
	struct sc_diag diag;
	bool decoded = false, capped = false, failed = false;
	int rc = 0;

	bk->active = false;
	h->nf = 0;
	diag.msg[0] = '\0';
	if (!bk->lost) {
		rc = sc_hpack_decode(d->hp, bk->buf, bk->len, collect_field, h, &diag);
		if (rc == -ENOMEM) {
			set_fatal(h, rc);
			return;
		}
		decoded = true;
		if (rc == SC_ETOOBIG)
			capped = true;
		else if (rc)
			failed = true;
	}
	if (bk->kind == FT_HEADERS)
		headers_block(h, side, decoded, capped || failed, failed);
	else
		promise_block(h, side, decoded, capped || failed, failed);
	/* A header list over the decoder's caps leaves it usable (the table was
	 * kept in sync); a decoder that failed says so on the next call. */
	if (capped && sc_hpack_decode(d->hp, NULL, 0, NULL, NULL, NULL) != 0) {
		capped = false;
		failed = true;
	}
	if (capped)
		anomaly(h, SC_ANOM_UNKNOWN, side, bk->off, bk->len, bk->sid,
			"HTTP/2 frame at offset %llu: header block of stream %u: %s", (unsigned long long)bk->off, bk->sid,
			diag.msg);
	if (failed && !h->fatal) {
		if (h->d[!side].settings_sure) {
			conn_error(h, side, bk->sid, bk->off, "header block of stream %u: %s (RFC 9113 §4.3: COMPRESSION_ERROR)",
				   bk->sid, diag.msg);
		} else {
			/* The table bound is a guess (the peer's settings were not
			 * all seen): the error may be ours.  Take a larger bound and
			 * go on with the table unknown. */
			uint32_t nb;

			if (d->hp_step + 1 < sizeof(unsure_table_bounds) / sizeof(unsure_table_bounds[0]))
				d->hp_step++;
			nb = unsure_table_bounds[d->hp_step];
			if (nb > h->d[!side].hts) {
				h->d[!side].hts = nb;
				sc_hpack_set_max_table_size(d->hp, nb);
			}
			sc_hpack_set_unknown(d->hp);
			anomaly(h, SC_ANOM_UNKNOWN, side, bk->off, bk->len, bk->sid,
				"HTTP/2 frame at offset %llu: header block of stream %u: %s; the %s's settings were not all "
				"seen, so the HPACK state is taken as unknown (table bound now %u)",
				(unsigned long long)bk->off, bk->sid, diag.msg, side_names[!side], h->d[!side].hts);
		}
	}
	bk->len = 0;
	bk->lost = false;
	if (bk->cap > BLOCK_KEEP) {
		free(bk->buf);
		bk->buf = NULL;
		bk->cap = 0;
	}
}

/* ---- DATA ------------------------------------------------------------------------ */

static void data_begin(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	uint32_t sid = d->fsid;
	struct h2s *st = stream_get(h, sid);

	d->data_ok = false;
	if (!st) {
		int opener = (sid & 1) ? SC_FROM_CLIENT : SC_FROM_SERVER;

		if (closed_state(h, sid))
			return; /* in flight when the stream was reset or closed: ignored */
		if (side == SC_FROM_CLIENT && opener == SC_FROM_SERVER) {
			state_error(h, NULL, side, d->foff,
				    "DATA from the client on stream %u, a server-initiated stream (RFC 9113 §8.4)", sid);
			return;
		}
		if (!h->lossy) {
			if (sid > h->max_id[!(sid & 1)])
				state_error(h, NULL, side, d->foff, "DATA on idle stream %u (RFC 9113 §5.1)", sid);
			return;
		}
		st = stream_new(h, side, sid);
		if (!st)
			return;
		st->partial = true;
	}
	if (st->ended[side]) {
		state_error(h, st, side, d->foff,
			    "DATA on stream %u after END_STREAM from the %s (RFC 9113 §5.1: STREAM_CLOSED)", sid,
			    side_names[side]);
		return;
	}
	if (st->phase[side] == 0 && !st->partial)
		state_error(h, st, side, d->foff, "stream %u: DATA from the %s before its HEADERS (RFC 9113 §8.1)", sid,
			    side_names[side]);
	else if (st->phase[side] == 2)
		state_error(h, st, side, d->foff, "stream %u: DATA from the %s after its trailers (RFC 9113 §8.1)", sid,
			    side_names[side]);
	if (!framing(h, side))
		return;
	if (st->phase[side] == 0)
		st->phase[side] = 1; /* what follows a body is trailers */
	msg_frame(st, side, d->foff, d->fts, h->ts);
	st->data_seen[side] = true;
	d->data_ok = true;
}

static void data_content(struct sc_h2conn *h, int side, const uint8_t *p, size_t n)
{
	struct h2dir *d = &h->d[side];
	struct h2s *st;

	if (!d->data_ok)
		return;
	st = stream_get(h, d->fsid);
	if (!st) {
		d->data_ok = false; /* emitted meanwhile (RST_STREAM from the peer) */
		return;
	}
	set_fatal(h, sc_txb_body(st->b, side == SC_FROM_CLIENT ? SC_TXB_REQ : SC_TXB_RESP, p, n));
	grpc_feed(h, st, side, p, n);
	msg_frame(st, side, d->foff, d->fts, h->ts);
}

/* Payload bytes of a DATA frame lost in a gap: framing is kept, the body is
 * not whole. */
static void data_lost(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct h2s *st = d->data_ok ? stream_get(h, d->fsid) : NULL;

	if (st) {
		st->gap[side] = true;
		if (st->g[side].state == G_ON)
			st->g[side].state = G_LOST;
	}
}

/* ---- Frames ------------------------------------------------------------------------ */

static void frame_end(struct sc_h2conn *h, int side);

/* The padding, priority and promise fields before a frame's content are in:
 *
 *   +---------------+
 *   |Pad Length? (8)|                        PADDED
 *   +-+-------------+-----------------------------------------------+
 *   |E|                 Stream Dependency? (31)                     |  HEADERS with PRIORITY
 *   +-+-------------+-----------------------------------------------+
 *   |  Weight? (8)  |
 *   +-+-------------+-----------------------------------------------+
 *   |R|                Promised Stream ID (31)                      |  PUSH_PROMISE
 *   +-+-----------------------------+-------------------------------+
 *                     RFC 9113 §6.1, §6.2, §6.6 */
static void prefix_done(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct sc_rd r;
	uint32_t padlen = 0, avail = d->flen - d->pre_need;

	sc_rd_init(&r, d->pre, d->pre_have);
	if (d->fflags & F_PADDED)
		padlen = sc_rd_u8(&r);
	/* §6.1, §6.2, §6.6: padding that leaves less than nothing for the
	 * content is a connection error. */
	if (padlen > avail) {
		conn_error(h, side, d->fsid, d->foff,
			   "%s frame of %u bytes on stream %u has a Pad Length of %u (RFC 9113 §%s)", type_names[d->ftype],
			   d->flen, d->fsid, padlen, d->ftype == FT_DATA ? "6.1" : d->ftype == FT_HEADERS ? "6.2" : "6.6");
		return;
	}
	d->content_len = avail - padlen;
	if (d->ftype == FT_HEADERS && (d->fflags & F_PRIORITY)) {
		uint32_t dep = sc_rd_be32(&r) & 0x7fffffffu;

		(void)sc_rd_u8(&r);
		if (dep == d->fsid)
			stream_error(h, stream_get(h, d->fsid), side, d->foff,
				     "HEADERS: stream %u depends on itself (RFC 9113 §5.3.1)", d->fsid);
	} else if (d->ftype == FT_PUSH_PROMISE) {
		d->blk.promised = sc_rd_be32(&r) & 0x7fffffffu;
		d->blk.promised_known = true;
	}
}

static void block_begin(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct hblock *bk = &d->blk;

	bk->active = true;
	bk->lost = false;
	bk->kind = d->ftype;
	bk->end_stream = d->ftype == FT_HEADERS && (d->fflags & F_END_STREAM);
	bk->sid = d->fsid;
	bk->promised = 0;
	bk->promised_known = false;
	bk->ncont = 0;
	bk->len = 0;
	bk->off = d->foff;
	bk->ts = d->fts;
	bk->wire = 0;
}

/* A frame header is complete: check it against the state (RFC 9113 §4-§6)
 * and prepare for its payload. */
static void frame_begin(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct fh f;
	char tb[16];

	fh_parse(d->hb, &f);
	d->hn = 0;
	d->flen = f.len;
	d->ftype = f.type;
	d->fflags = f.flags;
	d->fsid = f.sid; /* the R bit is ignored on receipt (§4.1) */
	d->foff = d->pos - FRAME_HDR;
	d->fts = h->ts;
	d->fdone = 0;
	d->pre_need = d->pre_have = 0;
	d->content_len = d->content_done = 0;
	d->flost = d->data_ok = d->skip = false;
	d->ctl_have = 0;
	d->set_n = 0;
	memset(&d->pcur, 0, sizeof(d->pcur));
	d->frames_since_resync++;
	d->at_start = false;

	if (d->blk.active && (f.type != FT_CONTINUATION || f.sid != d->blk.sid)) {
		conn_error(h, side, f.sid, d->foff,
			   "%s frame on stream %u inside the header block of stream %u; only CONTINUATION may follow "
			   "(RFC 9113 §6.10)",
			   type_name(f.type, tb, sizeof(tb)), f.sid, d->blk.sid);
		return;
	}
	if (f.type == FT_CONTINUATION && !d->blk.active) {
		conn_error(h, side, f.sid, d->foff, "CONTINUATION without a preceding HEADERS (RFC 9113 §6.10)");
		return;
	}
	if (f.len > d->max_frame) {
		conn_error(h, side, f.sid, d->foff, "%s frame of %u bytes is over SETTINGS_MAX_FRAME_SIZE %u (RFC 9113 §4.2)",
			   type_name(f.type, tb, sizeof(tb)), f.len, d->max_frame);
		return;
	}
	if (d->check_first) {
		d->check_first = false;
		if (f.type != FT_SETTINGS || (f.flags & F_ACK))
			stream_error(h, NULL, side, d->foff, "the first frame from the %s is %s, not SETTINGS (RFC 9113 §3.4)",
				     side_names[side], type_name(f.type, tb, sizeof(tb)));
	}
	switch (f.type) {
	case FT_DATA:
		if (!f.sid) {
			conn_error(h, side, 0, d->foff, "DATA on stream 0 (RFC 9113 §6.1)");
			return;
		}
		d->pre_need = (f.flags & F_PADDED) ? 1 : 0;
		break;
	case FT_HEADERS:
		if (!f.sid) {
			conn_error(h, side, 0, d->foff, "HEADERS on stream 0 (RFC 9113 §6.2)");
			return;
		}
		d->pre_need = ((f.flags & F_PADDED) ? 1 : 0) + ((f.flags & F_PRIORITY) ? 5 : 0);
		block_begin(h, side);
		break;
	case FT_PRIORITY:
		if (!f.sid) {
			conn_error(h, side, 0, d->foff, "PRIORITY on stream 0 (RFC 9113 §6.3)");
			return;
		}
		if (f.len != 5) {
			/* A stream error (§6.3): the frame is skipped by its length. */
			stream_error(h, stream_get(h, f.sid), side, d->foff, "PRIORITY frame of %u bytes, not 5 (RFC 9113 §6.3)",
				     f.len);
			d->skip = true;
		}
		break;
	case FT_RST_STREAM:
		if (!f.sid) {
			conn_error(h, side, 0, d->foff, "RST_STREAM on stream 0 (RFC 9113 §6.4)");
			return;
		}
		if (f.len != 4) {
			conn_error(h, side, f.sid, d->foff, "RST_STREAM frame of %u bytes, not 4 (RFC 9113 §6.4)", f.len);
			return;
		}
		break;
	case FT_SETTINGS:
		if (f.sid) {
			conn_error(h, side, f.sid, d->foff, "SETTINGS on stream %u, not 0 (RFC 9113 §6.5)", f.sid);
			return;
		}
		if ((f.flags & F_ACK) && f.len) {
			conn_error(h, side, 0, d->foff, "SETTINGS ACK with a payload of %u bytes (RFC 9113 §6.5)", f.len);
			return;
		}
		if (f.len % 6) {
			conn_error(h, side, 0, d->foff, "SETTINGS frame of %u bytes, not a multiple of 6 (RFC 9113 §6.5)",
				   f.len);
			return;
		}
		break;
	case FT_PUSH_PROMISE:
		if (!f.sid) {
			conn_error(h, side, 0, d->foff, "PUSH_PROMISE on stream 0 (RFC 9113 §6.6)");
			return;
		}
		if (side == SC_FROM_CLIENT)
			stream_error(h, NULL, side, d->foff, "PUSH_PROMISE from the client (RFC 9113 §8.4)");
		d->pre_need = ((f.flags & F_PADDED) ? 1 : 0) + 4;
		block_begin(h, side);
		break;
	case FT_PING:
		if (f.sid) {
			conn_error(h, side, f.sid, d->foff, "PING on stream %u, not 0 (RFC 9113 §6.7)", f.sid);
			return;
		}
		if (f.len != 8) {
			conn_error(h, side, 0, d->foff, "PING frame of %u bytes, not 8 (RFC 9113 §6.7)", f.len);
			return;
		}
		break;
	case FT_GOAWAY:
		if (f.sid) {
			conn_error(h, side, f.sid, d->foff, "GOAWAY on stream %u, not 0 (RFC 9113 §6.8)", f.sid);
			return;
		}
		if (f.len < 8) {
			conn_error(h, side, 0, d->foff, "GOAWAY frame of %u bytes, shorter than 8 (RFC 9113 §6.8)", f.len);
			return;
		}
		break;
	case FT_WINDOW_UPDATE:
		if (f.len != 4) {
			conn_error(h, side, f.sid, d->foff, "WINDOW_UPDATE frame of %u bytes, not 4 (RFC 9113 §6.9)", f.len);
			return;
		}
		break;
	case FT_CONTINUATION:
		if (++d->blk.ncont > SC_H2_MAX_CONTINUATIONS) {
			conn_error(h, side, f.sid, d->foff, "header block of stream %u has more than %u CONTINUATION frames",
				   f.sid, SC_H2_MAX_CONTINUATIONS);
			return;
		}
		break;
	default:
		/* RFC 9113 §5.5: frames of unknown types are ignored. */
		d->skip = true;
		if (!h->unknown_type_reported) {
			h->unknown_type_reported = true;
			anomaly(h, SC_ANOM_UNKNOWN, side, d->foff, f.len, f.sid,
				"HTTP/2 frame at offset %llu: skipped a frame of unknown type 0x%02x on stream %u (RFC 9113 "
				"§5.5); later frames of unknown types are skipped without a report",
				(unsigned long long)d->foff, f.type, f.sid);
		}
		break;
	}
	if (h->fatal || d->st != ST_HEAD)
		return;
	if (f.len < d->pre_need) {
		conn_error(h, side, f.sid, d->foff, "%s frame of %u bytes is too short for its %s (RFC 9113 §%s)",
			   type_names[f.type], f.len,
			   f.type == FT_PUSH_PROMISE ? "Promised Stream ID" : "Pad Length and priority fields",
			   f.type == FT_DATA ? "6.1" : f.type == FT_HEADERS ? "6.2" : "6.6");
		return;
	}
	if (d->pre_need == 0)
		d->content_len = f.len;
	if (f.type == FT_DATA)
		data_begin(h, side);
	if (!framing(h, side))
		return;
	d->st = ST_PAY;
	if (f.len == 0)
		frame_end(h, side);
}

/* Content bytes of the frame (after its prefix fields, before its padding).
 * Returns the bytes consumed (fewer only after a connection error). */
static size_t frame_content(struct sc_h2conn *h, int side, const uint8_t *p, size_t n)
{
	struct h2dir *d = &h->d[side];
	size_t total = n;

	if (d->skip)
		return n;
	switch (d->ftype) {
	case FT_DATA:
		data_content(h, side, p, n);
		break;
	case FT_HEADERS:
	case FT_PUSH_PROMISE:
	case FT_CONTINUATION:
		total = block_append(h, side, p, n);
		d->blk.wire += total;
		break;
	case FT_SETTINGS:
		while (n) {
			size_t k = 6u - d->set_n < n ? 6u - d->set_n : n;

			memcpy(d->set6 + d->set_n, p, k);
			d->set_n += (unsigned)k;
			p += k;
			n -= k;
			if (d->set_n == 6) {
				setting_entry(h, side, &d->pcur, d->set6, d->foff);
				d->set_n = 0;
			}
		}
		break;
	case FT_RST_STREAM:
	case FT_PING:
	case FT_GOAWAY:
	case FT_WINDOW_UPDATE:
	case FT_PRIORITY: {
		size_t room = sizeof(d->ctl) - d->ctl_have, k = n < room ? n : room;

		memcpy(d->ctl + d->ctl_have, p, k);
		d->ctl_have += (uint32_t)k;
		break;
	}
	default:
		break;
	}
	return total;
}

/* Payload bytes of the current frame (n <= what is left of it).  Returns the
 * bytes consumed: all of them, unless a connection error stopped the frame,
 * then up to and including the byte where it was found, so that what
 * follows does not depend on how the input was split. */
static size_t frame_payload(struct sc_h2conn *h, int side, const uint8_t *p, size_t n)
{
	struct h2dir *d = &h->d[side];
	size_t used = 0;

	while (used < n && d->st == ST_PAY && !h->fatal) {
		if (d->pre_have < d->pre_need) {
			size_t k = d->pre_need - d->pre_have < n - used ? d->pre_need - d->pre_have : n - used;

			memcpy(d->pre + d->pre_have, p + used, k);
			d->pre_have += (uint32_t)k;
			used += k;
			if (d->pre_have == d->pre_need)
				prefix_done(h, side);
		} else if (d->content_done < d->content_len) {
			size_t k = d->content_len - d->content_done < n - used ? d->content_len - d->content_done : n - used;

			k = frame_content(h, side, p + used, k);
			d->content_done += (uint32_t)k;
			used += k;
		} else {
			used = n; /* padding (§6.1: its value is not checked) */
		}
	}
	return h->fatal ? n : used;
}

/* `n` payload bytes of the current frame are lost (n <= what is left of it):
 * the framing is kept; what the frame carried is marked lost. */
static void frame_gap(struct sc_h2conn *h, int side, uint32_t n)
{
	struct h2dir *d = &h->d[side];
	bool content_hit = false;

	d->flost = true;
	if (d->pre_have < d->pre_need) {
		/* The padding length or the promised id is gone: nothing more of
		 * the frame can be placed; the rest is skipped. */
		d->pre_have = d->pre_need;
		d->content_len = d->content_done = 0;
		content_hit = true;
	} else if (d->content_done < d->content_len) {
		uint32_t k = d->content_len - d->content_done < n ? d->content_len - d->content_done : n;

		d->content_done += k;
		content_hit = true;
	}
	d->fdone += n;
	d->pos += n;
	if (content_hit && !d->skip) {
		switch (d->ftype) {
		case FT_DATA:
			data_lost(h, side);
			break;
		case FT_HEADERS:
		case FT_PUSH_PROMISE:
		case FT_CONTINUATION:
			d->blk.lost = true;
			d->blk.wire += n;
			sc_hpack_set_unknown(d->hp);
			h->lossy = true;
			break;
		case FT_SETTINGS:
			d->settings_sure = false;
			break;
		default:
			break;
		}
	}
	if (d->fdone == d->flen)
		frame_end(h, side);
}

static void frame_end(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct h2s *st;

	d->st = ST_HEAD;
	d->hn = 0;
	switch (d->ftype) {
	case FT_DATA:
		if ((d->fflags & F_END_STREAM) && d->data_ok && (st = stream_get(h, d->fsid)) != NULL) {
			msg_frame(st, side, d->foff, d->fts, h->ts);
			end_side(h, st, side, d->foff);
		}
		break;
	case FT_HEADERS:
	case FT_PUSH_PROMISE:
	case FT_CONTINUATION:
		if (d->fflags & F_END_HEADERS)
			block_done(h, side);
		break;
	case FT_SETTINGS:
		settings_end(h, side);
		break;
	case FT_RST_STREAM:
		rst_end(h, side);
		break;
	case FT_GOAWAY:
		goaway_end(h, side);
		break;
	case FT_WINDOW_UPDATE:
	case FT_PRIORITY:
		ctl_end(h, side);
		break;
	default:
		break;
	}
}

/* ---- Byte loop ------------------------------------------------------------------------ */

/* Consume bytes in the framing states; stops early when the direction starts
 * looking for a frame boundary.  Returns the bytes consumed. */
static size_t run(struct sc_h2conn *h, int side, const uint8_t *p, size_t n)
{
	struct h2dir *d = &h->d[side];
	size_t i = 0;

	while (i < n && !h->fatal) {
		switch (d->st) {
		case ST_FAILED:
			d->pos += n - i;
			return n;
		case ST_RESYNC:
			return i;
		case ST_PREFACE:
			if (p[i] != preface[d->pm]) {
				anomaly(h, SC_ANOM_PARSE, side, d->pos - d->pm, 0, 0,
					"HTTP/2 connection preface at offset %llu: byte %u is 0x%02x, not the client preface "
					"\"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\" (RFC 9113 §3.4)",
					(unsigned long long)(d->pos - d->pm), d->pm, p[i]);
				fail_dir(h, side);
				break;
			}
			d->pm++;
			d->pos++;
			i++;
			if (d->pm == sizeof(preface))
				d->st = ST_HEAD;
			break;
		case ST_HEAD: {
			size_t k = FRAME_HDR - d->hn < n - i ? FRAME_HDR - d->hn : n - i;

			memcpy(d->hb + d->hn, p + i, k);
			d->hn += (unsigned)k;
			d->pos += k;
			i += k;
			if (d->hn == FRAME_HDR)
				frame_begin(h, side);
			break;
		}
		case ST_PAY: {
			size_t k = d->flen - d->fdone < n - i ? d->flen - d->fdone : n - i;

			k = frame_payload(h, side, p + i, k);
			d->fdone += (uint32_t)k;
			d->pos += k;
			i += k;
			if (d->st == ST_PAY && d->fdone == d->flen)
				frame_end(h, side);
			break;
		}
		}
	}
	return i;
}

static void resync_found(struct sc_h2conn *h, int side, size_t at)
{
	struct h2dir *d = &h->d[side];
	uint64_t skipped = d->rb_off + at - d->resync_from;

	d->st = ST_HEAD;
	d->hn = 0;
	d->pos = d->rb_off + at;
	d->resynced = true;
	d->frames_since_resync = 0;
	if (skipped)
		anomaly(h, SC_ANOM_UNKNOWN, side, d->resync_from, skipped, 0,
			"HTTP/2: skipped %llu bytes of the %s stream from offset %llu to a plausible frame boundary at "
			"offset %llu",
			(unsigned long long)skipped, side_names[side], (unsigned long long)d->resync_from,
			(unsigned long long)d->pos);
}

/* Bytes that wait in the search buffer keep the time they arrived at, so
 * that a frame found later still gets its own timestamp. */
static void mark_add(struct h2dir *d, uint64_t off, uint64_t ts)
{
	if (d->nmark && d->mark[d->nmark - 1].ts == ts)
		return;
	if (d->nmark == RESYNC_MARKS) {
		/* Out of marks: the oldest bytes take the next mark's time. */
		memmove(d->mark, d->mark + 1, (RESYNC_MARKS - 1) * sizeof(d->mark[0]));
		d->nmark--;
	}
	d->mark[d->nmark].off = off;
	d->mark[d->nmark].ts = ts;
	d->nmark++;
}

/* Forget the marks of bytes that left the buffer. */
static void marks_trim(struct h2dir *d)
{
	unsigned k = 0;

	while (k + 1 < d->nmark && d->mark[k + 1].off <= d->rb_off)
		k++;
	if (k) {
		memmove(d->mark, d->mark + k, (d->nmark - k) * sizeof(d->mark[0]));
		d->nmark -= k;
	}
	if (!d->rlen)
		d->nmark = 0;
}

/* Run the buffered bytes from rb[at] on, each stretch with the timestamp it
 * arrived at.  Returns the index after the last byte consumed. */
static size_t replay(struct sc_h2conn *h, int side, size_t at)
{
	struct h2dir *d = &h->d[side];
	uint64_t now = h->ts;
	size_t i = at;

	for (unsigned m = 0; m < d->nmark && i < d->rlen && d->st != ST_RESYNC && !h->fatal; m++) {
		uint64_t end = m + 1 < d->nmark ? d->mark[m + 1].off - d->rb_off : d->rlen;

		if (end > d->rlen)
			end = d->rlen;
		if (end <= i)
			continue;
		h->ts = d->mark[m].ts;
		i += run(h, side, d->rb + i, (size_t)end - i);
	}
	if (i < d->rlen && d->st != ST_RESYNC && !h->fatal) {
		h->ts = now;
		i += run(h, side, d->rb + i, d->rlen - i);
	}
	h->ts = now;
	return i;
}

static void feed(struct sc_h2conn *h, int side, const uint8_t *p, size_t n)
{
	struct h2dir *d = &h->d[side];

	while (!h->fatal) {
		long at;
		size_t k, used;
		bool pf;

		if (d->st != ST_RESYNC) {
			if (!n)
				break;
			k = run(h, side, p, n);
			p += k;
			n -= k;
			if (d->st == ST_RESYNC) {
				d->rlen = 0;
				d->nmark = 0;
				d->rb_off = d->resync_from = d->pos;
			}
			continue;
		}
		if (!d->rb) {
			d->rb = malloc(RESYNC_CAP);
			if (!d->rb) {
				set_fatal(h, -ENOMEM);
				break;
			}
		}
		if (n) {
			k = RESYNC_CAP - d->rlen < n ? RESYNC_CAP - d->rlen : n;
			mark_add(d, d->rb_off + d->rlen, h->ts);
			memcpy(d->rb + d->rlen, p, k);
			d->rlen += k;
			p += k;
			n -= k;
		}
		at = resync_scan(h, side);
		marks_trim(d);
		if (at < 0) {
			if (!n)
				break;
			continue;
		}
		pf = d->preface_seen;
		if (pf) {
			/* Seen from the very first byte: the client's HPACK state is
			 * known (an empty table). */
			struct sc_hpack *fresh = sc_hpack_new(h->d[!side].hts);

			d->preface_seen = false;
			if (!fresh) {
				set_fatal(h, -ENOMEM);
				break;
			}
			sc_hpack_free(d->hp);
			d->hp = fresh;
			d->check_first = true;
		}
		resync_found(h, side, (size_t)at);
		if (pf)
			d->resynced = false; /* a certain boundary, not a guess */
		used = replay(h, side, (size_t)at);
		memmove(d->rb, d->rb + used, d->rlen - used);
		d->rlen -= used;
		d->rb_off = d->pos;
		marks_trim(d);
		if (d->st == ST_RESYNC)
			d->resync_from = d->pos;
	}
}

/* `n` bytes of `side` at `off` are lost. */
static void gap_in(struct sc_h2conn *h, int side, uint64_t off, uint64_t n)
{
	struct h2dir *d = &h->d[side];

	d->at_start = false;
	d->check_first = false;
	if (d->st == ST_FAILED) {
		anomaly(h, SC_ANOM_GAP, side, off, n, 0,
			"HTTP/2: %llu bytes of the %s stream missing at offset %llu (decoding of the direction had "
			"already stopped)",
			(unsigned long long)n, side_names[side], (unsigned long long)off);
		d->pos = off + n;
		return;
	}
	if (d->st == ST_PAY && n <= d->flen - d->fdone) {
		char tb[16];

		anomaly(h, SC_ANOM_GAP, side, off, n, d->fsid,
			"HTTP/2: %llu bytes of the %s stream missing at offset %llu, inside the payload of a %s frame of "
			"stream %u; framing kept",
			(unsigned long long)n, side_names[side], (unsigned long long)off,
			type_name(d->ftype, tb, sizeof(tb)), d->fsid);
		frame_gap(h, side, (uint32_t)n);
		if (d->st == ST_RESYNC) {
			/* Ending the frame found a false boundary: search from
			 * the byte after the gap. */
			d->rlen = 0;
			d->nmark = 0;
			d->rb_off = d->resync_from = d->pos;
		}
		return;
	}
	if (d->st == ST_RESYNC) {
		uint64_t unframed = d->rb_off + d->rlen - d->resync_from;

		if (unframed)
			anomaly(h, SC_ANOM_UNKNOWN, side, d->resync_from, unframed, 0,
				"HTTP/2: %llu bytes of the %s stream from offset %llu could not be framed",
				(unsigned long long)unframed, side_names[side], (unsigned long long)d->resync_from);
		anomaly(h, SC_ANOM_GAP, side, off, n, 0,
			"HTTP/2: %llu bytes of the %s stream missing at offset %llu, while looking for a frame boundary",
			(unsigned long long)n, side_names[side], (unsigned long long)off);
		d->rlen = 0;
		d->nmark = 0;
		d->pos = d->rb_off = d->resync_from = off + n;
		return;
	}
	anomaly(h, SC_ANOM_GAP, side, off, n, 0,
		"HTTP/2: %llu bytes of the %s stream missing at offset %llu; looking for the next frame boundary, the "
		"HPACK state of the %s's header blocks is unknown from here",
		(unsigned long long)n, side_names[side], (unsigned long long)off, side_names[side]);
	d->pos = off + n;
	enter_resync(h, side);
	d->rlen = 0;
	d->nmark = 0;
	d->rb_off = d->resync_from = d->pos;
}

/* ---- h2c upgrade ---------------------------------------------------------------------- */

#define UPGRADE_SETTINGS_MAX 4096u

static void upgrade_settings(struct sc_h2conn *h, const struct sc_h2_upgrade *up)
{
	uint8_t buf[UPGRADE_SETTINGS_MAX];
	struct pset ps = { 0 };
	long n;

	if (!up->settings.p)
		return;
	n = sc_b64url_decode(up->settings.p, up->settings.len, buf, sizeof(buf));
	if (n < 0 || n % 6) {
		anomaly(h, SC_ANOM_PARSE, SC_FROM_CLIENT, up->req_offset, 0, 1,
			"HTTP/2 upgrade at offset %llu: HTTP2-Settings is not a base64url SETTINGS payload (RFC 7540 "
			"§3.2.1)",
			(unsigned long long)up->req_offset);
		return;
	}
	for (long i = 0; i < n; i += 6)
		setting_entry(h, SC_FROM_CLIENT, &ps, buf + i, up->req_offset);
	/* The 101 response acknowledges them (RFC 7540 §3.2.1). */
	settings_apply(h, SC_FROM_CLIENT, &ps, true);
}

/* Stream 1 is the upgraded HTTP/1 request, half-closed (remote) from the
 * server's view: its response comes in frames (RFC 7540 §3.2). */
static int upgrade_init(struct sc_h2conn *h, const struct sc_h2_upgrade *up)
{
	struct h2s *st;
	struct sc_txb *b;
	struct sc_tx *t;
	uint64_t kept;

	h->ts = up->req_end_ns;
	upgrade_settings(h, up);
	st = stream_new(h, SC_FROM_CLIENT, 1);
	if (!st)
		return h->fatal ? h->fatal : -ENOMEM;
	b = st->b;
	t = &b->tx;
	if (up->method.p)
		(void)sc_txb_set(b, &t->method, up->method.p, up->method.len);
	if (up->path.p)
		(void)sc_txb_set(b, &t->path, up->path.p, up->path.len);
	if (up->authority.p)
		(void)sc_txb_set(b, &t->authority, up->authority.p, up->authority.len);
	if (up->scheme.p && up->scheme.len)
		(void)sc_txb_set(b, &t->scheme, up->scheme.p, up->scheme.len);
	else
		(void)sc_txb_set(b, &t->scheme, "http", 4);
	for (size_t i = 0; i < up->nhdrs && up->hdrs; i++) {
		const struct sc_hdr *x = &up->hdrs[i];

		if (sc_txb_add_hdr(b, SC_TXB_REQ, x->name.p ? x->name.p : (const uint8_t *)"", x->name.len,
				   x->value.p ? x->value.p : (const uint8_t *)"", x->value.len, x->flags) < 0)
			t->headers_incomplete = true;
	}
	/* The body view holds min(total, max_body) bytes when the HTTP/1 side
	 * kept all it could; otherwise only what it kept is counted, so that
	 * the view never covers bytes that are not there. */
	if (up->req_body.len)
		set_fatal(h, sc_txb_body(b, SC_TXB_REQ, up->req_body.p, up->req_body.len));
	kept = up->req_body.len;
	if (up->req_body_bytes > kept) {
		if (kept >= b->max_body)
			t->req_body_bytes = up->req_body_bytes;
		else
			t->req_body_cut = true;
	}
	t->req_start_ns = up->req_start_ns;
	t->req_end_ns = up->req_end_ns;
	t->req_header_bytes = up->req_header_bytes;
	t->req_offset = up->req_offset;
	st->seen[SC_FROM_CLIENT] = true;
	st->ended[SC_FROM_CLIENT] = true;
	st->phase[SC_FROM_CLIENT] = 1;
	return h->fatal;
}

/* ---- API ------------------------------------------------------------------------------ */

struct sc_h2conn *sc_h2conn_new(struct sc_conn *c, const struct sc_dec_env *env, const struct sc_h2_upgrade *up)
{
	struct sc_h2conn *h;

	if (!c || !env || !env->sink || !env->stats) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->c = c;
	h->env = env;
	sc_u64map_init(&h->streams);
	sc_u64map_init(&h->closed);
	h->midstream = c->midstream && !up;
	h->push_ok = true; /* SETTINGS_ENABLE_PUSH defaults to 1 (§6.5.2) */
	for (int s = 0; s < 2; s++) {
		struct h2dir *d = &h->d[s];

		d->hp = sc_hpack_new(SC_HPACK_DEFAULT_TABLE_SIZE);
		if (!d->hp) {
			sc_h2conn_free(h);
			errno = ENOMEM;
			return NULL;
		}
		d->hts = SC_HPACK_DEFAULT_TABLE_SIZE;
		d->max_frame = SC_H2_DEFAULT_MAX_FRAME;
		d->settings_sure = true;
		d->at_start = true;
		d->check_first = !h->midstream;
		d->st = s == SC_FROM_CLIENT ? ST_PREFACE : ST_HEAD;
		if (h->midstream) {
			/* Nothing is known of the settings: frames up to the
			 * protocol's limit, the HPACK bound a guess (see
			 * unsure_table_bounds), the tables unknown. */
			d->st = ST_RESYNC;
			d->settings_sure = false;
			d->max_frame = SC_H2_MAX_FRAME_LEN;
			sc_hpack_set_unknown(d->hp);
		}
	}
	h->lossy = h->midstream;
	if (up) {
		int rc = upgrade_init(h, up);

		if (rc == -ENOMEM) {
			sc_h2conn_free(h);
			errno = ENOMEM;
			return NULL;
		}
	}
	return h;
}

void sc_h2conn_free(struct sc_h2conn *h)
{
	size_t pos = 0;
	uint64_t key;
	void *val;

	if (!h)
		return;
	while (sc_u64map_next(&h->streams, &pos, &key, &val))
		stream_free(val);
	sc_u64map_fini(&h->streams);
	sc_u64map_fini(&h->closed);
	for (int s = 0; s < 2; s++) {
		sc_hpack_free(h->d[s].hp);
		free(h->d[s].blk.buf);
		free(h->d[s].rb);
	}
	free(h->f);
	free(h);
}

/* Place a call's bytes at the direction's position: a jump forward is a gap,
 * bytes already seen are dropped.  Returns how many leading bytes to skip. */
static uint64_t place(struct sc_h2conn *h, int side, uint64_t off, uint64_t n)
{
	struct h2dir *d = &h->d[side];

	if (!d->in_set) {
		d->in_set = true;
		d->in_off = d->pos = d->rb_off = d->resync_from = off;
		return 0;
	}
	if (off > d->in_off) {
		uint64_t missing = off - d->in_off;

		gap_in(h, side, d->in_off, missing);
		d->in_off = off;
		return 0;
	}
	return d->in_off - off < n ? d->in_off - off : n;
}

int sc_h2conn_data(struct sc_h2conn *h, int side, uint64_t ts_ns, uint64_t off, const uint8_t *p, size_t n)
{
	uint64_t dup;

	if (!h || side < 0 || side > 1 || (n && !p))
		return -EINVAL;
	if (h->fatal || h->ended)
		return h->fatal;
	h->ts = ts_ns;
	dup = place(h, side, off, n);
	h->d[side].in_off += n - dup;
	if (n > dup)
		feed(h, side, p + dup, (size_t)(n - dup));
	return h->fatal;
}

int sc_h2conn_gap(struct sc_h2conn *h, int side, uint64_t ts_ns, uint64_t off, uint64_t n)
{
	uint64_t dup;

	if (!h || side < 0 || side > 1)
		return -EINVAL;
	if (h->fatal || h->ended || n == 0)
		return h->fatal;
	h->ts = ts_ns;
	dup = place(h, side, off, n);
	if (n > dup) {
		gap_in(h, side, off + dup, n - dup);
		h->d[side].in_off = off + n;
	}
	return h->fatal;
}

int sc_h2conn_end(struct sc_h2conn *h, uint64_t ts_ns, bool closed)
{
	const char *why = closed ? "the connection closed" : "the capture ended";
	uint32_t *ids;
	size_t n;

	if (!h)
		return -EINVAL;
	if (h->fatal || h->ended)
		return h->fatal;
	h->ended = true;
	h->ts = ts_ns;
	for (int s = 0; s < 2 && !h->fatal; s++) {
		struct h2dir *d = &h->d[s];
		char tb[16];

		switch (d->st) {
		case ST_PREFACE:
			if (d->pm)
				anomaly(h, SC_ANOM_TRUNCATED, s, d->pos - d->pm, d->pm, 0,
					"HTTP/2 connection preface at offset %llu cut after %u of 24 bytes: %s",
					(unsigned long long)(d->pos - d->pm), d->pm, why);
			break;
		case ST_HEAD:
			if (d->hn)
				anomaly(h, SC_ANOM_TRUNCATED, s, d->pos - d->hn, d->hn, 0,
					"HTTP/2 frame header at offset %llu cut after %u of 9 bytes: %s",
					(unsigned long long)(d->pos - d->hn), d->hn, why);
			break;
		case ST_PAY:
			anomaly(h, SC_ANOM_TRUNCATED, s, d->foff, FRAME_HDR + (uint64_t)d->fdone, d->fsid,
				"HTTP/2 frame at offset %llu: %s frame of stream %u cut after %u of %u payload bytes: %s",
				(unsigned long long)d->foff, type_name(d->ftype, tb, sizeof(tb)), d->fsid, d->fdone, d->flen,
				why);
			if (d->ftype == FT_DATA)
				data_lost(h, s);
			break;
		case ST_RESYNC:
			if (d->rb_off + d->rlen > d->resync_from)
				anomaly(h, SC_ANOM_UNKNOWN, s, d->resync_from, d->rb_off + d->rlen - d->resync_from, 0,
					"HTTP/2: %llu bytes of the %s stream from offset %llu could not be framed",
					(unsigned long long)(d->rb_off + d->rlen - d->resync_from), side_names[s],
					(unsigned long long)d->resync_from);
			break;
		case ST_FAILED:
			break;
		}
		lose_block(h, s);
	}
	ids = streams_above(h, 0, 0, true, &n);
	for (size_t i = 0; i < n && !h->fatal; i++) {
		struct h2s *st = stream_get(h, ids[i]);
		int side = !st->ended[0] && !st->ended[1] ? -1 : !st->ended[0] ? 0 : 1;

		st->b->tx.truncated = true;
		anomaly(h, SC_ANOM_TRUNCATED, side, h->d[side < 0 ? 0 : side].pos, 0, st->id,
			"HTTP/2 stream %u truncated: no END_STREAM from the %s before %s", st->id,
			side < 0 ? "client or the server" : side_names[side], why);
		stream_emit(h, st, false);
	}
	free(ids);
	return h->fatal;
}

/* ---- Probe ------------------------------------------------------------------------ */

/* Skip an HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
static bool skip_hpack_int(struct sc_rd *r, uint8_t first, unsigned bits)
{
	if ((first & ((1u << bits) - 1)) != (1u << bits) - 1)
		return true;
	for (int i = 0; i < 6; i++) {
		uint8_t b = sc_rd_u8(r);

		if (r->err)
			return false;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* +1 when a header block starts like a request (its first field is a static
 * request pseudo-header, :authority to :scheme, indices 1-7), -1 like a
 * response (:status, indices 8-14), 0 when it cannot tell. */
static int block_kind(const uint8_t *p, size_t n)
{
	struct sc_rd r;
	unsigned idx;
	uint8_t b;

	sc_rd_init(&r, p, n);
	for (;;) {
		b = sc_rd_u8(&r);
		if (r.err)
			return 0;
		if ((b & 0xe0) != 0x20)
			break;
		if (!skip_hpack_int(&r, b, 5)) /* dynamic table size update */
			return 0;
	}
	if (b & 0x80)
		idx = b & 0x7f;
	else if (b & 0x40)
		idx = b & 0x3f;
	else
		idx = b & 0x0f;
	if (idx >= 1 && idx <= 7)
		return 1;
	if (idx >= 8 && idx <= 14)
		return -1;
	return 0;
}

/* Does a run of two plausible frames start at p? */
static bool run_of_two(const uint8_t *p, size_t n)
{
	struct fh f, g;

	if (n < 2 * FRAME_HDR)
		return false;
	fh_parse(p, &f);
	if (!fh_plausible(&f, -1, SC_H2_MAX_FRAME_LEN) || f.type == FT_CONTINUATION ||
	    (uint64_t)f.len + 2 * FRAME_HDR > n)
		return false;
	fh_parse(p + FRAME_HDR + f.len, &g);
	if ((f.type == FT_HEADERS || f.type == FT_PUSH_PROMISE) && !(f.flags & F_END_HEADERS))
		return g.type == FT_CONTINUATION && g.sid == f.sid && fh_plausible(&g, -1, SC_H2_MAX_FRAME_LEN);
	return fh_plausible(&g, -1, SC_H2_MAX_FRAME_LEN) && g.type != FT_CONTINUATION;
}

/* Votes from the frames of a run: [0] looks like a client, [1] a server. */
static void run_votes(const uint8_t *p, size_t n, unsigned votes[2])
{
	size_t i = 0;

	for (unsigned k = 0; k < 64 && n - i >= FRAME_HDR; k++) {
		struct fh f;
		size_t pre = 0;

		fh_parse(p + i, &f);
		if (!fh_plausible(&f, -1, SC_H2_MAX_FRAME_LEN) || f.len > n - i - FRAME_HDR)
			break;
		if (f.type == FT_PUSH_PROMISE)
			votes[1]++;
		if (f.type == FT_HEADERS) {
			if (!(f.sid & 1))
				votes[1]++; /* only a server sends HEADERS on an even stream */
			pre = ((f.flags & F_PADDED) ? 1 : 0) + ((f.flags & F_PRIORITY) ? 5 : 0);
			if (pre < f.len) {
				int kind = block_kind(p + i + FRAME_HDR + pre, f.len - pre);

				if (kind > 0)
					votes[0]++;
				else if (kind < 0)
					votes[1]++;
			}
		}
		i += FRAME_HDR + f.len;
	}
}

bool sc_h2conn_probe(uint8_t *const head[2], const size_t nhead[2], bool *client_is_egress, bool roles_known)
{
	unsigned votes[2][2] = { { 0, 0 }, { 0, 0 } };
	bool found = false;

	for (int d = 0; d < 2; d++) {
		const uint8_t *p = head[d];
		size_t n = nhead[d];

		if (!p || !n)
			continue;
		if (n >= sizeof(preface) && memcmp(p, preface, sizeof(preface)) == 0) {
			found = true;
			votes[d][0] += 4;
			run_votes(p + sizeof(preface), n - sizeof(preface), votes[d]);
			continue;
		}
		for (size_t i = 0; i + 2 * FRAME_HDR <= n; i++) {
			if (run_of_two(p + i, n - i)) {
				found = true;
				run_votes(p + i, n - i, votes[d]);
				break;
			}
		}
	}
	if (found && !roles_known && client_is_egress) {
		/* Egress is the client if it looks like one or ingress looks
		 * like a server, and nothing says the opposite. */
		bool egress_client = votes[0][0] > votes[0][1] || votes[1][1] > votes[1][0];
		bool egress_server = votes[0][1] > votes[0][0] || votes[1][0] > votes[1][1];

		if (egress_client != egress_server)
			*client_is_egress = egress_client;
	}
	return found;
}
