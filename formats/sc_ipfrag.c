/* sc_ipfrag.c - bounded IP fragment reassembly (see sc_ipfrag.h).
 *
 * Pending datagrams sit in one list in the order their first fragment
 * arrived, so the oldest is at the head: the timeout and the memory bounds
 * both give up from the head.  A datagram holds its payload in one buffer
 * (grown by doubling up to the 65535-byte limit) and the byte ranges received
 * so far, sorted, disjoint and merged, which is RFC 815's hole list seen from
 * the other side.  Lookups walk the list: it holds at most
 * SC_IPFRAG_MAX_DATAGRAMS entries, and in real captures a handful.
 *
 * Capture tools that mirror a port often record every frame twice.  The
 * second copy of a datagram's last fragment arrives after the datagram was
 * reassembled and would start a new datagram that can never complete (and be
 * reported as lost), so the signatures (offset, length, hash) of the fragments
 * of the last SC_DONE_RING reassembled datagrams are remembered: a fragment
 * equal to one of them, within the timeout, is a late duplicate.
 */
#include "sc_ipfrag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sc_grow.h"
#include "sc_types.h"
#include "sc_u64map.h"

#define IPPROTO_NUM_TCP 6
#define IPV4_MAX_PAYLOAD (65535u - 20u) /* total length is 16 bits, header included */
#define IPV6_MAX_PAYLOAD 65535u         /* payload length is 16 bits */
#define BUF_MIN 2048u

#define SC_DONE_RING 16
#define SC_DONE_SIGS 64 /* fragment signatures kept per reassembled datagram */

struct range {
	uint32_t start, end;
};

struct sig {
	uint32_t offset, len;
	uint64_t hash;
};

struct key {
	uint8_t family, proto;
	uint8_t src[16], dst[16];
	uint32_t id;
};

struct dgram {
	struct dgram *prev, *next;
	struct key k;
	uint64_t first_ns;
	uint8_t *buf;
	size_t cap;
	struct range *r;
	size_t nr, rcap;
	struct sig sigs[SC_DONE_SIGS];
	size_t nsigs;
	uint32_t total; /* payload length, once the last fragment was seen */
	bool have_last;
	uint64_t pieces;
};

struct done {
	bool used;
	struct key k;
	uint64_t ts_ns;
	struct sig sigs[SC_DONE_SIGS];
	size_t nsigs;
};

struct sc_ipfrag {
	struct dgram *head, *tail;
	size_t n;
	size_t held;        /* sum of the buffers' capacities */
	uint64_t pending;   /* fragments held */
	uint8_t *out;       /* the last reassembled datagram */
	size_t out_cap;
	struct done done[SC_DONE_RING];
	unsigned done_next;
	struct sc_ipfrag_stats st;
};

enum give_up { GU_CONFLICT, GU_TOO_BIG, GU_TIMEOUT, GU_BUDGET, GU_INCOMPLETE };

struct sc_ipfrag *sc_ipfrag_new(void)
{
	return calloc(1, sizeof(struct sc_ipfrag));
}

