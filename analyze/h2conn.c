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
#include "analyze/h2conn_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/sc_rd.h"

/* SETTINGS identifiers (RFC 9113 §6.5.2). */
#define S_HEADER_TABLE_SIZE 0x1
#define S_ENABLE_PUSH 0x2
#define S_INITIAL_WINDOW_SIZE 0x4
#define S_MAX_FRAME_SIZE 0x5
#define S_NO_RFC7540_PRIORITIES 0x9

/* ---- Connection --------------------------------------------------------------- */

int sc_h2_anomaly(struct sc_h2conn *h, enum sc_anomaly_kind kind, int side, uint64_t off, uint64_t len, uint32_t sid,
		  const char *fmt, ...)
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

void sc_h2_set_fatal(struct sc_h2conn *h, int rc)
{
	if (rc < 0 && !h->fatal)
		h->fatal = rc;
}

/* ---- Connection errors, resynchronisation ------------------------------------------- */

static void lose_block(struct sc_h2conn *h, int side)
{
	struct hblock *bk = &h->d[side].blk;
	struct h2s *st = bk->active ? sc_h2_stream_get(h, bk->kind == FT_PUSH_PROMISE ? 0 : bk->sid) : NULL;

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
void sc_h2_fail_dir(struct sc_h2conn *h, int side)
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
void sc_h2_enter_resync(struct sc_h2conn *h, int side)
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
void sc_h2_conn_error(struct sc_h2conn *h, int side, uint32_t sid, uint64_t off, const char *fmt, ...)
{
	struct h2dir *d = &h->d[side];
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->resynced && d->frames_since_resync <= RESYNC_TRUST) {
		sc_h2_anomaly(h, SC_ANOM_UNKNOWN, side, off, 0, sid,
			      "HTTP/2 frame at offset %llu: %s; %u frames after a resynchronisation, so taken as a false "
			      "frame boundary: resynchronising again",
			      (unsigned long long)off, msg, d->frames_since_resync);
		sc_h2_enter_resync(h, side);
		return;
	}
	sc_h2_anomaly(h, SC_ANOM_PARSE, side, off, 0, sid, "HTTP/2 frame at offset %llu: %s", (unsigned long long)off, msg);
	sc_h2_fail_dir(h, side);
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
void sc_h2_setting_entry(struct sc_h2conn *h, int side, struct pset *ps, const uint8_t *p, uint64_t off)
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
			sc_h2_stream_error(h, NULL, side, off, "SETTINGS_ENABLE_PUSH of %u from the %s (RFC 9113 §6.5.2)", v,
					   side_names[side]);
		else if (side == SC_FROM_SERVER && v == 1)
			sc_h2_stream_error(h, NULL, side, off, "SETTINGS_ENABLE_PUSH of 1 from the server (RFC 9113 §6.5.2)");
		else if (side == SC_FROM_CLIENT) {
			ps->has_push = true;
			ps->push = v;
		}
		break;
	case S_INITIAL_WINDOW_SIZE:
		if (v > 0x7fffffffu)
			sc_h2_stream_error(h, NULL, side, off,
					   "SETTINGS_INITIAL_WINDOW_SIZE of %u is over 2^31-1 (RFC 9113 §6.5.2: FLOW_CONTROL_ERROR)",
					   v);
		break;
	case S_MAX_FRAME_SIZE:
		if (v < SC_H2_DEFAULT_MAX_FRAME || v > SC_H2_MAX_FRAME_LEN) {
			sc_h2_stream_error(h, NULL, side, off,
					   "SETTINGS_MAX_FRAME_SIZE of %u is outside 16384..16777215 (RFC 9113 §6.5.2)", v);
		} else {
			ps->has_mfs = true;
			ps->mfs = v;
		}
		break;
	case S_NO_RFC7540_PRIORITIES:
		if (v > 1)
			sc_h2_stream_error(h, NULL, side, off, "SETTINGS_NO_RFC7540_PRIORITIES of %u (RFC 9218 §2.1)", v);
		break;
	default:
		break; /* RFC 9113 §6.5.2: unknown settings are ignored */
	}
}

