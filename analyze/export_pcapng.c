/* export_pcapng.c - a stream consumer that turns .skc connections into TCP packets.
 *
 * Two passes over the input:
 *
 *  1. Mirrors.  When both ends of a local connection were recorded, the file
 *     holds two sockets whose endpoints mirror each other (a connect()ed
 *     127.0.0.1:42522 -> 127.0.0.1:8080 and an accept()ed 127.0.0.1:8080 <-
 *     127.0.0.1:42522).  Exporting both would show tshark two conversations
 *     on one 4-tuple with different ISNs.  Which sockets pair up cannot be
 *     known when the first of them opens (its mirror may come later), so a
 *     first pass reads only SOCK_OPEN and SOCK_CLOSE records and marks one
 *     socket of each pair to skip.  A socket pairs with a mirrored socket
 *     that is still open, or closed at most MIRROR_SLACK_NS before (a client
 *     may close before a slow server accepts); among several, the most recent.
 *     The kept end is the one that called connect(), else accept(), else the
 *     one seen first.  Memory: the sockets open at once, those closed within
 *     the slack, and one small note per paired socket.
 *
 *  2. Packets.  sc_streams_skc() delivers every socket's bytes in stream
 *     order with gaps; each event becomes packets at once.  Packets then wait
 *     in a reorder buffer (a min-heap on time) for up to REORDER_WINDOW_NS of
 *     capture time so that the file is in time order although the source
 *     interleaves sockets in record order (records of different CPUs, and
 *     out-of-order pieces it held back, can be a little late).  A packet
 *     later than the window (or than REORDER_MAX_BYTES of buffered packets)
 *     is written with the time of the packet before it and counted as
 *     retimed.  Within one connection packets keep the source's order (their
 *     times are raised to the previous packet's when needed), because the
 *     acknowledgement numbers follow that order.
 *
 * ISNs are a hash of the socket id and open time, so that exporting the same
 * file twice gives the same bytes.
 */
#include "analyze/export_pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/pcapng_out.h"
#include "analyze/streams.h"
#include "formats/sc_pcap.h"
#include "formats/sc_u64map.h"
#include "formats/skc.h"
#include "formats/sc_grow.h"

#define MIRROR_SLACK_NS (2ull * 1000000000ull)
#define REORDER_WINDOW_NS (1ull * 1000000000ull)
#define REORDER_MAX_BYTES (16ull << 20)
#define REORDER_MAX_PACKETS 65536u

/* Receive window: 65535 with window scale 14 (RFC 7323 §2), about 1 GiB,
 * so that a large one-way transfer without reverse traffic (no pure ACKs are
 * synthesized) is not flagged "window full". */
#define WINDOW 65535u
#define WSCALE 14u

/* ---- addresses ----------------------------------------------------------------------- */

static bool v4_mapped(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, pfx, sizeof(pfx)) == 0;
}

/* The family the packets carry.  An IPv6 socket whose two ends are
 * IPv4-mapped (::ffff:a.b.c.d, RFC 4291 §2.5.5.2; a dual-stack server
 * accepting an IPv4 client) talks IPv4 on the wire; the addresses are
 * rewritten so that its mirror, an AF_INET socket, matches it. */
static uint8_t wire_family(uint8_t fam, struct sc_endpoint *a, struct sc_endpoint *b)
{
	if (fam == SC_AF_INET6 && v4_mapped(a->addr) && v4_mapped(b->addr)) {
		memmove(a->addr, a->addr + 12, 4);
		memset(a->addr + 4, 0, 12);
		memmove(b->addr, b->addr + 12, 4);
		memset(b->addr + 4, 0, 12);
		return SC_AF_INET;
	}
	if (fam == SC_AF_INET) {
		memset(a->addr + 4, 0, 12);
		memset(b->addr + 4, 0, 12);
	}
	return fam;
}

