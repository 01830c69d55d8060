/* h2frame.c - HTTP/2 framing (RFC 9113 §4): each direction's byte loop
 * (preface, frame header, payload), what each frame type does with its
 * payload, the search for a frame boundary after a gap, and the probe that
 * recognises HTTP/2 in the first bytes of a connection joined mid-stream.
 */
#include "analyze/h2conn_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/sc_rd.h"

static const uint8_t preface[24] = { 'P', 'R', 'I', ' ', '*', ' ', 'H', 'T', 'T', 'P', '/', '2',
				     '.', '0', '\r', '\n', '\r', '\n', 'S', 'M', '\r', '\n', '\r', '\n' };

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

const char *sc_h2_type_name(uint8_t t, char *buf, size_t n)
{
	if (t < FT_KNOWN)
		return type_names[t];
	snprintf(buf, n, "type 0x%02x", t);
	return buf;
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

/* ---- Resynchronisation ---------------------------------------------------------- */

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
		st = sc_h2_stream_get(h, f.sid);
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
		sc_h2_conn_error(h, side, d->fsid, d->foff,
				 "%s frame of %u bytes on stream %u has a Pad Length of %u (RFC 9113 §%s)", type_names[d->ftype],
				 d->flen, d->fsid, padlen, d->ftype == FT_DATA ? "6.1" : d->ftype == FT_HEADERS ? "6.2" : "6.6");
		return;
	}
	d->content_len = avail - padlen;
	if (d->ftype == FT_HEADERS && (d->fflags & F_PRIORITY)) {
		uint32_t dep = sc_rd_be32(&r) & 0x7fffffffu;

		(void)sc_rd_u8(&r);
		if (dep == d->fsid)
			sc_h2_stream_error(h, sc_h2_stream_get(h, d->fsid), side, d->foff,
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
		sc_h2_conn_error(h, side, f.sid, d->foff,
				 "%s frame on stream %u inside the header block of stream %u; only CONTINUATION may follow "
				 "(RFC 9113 §6.10)",
				 sc_h2_type_name(f.type, tb, sizeof(tb)), f.sid, d->blk.sid);
		return;
	}
	if (f.type == FT_CONTINUATION && !d->blk.active) {
		sc_h2_conn_error(h, side, f.sid, d->foff, "CONTINUATION without a preceding HEADERS (RFC 9113 §6.10)");
		return;
	}
	if (f.len > d->max_frame) {
		sc_h2_conn_error(h, side, f.sid, d->foff, "%s frame of %u bytes is over SETTINGS_MAX_FRAME_SIZE %u (RFC 9113 §4.2)",
				 sc_h2_type_name(f.type, tb, sizeof(tb)), f.len, d->max_frame);
		return;
	}
	if (d->check_first) {
		d->check_first = false;
		/* The preface's SETTINGS carries the sender's settings: an ACK
		 * acknowledges the peer's and cannot be it. */
		if (f.type == FT_SETTINGS && (f.flags & F_ACK))
			sc_h2_stream_error(h, NULL, side, d->foff, "the first frame from the %s is a SETTINGS "
					   "acknowledgement, not its own SETTINGS (RFC 9113 §3.4)", side_names[side]);
		else if (f.type != FT_SETTINGS)
			sc_h2_stream_error(h, NULL, side, d->foff, "the first frame from the %s is %s, not SETTINGS (RFC 9113 §3.4)",
					   side_names[side], sc_h2_type_name(f.type, tb, sizeof(tb)));
	}
	switch (f.type) {
	case FT_DATA:
		if (!f.sid) {
			sc_h2_conn_error(h, side, 0, d->foff, "DATA on stream 0 (RFC 9113 §6.1)");
			return;
		}
		d->pre_need = (f.flags & F_PADDED) ? 1 : 0;
		break;
	case FT_HEADERS:
		if (!f.sid) {
			sc_h2_conn_error(h, side, 0, d->foff, "HEADERS on stream 0 (RFC 9113 §6.2)");
			return;
		}
		d->pre_need = ((f.flags & F_PADDED) ? 1 : 0) + ((f.flags & F_PRIORITY) ? 5 : 0);
		block_begin(h, side);
		break;
	case FT_PRIORITY:
		if (!f.sid) {
			sc_h2_conn_error(h, side, 0, d->foff, "PRIORITY on stream 0 (RFC 9113 §6.3)");
			return;
		}
		if (f.len != 5) {
			/* A stream error (§6.3): the frame is skipped by its length. */
			sc_h2_stream_error(h, sc_h2_stream_get(h, f.sid), side, d->foff,
					   "PRIORITY frame of %u bytes, not 5 (RFC 9113 §6.3)", f.len);
			d->skip = true;
		}
		break;
	case FT_RST_STREAM:
		if (!f.sid) {
			sc_h2_conn_error(h, side, 0, d->foff, "RST_STREAM on stream 0 (RFC 9113 §6.4)");
			return;
		}
		if (f.len != 4) {
			sc_h2_conn_error(h, side, f.sid, d->foff, "RST_STREAM frame of %u bytes, not 4 (RFC 9113 §6.4)", f.len);
			return;
		}
		break;
	case FT_SETTINGS:
		if (f.sid) {
			sc_h2_conn_error(h, side, f.sid, d->foff, "SETTINGS on stream %u, not 0 (RFC 9113 §6.5)", f.sid);
			return;
		}
		if ((f.flags & F_ACK) && f.len) {
			sc_h2_conn_error(h, side, 0, d->foff, "SETTINGS ACK with a payload of %u bytes (RFC 9113 §6.5)", f.len);
			return;
		}
		if (f.len % 6) {
			sc_h2_conn_error(h, side, 0, d->foff, "SETTINGS frame of %u bytes, not a multiple of 6 (RFC 9113 §6.5)",
					 f.len);
			return;
		}
		break;
	case FT_PUSH_PROMISE:
		if (!f.sid) {
			sc_h2_conn_error(h, side, 0, d->foff, "PUSH_PROMISE on stream 0 (RFC 9113 §6.6)");
			return;
		}
		if (side == SC_FROM_CLIENT)
			sc_h2_stream_error(h, NULL, side, d->foff, "PUSH_PROMISE from the client (RFC 9113 §8.4)");
		d->pre_need = ((f.flags & F_PADDED) ? 1 : 0) + 4;
		block_begin(h, side);
		break;
	case FT_PING:
		if (f.sid) {
			sc_h2_conn_error(h, side, f.sid, d->foff, "PING on stream %u, not 0 (RFC 9113 §6.7)", f.sid);
			return;
		}
		if (f.len != 8) {
			sc_h2_conn_error(h, side, 0, d->foff, "PING frame of %u bytes, not 8 (RFC 9113 §6.7)", f.len);
			return;
		}
		break;
	case FT_GOAWAY:
		if (f.sid) {
			sc_h2_conn_error(h, side, f.sid, d->foff, "GOAWAY on stream %u, not 0 (RFC 9113 §6.8)", f.sid);
			return;
		}
		if (f.len < 8) {
			sc_h2_conn_error(h, side, 0, d->foff, "GOAWAY frame of %u bytes, shorter than 8 (RFC 9113 §6.8)", f.len);
			return;
		}
		break;
	case FT_WINDOW_UPDATE:
		if (f.len != 4) {
			sc_h2_conn_error(h, side, f.sid, d->foff, "WINDOW_UPDATE frame of %u bytes, not 4 (RFC 9113 §6.9)", f.len);
			return;
		}
		break;
	case FT_CONTINUATION:
		if (++d->blk.ncont > SC_H2_MAX_CONTINUATIONS) {
			sc_h2_conn_error(h, side, f.sid, d->foff, "header block of stream %u has more than %u CONTINUATION frames",
					 f.sid, SC_H2_MAX_CONTINUATIONS);
			return;
		}
		break;
	default:
		/* RFC 9113 §5.5: frames of unknown types are ignored. */
		d->skip = true;
		if (!h->unknown_type_reported) {
			h->unknown_type_reported = true;
			sc_h2_anomaly(h, SC_ANOM_UNKNOWN, side, d->foff, f.len, f.sid,
				      "HTTP/2 frame at offset %llu: skipped a frame of unknown type 0x%02x on stream %u (RFC 9113 "
				      "§5.5); later frames of unknown types are skipped without a report",
				(unsigned long long)d->foff, f.type, f.sid);
		}
		break;
	}
	if (h->fatal || d->st != ST_HEAD)
		return;
	if (f.len < d->pre_need) {
		sc_h2_conn_error(h, side, f.sid, d->foff, "%s frame of %u bytes is too short for its %s (RFC 9113 §%s)",
				 type_names[f.type], f.len,
				 f.type == FT_PUSH_PROMISE ? "Promised Stream ID" : "Pad Length and priority fields",
				 f.type == FT_DATA ? "6.1" : f.type == FT_HEADERS ? "6.2" : "6.6");
		return;
	}
	if (d->pre_need == 0)
		d->content_len = f.len;
	if (f.type == FT_DATA)
		sc_h2_data_begin(h, side);
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
		sc_h2_data_content(h, side, p, n);
		break;
	case FT_HEADERS:
	case FT_PUSH_PROMISE:
	case FT_CONTINUATION:
		total = sc_h2_block_append(h, side, p, n);
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
				sc_h2_setting_entry(h, side, &d->pcur, d->set6, d->foff);
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
			sc_h2_data_lost(h, side);
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
		if ((d->fflags & F_END_STREAM) && d->data_ok && (st = sc_h2_stream_get(h, d->fsid)) != NULL) {
			sc_h2_msg_frame(st, side, d->foff, d->fts, h->ts);
			sc_h2_end_side(h, st, side, d->foff);
		}
		break;
	case FT_HEADERS:
	case FT_PUSH_PROMISE:
	case FT_CONTINUATION:
		if (d->fflags & F_END_HEADERS)
			sc_h2_block_done(h, side);
		break;
	case FT_SETTINGS:
		sc_h2_settings_end(h, side);
		break;
	case FT_RST_STREAM:
		sc_h2_rst_end(h, side);
		break;
	case FT_GOAWAY:
		sc_h2_goaway_end(h, side);
		break;
	case FT_WINDOW_UPDATE:
	case FT_PRIORITY:
		sc_h2_ctl_end(h, side);
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
				sc_h2_anomaly(h, SC_ANOM_PARSE, side, d->pos - d->pm, 0, 0,
					      "HTTP/2 connection preface at offset %llu: byte %u is 0x%02x, not the client preface "
					      "\"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\" (RFC 9113 §3.4)",
					      (unsigned long long)(d->pos - d->pm), d->pm, p[i]);
				sc_h2_fail_dir(h, side);
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
		sc_h2_anomaly(h, SC_ANOM_UNKNOWN, side, d->resync_from, skipped, 0,
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

void sc_h2_feed(struct sc_h2conn *h, int side, const uint8_t *p, size_t n)
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
				sc_h2_set_fatal(h, -ENOMEM);
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
				sc_h2_set_fatal(h, -ENOMEM);
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
void sc_h2_gap_in(struct sc_h2conn *h, int side, uint64_t off, uint64_t n)
{
	struct h2dir *d = &h->d[side];

	if (side == SC_FROM_CLIENT && d->st == ST_PREFACE && d->pm == 0) {
		/* Before the client preface (an h2c upgrade whose HTTP/1 request
		 * was not captured): HTTP/2 has not begun, no HPACK state is
		 * lost, and the preface is still to come. */
		sc_h2_anomaly(h, SC_ANOM_GAP, side, off, n, 0,
			      "HTTP/2: %llu bytes of the client stream missing at offset %llu, before the connection preface",
			      (unsigned long long)n, (unsigned long long)off);
		d->pos = off + n;
		return;
	}
	d->at_start = false;
	d->check_first = false;
	if (d->st == ST_FAILED) {
		sc_h2_anomaly(h, SC_ANOM_GAP, side, off, n, 0,
			      "HTTP/2: %llu bytes of the %s stream missing at offset %llu (decoding of the direction had "
			      "already stopped)",
			(unsigned long long)n, side_names[side], (unsigned long long)off);
		d->pos = off + n;
		return;
	}
	if (d->st == ST_PAY && n <= d->flen - d->fdone) {
		char tb[16];

		sc_h2_anomaly(h, SC_ANOM_GAP, side, off, n, d->fsid,
			      "HTTP/2: %llu bytes of the %s stream missing at offset %llu, inside the payload of a %s frame of "
			      "stream %u; framing kept",
			      (unsigned long long)n, side_names[side], (unsigned long long)off,
			      sc_h2_type_name(d->ftype, tb, sizeof(tb)), d->fsid);
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
			sc_h2_anomaly(h, SC_ANOM_UNKNOWN, side, d->resync_from, unframed, 0,
				      "HTTP/2: %llu bytes of the %s stream from offset %llu could not be framed",
				      (unsigned long long)unframed, side_names[side], (unsigned long long)d->resync_from);
		sc_h2_anomaly(h, SC_ANOM_GAP, side, off, n, 0,
			      "HTTP/2: %llu bytes of the %s stream missing at offset %llu, while looking for a frame boundary",
			      (unsigned long long)n, side_names[side], (unsigned long long)off);
		d->rlen = 0;
		d->nmark = 0;
		d->pos = d->rb_off = d->resync_from = off + n;
		return;
	}
	sc_h2_anomaly(h, SC_ANOM_GAP, side, off, n, 0,
		      "HTTP/2: %llu bytes of the %s stream missing at offset %llu; looking for the next frame boundary, the "
		      "HPACK state of the %s's header blocks is unknown from here",
		      (unsigned long long)n, side_names[side], (unsigned long long)off, side_names[side]);
	d->pos = off + n;
	sc_h2_enter_resync(h, side);
	d->rlen = 0;
	d->nmark = 0;
	d->rb_off = d->resync_from = d->pos;
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
