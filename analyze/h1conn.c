/* h1conn.c - HTTP/1.x for one connection: message heads and bodies of both
 * sides (analyze/http1.h), requests paired with responses, transactions to
 * the sink.
 *
 * Pairing: requests wait in a FIFO; each final response answers the oldest
 * request still waiting (RFC 9112 §9.3.2: responses come in request order,
 * pipelined or not).  After a gap that breaks the framing, whole messages may
 * be missing from the side that had the gap, and FIFO order alone would then
 * pair a response with the wrong request.  sockcap prefers an unpaired row to
 * a wrong one:
 *  - a client-side gap puts a barrier in the FIFO: a response meets the
 *    request after the barrier only if that request began before the response
 *    did; otherwise the response answers a request lost in the gap and is
 *    stored alone;
 *  - a server-side gap ends every waiting request that began before it
 *    without a response (its response may have been in the gap).
 * A connection joined mid-stream starts behind such a barrier too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyze/convo.h"
#include "analyze/h2conn.h"
#include "analyze/http1.h"
#include "analyze/txb.h"

#define FIFO_MAX 1024             /* pipelined requests waiting; beyond, the oldest give up */
#define HOLD_MAX (256u << 10)     /* client bytes held while a CONNECT/Upgrade is decided */
#define BUF_MAX (SC_H1_MAX_HEAD + SC_H1_MAX_TRAILER_LEN + 1024)

enum sstate {
	S_HEAD,   /* expecting a message head */
	S_BODY,   /* inside a body */
	S_HOLD,   /* client: waiting for the answer to CONNECT or Upgrade */
	S_TUNNEL, /* no longer HTTP/1: bytes counted, not decoded */
	S_RESYNC, /* looking for the next message head after a gap or error */
	S_DONE,   /* handed over to HTTP/2 */
};

struct ptx {
	struct sc_txb b;
	bool barrier;       /* not a request: the place of a client-side gap */
	bool req_done, resp_started, resp_done;
	bool connect, upgrade_h2c, head_method;
	bool tunnel;        /* its response switched the connection away from HTTP/1 */
	bool gave_up;       /* a server-side gap may have swallowed its response */
	struct ptx *next;
};

struct side {
	enum sstate st;
	uint8_t *buf;       /* bytes not consumed yet */
	size_t len, cap;
	uint64_t buf_off;   /* stream offset of buf[0] (or of the next byte, when empty) */
	uint64_t buf_ts;    /* time of the chunk that brought buf[0] */
	size_t last_len;    /* sc_h1_parse_head's incremental scan */
	struct sc_h1_body body;
	struct ptx *cur;    /* the transaction whose message this side is in */
	uint64_t chunk_ts;  /* time of the chunk being processed */
	uint64_t skipped;   /* bytes dropped while resynchronising */
	uint64_t skip_off;
	bool skip_line;     /* resync: drop through the next LF first (the rest of a bad line) */
	bool seen_http;     /* a message head, or a head that failed to parse, came on this side */
	uint64_t tunnel_bytes;
};

struct sc_h1conn {
	struct sc_conn *c;
	const struct sc_dec_env *env;
	struct side s[2];
	struct ptx *head, *tail; /* FIFO: oldest first */
	size_t nfifo;
	struct ptx *upgraded;    /* the h2c request handed to HTTP/2 */
	struct ptx *free_list;
	bool tunnel_noted;
};

/* ---- transactions ------------------------------------------------------------------------ */

static struct ptx *ptx_new(struct sc_h1conn *h)
{
	struct ptx *t = h->free_list;

	if (t) {
		h->free_list = t->next;
	} else {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
	}
	sc_txb_init(&t->b, h->c->id, h->env->max_body);
	t->barrier = t->req_done = t->resp_started = t->resp_done = false;
	t->connect = t->upgrade_h2c = t->head_method = t->gave_up = t->tunnel = false;
	t->next = NULL;
	return t;
}

static void ptx_release(struct sc_h1conn *h, struct ptx *t)
{
	t->next = h->free_list;
	h->free_list = t;
}

static void fifo_push(struct sc_h1conn *h, struct ptx *t)
{
	t->next = NULL;
	if (h->tail)
		h->tail->next = t;
	else
		h->head = t;
	h->tail = t;
	h->nfifo++;
}

static void fifo_remove(struct sc_h1conn *h, struct ptx *t)
{
	struct ptx **pp = &h->head, *prev = NULL;

	while (*pp && *pp != t) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = t->next;
	if (h->tail == t)
		h->tail = prev;
	h->nfifo--;
	t->next = NULL;
}