static bool ep_eq(const struct sc_endpoint *a, const struct sc_endpoint *b)
{
	return a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static int ep_cmp(const struct sc_endpoint *a, const struct sc_endpoint *b)
{
	int c = memcmp(a->addr, b->addr, 16);

	return c ? c : (a->port > b->port) - (a->port < b->port);
}

/* The same key for both orientations of a tuple. */
static uint64_t tuple_key(uint8_t fam, const struct sc_endpoint *a, const struct sc_endpoint *b)
{
	const struct sc_endpoint *lo = ep_cmp(a, b) <= 0 ? a : b, *hi = lo == a ? b : a;
	uint8_t buf[36];

	memcpy(buf, lo->addr, 16);
	buf[16] = (uint8_t)(lo->port >> 8);
	buf[17] = (uint8_t)lo->port;
	memcpy(buf + 18, hi->addr, 16);
	buf[34] = (uint8_t)(hi->port >> 8);
	buf[35] = (uint8_t)hi->port;
	return sc_hash_bytes(buf, sizeof(buf), fam);
}

/* ---- pass 1: mirrored sockets ------------------------------------------------------ */

#define NOTE_SKIP_MIRROR 0x01u /* the other end of this connection is exported */
#define NOTE_NOT_STREAM 0x02u  /* a datagram or seqpacket socket */
#define NOTE_CONTINUED 0x04u   /* continues a rotated file: no handshake, offsets from base */
#define NOTE_PEER 0x08u        /* `peer` is this socket's mirror */

/* What pass 1 learnt about a socket; only sockets with something to say have one. */
struct note {
	uint8_t bits;
	uint32_t peer_pid;
	uint64_t peer;
	uint64_t base_sent, base_recv;
};

struct p1sock {
	uint64_t id, key, open_ts, close_ts;
	uint32_t pid;
	uint8_t fam, how;
	bool paired, closed;
	struct sc_endpoint local, remote;
	struct p1sock *next;      /* same tuple key */
	struct p1sock *fifo_next; /* closed and waiting for a late mirror */
};

struct pass1 {
	struct sc_u64map by_id, by_key;
	struct sc_u64map *notes;
	struct p1sock *fifo_head, *fifo_tail;
};

static struct note *note_get(struct sc_u64map *notes, uint64_t id, int *rc)
{
	struct note *n = sc_u64map_get(notes, id);

	*rc = 0;
	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n || sc_u64map_put(notes, id, n) < 0) {
		free(n);
		*rc = -ENOMEM;
		return NULL;
	}
	return n;
}

/* connect() beats accept() beats a socket found already open. */
static int how_rank(uint8_t how)
{
	return how == SC_HOW_CONNECT ? 3 : how == SC_HOW_ACCEPT ? 2 : 1;
}

static int pair(struct pass1 *p, struct p1sock *a, struct p1sock *b)
{
	bool a_wins = how_rank(a->how) != how_rank(b->how) ? how_rank(a->how) > how_rank(b->how) : a->id < b->id;
	struct p1sock *keep = a_wins ? a : b, *drop = a_wins ? b : a;
	struct note *nk, *nd;
	int rc;

	a->paired = b->paired = true;
	nk = note_get(p->notes, keep->id, &rc);
	if (!nk)
		return rc;
	nd = note_get(p->notes, drop->id, &rc);
	if (!nd)
		return rc;
	nk->bits |= NOTE_PEER;
	nk->peer = drop->id;
	nk->peer_pid = drop->pid;
	nd->bits |= NOTE_SKIP_MIRROR | NOTE_PEER;
	nd->peer = keep->id;
	nd->peer_pid = keep->pid;
	return 0;
}

/* The sockets of one tuple key, newest first. */
struct bucket {
	struct p1sock *head;
};

static void p1_remove(struct pass1 *p, struct p1sock *s)
{
	struct bucket *b = sc_u64map_get(&p->by_key, s->key);
	struct p1sock **pp = b ? &b->head : NULL;

	while (pp && *pp && *pp != s)
		pp = &(*pp)->next;
	if (pp && *pp)
		*pp = s->next;
	if (b && !b->head) {
		sc_u64map_del(&p->by_key, s->key);
		free(b);
	}
	sc_u64map_del(&p->by_id, s->id);
	free(s);
}

/* Forget sockets closed longer than the slack before `now`. */
static void p1_expire(struct pass1 *p, uint64_t now)
{
	while (p->fifo_head && p->fifo_head->close_ts + MIRROR_SLACK_NS < now) {
		struct p1sock *s = p->fifo_head;

		p->fifo_head = s->fifo_next;
		if (!p->fifo_head)
			p->fifo_tail = NULL;
		p1_remove(p, s);
	}
}

