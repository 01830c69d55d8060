/* tcp_reasm.c - TCP stream reassembly (the rules are in tcp_reasm.h).
 *
 * State per side of a connection:
 *
 *   offset 0                 next                                   high
 *   |== delivered (data or gap) ==|  hole  |chunk|  hole  |chunk chunk|
 *
 * `next` is the first offset not yet reported; every buffered chunk lies at
 * or after it (an invariant: bytes below `next` are trimmed before a piece is
 * buffered, and `next` only moves over a hole by reporting it as a gap).
 * Chunks are sorted by offset and never overlap, so the first copy of a byte
 * is the one kept.  A chunk is either copied payload or a range known to be
 * missing (the tail of a segment cut by the snaplen).
 *
 * Stream offsets are 64-bit; sequence numbers are mapped to them relative to
 * `next` with 32-bit serial arithmetic (RFC 1982), which is unambiguous for
 * distances below 2^31, and SC_TCP_REASM_MAX_JUMP keeps accepted distances
 * well below that.
 */
#include "tcp_reasm.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/sc_u64map.h"

struct chunk {
	struct chunk *prev, *next;
	uint64_t off;
	uint64_t ts_ns; /* capture time of the segment that carried it */
	uint32_t len;
	bool missing;   /* no bytes stored: cut by the snaplen */
	uint8_t data[];
};

/* What one buffered piece costs beyond its payload, charged against
 * max_ooo_bytes so that many tiny pieces cannot hide behind a byte cap. */
#define CHUNK_OVERHEAD ((uint64_t)sizeof(struct chunk))

struct side {
	struct chunk *head, *tail; /* buffered pieces, by offset */
	uint64_t next;             /* first offset not yet reported */
	uint64_t high;             /* one past the highest offset seen (at most fin_off) */
	uint64_t fin_off;          /* offset of the FIN, if fin_seen */
	uint32_t base;             /* sequence number of offset 0, if have_base */
	uint32_t peer_ack;         /* the peer's latest ACK of this side's bytes, if ack_seen */
	bool have_base, fin_seen, ack_seen;
};

struct conn {
	struct conn *hnext;         /* next with the same hash key */
	struct conn *lprev, *lnext; /* open: activity list; closed: closed list */
	struct conn *oprev, *onext; /* open: id order */
	uint64_t key;
	uint64_t closed_ns;
	uint64_t ooo_bytes;  /* charged for both sides' chunks */
	uint32_t ooo_chunks;
	bool closed;
	void *user;
	struct sc_tcp_conn_info ci;
	struct side side[2];
};

/* An intrusive doubly-linked list of connections through one pair of links. */
struct clist {
	struct conn *head, *tail;
	uint64_t n;
	bool ord; /* through oprev/onext rather than lprev/lnext */
};

struct sc_tcp_reasm {
	struct sc_tcp_reasm_cb cb;
	uint64_t max_ooo_bytes, max_conns;
	uint32_t max_ooo_chunks;
	struct sc_u64map map; /* tuple key -> first conn of its chain (open or closed) */
	struct clist lru;     /* open, least recently active first */
	struct clist ord;     /* open, by id */
	struct clist dead;    /* closed tuples, oldest first */
	uint64_t next_id;
	int err; /* sticky: a callback's failure or -ENOMEM */
	struct sc_tcp_reasm_stats st;
};

/* ---- Lists and lookup ---------------------------------------------------- */

static struct conn **link_prev(const struct clist *l, struct conn *c)
{
	return l->ord ? &c->oprev : &c->lprev;
}

static struct conn **link_next(const struct clist *l, struct conn *c)
{
	return l->ord ? &c->onext : &c->lnext;
}

static void clist_append(struct clist *l, struct conn *c)
{
	*link_prev(l, c) = l->tail;
	*link_next(l, c) = NULL;
	if (l->tail)
		*link_next(l, l->tail) = c;
	else
		l->head = c;
	l->tail = c;
	l->n++;
}

