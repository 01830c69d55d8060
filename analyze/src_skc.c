/* src_skc.c - .skc records into conversations.
 *
 * Each socket direction is delivered in stream-offset order.  Records of one
 * socket normally arrive in order; the few that do not (two threads writing
 * one socket) wait in a small per-direction buffer.  LOSS records are gaps at
 * their offsets; an offset hole that no record fills by the time the socket
 * closes (or the capture ends) is a gap too, so every byte the recorder says
 * moved is either delivered or reported missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/streams.h"
#include "formats/sc_u64map.h"
#include "formats/skc.h"
#include "formats/sc_grow.h"

#define PEND_MAX_BYTES (8u << 20) /* out-of-order bytes held per direction */
#define PEND_MAX 4096u            /* out-of-order pieces held per direction */

struct piece {
	uint64_t off, len, ts;
	uint8_t *data; /* NULL: a gap */
};

struct sdir {
	uint64_t next;     /* stream offset of the next byte to deliver */
	struct piece *pend; /* sorted by offset, all > next */
	size_t npend, cap;
	uint64_t pend_bytes;
};

struct ssock {
	struct sc_conn conn;
	void *st; /* the consumer's */
	struct sdir d[2];  /* 0: egress (sent by the local process), 1: ingress */
	uint64_t last_ts;
};

struct src {
	const struct sc_analyze_opts *o;
	const struct sc_stream_ops *ops;
	struct sc_analyze_result *res;
	struct sc_u64map socks;
	struct sc_u64map comms; /* pid -> char[17] */
	uint64_t real0, mono0;
	bool have_clock;
	uint64_t last_ts;
};

static uint64_t wall(const struct src *s, uint64_t mono)
{
	if (!s->have_clock || !mono)
		return mono;
	return s->real0 + (mono - s->mono0);
}

static int deliver(struct src *s, struct ssock *k, int dir, const struct piece *p)
{
	uint64_t ts = wall(s, p->ts);

	if (p->data)
		return s->ops->data(s->ops->ctx, k->st, dir == 0, ts, p->off, p->data, (size_t)p->len);
	return s->ops->gap(s->ops->ctx, k->st, dir == 0, ts, p->off, p->len);
}

/* Deliver the part of `p` (which starts at or before d->next) not delivered
 * yet, and move d->next past it. */
static int deliver_new(struct src *s, struct ssock *k, int dir, struct piece p)
{
	struct sdir *d = &k->d[dir];
	uint64_t skip = d->next - p.off;
	int rc;

	p.off += skip;
	p.len -= skip;
	if (p.data)
		p.data += skip;
	rc = deliver(s, k, dir, &p);
	d->next = p.off + p.len;
	return rc;
}

/* Deliver waiting pieces that have become contiguous. */
static int drain(struct src *s, struct ssock *k, int dir)
{
	struct sdir *d = &k->d[dir];
	size_t i = 0;
	int rc = 0;

	while (i < d->npend && d->pend[i].off <= d->next && rc >= 0) {
		if (d->pend[i].off + d->pend[i].len > d->next)
			rc = deliver_new(s, k, dir, d->pend[i]);
		free(d->pend[i].data);
		d->pend_bytes -= d->pend[i].len;
		i++;
	}
	if (i) {
		memmove(d->pend, d->pend + i, (d->npend - i) * sizeof(*d->pend));
		d->npend -= i;
	}
	return rc;
}

/* Declare the hole before the first waiting piece (or up to `upto`) lost. */
static int give_up_hole(struct src *s, struct ssock *k, int dir, uint64_t upto, uint64_t ts)
{
	struct sdir *d = &k->d[dir];
	uint64_t end = d->npend ? d->pend[0].off : upto;
	int rc = 0;

	if (end > d->next) {
		struct piece gap = { d->next, end - d->next, ts, NULL };

		rc = deliver(s, k, dir, &gap);
		d->next = end;
	}
	return rc < 0 ? rc : drain(s, k, dir);
}

