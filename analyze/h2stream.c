/* h2stream.c - HTTP/2 streams (RFC 9113 §5.1): the table of open streams
 * and of recently closed ids, the ends of messages and the emission of one
 * transaction per stream, DATA, and the control frames that act on streams
 * (RST_STREAM, GOAWAY, WINDOW_UPDATE, PRIORITY).
 */
#include "analyze/h2conn_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/sc_rd.h"

/* Values of h->closed: how a stream we no longer track ended. */
static const char closed_normal = 'c', closed_rst = 'r', closed_untracked = 'u';

/* ---- Streams ------------------------------------------------------------------- */

struct h2s *sc_h2_stream_get(const struct sc_h2conn *h, uint32_t sid)
{
	return sid ? sc_u64map_get(&h->streams, sid) : NULL;
}

/* 0: not known closed; 1: closed normally; 2: reset (late frames are
 * expected); 3: never tracked (over the stream cap). */
int sc_h2_closed_state(const struct sc_h2conn *h, uint32_t sid)
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
	sc_h2_set_fatal(h, sc_u64map_put(&h->closed, sid,
					 (void *)(how == 2 ? &closed_rst : how == 3 ? &closed_untracked : &closed_normal)));
}

void sc_h2_stream_free(struct h2s *st)
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
struct h2s *sc_h2_stream_new(struct sc_h2conn *h, int side, uint32_t sid)
{
	struct h2s *st;
	int rc;

	if (h->streams.n >= SC_H2_MAX_STREAMS) {
		if (!h->over_cap_reported) {
			h->over_cap_reported = true;
			sc_h2_anomaly(h, SC_ANOM_UNKNOWN, side, h->d[side].foff, 0, sid,
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
		sc_h2_set_fatal(h, -ENOMEM);
		return NULL;
	}
	sc_txb_init(st->b, h->c->id, h->env->max_body);
	st->id = sid;
	st->b->tx.stream_id = sid;
	st->b->tx.version = "HTTP/2";
	st->clen[0] = st->clen[1] = -1;
	rc = sc_u64map_put(&h->streams, sid, st);
	if (rc < 0) {
		sc_h2_stream_free(st);
		sc_h2_set_fatal(h, rc);
		return NULL;
	}
	if (sid > h->max_id[!(sid & 1)])
		h->max_id[!(sid & 1)] = sid;
	return st;
}

/* Hand the stream to the sink and forget it. */
void sc_h2_stream_emit(struct sc_h2conn *h, struct h2s *st, bool rst)
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
	sc_h2_set_fatal(h, rc);
	sc_h2_stream_free(st);
}

/* A malformed message or a stream error (RFC 9113 §5.4.2, §8.1.1): the
 * stream is flagged and decoding goes on.  One report per stream. */
void sc_h2_stream_error(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off, const char *fmt, ...)
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
	sc_h2_anomaly(h, SC_ANOM_PARSE, side, off, 0, st ? st->id : h->d[side].fsid, "HTTP/2 frame at offset %llu: %s",
		      (unsigned long long)off, msg);
}

static bool just_resynced(const struct sc_h2conn *h, int side)
{
	const struct h2dir *d = &h->d[side];

	return d->resynced && d->frames_since_resync <= RESYNC_TRUST && (d->st == ST_HEAD || d->st == ST_PAY);
}

/* A frame that does not fit the stream's state (RFC 9113 §5.1).  Right
 * after a resynchronisation that says more about the boundary we chose than
 * about the peer: look for another one and accuse no stream.  Otherwise a
 * stream error.  Callers return when the direction left ST_HEAD/ST_PAY. */
void sc_h2_state_error(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (just_resynced(h, side))
		sc_h2_conn_error(h, side, st ? st->id : h->d[side].fsid, off, "%s", msg);
	else
		sc_h2_stream_error(h, st, side, off, "%s", msg);
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
		sc_h2_stream_emit(h, st, false);
}