static void clist_remove(struct clist *l, struct conn *c)
{
	struct conn *p = *link_prev(l, c), *n = *link_next(l, c);

	if (p)
		*link_next(l, p) = n;
	else
		l->head = n;
	if (n)
		*link_prev(l, n) = p;
	else
		l->tail = p;
	*link_prev(l, c) = NULL;
	*link_next(l, c) = NULL;
	l->n--;
}

static size_t addr_len(uint8_t family)
{
	return family == SC_AF_INET ? 4 : 16;
}

static bool ep_eq(uint8_t family, const struct sc_endpoint *a, const struct sc_endpoint *b)
{
	return a->port == b->port && memcmp(a->addr, b->addr, addr_len(family)) == 0;
}

static int ep_cmp(uint8_t family, const struct sc_endpoint *a, const struct sc_endpoint *b)
{
	int d = memcmp(a->addr, b->addr, addr_len(family));

	if (d)
		return d;
	return (int)a->port - (int)b->port;
}

/* The same key for both directions: the endpoints in a canonical order. */
static uint64_t tuple_key(uint8_t family, const struct sc_endpoint *a, const struct sc_endpoint *b)
{
	uint8_t buf[1 + 2 * (16 + 2)];
	size_t al = addr_len(family), n = 0;

	if (ep_cmp(family, a, b) > 0) {
		const struct sc_endpoint *t = a;

		a = b;
		b = t;
	}
	buf[n++] = family;
	memcpy(buf + n, a->addr, al);
	n += al;
	buf[n++] = (uint8_t)(a->port >> 8);
	buf[n++] = (uint8_t)a->port;
	memcpy(buf + n, b->addr, al);
	n += al;
	buf[n++] = (uint8_t)(b->port >> 8);
	buf[n++] = (uint8_t)b->port;
	return sc_hash_bytes(buf, n, 0);
}

/* The connection (open or closed) of the segment's tuple, and the segment's
 * side in it. */
static struct conn *conn_find(const struct sc_tcp_reasm *r, const struct sc_tcp_seg *seg, uint64_t key,
			      int *side)
{
	for (struct conn *c = sc_u64map_get(&r->map, key); c; c = c->hnext) {
		if (c->ci.family != seg->family)
			continue;
		if (ep_eq(seg->family, &seg->src, &c->ci.client) && ep_eq(seg->family, &seg->dst, &c->ci.server)) {
			*side = 0;
			return c;
		}
		if (ep_eq(seg->family, &seg->src, &c->ci.server) && ep_eq(seg->family, &seg->dst, &c->ci.client)) {
			*side = 1;
			return c;
		}
	}
	return NULL;
}

/* Replacing the value of a key that is present never allocates when done as
 * delete + put: the map keeps n * 2 <= cap after every put and a delete only
 * lowers n, so the put finds room without growing. */
static void map_replace(struct sc_u64map *m, uint64_t key, struct conn *c)
{
	int rc;

	(void)sc_u64map_del(m, key);
	rc = sc_u64map_put(m, key, c);
	assert(rc == 0);
	(void)rc;
}

static int chain_insert(struct sc_tcp_reasm *r, struct conn *c)
{
	struct conn *head = sc_u64map_get(&r->map, c->key);

	if (!head)
		return sc_u64map_put(&r->map, c->key, c);
	c->hnext = head;
	map_replace(&r->map, c->key, c);
	return 0;
}

static void chain_remove(struct sc_tcp_reasm *r, struct conn *c)
{
	struct conn *head = sc_u64map_get(&r->map, c->key);

	if (head == c) {
		if (c->hnext)
			map_replace(&r->map, c->key, c->hnext);
		else
			(void)sc_u64map_del(&r->map, c->key);
	} else {
		for (struct conn *p = head; p; p = p->hnext) {
			if (p->hnext == c) {
				p->hnext = c->hnext;
				break;
			}
		}
	}
	c->hnext = NULL;
}

/* ---- Buffered pieces ----------------------------------------------------- */

static uint64_t chunk_end(const struct chunk *k)
{
	return k->off + k->len;
}