static bool key_eq(const struct key *a, const struct key *b)
{
	return a->family == b->family && a->proto == b->proto && a->id == b->id &&
	       memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

static uint64_t timeout_of(uint8_t family)
{
	return family == SC_AF_INET6 ? SC_IPFRAG_TIMEOUT_V6_NS : SC_IPFRAG_TIMEOUT_V4_NS;
}

static void unlink_free(struct sc_ipfrag *f, struct dgram *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		f->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		f->tail = d->prev;
	f->n--;
	f->held -= d->cap;
	f->pending -= d->pieces;
	free(d->buf);
	free(d->r);
	free(d);
}

static void give_up(struct sc_ipfrag *f, struct dgram *d, enum give_up why)
{
	f->st.dropped += d->pieces;
	if (d->k.proto == IPPROTO_NUM_TCP)
		f->st.dropped_tcp += d->pieces;
	switch (why) {
	case GU_CONFLICT: f->st.gave_up_conflict++; break;
	case GU_TOO_BIG: f->st.gave_up_too_big++; break;
	case GU_TIMEOUT: f->st.gave_up_timeout++; break;
	case GU_BUDGET: f->st.gave_up_budget++; break;
	case GU_INCOMPLETE: f->st.gave_up_incomplete++; break;
	}
	unlink_free(f, d);
}

/* A fragment that belongs to no datagram we can keep: counted alone. */
static void drop_piece(struct sc_ipfrag *f, const struct key *k)
{
	f->st.dropped++;
	if (k->proto == IPPROTO_NUM_TCP)
		f->st.dropped_tcp++;
}

static uint64_t piece_hash(const struct sc_ipfrag_piece *pc)
{
	return sc_hash_bytes(pc->data, pc->len, pc->offset);
}

static bool late_duplicate(struct sc_ipfrag *f, const struct key *k, const struct sc_ipfrag_piece *pc, uint64_t ts)
{
	uint64_t h = 0;
	bool hashed = false;

	for (unsigned i = 0; i < SC_DONE_RING; i++) {
		const struct done *d = &f->done[i];

		if (!d->used || !key_eq(&d->k, k) || ts < d->ts_ns || ts - d->ts_ns > timeout_of(k->family))
			continue;
		for (size_t j = 0; j < d->nsigs; j++) {
			if (d->sigs[j].offset != pc->offset || d->sigs[j].len != pc->len)
				continue;
			if (!hashed) {
				h = piece_hash(pc);
				hashed = true;
			}
			if (d->sigs[j].hash == h)
				return true;
		}
	}
	return false;
}

/* Make room for `more` bytes of buffer by giving up the oldest datagrams
 * other than `keep`. */
static void make_room(struct sc_ipfrag *f, size_t more, const struct dgram *keep)
{
	struct dgram *d = f->head;

	while (d && f->held + more > SC_IPFRAG_MAX_BYTES) {
		struct dgram *next = d->next;

		if (d != keep)
			give_up(f, d, GU_BUDGET);
		d = next;
	}
}

static int grow_buf(struct sc_ipfrag *f, struct dgram *d, size_t need, size_t max)
{
	size_t ncap = d->cap ? d->cap : BUF_MIN;
	uint8_t *nb;

	if (need <= d->cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	make_room(f, ncap - d->cap, d);
	nb = realloc(d->buf, ncap);
	if (!nb)
		return -ENOMEM;
	f->held += ncap - d->cap;
	d->buf = nb;
	d->cap = ncap;
	return 0;
}

/* Insert [s, e) into the sorted, disjoint, merged range list. */
static int add_range(struct dgram *d, uint32_t s, uint32_t e)
{
	size_t i = 0, j;

	while (i < d->nr && d->r[i].end < s)
		i++;
	j = i;
	while (j < d->nr && d->r[j].start <= e) {
		if (d->r[j].start < s)
			s = d->r[j].start;
		if (d->r[j].end > e)
			e = d->r[j].end;
		j++;
	}
	if (j == i) { /* no range touched: insert at i */
		if (d->nr == d->rcap) {
			struct range *t = sc_grow(d->r, &d->rcap, sizeof(*t), 8);

			if (!t)
				return -ENOMEM;
			d->r = t;
		}
		memmove(d->r + i + 1, d->r + i, (d->nr - i) * sizeof(*d->r));
		d->nr++;
	} else if (j > i + 1) { /* ranges i..j-1 merge into i */
		memmove(d->r + i + 1, d->r + j, (d->nr - j) * sizeof(*d->r));
		d->nr -= j - i - 1;
	}
	d->r[i].start = s;
	d->r[i].end = e;
	return 0;
}

/* Whether the bytes of [s, e) already held equal the piece's; sets *overlap
 * when any byte was held. */
static bool held_bytes_agree(const struct dgram *d, uint32_t s, uint32_t e, const uint8_t *data, bool *overlap)
{
	for (size_t i = 0; i < d->nr && d->r[i].start < e; i++) {
		uint32_t a = d->r[i].start > s ? d->r[i].start : s;
		uint32_t b = d->r[i].end < e ? d->r[i].end : e;

		if (a >= b)
			continue;
		*overlap = true;
		if (memcmp(d->buf + a, data + (a - s), b - a) != 0)
			return false;
	}
	return true;
}

static int emit(struct sc_ipfrag *f, struct dgram *d, const uint8_t **dgram, size_t *len)
{
	size_t hlen = d->k.family == SC_AF_INET ? 20 : 40, n = hlen + d->total;
	uint8_t *o;

	if (n > f->out_cap) {
		o = realloc(f->out, n);
		if (!o)
			return -ENOMEM;
		f->out = o;
		f->out_cap = n;
	}
	o = f->out;
	memset(o, 0, hlen);
	if (d->k.family == SC_AF_INET) {
		/* Version 4, IHL 5; total length; identification; no flags, offset 0. */
		o[0] = 0x45;
		o[2] = (uint8_t)(n >> 8);
		o[3] = (uint8_t)n;
		o[4] = (uint8_t)(d->k.id >> 8);
		o[5] = (uint8_t)d->k.id;
		o[8] = 64;
		o[9] = d->k.proto;
		memcpy(o + 12, d->k.src, 4);
		memcpy(o + 16, d->k.dst, 4);
	} else {
		/* Version 6; payload length; next header: the fragment header's. */
		o[0] = 0x60;
		o[4] = (uint8_t)(d->total >> 8);
		o[5] = (uint8_t)d->total;
		o[6] = d->k.proto;
		o[7] = 64;
		memcpy(o + 8, d->k.src, 16);
		memcpy(o + 24, d->k.dst, 16);
	}
	memcpy(o + hlen, d->buf, d->total);
	*dgram = o;
	*len = n;
	return 0;
}

static void remember(struct sc_ipfrag *f, const struct dgram *d, uint64_t ts)
{
	struct done *r = &f->done[f->done_next];

	f->done_next = (f->done_next + 1) % SC_DONE_RING;
	r->used = true;
	r->k = d->k;
	r->ts_ns = ts;
	r->nsigs = d->nsigs;
	memcpy(r->sigs, d->sigs, d->nsigs * sizeof(d->sigs[0]));
}

int sc_ipfrag_add(struct sc_ipfrag *f, const struct sc_ipfrag_piece *pc, uint64_t ts_ns, const uint8_t **dgram,
		  size_t *len)
{
	struct key k;
	struct dgram *d;
	size_t max = pc->family == SC_AF_INET ? IPV4_MAX_PAYLOAD : IPV6_MAX_PAYLOAD;
	uint32_t s, e;
	bool overlap = false;
	int rc;

	memset(&k, 0, sizeof(k));
	k.family = pc->family;
	k.proto = pc->proto;
	memcpy(k.src, pc->src, 16);
	memcpy(k.dst, pc->dst, 16);
	k.id = pc->id;
	f->st.fragments++;

	/* Give up what the timeout has passed (capture time only moves on). */
	while (f->head && ts_ns > f->head->first_ns && ts_ns - f->head->first_ns > timeout_of(f->head->k.family))
		give_up(f, f->head, GU_TIMEOUT);

	for (d = f->head; d && !key_eq(&d->k, &k); d = d->next)
		;
	if (pc->len > max || pc->offset > max - pc->len) {
		/* Past 65535 bytes (RFC 791 §3.1, RFC 8200 §4.5): not a datagram
		 * any host reassembles. */
		f->st.dropped++;
		if (k.proto == IPPROTO_NUM_TCP)
			f->st.dropped_tcp++;
		if (d)
			give_up(f, d, GU_TOO_BIG);
		else
			f->st.gave_up_too_big++;
		return 0;
	}
	s = pc->offset;
	e = (uint32_t)(pc->offset + pc->len);
	if (!d && late_duplicate(f, &k, pc, ts_ns)) {
		f->st.late_duplicates++;
		f->st.used++;
		return 0;
	}
	if (!d) {
		if (f->n == SC_IPFRAG_MAX_DATAGRAMS)
			give_up(f, f->head, GU_BUDGET);
		d = calloc(1, sizeof(*d));
		if (!d) {
			drop_piece(f, &k);
			return -ENOMEM;
		}
		d->k = k;
		d->first_ns = ts_ns;
		d->prev = f->tail;
		if (f->tail)
			f->tail->next = d;
		else
			f->head = d;
		f->tail = d;
		f->n++;
	}
	d->pieces++;
	f->pending++;

	/* Every fragment but the last carries a multiple of 8 bytes, and nothing
	 * lies past the last (RFC 791 §3.2, RFC 8200 §4.5). */
	if (pc->len == 0 || (pc->more && (pc->len % 8) != 0) || (d->have_last && e > d->total) ||
	    (!pc->more && ((d->have_last && e != d->total) || (d->nr && d->r[d->nr - 1].end > e))) ||
	    !held_bytes_agree(d, s, e, pc->data, &overlap)) {
		give_up(f, d, GU_CONFLICT);
		return 0;
	}
	if (overlap)
		f->st.overlaps++;
	rc = grow_buf(f, d, e, max);
	if (rc == 0)
		rc = add_range(d, s, e);
	if (rc < 0) {
		give_up(f, d, GU_BUDGET);
		return rc;
	}
	memcpy(d->buf + s, pc->data, pc->len);
	if (d->nsigs < SC_DONE_SIGS) {
		d->sigs[d->nsigs].offset = pc->offset;
		d->sigs[d->nsigs].len = (uint32_t)pc->len;
		d->sigs[d->nsigs].hash = piece_hash(pc);
		d->nsigs++;
	}
	if (!pc->more) {
		d->have_last = true;
		d->total = e;
	}
	if (!d->have_last || d->nr != 1 || d->r[0].start != 0 || d->r[0].end != d->total)
		return 0;

	rc = emit(f, d, dgram, len);
	if (rc < 0) {
		give_up(f, d, GU_BUDGET);
		return rc;
	}
	f->st.datagrams++;
	f->st.used += d->pieces;
	remember(f, d, ts_ns);
	unlink_free(f, d);
	return 1;
}

void sc_ipfrag_finish(struct sc_ipfrag *f)
{
	while (f->head)
		give_up(f, f->head, GU_INCOMPLETE);
}

uint64_t sc_ipfrag_pending(const struct sc_ipfrag *f)
{
	return f->pending;
}

const struct sc_ipfrag_stats *sc_ipfrag_stats(const struct sc_ipfrag *f)
{
	return &f->st;
}

void sc_ipfrag_free(struct sc_ipfrag *f)
{
	if (!f)
		return;
	while (f->head)
		unlink_free(f, f->head);
	free(f->out);
	free(f);
}