void sc_h2_end_side(struct sc_h2conn *h, struct h2s *st, int side, uint64_t off)
{
	const struct sc_tx *t = &st->b->tx;
	uint64_t body = side == SC_FROM_CLIENT ? t->req_body_bytes : t->resp_body_bytes;
	const struct grpc *g = &st->g[side];

	st->ended[side] = true;
	/* RFC 9113 §8.1.1: content-length must equal the DATA payload sum. */
	if (st->clen[side] >= 0 && !st->gap[side] && !st->partial && !body_exempt(st, side) &&
	    (uint64_t)st->clen[side] != body)
		sc_h2_stream_error(h, st, side, off,
				   "stream %u: content-length %lld but %llu bytes of DATA from the %s (RFC 9113 §8.1.1)", st->id,
				   (long long)st->clen[side], (unsigned long long)body, side_names[side]);
	if (g->state == G_ON && g->hn)
		sc_h2_stream_error(h, st, side, off, "stream %u: the %s's DATA ends inside a gRPC message (gRPC over HTTP/2)",
				   st->id, side_names[side]);
	maybe_emit(h, st);
}

/* ---- DATA ------------------------------------------------------------------------ */

void sc_h2_data_begin(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	uint32_t sid = d->fsid;
	struct h2s *st = sc_h2_stream_get(h, sid);

	d->data_ok = false;
	if (!st) {
		int opener = (sid & 1) ? SC_FROM_CLIENT : SC_FROM_SERVER;

		if (sc_h2_closed_state(h, sid))
			return; /* in flight when the stream was reset or closed: ignored */
		if (side == SC_FROM_CLIENT && opener == SC_FROM_SERVER) {
			sc_h2_state_error(h, NULL, side, d->foff,
					  "DATA from the client on stream %u, a server-initiated stream (RFC 9113 §8.4)", sid);
			return;
		}
		if (!h->lossy) {
			if (sid > h->max_id[!(sid & 1)])
				sc_h2_state_error(h, NULL, side, d->foff, "DATA on idle stream %u (RFC 9113 §5.1)", sid);
			return;
		}
		st = sc_h2_stream_new(h, side, sid);
		if (!st)
			return;
		st->partial = true;
	}
	if (st->ended[side]) {
		sc_h2_state_error(h, st, side, d->foff,
				  "DATA on stream %u after END_STREAM from the %s (RFC 9113 §5.1: STREAM_CLOSED)", sid,
				  side_names[side]);
		return;
	}
	if (st->phase[side] == 0 && !st->partial)
		sc_h2_state_error(h, st, side, d->foff, "stream %u: DATA from the %s before its HEADERS (RFC 9113 §8.1)", sid,
				  side_names[side]);
	else if (st->phase[side] == 2)
		sc_h2_state_error(h, st, side, d->foff, "stream %u: DATA from the %s after its trailers (RFC 9113 §8.1)", sid,
				  side_names[side]);
	if (!framing(h, side))
		return;
	if (st->phase[side] == 0)
		st->phase[side] = 1; /* what follows a body is trailers */
	sc_h2_msg_frame(st, side, d->foff, d->fts, h->ts);
	st->data_seen[side] = true;
	d->data_ok = true;
}

void sc_h2_data_content(struct sc_h2conn *h, int side, const uint8_t *p, size_t n)
{
	struct h2dir *d = &h->d[side];
	struct h2s *st;

	if (!d->data_ok)
		return;
	st = sc_h2_stream_get(h, d->fsid);
	if (!st) {
		d->data_ok = false; /* emitted meanwhile (RST_STREAM from the peer) */
		return;
	}
	sc_h2_set_fatal(h, sc_txb_body(st->b, side == SC_FROM_CLIENT ? SC_TXB_REQ : SC_TXB_RESP, p, n));
	sc_h2_grpc_feed(h, st, side, p, n);
	sc_h2_msg_frame(st, side, d->foff, d->fts, h->ts);
}

/* Payload bytes of a DATA frame lost in a gap: framing is kept, the body is
 * not whole. */