static uint64_t chunk_cost(const struct chunk *k)
{
	return (k->missing ? 0 : k->len) + CHUNK_OVERHEAD;
}

static void chunk_unlink(struct conn *c, struct side *sd, struct chunk *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		sd->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		sd->tail = k->prev;
	c->ooo_bytes -= chunk_cost(k);
	c->ooo_chunks--;
}

static void side_clear(struct conn *c, struct side *sd)
{
	while (sd->head) {
		struct chunk *k = sd->head;

		chunk_unlink(c, sd, k);
		free(k);
	}
}

/* Inserts a new piece before `at` (at the end when NULL). */
static int chunk_insert(struct conn *c, struct side *sd, struct chunk *at, uint64_t ts_ns, uint64_t off,
			const uint8_t *p, uint64_t n)
{
	struct chunk *k;

	/* n comes from one segment, so it fits the 32-bit length. */
	assert(n > 0 && n <= UINT32_MAX);
	k = malloc(sizeof(*k) + (p ? (size_t)n : 0));
	if (!k)
		return -ENOMEM;
	k->off = off;
	k->ts_ns = ts_ns;
	k->len = (uint32_t)n;
	k->missing = !p;
	if (p)
		memcpy(k->data, p, (size_t)n);
	k->next = at;
	k->prev = at ? at->prev : sd->tail;
	if (k->prev)
		k->prev->next = k;
	else
		sd->head = k;
	if (at)
		at->prev = k;
	else
		sd->tail = k;
	c->ooo_bytes += chunk_cost(k);
	c->ooo_chunks++;
	return 0;
}

/* The bytes of a new copy that overlap buffered piece `k` at [off, off + n):
 * equal ones are retransmissions, different ones conflicts (the buffered copy
 * stays).  Nothing can be compared against a missing range. */
static void overlap_count(struct sc_tcp_reasm *r, const struct chunk *k, uint64_t off, const uint8_t *p,
			  uint64_t n)
{
	const uint8_t *q = k->data + (off - k->off);

	if (!p || k->missing || memcmp(p, q, (size_t)n) == 0) {
		r->st.retrans_bytes += n;
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (p[i] == q[i])
			r->st.retrans_bytes++;
		else
			r->st.conflict_bytes++;
	}
}

/* Buffers [off, off + n) (off >= next), copying only the parts not buffered
 * yet.  `p` is the payload, or NULL for a missing range. */
static int ooo_add(struct sc_tcp_reasm *r, struct conn *c, struct side *sd, uint64_t ts_ns, uint64_t off,
		   const uint8_t *p, uint64_t n)
{
	uint64_t off0 = off, end = off + n;
	struct chunk *at = sd->tail;
	int rc;

	/* `at` becomes the first piece ending after `off`.  Searching from the
	 * tail makes the common case (a hole, then segments in order) O(1); the
	 * walk is bounded by max_ooo_chunks. */
	if (at && chunk_end(at) <= off)
		at = NULL;
	else if (at)
		while (at->prev && chunk_end(at->prev) > off)
			at = at->prev;
	while (off < end) {
		const uint8_t *q = p ? p + (off - off0) : NULL;

		if (!at || at->off >= end)
			return chunk_insert(c, sd, at, ts_ns, off, q, end - off);
		if (off < at->off) {
			rc = chunk_insert(c, sd, at, ts_ns, off, q, at->off - off);
			if (rc)
				return rc;
			off = at->off;
			continue;
		}
		uint64_t ov_end = end < chunk_end(at) ? end : chunk_end(at);

		overlap_count(r, at, off, q, ov_end - off);
		off = ov_end;
		at = at->next;
	}
	return 0;
}

/* ---- Reporting ------------------------------------------------------------ */

static int emit_data(struct sc_tcp_reasm *r, struct conn *c, int s, uint64_t ts_ns, const uint8_t *p, uint64_t n)
{
	struct side *sd = &c->side[s];
	int rc = r->cb.data(r->cb.ctx, c->user, s, ts_ns, sd->next, p, (size_t)n);

	sd->next += n;
	r->st.bytes += n;
	return rc;
}