void sc_h2_settings_end(struct sc_h2conn *h, int side)
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
		sc_h2_anomaly(h, SC_ANOM_PARSE, SC_FROM_CLIENT, up->req_offset, 0, 1,
			      "HTTP/2 upgrade at offset %llu: HTTP2-Settings is not a base64url SETTINGS payload (RFC 7540 "
			      "§3.2.1)",
			(unsigned long long)up->req_offset);
		return;
	}
	for (long i = 0; i < n; i += 6)
		sc_h2_setting_entry(h, SC_FROM_CLIENT, &ps, buf + i, up->req_offset);
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
	st = sc_h2_stream_new(h, SC_FROM_CLIENT, 1);
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
		sc_h2_set_fatal(h, sc_txb_body(b, SC_TXB_REQ, up->req_body.p, up->req_body.len));
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
	/* The 101 answered this request before HTTP/2 did (RFC 7540 §3.2). */
	t->interim_status = up->interim_status;
	if (!up->method.p)
		t->truncated = true; /* the request is not in the capture */
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
		sc_h2_stream_free(val);
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

		sc_h2_gap_in(h, side, d->in_off, missing);
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
		sc_h2_feed(h, side, p + dup, (size_t)(n - dup));
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
		sc_h2_gap_in(h, side, off + dup, n - dup);
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
				sc_h2_anomaly(h, SC_ANOM_TRUNCATED, s, d->pos - d->pm, d->pm, 0,
					      "HTTP/2 connection preface at offset %llu cut after %u of 24 bytes: %s",
					      (unsigned long long)(d->pos - d->pm), d->pm, why);
			break;
		case ST_HEAD:
			if (d->hn)
				sc_h2_anomaly(h, SC_ANOM_TRUNCATED, s, d->pos - d->hn, d->hn, 0,
					      "HTTP/2 frame header at offset %llu cut after %u of 9 bytes: %s",
					      (unsigned long long)(d->pos - d->hn), d->hn, why);
			break;
		case ST_PAY:
			sc_h2_anomaly(h, SC_ANOM_TRUNCATED, s, d->foff, FRAME_HDR + (uint64_t)d->fdone, d->fsid,
				      "HTTP/2 frame at offset %llu: %s frame of stream %u cut after %u of %u payload bytes: %s",
				      (unsigned long long)d->foff, sc_h2_type_name(d->ftype, tb, sizeof(tb)), d->fsid, d->fdone, d->flen,
				      why);
			if (d->ftype == FT_DATA)
				sc_h2_data_lost(h, s);
			break;
		case ST_RESYNC:
			if (d->rb_off + d->rlen > d->resync_from)
				sc_h2_anomaly(h, SC_ANOM_UNKNOWN, s, d->resync_from, d->rb_off + d->rlen - d->resync_from, 0,
					      "HTTP/2: %llu bytes of the %s stream from offset %llu could not be framed",
					      (unsigned long long)(d->rb_off + d->rlen - d->resync_from), side_names[s],
					      (unsigned long long)d->resync_from);
			break;
		case ST_FAILED:
			break;
		}
		lose_block(h, s);
	}
	ids = sc_h2_streams_above(h, 0, 0, true, &n);
	for (size_t i = 0; i < n && !h->fatal; i++) {
		struct h2s *st = sc_h2_stream_get(h, ids[i]);
		int side = !st->ended[0] && !st->ended[1] ? -1 : !st->ended[0] ? 0 : 1;

		st->b->tx.truncated = true;
		sc_h2_anomaly(h, SC_ANOM_TRUNCATED, side, h->d[side < 0 ? 0 : side].pos, 0, st->id,
			      "HTTP/2 stream %u truncated: no END_STREAM from the %s before %s", st->id,
			      side < 0 ? "client or the server" : side_names[side], why);
		sc_h2_stream_emit(h, st, false);
	}
	free(ids);
	return h->fatal;
}