void sc_h2_data_lost(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct h2s *st = d->data_ok ? sc_h2_stream_get(h, d->fsid) : NULL;

	if (st) {
		st->gap[side] = true;
		/* The body kept joins the bytes around the hole: not whole. */
		if (side == SC_FROM_CLIENT)
			st->b->tx.req_body_cut = true;
		else
			st->b->tx.resp_body_cut = true;
		if (st->g[side].state == G_ON)
			st->g[side].state = G_LOST;
	}
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

void sc_h2_rst_end(struct sc_h2conn *h, int side)
{
	struct h2dir *d = &h->d[side];
	struct h2s *st = sc_h2_stream_get(h, d->fsid);
	struct sc_rd r;
	uint32_t code;

	sc_rd_init(&r, d->ctl, d->ctl_have);
	code = sc_rd_be32(&r);
	if (!st) {
		if (!h->lossy && !sc_h2_closed_state(h, d->fsid) && d->fsid > h->max_id[!(d->fsid & 1)])
			sc_h2_state_error(h, NULL, side, d->foff, "RST_STREAM on idle stream %u (RFC 9113 §6.4)", d->fsid);
		return;
	}
	st->b->tx.rst = true;
	if (d->flost)
		st->gap[side] = true; /* the error code was lost */
	else
		st->b->tx.rst_code = code;
	sc_h2_stream_emit(h, st, true);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Streams opened by `opener` with an id above `last`, in id order (NULL
 * and *n = 0 when none or out of memory, then h->fatal). */
uint32_t *sc_h2_streams_above(struct sc_h2conn *h, int opener, uint32_t last, bool any, size_t *n)
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
		sc_h2_set_fatal(h, -ENOMEM);
		return NULL;
	}
	while (sc_u64map_next(&h->streams, &pos, &key, &val))
		if (any || ((key & 1) == (opener == SC_FROM_CLIENT) && key > last))
			ids[k++] = (uint32_t)key;
	qsort(ids, k, sizeof(*ids), cmp_u32);
	*n = k;
	return ids;
}

void sc_h2_not_processed(struct sc_h2conn *h, struct h2s *st, int goaway_side)
{
	st->not_processed = true;
	st->b->tx.truncated = true;
	sc_h2_anomaly(h, SC_ANOM_TRUNCATED, goaway_side, h->goaway_off[goaway_side], 0, st->id,
		      "HTTP/2 stream %u was not processed: GOAWAY from the %s with last-stream-id %u (RFC 9113 §6.8)", st->id,
		      side_names[goaway_side], h->goaway_last[goaway_side]);
	sc_h2_stream_emit(h, st, false);
}

/*   +-+-------------------------------------------------------------+
 *   |R|                  Last-Stream-ID (31)                        |
 *   +-+-------------------------------------------------------------+
 *   |                      Error Code (32)                          |
 *   +---------------------------------------------------------------+
 *   |                  Additional Debug Data (*)                    |
 *   +---------------------------------------------------------------+
 *                     RFC 9113 §6.8 */
void sc_h2_goaway_end(struct sc_h2conn *h, int side)
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
		sc_h2_anomaly(h, SC_ANOM_PARSE, side, d->foff, 0, 0,
			      "HTTP/2 frame at offset %llu: GOAWAY from the %s with error %s (0x%x), last-stream-id %u%s%s%s",
			      (unsigned long long)d->foff, side_names[side], error_code_name(code), code, last,
			      ndbg ? ", debug data \"" : "", dbg, ndbg ? "\"" : "");
	if (!h->goaway[side] || last < h->goaway_last[side])
		h->goaway_last[side] = last;
	h->goaway[side] = true;
	h->goaway_off[side] = d->foff;
	/* The streams the receiver opened above last-stream-id were not
	 * processed and never will be. */
	ids = sc_h2_streams_above(h, !side, h->goaway_last[side], false, &n);
	for (size_t i = 0; i < n && !h->fatal; i++) {
		struct h2s *st = sc_h2_stream_get(h, ids[i]);

		if (st)
			sc_h2_not_processed(h, st, side);
	}
	free(ids);
}

void sc_h2_ctl_end(struct sc_h2conn *h, int side)
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
		sc_h2_stream_error(h, sc_h2_stream_get(h, d->fsid), side, d->foff,
				   "WINDOW_UPDATE on stream %u with an increment of 0 (RFC 9113 §6.9)", d->fsid);
	} else if (d->ftype == FT_PRIORITY && v == d->fsid) {
		sc_h2_stream_error(h, sc_h2_stream_get(h, d->fsid), side, d->foff,
				   "PRIORITY: stream %u depends on itself (RFC 9113 §5.3.1)", d->fsid);
	}
}