static int emit_gap(struct sc_tcp_reasm *r, struct conn *c, int s, uint64_t ts_ns, uint64_t n)
{
	struct side *sd = &c->side[s];
	int rc = r->cb.gap(r->cb.ctx, c->user, s, ts_ns, sd->next, n);

	sd->next += n;
	r->st.gaps++;
	r->st.gap_bytes += n;
	return rc;
}

/* Reports the buffered pieces that have become contiguous with `next`. */
static int side_drain(struct sc_tcp_reasm *r, struct conn *c, int s)
{
	struct side *sd = &c->side[s];
	struct chunk *k;
	int rc = 0;

	while (!rc && (k = sd->head) && k->off == sd->next) {
		chunk_unlink(c, sd, k);
		if (k->missing)
			rc = emit_gap(r, c, s, k->ts_ns, k->len);
		else
			rc = emit_data(r, c, s, k->ts_ns, k->data, k->len);
		free(k);
	}
	return rc;
}

/* Gives up on the hole before the lowest buffered piece. */
static int side_skip_hole(struct sc_tcp_reasm *r, struct conn *c, int s, uint64_t ts_ns)
{
	struct side *sd = &c->side[s];
	int rc;

	assert(sd->head && sd->head->off >= sd->next);
	if (sd->head->off > sd->next) {
		rc = emit_gap(r, c, s, ts_ns, sd->head->off - sd->next);
		if (rc)
			return rc;
	}
	return side_drain(r, c, s);
}

/* Everything left on a side that will not get more bytes: buffered pieces,
 * the holes between them, and a gap up to the highest byte seen. */
static int side_flush(struct sc_tcp_reasm *r, struct conn *c, int s, uint64_t ts_ns)
{
	struct side *sd = &c->side[s];
	int rc = 0;

	while (!rc && sd->head)
		rc = side_skip_hole(r, c, s, ts_ns);
	if (!rc && sd->high > sd->next)
		rc = emit_gap(r, c, s, ts_ns, sd->high - sd->next);
	return rc;
}

/* One piece of a segment at [off, off + n), already clipped to offset 0 and
 * the FIN: drops what was reported, reports what is in order, buffers the
 * rest.  *buffered is set when something had to be buffered. */
static int side_put(struct sc_tcp_reasm *r, struct conn *c, int s, uint64_t ts_ns, uint64_t off,
		    const uint8_t *p, uint64_t n, bool *buffered)
{
	struct side *sd = &c->side[s];
	uint64_t k;
	int rc;

	if (off < sd->next) {
		k = sd->next - off < n ? sd->next - off : n;
		r->st.retrans_bytes += k;
		off += k;
		n -= k;
		if (p)
			p += k;
	}
	if (n == 0)
		return 0;
	if (off + n > sd->high)
		sd->high = off + n;
	if (off == sd->next && (!sd->head || sd->head->off > off)) {
		k = sd->head && sd->head->off - off < n ? sd->head->off - off : n;
		rc = p ? emit_data(r, c, s, ts_ns, p, k) : emit_gap(r, c, s, ts_ns, k);
		if (rc)
			return rc;
		off += k;
		n -= k;
		if (p)
			p += k;
	}
	if (n == 0)
		return 0;
	*buffered = true;
	return ooo_add(r, c, sd, ts_ns, off, p, n);
}

/* A FIN ending the side at `end`.  The first FIN wins; one before what was
 * already reported contradicts the stream and is dropped.  Returns whether it
 * was taken. */
static bool side_fin(struct conn *c, struct side *sd, int64_t end)
{
	uint64_t fin;

	if (sd->fin_seen || end < 0 || (uint64_t)end < sd->next)
		return false;
	fin = (uint64_t)end;
	sd->fin_seen = true;
	sd->fin_off = fin;
	if (sd->high > fin)
		sd->high = fin;
	while (sd->tail && sd->tail->off >= fin) {
		struct chunk *k = sd->tail;

		chunk_unlink(c, sd, k);
		free(k);
	}
	if (sd->tail && chunk_end(sd->tail) > fin) {
		struct chunk *k = sd->tail;

		c->ooo_bytes -= chunk_cost(k);
		k->len = (uint32_t)(fin - k->off);
		c->ooo_bytes += chunk_cost(k);
	}
	return true;
}

