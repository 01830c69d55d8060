/* h2hdrs.c - HTTP/2 header blocks (RFC 9113 §4.3, §6.2, §6.6, §6.10): the
 * fragments of HEADERS / PUSH_PROMISE and CONTINUATION collected, decoded
 * with the direction's HPACK decoder (analyze/hpack.h), and turned into the
 * header rows and pseudo-header fields of a message (§8.1-§8.3).
 */
#include "analyze/h2conn_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/sc_grow.h"

/* HPACK table bounds assumed when a side's SETTINGS_HEADER_TABLE_SIZE is not
 * known (mid-stream join): the default first (most encoders never use more,
 * and a small bound lets the decoder prove its state known again soonest),
 * then larger ones after an HPACK error shows the bound was too small (a
 * bound too small yields errors, never wrong fields: analyze/hpack.h). */
static const uint32_t unsure_table_bounds[3] = { SC_HPACK_DEFAULT_TABLE_SIZE, 65536u, UINT32_MAX };

/* ---- Small helpers ------------------------------------------------------------- */

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
void sc_h2_msg_frame(struct h2s *st, int side, uint64_t off, uint64_t ts_first, uint64_t ts_last)
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
					t->status = sc_h2_status_digits(f->value, 3);
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
			t->grpc_status = sc_h2_status_digits(f->value, 9);
		} else if (side == SC_FROM_SERVER && view_eq(f->name, "grpc-message")) {
			sc_h2_grpc_message_set(st, f->value);
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
		sc_h2_stream_error(h, st, wire_side, off, "stream %u: malformed %s: %s", st->id,
				   role == ROLE_REQ ? "request" : role == ROLE_RESP ? "response" : "trailers", problem);
	if (t->grpc && (grpc_now || role != ROLE_TRAILERS)) {
		/* A direction's messages are parsed from its first DATA byte on,
		 * once its own head has been seen. */
		for (int s = 0; s < 2; s++)
			if (st->phase[s] >= 1 || s == side)
				sc_h2_grpc_start(st, s, st->g[s].web);
	}
}

/* An interim (1xx) response: its status is kept, its fields are not listed
 * (the rows of a response are those of its final head and trailers). */