static int p1_open(struct pass1 *p, const struct sc_skc_sock_open *o)
{
	struct p1sock *s, *m;
	struct bucket *b;
	struct note *n;
	int rc = 0;

	if (o->family == SC_AF_UNIX)
		return 0; /* counted by the packet pass */
	if (o->sock_type != SC_SOCK_STREAM || (o->flags & SC_SOCK_F_CONTINUED)) {
		n = note_get(p->notes, o->sock_id, &rc);
		if (!n)
			return rc;
		if (o->sock_type != SC_SOCK_STREAM)
			n->bits |= NOTE_NOT_STREAM;
		if (o->flags & SC_SOCK_F_CONTINUED) {
			n->bits |= NOTE_CONTINUED;
			n->base_sent = o->base_sent;
			n->base_recv = o->base_recv;
		}
	}
	if (o->sock_type != SC_SOCK_STREAM || (o->family != SC_AF_INET && o->family != SC_AF_INET6))
		return 0;
	if (sc_u64map_get(&p->by_id, o->sock_id))
		return 0; /* a repeated SOCK_OPEN: the first one counts */
	p1_expire(p, o->ts_ns);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = o->sock_id;
	s->open_ts = o->ts_ns;
	s->pid = o->pid;
	s->how = o->how;
	s->local = o->local;
	s->remote = o->remote;
	s->fam = wire_family(o->family, &s->local, &s->remote);
	s->key = tuple_key(s->fam, &s->local, &s->remote);
	b = sc_u64map_get(&p->by_key, s->key);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b || sc_u64map_put(&p->by_key, s->key, b) < 0) {
			free(b);
			free(s);
			return -ENOMEM;
		}
	}
	/* Newest first, so the first match is the most recent. */
	for (m = b->head; m; m = m->next)
		if (!m->paired && m->fam == s->fam && ep_eq(&m->local, &s->remote) && ep_eq(&m->remote, &s->local))
			break;
	s->next = b->head;
	b->head = s;
	if (sc_u64map_put(&p->by_id, s->id, s) < 0) {
		p1_remove(p, s);
		return -ENOMEM;
	}
	return m ? pair(p, m, s) : 0;
}

static void p1_close(struct pass1 *p, const struct sc_skc_sock_close *c)
{
	struct p1sock *s = sc_u64map_get(&p->by_id, c->sock_id);

	if (!s || s->closed)
		return;
	if (s->paired) {
		p1_remove(p, s);
		return;
	}
	s->closed = true;
	s->close_ts = c->ts_ns;
	if (p->fifo_tail)
		p->fifo_tail->fifo_next = s;
	else
		p->fifo_head = s;
	p->fifo_tail = s;
}

static int find_mirrors(const char *path, struct sc_u64map *notes, struct sc_diag *diag)
{
	struct pass1 p = { .notes = notes };
	struct sc_skc_reader *r;
	struct sc_skc_rec rec;
	size_t pos = 0;
	uint64_t key;
	void *v;
	int err, rc;

	sc_u64map_init(&p.by_id);
	sc_u64map_init(&p.by_key);
	r = sc_skc_reader_open(path, &err, diag);
	if (!r)
		return err;
	while ((rc = sc_skc_reader_next(r, &rec)) > 0) {
		if (rec.type == SC_SKC_SOCK_OPEN)
			rc = p1_open(&p, &rec.u.open);
		else if (rec.type == SC_SKC_SOCK_CLOSE)
			p1_close(&p, &rec.u.close);
		if (rc < 0)
			break;
	}
	if (rc < 0)
		sc_diag_set(diag, rc, 0, "%s: %s", path, sc_strerror(rc));
	while (sc_u64map_next(&p.by_id, &pos, &key, &v))
		free(v);
	pos = 0;
	while (sc_u64map_next(&p.by_key, &pos, &key, &v))
		free(v);
	sc_u64map_fini(&p.by_id);
	sc_u64map_fini(&p.by_key);
	sc_skc_reader_close(r);
	return rc < 0 ? rc : 0;
}

/* ---- the reorder buffer ----------------------------------------------------------- */

struct qpkt {
	uint64_t ts, n; /* n: arrival order, breaks ties so that equal times keep it */
	uint32_t len, clen;
	bool retimed;   /* already counted as retimed */
	uint8_t b[];    /* the packet, then the comment */
};