static bool side_done(const struct side *sd)
{
	return sd->fin_seen && sd->next == sd->fin_off;
}

/* ---- Connections ------------------------------------------------------------ */

static void conn_free(struct conn *c)
{
	side_clear(c, &c->side[0]);
	side_clear(c, &c->side[1]);
	free(c);
}

/* Forgets a closed tuple. */
static void dead_drop(struct sc_tcp_reasm *r, struct conn *c)
{
	chain_remove(r, c);
	clist_remove(&r->dead, c);
	free(c);
}

/* Closes an open connection: flushes it unless it ended by FIN (nothing is
 * left then), calls `close`, and keeps the tuple as a closed one, or forgets
 * it when `keep` is false. */
static int conn_close(struct sc_tcp_reasm *r, struct conn *c, uint64_t ts_ns, int how, bool keep)
{
	int rc = 0;

	if (how != SC_TCP_END_FIN) {
		rc = side_flush(r, c, 0, ts_ns);
		if (!rc)
			rc = side_flush(r, c, 1, ts_ns);
	}
	/* A failed flush leaves the connection open; the reassembler has
	 * failed and makes no more callbacks. */
	if (rc)
		return rc;
	rc = r->cb.close(r->cb.ctx, c->user, ts_ns, how);
	clist_remove(&r->lru, c);
	clist_remove(&r->ord, c);
	side_clear(c, &c->side[0]);
	side_clear(c, &c->side[1]);
	c->user = NULL;
	c->closed = true;
	c->closed_ns = ts_ns;
	if (!keep) {
		chain_remove(r, c);
		free(c);
		return rc;
	}
	clist_append(&r->dead, c);
	if (r->dead.n > SC_TCP_REASM_MAX_CLOSED)
		dead_drop(r, r->dead.head);
	return rc;
}

static void ep_copy(uint8_t family, struct sc_endpoint *dst, const struct sc_endpoint *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->port = src->port;
	memcpy(dst->addr, src->addr, addr_len(family));
}

/* Opens a connection for `seg`: its sender is the client unless the segment is
 * a SYN-ACK.  *side is the segment's side. */