static bool interim_status(const struct sc_h2conn *h, int *status)
{
	for (size_t i = 0; i < h->nf; i++) {
		const struct sc_hpack_field *f = &h->f[i];

		if (is_pseudo(f) && view_eq(f->name, ":status") && known_value(f)) {
			int s = sc_h2_status_digits(f->value, 3);

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
		sc_h2_state_error(h, st, side, bk->off,
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
		sc_h2_state_error(h, st, side, bk->off, "stream %u: a header block from the %s after its trailers (RFC 9113 §8.1)",
				  st->id, side_names[side]);
		return;
	}
	if (st->phase[side] == 1 && !end_stream) {
		sc_h2_state_error(h, st, side, bk->off, "stream %u: trailers from the %s without END_STREAM (RFC 9113 §8.1)",
				  st->id, side_names[side]);
		if (!framing(h, side))
			return;
	}
	sc_h2_msg_frame(st, side, bk->off, bk->ts, h->ts);
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
			sc_h2_stream_error(h, st, side, bk->off,
					   "stream %u: 101 response; HTTP/2 has no Switching Protocols (RFC 9113 §8.6)", st->id);
		else if (end_stream)
			sc_h2_stream_error(h, st, side, bk->off, "stream %u: %d response with END_STREAM (RFC 9113 §8.1)", st->id,
					   status);
	} else {
		role = side == SC_FROM_CLIENT ? ROLE_REQ : ROLE_RESP;
		st->phase[side] = 1;
		if (decoded)
			apply_fields(h, st, side, role, side, bk->off, !incomplete);
	}
	if (end_stream)
		sc_h2_end_side(h, st, side, bk->off);
}

/* ---- Header blocks ------------------------------------------------------------------ */

/* Returns the bytes consumed: all of them, or up to and including the one
 * that takes the block over the cap (where the error is, whatever the
 * split). */
size_t sc_h2_block_append(struct sc_h2conn *h, int side, const uint8_t *p, size_t n)
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
			sc_h2_set_fatal(h, -ENOMEM);
			return all;
		}
		bk->buf = nb;
		bk->cap = ncap;
	}
	if (n)
		memcpy(bk->buf + bk->len, p, n);
	bk->len += n;
	if (over) {
		sc_h2_conn_error(h, side, bk->sid, d->foff,
				 "header block of stream %u is over the cap of %u bytes (RFC 9113 §10.5.1)", bk->sid,
				 SC_H2_MAX_HEADER_BLOCK);
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
	struct h2s *st = sc_h2_stream_get(h, sid);
	bool is_head = false;

	for (size_t i = 0; i < h->nf && decoded; i++)
		if (is_pseudo(&h->f[i]))
			is_head = true;
	if (!st) {
		int cs = sc_h2_closed_state(h, sid);
		bool idle = sid > h->max_id[!(sid & 1)];

		if (cs) {
			/* Trailers or a response racing a RST_STREAM are normal
			 * (RFC 9113 §5.4.2, §6.4); after a normal close they are not. */
			if (cs == 1)
				sc_h2_state_error(h, NULL, side, bk->off, "HEADERS on closed stream %u (RFC 9113 §5.1)", sid);
			return;
		}
		if (side == SC_FROM_CLIENT && opener == SC_FROM_SERVER) {
			sc_h2_state_error(h, NULL, side, bk->off,
					  "HEADERS from the client on stream %u, a server-initiated stream (RFC 9113 §5.1.1)", sid);
			return;
		}
		if (!h->lossy && !idle) {
			sc_h2_state_error(h, NULL, side, bk->off, "HEADERS on closed stream %u (RFC 9113 §5.1)", sid);
			return;
		}
		if (!h->lossy && side != opener) {
			sc_h2_state_error(h, NULL, side, bk->off,
					  "HEADERS from the server on idle stream %u; a server opens streams with PUSH_PROMISE "
					  "(RFC 9113 §5.1, §8.4)",
					  sid);
			return;
		}
		st = sc_h2_stream_new(h, side, sid);
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
	st = framing(h, side) ? sc_h2_stream_get(h, sid) : NULL;
	if (st && st->not_processed)
		sc_h2_not_processed(h, st, !opener);
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
	if (!sc_h2_stream_get(h, bk->sid) && !h->lossy && !sc_h2_closed_state(h, bk->sid)) {
		sc_h2_state_error(h, NULL, side, bk->off, "PUSH_PROMISE on stream %u, which is not open (RFC 9113 §6.6)", bk->sid);
		if (!framing(h, side))
			return;
	}
	if (p == 0 || (p & 1)) {
		sc_h2_state_error(h, NULL, side, bk->off,
				  "PUSH_PROMISE promises stream %u, not a server-initiated stream (RFC 9113 §6.6)", p);
		return;
	}
	if (sc_h2_stream_get(h, p) || sc_h2_closed_state(h, p) || (!h->lossy && p <= h->max_id[1])) {
		sc_h2_state_error(h, NULL, side, bk->off, "PUSH_PROMISE promises stream %u, which is not idle (RFC 9113 §6.6)", p);
		return;
	}
	if (!h->push_ok)
		sc_h2_stream_error(h, NULL, side, bk->off,
				   "PUSH_PROMISE for stream %u although the client disabled push (RFC 9113 §6.6)", p);
	st = sc_h2_stream_new(h, side, p);
	if (!st)
		return;
	t = &st->b->tx;
	t->promised_by = bk->sid;
	sc_h2_msg_frame(st, SC_FROM_CLIENT, bk->off, bk->ts, h->ts);
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
		sc_h2_not_processed(h, st, SC_FROM_CLIENT);
}

/* The block's last fragment has arrived: decode it with the direction's
 * HPACK decoder (always, even for a stream we ignore: the dynamic table must
 * follow every block), then hand the fields on. */
void sc_h2_block_done(struct sc_h2conn *h, int side)
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
			sc_h2_set_fatal(h, rc);
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
		sc_h2_anomaly(h, SC_ANOM_UNKNOWN, side, bk->off, bk->len, bk->sid,
			      "HTTP/2 frame at offset %llu: header block of stream %u: %s", (unsigned long long)bk->off, bk->sid,
			      diag.msg);
	if (failed && !h->fatal) {
		if (h->d[!side].settings_sure) {
			sc_h2_conn_error(h, side, bk->sid, bk->off, "header block of stream %u: %s (RFC 9113 §4.3: COMPRESSION_ERROR)",
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
			sc_h2_anomaly(h, SC_ANOM_UNKNOWN, side, bk->off, bk->len, bk->sid,
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