static int push(struct src *s, struct ssock *k, int dir, uint64_t off, uint64_t len, uint64_t ts, const uint8_t *data)
{
	struct sdir *d = &k->d[dir];
	struct piece p = { off, len, ts, (uint8_t *)data };
	int rc;

	if (len == 0)
		return 0;
	k->last_ts = ts;
	if (off + len <= d->next)
		return 0; /* already delivered: a duplicate */
	if (off <= d->next) {
		rc = deliver_new(s, k, dir, p);
		return rc < 0 ? rc : drain(s, k, dir);
	}
	/* Ahead of the stream: wait for the bytes before it. */
	if (d->npend == d->cap) {
		struct piece *np = sc_grow(d->pend, &d->cap, sizeof(*np), 8);

		if (!np)
			return -ENOMEM;
		d->pend = np;
	}
	if (data) {
		p.data = malloc((size_t)len);
		if (!p.data)
			return -ENOMEM;
		memcpy(p.data, data, (size_t)len);
	}
	size_t i = d->npend;

	while (i > 0 && d->pend[i - 1].off > p.off)
		i--;
	memmove(&d->pend[i + 1], &d->pend[i], (d->npend - i) * sizeof(*d->pend));
	d->pend[i] = p;
	d->npend++;
	d->pend_bytes += data ? len : 0;
	if (d->pend_bytes > PEND_MAX_BYTES || d->npend > PEND_MAX)
		return give_up_hole(s, k, dir, 0, ts);
	return 0;
}

static const char *comm_of(struct src *s, uint32_t pid)
{
	const char *c = sc_u64map_get(&s->comms, pid);

	return c ? c : "";
}

static struct ssock *sock_new(struct src *s, uint64_t id, uint32_t pid, uint64_t ts, bool *err)
{
	struct ssock *k = calloc(1, sizeof(*k));

	*err = false;
	if (!k || sc_u64map_put(&s->socks, id, k) < 0) {
		free(k);
		*err = true;
		return NULL;
	}
	k->conn.src_id = id;
	k->conn.pid = pid;
	snprintf(k->conn.comm, sizeof(k->conn.comm), "%s", comm_of(s, pid));
	k->conn.midstream = true; /* until a SOCK_OPEN says otherwise */
	k->conn.client_is_egress = true;
	k->conn.open_ns = wall(s, ts);
	return k;
}

static int sock_begin(struct src *s, struct ssock *k, bool roles_known)
{
	k->st = s->ops->open(s->ops->ctx, &k->conn, roles_known);
	if (!k->st)
		return -ENOMEM;
	s->res->connections++;
	return 0;
}

/* The socket for a DATA or LOSS record, created if its SOCK_OPEN was lost. */
static struct ssock *sock_for(struct src *s, uint64_t id, uint32_t pid, uint64_t ts, int *rc)
{
	struct ssock *k = sc_u64map_get(&s->socks, id);
	bool err;

	*rc = 0;
	if (k)
		return k;
	k = sock_new(s, id, pid, ts, &err);
	if (!k) {
		*rc = -ENOMEM;
		return NULL;
	}
	*rc = sock_begin(s, k, false);
	return *rc < 0 ? NULL : k;
}

static int sock_end(struct src *s, struct ssock *k, uint64_t ts, bool closed, const uint64_t *final_len)
{
	int rc = 0;

	for (int dir = 0; dir < 2 && rc >= 0; dir++) {
		struct sdir *d = &k->d[dir];

		while (d->npend && rc >= 0)
			rc = give_up_hole(s, k, dir, 0, ts);
		if (rc >= 0 && final_len && final_len[dir] > d->next)
			rc = give_up_hole(s, k, dir, final_len[dir], ts);
	}
	if (closed)
		k->conn.close_ns = wall(s, ts);
	{
		/* The consumer releases its state whatever happened before. */
		int rc2 = s->ops->end(s->ops->ctx, k->st, wall(s, ts), closed);

		if (rc >= 0)
			rc = rc2;
	}
	sc_u64map_del(&s->socks, k->conn.src_id);
	for (int dir = 0; dir < 2; dir++) {
		for (size_t i = 0; i < k->d[dir].npend; i++)
			free(k->d[dir].pend[i].data);
		free(k->d[dir].pend);
	}
	free(k);
	return rc;
}

