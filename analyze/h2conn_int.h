/* h2conn_int.h - internals shared by the files of the HTTP/2 decoder
 * (analyze/h2conn.h is its interface).  Only those files and their tests
 * include this.
 *
 *   h2conn.c    the API, the connection: errors, resynchronisation entry,
 *               SETTINGS, the h2c upgrade
 *   h2frame.c   framing: frame headers, the per-direction byte loop, frame
 *               payloads, the search for a frame boundary after a gap, probe
 *   h2stream.c  streams: their table, ends and emission, DATA, RST_STREAM,
 *               GOAWAY and the other control frames of a stream
 *   h2hdrs.c    HPACK use: header blocks collected, decoded and turned into
 *               the fields and pseudo-headers of a message
 *   h2grpc.c    gRPC messages in DATA, grpc-status and grpc-message
 *
 * Every function here works on one struct sc_h2conn; none returns an error:
 * a fatal one (the sink's, -ENOMEM) is kept in h->fatal, after which
 * decoding stops, and protocol errors are anomalies.
 */
#ifndef SC_H2CONN_INT_H
#define SC_H2CONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "analyze/h2conn.h"
#include "analyze/hpack.h"
#include "analyze/txb.h"
#include "formats/sc_u64map.h"

/* ---- Constants --------------------------------------------------------------- */

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

#define CLOSED_RING 1024u         /* recently closed stream ids remembered (late frames are ignored) */
#define RESYNC_CAP (64u << 10)    /* lookahead kept while looking for a frame boundary */
#define RESYNC_TRUST 8u           /* frames after a resync in which an error means a false boundary */
#define RESYNC_MARKS 32u          /* timestamps kept for the bytes of the search buffer */
#define GOAWAY_DEBUG_KEEP 96u     /* GOAWAY debug data kept for the anomaly message */
#define PENDING_MAX 16u           /* SETTINGS awaiting an ACK, per side */
#define BLOCK_KEEP (64u << 10)    /* header block buffer kept between blocks */

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



/* ---- Small helpers ------------------------------------------------------------- */

static inline bool view_eq(struct sc_view v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n && memcmp(v.p, s, n) == 0;
}

/* The direction is reading frames (not resynchronising, failed or stopped). */
static inline bool framing(const struct sc_h2conn *h, int side)
{
	return !h->fatal && (h->d[side].st == ST_HEAD || h->d[side].st == ST_PAY);
}

/* ---- h2conn.c: the connection -------------------------------------------------- */

/* An anomaly of the connection at the current call's time.  Returns 0 or the
 * sink's error (then also in h->fatal). */
int sc_h2_anomaly(struct sc_h2conn *h, enum sc_anomaly_kind kind, int side, uint64_t off, uint64_t len, uint32_t sid,
		  const char *fmt, ...) __attribute__((format(printf, 7, 8)));
void sc_h2_set_fatal(struct sc_h2conn *h, int rc);
/* A connection error (RFC 9113 §5.4.1) in `side`'s bytes: the direction
 * stops decoding, or right after a resynchronisation looks for another
 * frame boundary. */
void sc_h2_conn_error(struct sc_h2conn *h, int side, uint32_t sid, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void sc_h2_fail_dir(struct sc_h2conn *h, int side);
void sc_h2_enter_resync(struct sc_h2conn *h, int side);
void sc_h2_setting_entry(struct sc_h2conn *h, int side, struct pset *ps, const uint8_t *p, uint64_t off);
void sc_h2_settings_end(struct sc_h2conn *h, int side);

/* ---- h2frame.c: framing ------------------------------------------------------------ */

const char *sc_h2_type_name(uint8_t t, char *buf, size_t n);
/* Bytes of `side` in stream order, and `n` bytes of it lost at `off`. */
void sc_h2_feed(struct sc_h2conn *h, int side, const uint8_t *p, size_t n);
void sc_h2_gap_in(struct sc_h2conn *h, int side, uint64_t off, uint64_t n);

/* ---- h2stream.c: streams ------------------------------------------------------------ */

struct h2s *sc_h2_stream_get(const struct sc_h2conn *h, uint32_t sid);
/* 0: not known closed; 1: closed normally; 2: reset; 3: never tracked. */
int sc_h2_closed_state(const struct sc_h2conn *h, uint32_t sid);
struct h2s *sc_h2_stream_new(struct sc_h2conn *h, int side, uint32_t sid);
void sc_h2_stream_free(struct h2s *st);
void sc_h2_stream_emit(struct sc_h2conn *h, struct h2s *st, bool rst);
void sc_h2_stream_error(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void sc_h2_state_error(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void sc_h2_msg_frame(struct h2s *st, int side, uint64_t off, uint64_t ts_first, uint64_t ts_last);
void sc_h2_end_side(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off);
void sc_h2_not_processed(struct sc_h2conn *h, struct h2s *st, int goaway_side);
uint32_t *sc_h2_streams_above(struct sc_h2conn *h, int opener, uint32_t last, bool any, size_t *n);
void sc_h2_data_begin(struct sc_h2conn *h, int side);
void sc_h2_data_content(struct sc_h2conn *h, int side, const uint8_t *p, size_t n);
void sc_h2_data_lost(struct sc_h2conn *h, int side);
void sc_h2_rst_end(struct sc_h2conn *h, int side);
void sc_h2_goaway_end(struct sc_h2conn *h, int side);
void sc_h2_ctl_end(struct sc_h2conn *h, int side);

/* ---- h2hdrs.c: header blocks and HPACK ------------------------------------------------ */

size_t sc_h2_block_append(struct sc_h2conn *h, int side, const uint8_t *p, size_t n);
void sc_h2_block_done(struct sc_h2conn *h, int side);

/* ---- h2grpc.c: gRPC ---------------------------------------------------------------------- */

void sc_h2_grpc_start(struct h2s *st, int side, bool web);
void sc_h2_grpc_feed(struct sc_h2conn *h, struct h2s *st, int side, const uint8_t *p, size_t n);
void sc_h2_grpc_message_set(struct h2s *st, struct sc_view v);
/* Decimal digits (at most maxlen) of a status value, or -1. */
int sc_h2_status_digits(struct sc_view v, int maxlen);

#endif