struct queue {
	struct qpkt **h; /* binary min-heap on (ts, n) */
	size_t n, cap;
	uint64_t bytes, newest, arrivals, last_out;
};

static bool q_less(const struct qpkt *a, const struct qpkt *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->n < b->n);
}

static int q_push(struct queue *q, struct qpkt *p)
{
	size_t i;

	if (q->n == q->cap) {
		struct qpkt **nh = sc_grow(q->h, &q->cap, sizeof(*nh), 256);

		if (!nh)
			return -ENOMEM;
		q->h = nh;
	}
	p->n = q->arrivals++;
	i = q->n++;
	while (i > 0 && q_less(p, q->h[(i - 1) / 2])) {
		q->h[i] = q->h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->h[i] = p;
	q->bytes += p->len + p->clen;
	if (p->ts > q->newest)
		q->newest = p->ts;
	return 0;
}

static struct qpkt *q_pop(struct queue *q)
{
	struct qpkt *top = q->h[0], *last = q->h[--q->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && q_less(q->h[c + 1], q->h[c]))
			c++;
		if (!q_less(q->h[c], last))
			break;
		q->h[i] = q->h[c];
		i = c;
	}
	if (q->n)
		q->h[i] = last;
	q->bytes -= top->len + top->clen;
	return top;
}

/* ---- pass 2: packets --------------------------------------------------------------- */

struct xctx {
	struct sc_pcapng_writer *w;
	struct sc_u64map *notes;
	struct sc_export_pcapng_stats *st;
	struct queue q;
	int werr; /* the first write error (the source reports it as its own) */
	uint8_t pkt[SC_PCAPNG_PKT_MAX];
};

/* Side 0 is the client (its bytes go to the server), side 1 the server. */
struct xconn {
	bool skip;
	bool client_is_egress;
	bool announced;      /* the first packet, with the socket's comment, is out */
	uint8_t fam;
	struct sc_endpoint ep[2];
	uint32_t isn[2];
	uint16_t ip_id[2];
	uint64_t next[2];    /* stream offset of the next byte of each side */
	uint64_t missing[2]; /* bytes lost since the side's last packet, for its next comment */
	uint64_t last_ts;
	char info[192];      /* the comment of the first packet */
};

static int write_top(struct xctx *x)
{
	struct qpkt *p = q_pop(&x->q);
	uint64_t ts = p->ts;
	int rc;

	if (ts < x->q.last_out) {
		ts = x->q.last_out;
		if (!p->retimed)
			x->st->retimed++;
	}
	x->q.last_out = ts;
	rc = sc_pcapng_writer_packet(x->w, ts, p->b, p->len, (const char *)p->b + p->len, p->clen);
	free(p);
	if (rc < 0 && !x->werr)
		x->werr = rc;
	if (rc >= 0)
		x->st->packets++;
	return rc;
}

/* Write what has waited long enough (everything with `all`). */
static int drain(struct xctx *x, bool all)
{
	int rc = 0;

	while (rc >= 0 && x->q.n &&
	       (all || x->q.newest - x->q.h[0]->ts >= REORDER_WINDOW_NS || x->q.bytes > REORDER_MAX_BYTES ||
		x->q.n > REORDER_MAX_PACKETS))
		rc = write_top(x);
	return rc;
}

/* printf at *len in `buf`, cut at `cap` - 1 bytes; *len follows. */
static void appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len + 1 >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

static uint32_t seq_of(const struct xconn *k, int side)
{
	return k->isn[side] + 1 + (uint32_t)k->next[side];
}