static int conn_open(struct sc_tcp_reasm *r, const struct sc_tcp_seg *seg, uint64_t key, struct conn **out,
		     int *side)
{
	bool syn = seg->flags & SC_TCP_SYN, synack = syn && (seg->flags & SC_TCP_ACK);
	struct conn *c;
	int rc;

	if (r->ord.n >= r->max_conns) {
		r->st.evictions++;
		rc = conn_close(r, r->lru.head, seg->ts_ns, SC_TCP_END_EVICTED, true);
		if (rc)
			return rc;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->key = key;
	c->ci.id = r->next_id + 1;
	c->ci.family = seg->family;
	ep_copy(seg->family, &c->ci.client, synack ? &seg->dst : &seg->src);
	ep_copy(seg->family, &c->ci.server, synack ? &seg->src : &seg->dst);
	c->ci.roles_from_syn = syn;
	c->ci.first_ns = seg->ts_ns;
	rc = chain_insert(r, c);
	if (rc) {
		free(c);
		return rc;
	}
	c->user = r->cb.open(r->cb.ctx, &c->ci);
	if (!c->user) {
		chain_remove(r, c);
		free(c);
		return -ENOMEM;
	}
	r->next_id++;
	r->st.conns++;
	clist_append(&r->lru, c);
	clist_append(&r->ord, c);
	*out = c;
	*side = synack ? 1 : 0;
	return 0;
}

static void side_syn(struct side *sd, uint32_t seq)
{
	sd->have_base = true;
	sd->base = seq + 1;
}

/* The segment's data starts `d` bytes after the side's next expected byte,
 * d >= SC_TCP_REASM_MAX_JUMP: believed only when the peer has acknowledged
 * bytes up to the segment's start, so the bytes in between really existed. */
static bool jump_acked(const struct side *sd, uint32_t data_seq, uint32_t expect)
{
	return sd->ack_seen && (int32_t)(sd->peer_ack - data_seq) >= 0 && (int32_t)(sd->peer_ack - expect) > 0;
}

static int segment(struct sc_tcp_reasm *r, const struct sc_tcp_seg *seg)
{
	uint8_t fl = seg->flags;
	bool syn = fl & SC_TCP_SYN, effect = false, buffered = false;
	uint32_t wire = seg->wire_len > seg->len ? seg->wire_len : seg->len;
	bool carries = wire || (fl & (SC_TCP_SYN | SC_TCP_FIN | SC_TCP_RST));
	uint64_t key;
	struct conn *c;
	struct side *sd;
	int s = 0, rc;

	r->st.segments++;
	if (syn && (fl & (SC_TCP_FIN | SC_TCP_RST))) {
		r->st.ignored_segments++;
		return 0;
	}
	key = tuple_key(seg->family, &seg->src, &seg->dst);
	c = conn_find(r, seg, key, &s);
	if (c && c->closed) {
		uint64_t age = seg->ts_ns >= c->closed_ns ? seg->ts_ns - c->closed_ns : 0;

		/* A SYN whose ISN + 1 is the closed side's offset 0 is a late copy of
		 * the old handshake, not a new connection. */
		bool old_syn = syn && c->side[s].have_base && seg->seq + 1 == c->side[s].base;

		if ((!syn || old_syn) && age <= SC_TCP_REASM_LINGER_NS) {
			if (carries)
				r->st.ignored_segments++;
			return 0;
		}
		dead_drop(r, c);
		c = NULL;
	}
	if (c && syn) {
		sd = &c->side[s];
		if (sd->have_base && seg->seq + 1 == sd->base) {
			/* a retransmitted SYN or SYN-ACK (or one reordered after data) */
		} else if (!sd->have_base && (fl & SC_TCP_ACK)) {
			side_syn(sd, seg->seq);
			effect = true;
		} else {
			rc = conn_close(r, c, seg->ts_ns, SC_TCP_END_REUSED, false);
			if (rc)
				return rc;
			c = NULL;
		}
	}
	if (!c) {
		if (!syn && (!wire || (fl & SC_TCP_RST))) {
			if (carries)
				r->st.ignored_segments++;
			return 0;
		}
		rc = conn_open(r, seg, key, &c, &s);
		if (rc)
			return rc;
		if (syn)
			side_syn(&c->side[s], seg->seq);
		effect = true;
	}
	clist_remove(&r->lru, c);
	clist_append(&r->lru, c);
	if (fl & SC_TCP_ACK) {
		c->side[!s].peer_ack = seg->ack;
		c->side[!s].ack_seen = true;
	}
	sd = &c->side[s];
	if (fl & SC_TCP_RST) {
		if (sd->have_base) {
			int64_t d = (int32_t)(seg->seq - (sd->base + (uint32_t)sd->next));

			if (d >= (int64_t)SC_TCP_REASM_MAX_JUMP || d <= -(int64_t)SC_TCP_REASM_MAX_JUMP) {
				r->st.ignored_segments++;
				return 0;
			}
		}
		return conn_close(r, c, seg->ts_ns, SC_TCP_END_RST, true);
	}
	if (!wire && !(fl & SC_TCP_FIN)) {
		if (carries && !effect)
			r->st.ignored_segments++;
		return 0;
	}

	uint32_t data_seq = seg->seq + (syn ? 1u : 0u);

	if (!sd->have_base) {
		sd->have_base = true;
		sd->base = data_seq;
	}

	uint32_t expect = sd->base + (uint32_t)sd->next;
	int64_t d = (int32_t)(data_seq - expect);

	if (d >= (int64_t)SC_TCP_REASM_MAX_JUMP && !jump_acked(sd, data_seq, expect)) {
		r->st.ignored_segments++;
		return 0;
	}

	/* Offsets stay far below 2^63: they grow by at most 2^31 per segment. */
	int64_t start = (int64_t)sd->next + d, mid = start + seg->len, end = start + wire;

	if ((fl & SC_TCP_FIN) && side_fin(c, sd, end))
		effect = true;
	for (int piece = 0; piece < 2; piece++) {
		int64_t lo = piece ? mid : start, hi = piece ? end : mid;

		if (lo < 0)
			lo = 0;
		if (sd->fin_seen && hi > (int64_t)sd->fin_off)
			hi = (int64_t)sd->fin_off;
		if (hi <= lo)
			continue;
		effect = true;
		rc = side_put(r, c, s, seg->ts_ns, (uint64_t)lo, piece ? NULL : seg->payload + (lo - start),
			      (uint64_t)(hi - lo), &buffered);
		if (rc)
			return rc;
	}
	if (buffered)
		r->st.ooo_segments++;
	if (!effect)
		r->st.ignored_segments++;
	rc = side_drain(r, c, s);
	while (!rc && (c->ooo_bytes > r->max_ooo_bytes || c->ooo_chunks > r->max_ooo_chunks)) {
		int t = c->side[s].head ? s : !s;

		r->st.cap_hits++;
		rc = side_skip_hole(r, c, t, seg->ts_ns);
	}
	if (rc)
		return rc;
	if (side_done(&c->side[0]) && side_done(&c->side[1]))
		return conn_close(r, c, seg->ts_ns, SC_TCP_END_FIN, true);
	return 0;
}

/* ---- Public --------------------------------------------------------------- */

struct sc_tcp_reasm *sc_tcp_reasm_new(const struct sc_tcp_reasm_cb *cb, const struct sc_tcp_reasm_opts *o)
{
	struct sc_tcp_reasm *r;

	if (!cb || !cb->open || !cb->data || !cb->gap || !cb->close) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->cb = *cb;
	r->max_ooo_bytes = o && o->max_ooo_bytes ? o->max_ooo_bytes : SC_TCP_REASM_DEFAULT_MAX_OOO_BYTES;
	r->max_ooo_chunks = o && o->max_ooo_chunks ? o->max_ooo_chunks : SC_TCP_REASM_DEFAULT_MAX_OOO_CHUNKS;
	r->max_conns = o && o->max_conns ? o->max_conns : SC_TCP_REASM_DEFAULT_MAX_CONNS;
	sc_u64map_init(&r->map);
	r->ord.ord = true;
	return r;
}

int sc_tcp_reasm_segment(struct sc_tcp_reasm *r, const struct sc_tcp_seg *seg)
{
	int rc;

	if (r->err)
		return r->err;
	if (!seg || (seg->len && !seg->payload))
		return -EINVAL;
	rc = segment(r, seg);
	if (rc)
		r->err = rc;
	return rc;
}

int sc_tcp_reasm_finish(struct sc_tcp_reasm *r, uint64_t ts_ns)
{
	int rc = 0;

	if (r->err)
		return r->err;
	while (!rc && r->ord.head)
		rc = conn_close(r, r->ord.head, ts_ns, SC_TCP_END_CAPTURE, false);
	if (rc) {
		r->err = rc;
		return rc;
	}
	while (r->dead.head)
		dead_drop(r, r->dead.head);
	return 0;
}

const struct sc_tcp_reasm_stats *sc_tcp_reasm_stats(const struct sc_tcp_reasm *r)
{
	return &r->st;
}

void sc_tcp_reasm_free(struct sc_tcp_reasm *r)
{
	if (!r)
		return;
	while (r->ord.head) {
		struct conn *c = r->ord.head;

		clist_remove(&r->ord, c);
		conn_free(c);
	}
	while (r->dead.head) {
		struct conn *c = r->dead.head;

		clist_remove(&r->dead, c);
		conn_free(c);
	}
	sc_u64map_fini(&r->map);
	free(r);
}