static void copy_str(char *dst, size_t n, struct sc_view v)
{
	size_t k = v.len < n - 1 ? v.len : n - 1;

	if (k)
		memcpy(dst, v.p, k);
	dst[k] = '\0';
}

static int on_record(struct src *s, const struct sc_skc_rec *r)
{
	int rc = 0;

	switch (r->type) {
	case SC_SKC_CAPTURE_INFO:
		if (!s->have_clock) {
			s->have_clock = true;
			s->real0 = r->u.info.start_real_ns;
			s->mono0 = r->u.info.start_mono_ns;
			s->res->start_ns = r->u.info.start_real_ns;
			copy_str(s->res->hostname, sizeof(s->res->hostname), r->u.info.hostname);
			copy_str(s->res->kernel, sizeof(s->res->kernel), r->u.info.kernel);
			copy_str(s->res->tool, sizeof(s->res->tool), r->u.info.tool);
			copy_str(s->res->options, sizeof(s->res->options), r->u.info.options);
		}
		break;
	case SC_SKC_PROCESS: {
		char *c = sc_u64map_get(&s->comms, r->u.proc.pid);
		struct sc_process p;

		if (!c) {
			c = calloc(1, 17);
			if (!c || sc_u64map_put(&s->comms, r->u.proc.pid, c) < 0) {
				free(c);
				return -ENOMEM;
			}
		}
		copy_str(c, 17, r->u.proc.comm);
		p.pid = r->u.proc.pid;
		p.ppid = r->u.proc.ppid;
		p.comm = c;
		if (s->ops->process)
			rc = s->ops->process(s->ops->ctx, &p);
		break;
	}
	case SC_SKC_SOCK_OPEN: {
		const struct sc_skc_sock_open *o = &r->u.open;
		struct ssock *k = sc_u64map_get(&s->socks, o->sock_id);
		bool err, fresh = !k;

		if (!k) {
			k = sock_new(s, o->sock_id, o->pid, o->ts_ns, &err);
			if (!k)
				return -ENOMEM;
		}
		k->conn.pid = o->pid;
		snprintf(k->conn.comm, sizeof(k->conn.comm), "%s", comm_of(s, o->pid));
		k->conn.fd_plus1 = o->fd >= 0 ? (uint32_t)o->fd + 1 : 0;
		k->conn.family = o->family;
		k->conn.local = o->local;
		k->conn.remote = o->remote;
		copy_str(k->conn.unix_path, sizeof(k->conn.unix_path), o->unix_path);
		k->conn.midstream = (o->flags & SC_SOCK_F_MIDSTREAM) != 0;
		k->conn.open_ns = wall(s, o->ts_ns);
		if (o->how == SC_HOW_CONNECT) {
			k->conn.role = SC_ROLE_CLIENT;
			k->conn.client_is_egress = true;
		} else if (o->how == SC_HOW_ACCEPT) {
			k->conn.role = SC_ROLE_SERVER;
			k->conn.client_is_egress = false;
		}
		if (fresh) {
			k->d[0].next = o->base_sent;
			k->d[1].next = o->base_recv;
			rc = sock_begin(s, k, o->how == SC_HOW_CONNECT || o->how == SC_HOW_ACCEPT);
		}
		break;
	}
	case SC_SKC_DATA: {
		const struct sc_skc_data *d = &r->u.data;
		struct ssock *k = sock_for(s, d->sock_id, d->pid, d->ts_ns, &rc);

		s->res->bytes_captured += d->cap_len;
		if (k)
			rc = push(s, k, d->dir ? 1 : 0, d->offset, d->cap_len, d->ts_ns, d->payload);
		break;
	}
	case SC_SKC_LOSS: {
		const struct sc_skc_loss *l = &r->u.loss;
		struct ssock *k;

		s->res->bytes_lost += l->len;
		if (!l->sock_id || !l->len || (l->dir != SC_DIR_EGRESS && l->dir != SC_DIR_INGRESS))
			break;
		k = sock_for(s, l->sock_id, l->pid, l->ts_ns, &rc);
		if (k)
			rc = push(s, k, l->dir, l->offset, l->len, l->ts_ns, NULL);
		break;
	}
	case SC_SKC_SOCK_CLOSE: {
		const struct sc_skc_sock_close *c = &r->u.close;
		struct ssock *k = sc_u64map_get(&s->socks, c->sock_id);
		uint64_t lens[2] = { c->sent_bytes, c->recv_bytes };

		if (k)
			rc = sock_end(s, k, c->ts_ns, true, lens);
		break;
	}
	case SC_SKC_TRAILER:
		s->res->end_ns = r->u.trailer.end_real_ns;
		break;
	}
	return rc;
}