/* One segment from `side`, with the comments it has to carry. */
static int emit(struct xctx *x, struct xconn *k, int side, uint64_t ts, uint32_t seq, uint32_t ack, uint8_t flags,
		const uint8_t *opts, size_t opts_len, const uint8_t *p, size_t n)
{
	struct sc_pcapng_tcp t = { 0 };
	char com[320];
	size_t clen = 0;
	bool retimed = false;
	long len;
	struct qpkt *qp;
	int rc;

	t.family = k->fam;
	t.src = k->ep[side].addr;
	t.dst = k->ep[!side].addr;
	t.sport = k->ep[side].port;
	t.dport = k->ep[!side].port;
	t.seq = seq;
	t.ack = ack;
	t.flags = flags;
	t.window = WINDOW;
	t.ip_id = k->ip_id[side]++;
	t.opts = opts;
	t.opts_len = opts_len;
	t.payload = p;
	t.len = n;
	len = sc_pcapng_encode_tcp(x->pkt, sizeof(x->pkt), &t);
	if (len < 0)
		return (int)len;
	com[0] = '\0';
	if (!k->announced) {
		appendf(com, sizeof(com), &clen, "%s", k->info);
		k->announced = true;
		x->st->connections++;
	}
	if (k->missing[side]) {
		appendf(com, sizeof(com), &clen, "%s%" PRIu64 " bytes not captured before this segment",
			clen ? "; " : "", k->missing[side]);
		k->missing[side] = 0;
	}
	qp = malloc(sizeof(*qp) + (size_t)len + clen);
	if (!qp)
		return -ENOMEM;
	/* Within a connection the source's order stands (acks follow it). */
	if (ts < k->last_ts) {
		ts = k->last_ts;
		retimed = true;
		x->st->retimed++;
	}
	k->last_ts = ts;
	qp->ts = ts;
	qp->len = (uint32_t)len;
	qp->clen = (uint32_t)clen;
	qp->retimed = retimed;
	memcpy(qp->b, x->pkt, (size_t)len);
	if (clen)
		memcpy(qp->b + len, com, clen);
	rc = q_push(&x->q, qp);
	if (rc < 0) {
		free(qp);
		return rc;
	}
	return drain(x, false);
}

/* MSS, NOP, window scale: what a SYN and a SYN-ACK offer (RFC 9293 §3.7.1, RFC 7323 §2.2). */
static const uint8_t syn_opts[8] = {
	2, 4, (uint8_t)(SC_PCAPNG_MSS >> 8), (uint8_t)SC_PCAPNG_MSS, 1, 3, 3, WSCALE,
};

static int handshake(struct xctx *x, struct xconn *k, uint64_t ts)
{
	int rc = emit(x, k, 0, ts, k->isn[0], 0, SC_TCP_SYN, syn_opts, sizeof(syn_opts), NULL, 0);

	if (rc >= 0)
		rc = emit(x, k, 1, ts, k->isn[1], k->isn[0] + 1, SC_TCP_SYN | SC_TCP_ACK, syn_opts, sizeof(syn_opts),
			  NULL, 0);
	if (rc >= 0)
		rc = emit(x, k, 0, ts, k->isn[0] + 1, k->isn[1] + 1, SC_TCP_ACK, NULL, 0, NULL, 0);
	return rc;
}

static uint32_t make_isn(const struct sc_conn *c, int side)
{
	return (uint32_t)(sc_hash64(sc_hash64(c->src_id ^ sc_hash64(c->open_ns)) + (uint64_t)side) >> 32);
}

/* comm is whatever the process set: keep the comment printable UTF-8. */
static void clean_comm(char *dst, size_t n, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i]; i++)
		dst[i] = src[i] > 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

static void describe(struct xconn *k, const struct sc_conn *c, const struct note *nt)
{
	char comm[sizeof(c->comm)];
	size_t n = 0;

	clean_comm(comm, sizeof(comm), c->comm);
	k->info[0] = '\0';
	appendf(k->info, sizeof(k->info), &n, "pid %" PRIu32 " comm %s sock %" PRIu64, c->pid, comm[0] ? comm : "?",
		c->src_id);
	if (c->fd_plus1)
		appendf(k->info, sizeof(k->info), &n, " fd %" PRIu32, c->fd_plus1 - 1);
	appendf(k->info, sizeof(k->info), &n, " role %s", sc_role_name(c->role));
	if (c->midstream || (nt && (nt->bits & NOTE_CONTINUED)))
		appendf(k->info, sizeof(k->info), &n, " (joined mid-stream)");
	if (nt && (nt->bits & NOTE_PEER))
		appendf(k->info, sizeof(k->info), &n, "; other end: sock %" PRIu64 " pid %" PRIu32 " (not exported)",
			nt->peer, nt->peer_pid);
}