static bool in_fifo(const struct sc_h1conn *h, const struct ptx *t)
{
	for (const struct ptx *x = h->head; x; x = x->next)
		if (x == t)
			return true;
	return false;
}

/* Hand a transaction to the sink and forget it. */
static int emit(struct sc_h1conn *h, struct ptx *t)
{
	struct sc_tx *tx = &t->b.tx;
	int rc;

	if (in_fifo(h, t))
		fifo_remove(h, t);
	for (int i = 0; i < 2; i++)
		if (h->s[i].cur == t)
			h->s[i].cur = NULL;
	if (t->barrier) {
		ptx_release(h, t);
		return 0;
	}
	tx->complete = t->req_done && t->resp_done && tx->method.p && tx->status && !tx->truncated && !tx->error;
	if (t->b.overflow)
		tx->headers_incomplete = true;
	rc = sc_txb_emit(&t->b, h->env, h->c);
	ptx_release(h, t);
	return rc;
}

static int anomaly(struct sc_h1conn *h, enum sc_anomaly_kind k, int side, uint64_t off, uint64_t len, uint64_t ts,
		   const char *msg)
{
	return sc_convo_anomaly(h->env, h->c, k, side, off, len, ts, 0, "%s", msg);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

struct sc_h1conn *sc_h1conn_new(struct sc_conn *c, const struct sc_dec_env *env)
{
	struct sc_h1conn *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->c = c;
	h->env = env;
	if (c->midstream) {
		/* Joined in the middle: neither side is at a message boundary, and
		 * the requests of responses still to come were not seen. */
		struct ptx *b = ptx_new(h);

		if (!b) {
			free(h);
			return NULL;
		}
		b->barrier = true;
		fifo_push(h, b);
		h->s[0].st = h->s[1].st = S_RESYNC;
	}
	return h;
}

void sc_h1conn_free(struct sc_h1conn *h)
{
	struct ptx *lists[3];

	if (!h)
		return;
	lists[0] = h->head;
	lists[1] = h->free_list;
	lists[2] = NULL;
	for (int i = 0; i < 2; i++) {
		struct ptx *t;

		for (t = lists[i]; t;) {
			struct ptx *n = t->next;

			sc_txb_fini(&t->b);
			free(t);
			t = n;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (h->s[i].cur && h->s[i].cur != h->upgraded && !in_fifo(h, h->s[i].cur)) {
			sc_txb_fini(&h->s[i].cur->b);
			free(h->s[i].cur);
		}
		free(h->s[i].buf);
	}
	if (h->upgraded && h->upgraded != h->s[0].cur && h->upgraded != h->s[1].cur) {
		sc_txb_fini(&h->upgraded->b);
		free(h->upgraded);
	}
	free(h);
}

/* ---- buffering ------------------------------------------------------------------------- */

static int buf_append(struct side *s, const uint8_t *p, size_t n, uint64_t off, uint64_t ts)
{
	if (s->len == 0) {
		s->buf_off = off;
		s->buf_ts = ts;
	}
	if (s->len + n > s->cap) {
		size_t ncap = s->cap ? s->cap : 4096;
		uint8_t *nb;

		while (ncap < s->len + n)
			ncap *= 2;
		nb = realloc(s->buf, ncap);
		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static void buf_consume(struct side *s, size_t n)
{
	if (n >= s->len) {
		s->buf_off += s->len;
		s->len = 0;
		s->last_len = 0;
		return;
	}
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
	s->buf_off += n;
	/* What is left arrived with the chunk being processed (or later). */
	s->buf_ts = s->chunk_ts;
}

/* ---- messages ----------------------------------------------------------------------------- */

static bool view_ieq(struct sc_view v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n && strncasecmp((const char *)v.p, s, n) == 0;
}

static void copy_headers(struct ptx *t, enum sc_txb_dir dir, const struct sc_h1_header *hv, size_t n, uint8_t flags)
{
	for (size_t i = 0; i < n; i++)
		(void)sc_txb_add_hdr(&t->b, dir, hv[i].name.p, hv[i].name.len, hv[i].value.p, hv[i].value.len, flags);
}

static int body_cb_req(void *ctx, const uint8_t *p, size_t n)
{
	struct ptx *t = ctx;

	(void)sc_txb_body(&t->b, SC_TXB_REQ, p, n);
	return 0;
}

static int body_cb_resp(void *ctx, const uint8_t *p, size_t n)
{
	struct ptx *t = ctx;

	(void)sc_txb_body(&t->b, SC_TXB_RESP, p, n);
	return 0;
}

/* A request head at stream offset `off`, first byte seen at `ts`. */
static int on_request_head(struct sc_h1conn *h, const struct sc_h1_head *hd, uint64_t off, uint64_t ts)
{
	struct side *s = &h->s[SC_FROM_CLIENT];
	struct ptx *t;
	uint64_t blen;
	enum sc_h1_body_kind kind;
	int rc;

	s->seen_http = true;
	if (h->nfifo >= FIFO_MAX) {
		/* Something is badly wrong (a server that never answers, or
		 * misparsed traffic): give up on the oldest rather than grow. */
		struct ptx *old = h->head;

		old->b.tx.truncated = true;
		rc = anomaly(h, SC_ANOM_UNKNOWN, SC_FROM_CLIENT, off, 0, ts,
			     "HTTP/1: more than 1024 requests waiting for a response; the oldest is stored without one");
		if (!rc)
			rc = emit(h, old);
		if (rc < 0)
			return rc;
	}
	t = ptx_new(h);
	if (!t)
		return -ENOMEM;
	t->b.tx.version = hd->minor ? "HTTP/1.1" : "HTTP/1.0";
	sc_txb_set(&t->b, &t->b.tx.method, hd->method.p, hd->method.len);
	sc_txb_set(&t->b, &t->b.tx.path, hd->target.p, hd->target.len);
	if (hd->host.p)
		sc_txb_set(&t->b, &t->b.tx.authority, hd->host.p, hd->host.len);
	if (hd->target.len > 7 && strncasecmp((const char *)hd->target.p, "http://", 7) == 0)
		sc_txb_set(&t->b, &t->b.tx.scheme, "http", 4);
	else if (hd->target.len > 8 && strncasecmp((const char *)hd->target.p, "https://", 8) == 0)
		sc_txb_set(&t->b, &t->b.tx.scheme, "https", 5);
	copy_headers(t, SC_TXB_REQ, hd->headers, hd->nheaders, 0);
	t->b.tx.req_header_bytes = hd->head_len;
	t->b.tx.req_start_ns = ts;
	t->b.tx.req_offset = off;
	t->connect = view_ieq(hd->method, "CONNECT");
	t->head_method = view_ieq(hd->method, "HEAD");
	t->upgrade_h2c = hd->upgrade && view_ieq(hd->upgrade_proto, "h2c");
	fifo_push(h, t);
	s->cur = t;

	kind = sc_h1_request_body(hd, &blen);
	sc_h1_body_init(&s->body, kind, blen);
	s->st = S_BODY;
	return 0;
}

static int request_done(struct sc_h1conn *h, struct ptx *t, uint64_t ts)
{
	struct side *s = &h->s[SC_FROM_CLIENT];

	copy_headers(t, SC_TXB_REQ, s->body.trailers, s->body.ntrailers, SC_HDR_TRAILER);
	if (s->body.incomplete)
		t->b.tx.truncated = true;
	t->b.tx.req_end_ns = ts;
	t->req_done = true;
	s->cur = NULL;
	/* What comes after CONNECT or an Upgrade request depends on the answer. */
	s->st = (t->connect || sc_txb_find_hdr(&t->b.tx.req_hdrs, "upgrade")) && !t->resp_done ? S_HOLD : S_HEAD;
	if (t->resp_done)
		return emit(h, t);
	return 0;
}

/* The request a response starting at `ts` answers, or NULL (stored alone). */
static struct ptx *match_request(struct sc_h1conn *h, uint64_t ts)
{
	struct ptx *t = h->head;

	while (t && t->resp_started)
		t = t->next;
	while (t && t->barrier) {
		struct ptx *after = t->next;

		while (after && after->barrier)
			after = after->next;
		if (!after || after->b.tx.req_start_ns > ts)
			return NULL; /* answers a request lost before the barrier */
		/* The request after the barrier began first: pairing resumes. */
		struct ptx *b = t;

		t = after;
		fifo_remove(h, b);
		ptx_release(h, b);
	}
	return t;
}

static int on_response_head(struct sc_h1conn *h, const struct sc_h1_head *hd, uint64_t off, uint64_t ts,
			    int *upgrade)
{
	struct side *s = &h->s[SC_FROM_SERVER];
	struct ptx *t = s->cur;
	struct sc_view method = { NULL, 0 };
	uint64_t blen;
	enum sc_h1_body_kind kind;

	s->seen_http = true;
	if (!t) {
		t = match_request(h, ts);
		if (!t) {
			t = ptx_new(h);
			if (!t)
				return -ENOMEM;
			t->b.tx.version = hd->minor ? "HTTP/1.1" : "HTTP/1.0";
			t->b.tx.truncated = true; /* its request is not in the capture */
			t->req_done = true;
		}
		t->resp_started = true;
		t->b.tx.resp_start_ns = ts;
		t->b.tx.resp_offset = off;
		s->cur = t;
	}
	if (hd->status >= 100 && hd->status < 200 && hd->status != 101) {
		/* Interim: the final response to the same request follows. */
		t->b.tx.interim_status = hd->status;
		t->b.tx.resp_header_bytes += hd->head_len;
		s->st = S_HEAD;
		return 0;
	}
	t->b.tx.status = hd->status;
	sc_txb_set(&t->b, &t->b.tx.reason, hd->reason.p, hd->reason.len);
	if (hd->content_type.p)
		sc_txb_set(&t->b, &t->b.tx.content_type, hd->content_type.p, hd->content_type.len);
	if (hd->content_encoding.p)
		sc_txb_set(&t->b, &t->b.tx.content_encoding, hd->content_encoding.p, hd->content_encoding.len);
	copy_headers(t, SC_TXB_RESP, hd->headers, hd->nheaders, 0);
	t->b.tx.resp_header_bytes += hd->head_len;
	if (!t->b.tx.version)
		t->b.tx.version = hd->minor ? "HTTP/1.1" : "HTTP/1.0";
	method = t->b.tx.method;
	kind = sc_h1_response_body(hd, method, &blen);
	/* A 101 to h2c switches to HTTP/2 (RFC 7540 §3.2), also when its request
	 * is not in the capture: the server's word is what counts. */
	if (hd->status == 101 && view_ieq(hd->upgrade_proto, "h2c") && (t->upgrade_h2c || !t->b.tx.method.p))
		*upgrade = 1;
	if (*upgrade) {
		/* HTTP/2 from the next byte on: the response ends with its head. */
		kind = SC_H1_BODY_NONE;
	} else if (kind == SC_H1_BODY_TUNNEL) {
		/* 101 to another protocol, or CONNECT 2xx: nothing after this
		 * head is HTTP/1.  End the response here and leave the bytes to
		 * the tunnel. */
		t->tunnel = true;
		kind = SC_H1_BODY_NONE;
	}
	sc_h1_body_init(&s->body, kind, blen);
	s->st = S_BODY;
	return 0;
}

static int response_done(struct sc_h1conn *h, struct ptx *t, uint64_t ts, int upgrade)
{
	struct side *s = &h->s[SC_FROM_SERVER];
	struct side *cs = &h->s[SC_FROM_CLIENT];

	copy_headers(t, SC_TXB_RESP, s->body.trailers, s->body.ntrailers, SC_HDR_TRAILER);
	if (s->body.incomplete)
		t->b.tx.truncated = true;
	t->b.tx.resp_end_ns = ts;
	t->resp_done = true;
	s->cur = NULL;
	s->st = S_HEAD;
	if (upgrade) {
		/* Stream 1 of HTTP/2 from now on: keep the request for the handover. */
		fifo_remove(h, t);
		h->upgraded = t;
		s->st = cs->st = S_DONE;
		return 0;
	}
	if (t->tunnel) {
		/* 101 to something else, or CONNECT 2xx: not HTTP/1 any more. */
		s->st = cs->st = S_TUNNEL;
		cs->buf_off += cs->len;
		cs->tunnel_bytes += cs->len;
		cs->len = 0;
	} else if (cs->st == S_HOLD) {
		cs->st = S_HEAD; /* the CONNECT or Upgrade was refused: still HTTP/1 */
	}
	if (t->req_done)
		return emit(h, t);
	return 0;
}

/* ---- the per-side engine ---------------------------------------------------------------- */

/* Process bytes p[0..n) of `side` starting at stream offset `off`.  Returns
 * bytes consumed (the rest must be kept), or a negative error.  *upgrade is
 * set when a 101 to h2c was completed. */
static long step(struct sc_h1conn *h, int side, const uint8_t *p, size_t n, uint64_t off, uint64_t head_ts,
		 int *upgrade)
{
	struct side *s = &h->s[side];
	uint64_t ts = s->chunk_ts;
	struct sc_diag d = { 0 };
	size_t used = 0;
	int rc;

	while (used < n || (s->st == S_BODY && sc_h1_body_done(&s->body))) {
		switch (s->st) {
		case S_HEAD: {
			struct sc_h1_head hd;
			int r = sc_h1_parse_head(p + used, n - used, used == 0 ? s->last_len : 0, side == SC_FROM_CLIENT,
						 &hd, &d);

			if (r == SC_EAGAIN) {
				if (used == 0)
					s->last_len = n;
				return (long)used;
			}
			s->last_len = 0;
			if (r < 0) {
				s->seen_http = true;
				rc = sc_convo_anomaly(h->env, h->c, SC_ANOM_PARSE, side, off + used + d.offset, 0, ts, 0,
						      "%s", d.msg);
				if (rc < 0)
					return rc;
				if (s->cur) {
					s->cur->b.tx.error = true;
					if (side == SC_FROM_SERVER && s->cur->req_done) {
						rc = emit(h, s->cur);
						if (rc < 0)
							return rc;
					}
				}
				/* Resync after the bad message's first line: the next
				 * message starts on a line of its own, and restarting
				 * inside this one would find its tail ("OST /" of
				 * "POST /") and report the same error again. */
				s->st = S_RESYNC;
				s->skip_off = off + used;
				s->skip_line = true;
				break;
			}
			rc = side == SC_FROM_CLIENT ? on_request_head(h, &hd, off + used, used == 0 ? head_ts : ts)
						    : on_response_head(h, &hd, off + used, used == 0 ? head_ts : ts, upgrade);
			if (rc < 0)
				return rc;
			used += (size_t)r;
			break;
		}
		case S_BODY: {
			struct ptx *t = s->cur;
			bool done = false;
			long r;

			r = sc_h1_body_feed(&s->body, p + used, n - used, side == SC_FROM_CLIENT ? body_cb_req : body_cb_resp,
					    t, &done, &d);
			if (r < 0) {
				rc = sc_convo_anomaly(h->env, h->c, SC_ANOM_PARSE, side, off + used, 0, ts, 0, "%s", d.msg);
				if (rc < 0)
					return rc;
				if (t) {
					t->b.tx.error = true;
					rc = side == SC_FROM_CLIENT ? request_done(h, t, ts) : response_done(h, t, ts, 0);
					if (rc < 0)
						return rc;
				}
				s->st = S_RESYNC;
				s->skip_off = off + used;
				s->skip_line = true; /* the bad chunk line */
				break;
			}
			used += (size_t)r;
			if (!done)
				return (long)used; /* needs more, or consumed everything */
			if (t) {
				rc = side == SC_FROM_CLIENT ? request_done(h, t, ts) : response_done(h, t, ts, *upgrade);
				if (rc < 0)
					return rc;
			} else {
				s->st = S_HEAD;
			}
			if (*upgrade)
				return (long)used;
			break;
		}
		case S_HOLD:
			/* Keep everything until the server decides (bounded). */
			if (s->len + (n - used) > HOLD_MAX) {
				s->st = S_TUNNEL;
				break;
			}
			return (long)used;
		case S_TUNNEL:
			s->tunnel_bytes += n - used;
			used = n;
			break;
		case S_DONE:
			return (long)used;
		case S_RESYNC: {
			long at;

			if (s->skip_line) {
				const uint8_t *lf = memchr(p + used, '\n', n - used);
				size_t k = lf ? (size_t)(lf - (p + used)) + 1 : n - used;

				s->skipped += k;
				used += k;
				if (!lf)
					return (long)used;
				s->skip_line = false;
				break;
			}
			at = sc_h1_find_head(p + used, n - used, side == SC_FROM_CLIENT);

			if (at < 0) {
				/* Keep the bytes after the last LF: a start line may
				 * be arriving.  Drop the rest. */
				const uint8_t *lf = NULL;

				for (size_t i = n; i > used; i--)
					if (p[i - 1] == '\n') {
						lf = p + i;
						break;
					}
				size_t drop = lf ? (size_t)(lf - p) - used : 0;

				if (n - used - drop > SC_H1_MAX_LINE)
					drop = n - used;
				s->skipped += drop;
				used += drop;
				return (long)used;
			}
			s->skipped += (uint64_t)at;
			used += (size_t)at;
			if (s->skipped) {
				rc = sc_convo_anomaly(h->env, h->c, SC_ANOM_UNKNOWN, side, s->skip_off, s->skipped, ts, 0,
						      "HTTP/1: skipped %" PRIu64 " bytes to the next %s", s->skipped,
						      side == SC_FROM_CLIENT ? "request" : "response");
				if (rc < 0)
					return rc;
				s->skipped = 0;
			}
			s->st = S_HEAD;
			break;
		}
		}
	}
	return (long)used;
}

static int side_data(struct sc_h1conn *h, int side, uint64_t ts, uint64_t off, const uint8_t *p, size_t n, int *upgrade)
{
	struct side *s = &h->s[side];
	long used;
	int rc;

	s->chunk_ts = ts;
	if (s->st == S_RESYNC && s->len == 0 && s->skipped == 0)
		s->skip_off = off;
	if (s->len == 0) {
		/* The common case: parse straight from the caller's bytes. */
		used = step(h, side, p, n, off, ts, upgrade);
		if (used < 0)
			return (int)used;
		if ((size_t)used < n) {
			rc = buf_append(s, p + used, n - (size_t)used, off + (uint64_t)used, ts);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	rc = buf_append(s, p, n, off, ts);
	if (rc < 0)
		return rc;
	used = step(h, side, s->buf, s->len, s->buf_off, s->buf_ts, upgrade);
	if (used < 0)
		return (int)used;
	buf_consume(s, (size_t)used);
	if (s->len > BUF_MAX && s->st != S_HOLD && s->st != S_DONE) {
		/* Only a head or trailer section over its cap gets here, and the
		 * parser reports those; this is a last bound on memory. */
		rc = anomaly(h, SC_ANOM_PARSE, side, s->buf_off, s->len, ts, "HTTP/1: message head too large");
		if (rc < 0)
			return rc;
		s->skipped += s->len;
		buf_consume(s, s->len);
		s->st = S_RESYNC;
	}
	return 0;
}

int sc_h1conn_data(struct sc_h1conn *h, int side, uint64_t ts_ns, uint64_t off, const uint8_t *p, size_t n)
{
	int upgrade = 0;
	int rc = side_data(h, side, ts_ns, off, p, n, &upgrade);

	if (rc < 0)
		return rc;
	if (upgrade && h->upgraded) {
		/* Client bytes held since the Upgrade request are HTTP/2 now. */
		return SC_H1_UPGRADE_H2;
	}
	/* The answer to a CONNECT/Upgrade may release held client bytes. */
	if (side == SC_FROM_SERVER && h->s[SC_FROM_CLIENT].st != S_HOLD && h->s[SC_FROM_CLIENT].len > 0 &&
	    h->s[SC_FROM_CLIENT].st != S_DONE) {
		struct side *cs = &h->s[SC_FROM_CLIENT];
		long used = step(h, SC_FROM_CLIENT, cs->buf, cs->len, cs->buf_off, cs->buf_ts, &upgrade);

		if (used < 0)
			return (int)used;
		buf_consume(cs, (size_t)used);
	}
	return 0;
}

/* Bytes skipped while looking for the next message head, and no head came
 * before the gap or the end of the stream (`why`): they go into an anomaly's
 * length all the same, held bytes of a line that never ended included. */
static int flush_skipped(struct sc_h1conn *h, int side, uint64_t ts, const char *why)
{
	struct side *s = &h->s[side];
	uint64_t n = s->skipped + (s->st == S_RESYNC ? s->len : 0);
	int rc = 0;

	/* A side that never showed an HTTP/1 message (a connection joined in
	 * the middle that only looked like HTTP/1) lost no HTTP bytes. */
	if (s->st == S_RESYNC && n && s->seen_http)
		rc = sc_convo_anomaly(h->env, h->c, SC_ANOM_UNKNOWN, side, s->skip_off, n, ts, 0,
				      "HTTP/1: skipped %" PRIu64 " bytes, and no %s followed before %s", n,
				      side == SC_FROM_CLIENT ? "request" : "response", why);
	s->skipped = 0;
	s->skip_line = false;
	return rc;
}

/* The body of `side` in `t` is not whole: bytes of it are missing (a gap
 * inside it) or it was cut.  bodies.truncated says so even when the bytes
 * kept are all the bytes decoded, which then join across the hole. */
static void body_not_whole(struct ptx *t, int side)
{
	if (side == SC_FROM_CLIENT)
		t->b.tx.req_body_cut = true;
	else
		t->b.tx.resp_body_cut = true;
}

/* A head cut by a gap or by the end of the stream.  What arrived is decoded as
 * far as its complete lines go (the start line and whole header fields) and
 * the message is kept, truncated and with headers_incomplete: a request with
 * its method and path is worth more than a bare gap (and `replay` can say
 * which request it skipped).  Nothing after the last complete line is used. */
static int salvage_head(struct sc_h1conn *h, int side)
{
	struct side *s = &h->s[side];
	struct sc_h1_head hd;
	struct sc_diag d = { 0 };
	size_t n = s->len;
	uint8_t *tmp;
	int r, rc, upgrade = 0;

	if (s->st != S_HEAD || s->len == 0)
		return 0;
	while (n > 0 && s->buf[n - 1] != '\n')
		n--;
	if (n == 0)
		return 0; /* not even the start line */
	tmp = malloc(n + 2);
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, s->buf, n);
	tmp[n] = '\r';
	tmp[n + 1] = '\n';
	r = sc_h1_parse_head(tmp, n + 2, 0, side == SC_FROM_CLIENT, &hd, &d);
	if (r <= 0) {
		free(tmp);
		return 0; /* not a head after all: the gap anomaly says enough */
	}
	rc = side == SC_FROM_CLIENT ? on_request_head(h, &hd, s->buf_off, s->buf_ts)
				    : on_response_head(h, &hd, s->buf_off, s->buf_ts, &upgrade);
	free(tmp);
	if (rc < 0)
		return rc;
	if (s->cur) {
		uint64_t *hb = side == SC_FROM_CLIENT ? &s->cur->b.tx.req_header_bytes : &s->cur->b.tx.resp_header_bytes;

		*hb = *hb >= 2 ? *hb - 2 : 0; /* the CRLF added above was not on the wire */
		s->cur->b.tx.headers_incomplete = true;
		s->cur->b.tx.truncated = true;
	}
	return 0;
}

int sc_h1conn_gap(struct sc_h1conn *h, int side, uint64_t ts_ns, uint64_t off, uint64_t n)
{
	struct side *s = &h->s[side];
	struct sc_diag d = { 0 };
	const char *who = side == SC_FROM_CLIENT ? "client" : "server";
	int rc;

	rc = sc_convo_anomaly(h->env, h->c, SC_ANOM_GAP, side, off, n, ts_ns, 0, "%" PRIu64 " bytes missing from the %s stream",
			      n, who);
	if (rc < 0)
		return rc;
	if (s->st == S_TUNNEL || s->st == S_DONE)
		return 0;
	rc = flush_skipped(h, side, ts_ns, "the gap");
	if (rc < 0)
		return rc;
	/* Inside a body whose framing survives the gap: the message goes on,
	 * incomplete. */
	if (s->st == S_BODY && s->len == 0 && sc_h1_body_gap(&s->body, n, &d) == 0) {
		if (s->cur) {
			s->cur->b.tx.truncated = true;
			body_not_whole(s->cur, side);
		}
		return 0;
	}
	if (s->st == S_BODY && s->cur)
		body_not_whole(s->cur, side);
	/* The framing is lost: the message in progress is cut. */
	rc = salvage_head(h, side);
	if (rc < 0)
		return rc;
	if (s->cur) {
		struct ptx *t = s->cur;

		t->b.tx.truncated = true;
		rc = side == SC_FROM_CLIENT ? request_done(h, t, ts_ns) : response_done(h, t, ts_ns, 0);
		if (rc < 0)
			return rc;
	}
	if (side == SC_FROM_CLIENT) {
		/* Whole requests may be in the gap: a barrier in the FIFO. */
		struct ptx *b = ptx_new(h);

		if (!b)
			return -ENOMEM;
		b->barrier = true;
		b->b.tx.req_start_ns = ts_ns;
		fifo_push(h, b);
	} else {
		/* Responses of waiting requests may be in the gap: those that
		 * began before it are stored without a response. */
		for (struct ptx *t = h->head, *next; t; t = next) {
			next = t->next;
			if (t->barrier || t->resp_started)
				continue;
			if (t->b.tx.req_start_ns <= ts_ns) {
				t->gave_up = true;
				t->b.tx.truncated = true;
				if (t->req_done) {
					rc = emit(h, t);
					if (rc < 0)
						return rc;
				}
			}
		}
	}
	s->len = 0;
	s->last_len = 0;
	s->buf_off = off + n;
	s->st = S_RESYNC;
	s->skip_off = off + n;
	s->skipped = 0;
	return 0;
}

int sc_h1conn_end(struct sc_h1conn *h, uint64_t ts_ns, bool closed)
{
	struct sc_diag d = { 0 };
	int rc = 0;

	for (int side = 0; side < 2 && rc >= 0; side++) {
		struct side *s = &h->s[side];
		struct ptx *t = s->cur;

		if (s->st == S_BODY && t) {
			/* A close-delimited body ends here, properly, if the
			 * connection closed (RFC 9112 §6.3 rule 8). */
			if (!closed || sc_h1_body_finish(&s->body, &d) < 0) {
				t->b.tx.truncated = true;
				body_not_whole(t, side);
				rc = anomaly(h, SC_ANOM_TRUNCATED, side, s->buf_off, 0, ts_ns,
					     closed ? d.msg : (side == SC_FROM_CLIENT ? "HTTP/1 request cut by the end of the capture"
								: "HTTP/1 response cut by the end of the capture"));
			}
			if (rc >= 0)
				rc = side == SC_FROM_CLIENT ? request_done(h, t, ts_ns) : response_done(h, t, ts_ns, 0);
		} else if (s->st == S_RESYNC) {
			rc = flush_skipped(h, side, ts_ns, "the end of the stream");
		} else if (s->st == S_HEAD && s->len > 0 && sc_h1_only_empty_lines(s->buf, s->len)) {
			/* A stray CRLF after the last message (RFC 9112 §2.2):
			 * nothing was cut. */
		} else if (s->st == S_HEAD && s->len > 0) {
			rc = anomaly(h, SC_ANOM_TRUNCATED, side, s->buf_off, s->len, ts_ns,
				     side == SC_FROM_CLIENT ? "HTTP/1 request head cut by the end of the stream"
							    : "HTTP/1 response head cut by the end of the stream");
			if (t)
				t->b.tx.truncated = true;
			if (rc >= 0)
				rc = salvage_head(h, side);
			if (rc >= 0 && side == SC_FROM_SERVER && h->s[side].cur)
				rc = response_done(h, h->s[side].cur, ts_ns, 0);
		} else if (s->st == S_TUNNEL && s->tunnel_bytes && !h->tunnel_noted) {
			h->tunnel_noted = true;
			rc = sc_convo_anomaly(h->env, h->c, SC_ANOM_UNKNOWN, -1, 0, h->s[0].tunnel_bytes + h->s[1].tunnel_bytes,
					      ts_ns, 0, "HTTP/1: the connection switched protocols; %" PRIu64
					      " bytes after the switch are not decoded", h->s[0].tunnel_bytes + h->s[1].tunnel_bytes);
		}
	}
	/* Neither side ever showed an HTTP/1 message: the connection was taken
	 * for HTTP/1 from a line that only looked like one. */
	if (!h->s[0].seen_http && !h->s[1].seen_http)
		h->c->proto = SC_PROTO_UNKNOWN;
	/* Requests still waiting: no response in the capture. */
	while (rc >= 0 && h->head) {
		struct ptx *t = h->head;

		if (!t->barrier) {
			t->b.tx.truncated = true;
			t->req_done = true;
		}
		rc = emit(h, t);
	}
	for (int side = 0; side < 2 && rc >= 0; side++)
		if (h->s[side].cur)
			rc = emit(h, h->s[side].cur);
	return rc;
}

/* ---- the h2c handover ---------------------------------------------------------------- */

int sc_h1conn_upgrade_info(struct sc_h1conn *h, struct sc_h2_upgrade *up)
{
	struct ptx *t = h->upgraded;
	const struct sc_hdr *settings;

	memset(up, 0, sizeof(*up));
	if (!t)
		return -EINVAL;
	up->method = t->b.tx.method;
	up->path = t->b.tx.path;
	up->authority = t->b.tx.authority;
	up->scheme.p = (const uint8_t *)"http";
	up->scheme.len = 4;
	up->hdrs = t->b.tx.req_hdrs.v;
	up->nhdrs = t->b.tx.req_hdrs.n;
	settings = sc_txb_find_hdr(&t->b.tx.req_hdrs, "http2-settings");
	if (settings)
		up->settings = settings->value;
	up->req_start_ns = t->b.tx.req_start_ns;
	up->req_end_ns = t->b.tx.req_end_ns;
	up->req_header_bytes = t->b.tx.req_header_bytes;
	up->req_body_bytes = t->b.tx.req_body_bytes;
	up->req_body.p = t->b.tx.req_body_bytes ? t->b.body[0] : NULL;
	up->req_body.len = (size_t)(t->b.tx.req_body_bytes < t->b.max_body ? t->b.tx.req_body_bytes : t->b.max_body);
	up->req_offset = t->b.tx.req_offset;
	up->interim_status = 101;
	return 0;
}

void sc_h1conn_rest(struct sc_h1conn *h, int side, const uint8_t **p, size_t *n, uint64_t *off, uint64_t *ts_ns)
{
	struct side *s = &h->s[side];

	*p = s->buf;
	*n = s->len;
	*off = s->buf_off;
	*ts_ns = s->buf_ts;
}