int sc_streams_skc(const char *path, const struct sc_analyze_opts *o, const struct sc_stream_ops *ops,
		   struct sc_analyze_result *res, struct sc_diag *diag)
{
	struct src s = { 0 };
	struct sc_skc_reader *r;
	struct sc_skc_rec rec;
	uint64_t n = 0;
	int err, rc;

	s.o = o;
	s.ops = ops;
	s.res = res;
	sc_u64map_init(&s.socks);
	sc_u64map_init(&s.comms);
	r = sc_skc_reader_open(path, &err, diag);
	if (!r)
		return err;
	while ((rc = sc_skc_reader_next(r, &rec)) > 0) {
		rc = o->stop && *o->stop ? -EINTR : on_record(&s, &rec);
		if (rc < 0)
			break;
		if (o->progress && (++n & 0x3fff) == 0)
			o->progress(o->progress_ctx, sc_skc_reader_stats(r)->file_bytes);
	}
	if (rc < 0) {
		sc_diag_set(diag, rc, 0, "%s: %s", path, sc_strerror(rc));
	} else {
		/* Sockets still open when the capture ended. */
		size_t pos = 0;
		uint64_t key;
		void *v;
		const struct sc_skc_stats *st = sc_skc_reader_stats(r);
		uint64_t end_ts = 0;

		while (sc_u64map_next(&s.socks, &pos, &key, &v))
			if (((struct ssock *)v)->last_ts > end_ts)
				end_ts = ((struct ssock *)v)->last_ts;
		while (rc >= 0 && s.socks.n) {
			pos = 0;
			if (!sc_u64map_next(&s.socks, &pos, &key, &v))
				break;
			rc = sock_end(&s, v, end_ts, false, NULL);
		}
		if (rc < 0)
			sc_diag_set(diag, rc, 0, "%s: %s", path, sc_strerror(rc));
		res->file_bytes = st->file_bytes;
		res->status = st->damaged_blocks ? "damaged" : st->unfinished ? "unfinished" : "complete";
		size_t off = 0;

		for (size_t i = 0; i < sc_skc_reader_ndamage(r) && off < sizeof(res->damage) - 1; i++) {
			int w = snprintf(res->damage + off, sizeof(res->damage) - off, "%s%s", i ? "\n" : "",
					 sc_skc_reader_damage(r, i)->msg);

			if (w > 0)
				off += (size_t)w;
		}
		if (!res->end_ns && end_ts)
			res->end_ns = wall(&s, end_ts);
	}
	{
		size_t pos = 0;
		uint64_t key;
		void *v;

		while (sc_u64map_next(&s.socks, &pos, &key, &v)) {
			struct ssock *k = v;

			if (k->st) /* NULL: its open failed, there is nothing to release */
				(void)ops->end(ops->ctx, k->st, 0, false);
			for (int dir = 0; dir < 2; dir++) {
				for (size_t i = 0; i < k->d[dir].npend; i++)
					free(k->d[dir].pend[i].data);
				free(k->d[dir].pend);
			}
			free(k);
		}
		pos = 0;
		while (sc_u64map_next(&s.comms, &pos, &key, &v))
			free(v);
	}
	sc_u64map_fini(&s.socks);
	sc_u64map_fini(&s.comms);
	sc_skc_reader_close(r);
	return rc < 0 ? rc : 0;
}