static void *x_open(void *ctx, struct sc_conn *c, bool roles_known)
{
	struct xctx *x = ctx;
	struct xconn *k = calloc(1, sizeof(*k));
	const struct note *nt = sc_u64map_get(x->notes, c->src_id);
	struct sc_endpoint local, remote;
	bool midstream;

	(void)roles_known;
	if (!k)
		return NULL;
	x->st->sockets++;
	k->skip = true;
	if (c->family == SC_AF_UNIX) {
		x->st->unix_sockets++;
		return k;
	}
	if ((nt && (nt->bits & NOTE_NOT_STREAM)) || (c->family != SC_AF_INET && c->family != SC_AF_INET6)) {
		x->st->other_sockets++;
		return k;
	}
	if (nt && (nt->bits & NOTE_SKIP_MIRROR)) {
		x->st->mirrored++;
		return k;
	}
	k->skip = false;
	local = c->local;
	remote = c->remote;
	k->fam = wire_family(c->family, &local, &remote);
	/* A socket of unknown role was found open: take its end as the client,
	 * as the source does (client_is_egress defaults to true). */
	k->client_is_egress = c->client_is_egress;
	k->ep[0] = k->client_is_egress ? local : remote;
	k->ep[1] = k->client_is_egress ? remote : local;
	for (int side = 0; side < 2; side++) {
		k->isn[side] = make_isn(c, side);
		k->ip_id[side] = (uint16_t)(k->isn[side] >> 16);
	}
	midstream = c->midstream || (nt && (nt->bits & NOTE_CONTINUED));
	if (nt && (nt->bits & NOTE_CONTINUED)) {
		/* The streams go on at the offsets where the previous file stopped. */
		k->next[k->client_is_egress ? 0 : 1] = nt->base_sent;
		k->next[k->client_is_egress ? 1 : 0] = nt->base_recv;
	}
	describe(k, c, nt);
	if (!midstream && handshake(x, k, c->open_ns) < 0) {
		free(k);
		return NULL;
	}
	return k;
}

static int x_data(void *ctx, void *st, bool egress, uint64_t ts, uint64_t off, const uint8_t *p, size_t n)
{
	struct xctx *x = ctx;
	struct xconn *k = st;
	int side = egress == k->client_is_egress ? 0 : 1;
	int rc = 0;

	if (k->skip)
		return 0;
	/* The source delivers each side in order with explicit gaps; anything
	 * else is still handled: a hole is a gap, a repeat is dropped. */
	if (off > k->next[side]) {
		x->st->gaps++;
		x->st->gap_bytes += off - k->next[side];
		k->missing[side] += off - k->next[side];
		k->next[side] = off;
	}
	if (off + n <= k->next[side])
		return 0;
	p += k->next[side] - off;
	n -= (size_t)(k->next[side] - off);
	x->st->payload_bytes += n;
	while (n > 0 && rc >= 0) {
		size_t m = n < SC_PCAPNG_MSS ? n : SC_PCAPNG_MSS;
		uint8_t flags = SC_TCP_ACK | (m == n ? SC_TCP_PSH : 0);

		rc = emit(x, k, side, ts, seq_of(k, side), seq_of(k, !side), flags, NULL, 0, p, m);
		k->next[side] += m;
		p += m;
		n -= m;
	}
	return rc;
}

static int x_gap(void *ctx, void *st, bool egress, uint64_t ts, uint64_t off, uint64_t n)
{
	struct xctx *x = ctx;
	struct xconn *k = st;
	int side = egress == k->client_is_egress ? 0 : 1;
	uint64_t end = off + n;

	(void)ts;
	if (k->skip || end <= k->next[side])
		return 0;
	/* No packet: the sequence numbers skip the lost bytes, and the side's
	 * next segment (or FIN) says how many. */
	x->st->gaps++;
	x->st->gap_bytes += end - k->next[side];
	k->missing[side] += end - k->next[side];
	k->next[side] = end;
	return 0;
}

static int x_end(void *ctx, void *st, uint64_t ts, bool closed)
{
	struct xctx *x = ctx;
	struct xconn *k = st;
	int rc = 0;

	/* ts == 0 and !closed: the source is cleaning up after a failure. */
	if (!k->skip && closed) {
		uint32_t s0 = seq_of(k, 0), s1 = seq_of(k, 1);

		rc = emit(x, k, 0, ts, s0, s1, SC_TCP_FIN | SC_TCP_ACK, NULL, 0, NULL, 0);
		if (rc >= 0)
			rc = emit(x, k, 1, ts, s1, s0 + 1, SC_TCP_FIN | SC_TCP_ACK, NULL, 0, NULL, 0);
		if (rc >= 0)
			rc = emit(x, k, 0, ts, s0 + 1, s1 + 1, SC_TCP_ACK, NULL, 0, NULL, 0);
	}
	free(k);
	return rc;
}

/* ---- the export ---------------------------------------------------------------------- */

static int check_input(const char *in, const char *out, struct sc_diag *diag)
{
	uint8_t head[8];
	size_t n;
	struct stat si, so;
	FILE *f;

	if (strcmp(in, "-") == 0)
		return sc_diag_set(diag, SC_EUNSUPP, 0,
				   "the input is read twice (to pair the two ends of local connections first): "
				   "give a file, not standard input");
	f = fopen(in, "rb");
	if (!f)
		return sc_diag_set(diag, -errno, 0, "%s: %s", in, strerror(errno));
	n = fread(head, 1, sizeof(head), f);
	if (fstat(fileno(f), &si) < 0) {
		int e = -errno;

		fclose(f);
		return sc_diag_set(diag, e, 0, "%s: %s", in, strerror(-e));
	}
	fclose(f);
	switch (sc_file_detect(head, n)) {
	case SC_FILE_SKC:
		break;
	case SC_FILE_PCAP:
	case SC_FILE_PCAPNG:
		return sc_diag_set(diag, SC_EUNSUPP, 0,
				   "%s is a packet capture already: open it in Wireshark as it is "
				   "(editcap converts pcap to pcapng)", in);
	default:
		return sc_diag_set(diag, SC_EFORMAT, 0, "%s: not a sockcap capture (.skc)", in);
	}
	if (strcmp(out, "-") != 0 && stat(out, &so) == 0 && so.st_dev == si.st_dev && so.st_ino == si.st_ino)
		return sc_diag_set(diag, SC_EUNSUPP, 0, "%s: the output would replace the input", out);
	return 0;
}

static struct sc_pcapng_writer *open_out(const char *in, const char *out, const struct sc_export_pcapng_opts *o,
					 struct sc_diag *diag)
{
	char comment[512];
	struct sc_pcapng_writer_opts wo = { 0 };

	snprintf(comment, sizeof(comment),
		 "Synthesized by sockcap from the socket payloads recorded in %s: IP and TCP headers, "
		 "sequence numbers, handshakes and FINs are reconstructed, not captured", in);
	wo.overwrite = o && o->overwrite;
	wo.app = o ? o->app : NULL;
	wo.comment = comment;
	wo.if_name = "sockcap";
	return sc_pcapng_writer_open(out, &wo, diag);
}

int sc_export_pcapng(const char *in, const char *out, const struct sc_export_pcapng_opts *o,
		     struct sc_export_pcapng_stats *st, struct sc_diag *diag)
{
	struct sc_analyze_opts ao = { 0 };
	struct sc_u64map notes;
	struct xctx x = { 0 };
	struct sc_stream_ops ops = { &x, x_open, x_data, x_gap, x_end, NULL };
	size_t pos = 0;
	uint64_t key;
	void *v;
	int rc;

	memset(st, 0, sizeof(*st));
	sc_u64map_init(&notes);
	rc = check_input(in, out, diag);
	if (rc < 0)
		goto out;
	rc = find_mirrors(in, &notes, diag);
	if (rc < 0)
		goto out;
	x.notes = &notes;
	x.st = st;
	x.w = open_out(in, out, o, diag);
	if (!x.w) {
		rc = diag->err;
		goto out;
	}
	st->src.format = "skc";
	rc = sc_streams_skc(in, &ao, &ops, &st->src, diag);
	if (rc >= 0)
		rc = drain(&x, true);
	if (x.werr)
		rc = sc_diag_set(diag, x.werr, 0, "writing %s: %s", strcmp(out, "-") ? out : "standard output",
				 sc_strerror(x.werr));
	st->file_bytes = sc_pcapng_writer_bytes(x.w);
	if (rc < 0)
		sc_pcapng_writer_abort(x.w); /* nothing half-written is left at `out` */
	else
		rc = sc_pcapng_writer_close(x.w, diag);
out:
	while (x.q.n)
		free(q_pop(&x.q));
	free(x.q.h);
	while (sc_u64map_next(&notes, &pos, &key, &v))
		free(v);
	sc_u64map_fini(&notes);
	return rc < 0 ? rc : 0;
}
