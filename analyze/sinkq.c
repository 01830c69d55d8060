/* sinkq.c - a sink that runs another sink on its own thread (sinkq.h).
 *
 * Records are written into chunks that never move, so a copied transaction
 * holds real pointers to its copied bytes and the worker passes it on as it
 * is.  Chunks go to the worker whole (one lock round trip per chunk, not per
 * record) and come back to a free list.
 */
#include "analyze/sinkq.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum rec_type {
	REC_CONN_END = 1,
	REC_TX,
	REC_ANOMALY,
	REC_PROCESS,
};

struct rec {
	uint32_t type;
	uint32_t pad;
	size_t size; /* of the whole record, a multiple of REC_ALIGN */
};

#define REC_ALIGN alignof(max_align_t)

struct chunk {
	struct chunk *next;
	size_t cap, len;
	alignas(max_align_t) uint8_t data[];
};

struct sc_sinkq {
	struct sc_sink target;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, space;
	struct chunk *head, *tail; /* full chunks, oldest first */
	struct chunk *free;        /* standard-size chunks to reuse */
	unsigned in_flight;        /* chunks queued or being written */
	bool done;
	atomic_int err;            /* first error of a target callback */
	struct chunk *cur;         /* the chunk being filled (producer only) */
};

static size_t round_up(size_t n)
{
	return (n + REC_ALIGN - 1) & ~(REC_ALIGN - 1);
}

/* ---- worker ------------------------------------------------------------------------- */

static int deliver(struct sc_sinkq *q, const struct rec *r)
{
	const struct sc_sink *t = &q->target;
	const void *body = r + 1;

	switch (r->type) {
	case REC_CONN_END:
		return t->conn_end ? t->conn_end(t->ctx, body) : 0;
	case REC_TX:
		return t->tx ? t->tx(t->ctx, body) : 0;
	case REC_ANOMALY:
		return t->anomaly ? t->anomaly(t->ctx, body) : 0;
	case REC_PROCESS:
		return t->process ? t->process(t->ctx, body) : 0;
	}
	return -EINVAL;
}

static void *worker(void *arg)
{
	struct sc_sinkq *q = arg;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		struct chunk *c;

		while (!q->head && !q->done)
			pthread_cond_wait(&q->work, &q->mu);
		c = q->head;
		if (!c)
			break;
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->mu);

		/* After an error the rest is dropped: the load is rolled back. */
		for (size_t off = 0; off < c->len && !atomic_load(&q->err);) {
			const struct rec *r = (const struct rec *)(c->data + off);
			int rc = deliver(q, r);

			if (rc < 0)
				atomic_store(&q->err, rc);
			off += r->size;
		}

		pthread_mutex_lock(&q->mu);
		q->in_flight--;
		if (c->cap == SC_SINKQ_CHUNK) {
			c->next = q->free;
			q->free = c;
		} else {
			free(c);
		}
		pthread_cond_signal(&q->space);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* ---- producer ----------------------------------------------------------------------- */

static void submit(struct sc_sinkq *q)
{
	struct chunk *c = q->cur;

	q->cur = NULL;
	if (!c)
		return;
	if (!c->len) {
		free(c);
		return;
	}
	c->next = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->in_flight++;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
}

/* Room for a record of `size` bytes (rounded), or NULL with *rc set. */
static struct rec *reserve(struct sc_sinkq *q, uint32_t type, size_t size, int *rc)
{
	struct chunk *c = q->cur;
	struct rec *r;

	*rc = atomic_load(&q->err);
	if (*rc < 0)
		return NULL;
	if (size > SIZE_MAX / 2) {
		*rc = -ENOMEM;
		return NULL;
	}
	size = round_up(size);
	if (!c || c->cap - c->len < size) {
		size_t cap = size > SC_SINKQ_CHUNK ? size : SC_SINKQ_CHUNK;

		submit(q);
		c = NULL;
		pthread_mutex_lock(&q->mu);
		while (q->in_flight >= SC_SINKQ_CHUNKS && !atomic_load(&q->err))
			pthread_cond_wait(&q->space, &q->mu);
		if (cap == SC_SINKQ_CHUNK && q->free) {
			c = q->free;
			q->free = c->next;
		}
		pthread_mutex_unlock(&q->mu);
		*rc = atomic_load(&q->err);
		if (*rc < 0) {
			free(c);
			return NULL;
		}
		if (!c) {
			c = malloc(sizeof(*c) + cap);
			if (!c) {
				*rc = -ENOMEM;
				return NULL;
			}
			c->cap = cap;
		}
		c->len = 0;
		q->cur = c;
	}
	r = (struct rec *)(c->data + c->len);
	r->type = type;
	r->pad = 0;
	r->size = size;
	c->len += size;
	return r;
}

static uint8_t *put_view(struct sc_view *dst, struct sc_view src, uint8_t *o)
{
	/* A view with a pointer and no bytes stays non-NULL: NULL means unknown. */
	dst->len = src.len;
	dst->p = src.p ? o : NULL;
	if (src.p && src.len) {
		memcpy(o, src.p, src.len);
		o += src.len;
	}
	return o;
}

static size_t hdrs_bytes(const struct sc_hdr_list *l)
{
	size_t n = l->n * sizeof(struct sc_hdr);

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].name.len + l->v[i].value.len;
	return n;
}

static uint8_t *put_hdrs(struct sc_hdr_list *dst, const struct sc_hdr_list *src, struct sc_hdr *v, uint8_t *o)
{
	dst->v = src->n ? v : NULL;
	dst->n = dst->cap = src->n;
	for (size_t i = 0; i < src->n; i++) {
		v[i].flags = src->v[i].flags;
		o = put_view(&v[i].name, src->v[i].name, o);
		o = put_view(&v[i].value, src->v[i].value, o);
	}
	return o;
}

static int q_conn_begin(void *ctx, struct sc_conn *c)
{
	struct sc_sinkq *q = ctx;
	int rc = atomic_load(&q->err);

	if (rc < 0)
		return rc;
	return q->target.conn_begin ? q->target.conn_begin(q->target.ctx, c) : 0;
}

static int q_conn_end(void *ctx, const struct sc_conn *c)
{
	struct sc_sinkq *q = ctx;
	int rc;
	struct rec *r = reserve(q, REC_CONN_END, sizeof(*r) + sizeof(*c), &rc);

	if (!r)
		return rc;
	memcpy(r + 1, c, sizeof(*c));
	return 0;
}

/* The byte views of a transaction, other than its header fields. */
static const size_t tx_views[] = {
	offsetof(struct sc_tx, method),       offsetof(struct sc_tx, scheme),
	offsetof(struct sc_tx, authority),    offsetof(struct sc_tx, path),
	offsetof(struct sc_tx, reason),       offsetof(struct sc_tx, req_body),
	offsetof(struct sc_tx, resp_body),    offsetof(struct sc_tx, content_type),
	offsetof(struct sc_tx, content_encoding),
	offsetof(struct sc_tx, grpc_message),
};

static const struct sc_view *tx_view(const struct sc_tx *t, size_t i)
{
	return (const struct sc_view *)((const char *)t + tx_views[i]);
}

static int q_tx(void *ctx, const struct sc_tx *t)
{
	struct sc_sinkq *q = ctx;
	size_t size = sizeof(struct rec) + sizeof(*t) + hdrs_bytes(&t->req_hdrs) + hdrs_bytes(&t->resp_hdrs);
	struct sc_hdr *hv;
	struct sc_tx *c;
	struct rec *r;
	uint8_t *o;
	int rc;

	for (size_t i = 0; i < sizeof(tx_views) / sizeof(tx_views[0]); i++)
		size += tx_view(t, i)->len;
	r = reserve(q, REC_TX, size, &rc);
	if (!r)
		return rc;
	c = (struct sc_tx *)(r + 1);
	*c = *t; /* scalars; `version` points to a string constant */
	hv = (struct sc_hdr *)(c + 1);
	o = (uint8_t *)(hv + t->req_hdrs.n + t->resp_hdrs.n);
	o = put_hdrs(&c->req_hdrs, &t->req_hdrs, hv, o);
	o = put_hdrs(&c->resp_hdrs, &t->resp_hdrs, hv + t->req_hdrs.n, o);
	for (size_t i = 0; i < sizeof(tx_views) / sizeof(tx_views[0]); i++)
		o = put_view((struct sc_view *)((char *)c + tx_views[i]), *tx_view(t, i), o);
	return 0;
}

static int q_anomaly(void *ctx, const struct sc_anomaly *a)
{
	struct sc_sinkq *q = ctx;
	size_t mlen = a->msg ? strlen(a->msg) + 1 : 0;
	struct sc_anomaly *c;
	struct rec *r;
	int rc;

	r = reserve(q, REC_ANOMALY, sizeof(*r) + sizeof(*a) + mlen, &rc);
	if (!r)
		return rc;
	c = (struct sc_anomaly *)(r + 1);
	*c = *a;
	if (a->msg)
		c->msg = memcpy(c + 1, a->msg, mlen);
	return 0;
}

static int q_process(void *ctx, const struct sc_process *p)
{
	struct sc_sinkq *q = ctx;
	size_t clen = p->comm ? strlen(p->comm) + 1 : 0;
	struct sc_process *c;
	struct rec *r;
	int rc;

	r = reserve(q, REC_PROCESS, sizeof(*r) + sizeof(*p) + clen, &rc);
	if (!r)
		return rc;
	c = (struct sc_process *)(r + 1);
	*c = *p;
	if (p->comm)
		c->comm = memcpy(c + 1, p->comm, clen);
	return 0;
}

/* ---- life cycle --------------------------------------------------------------------- */

int sc_sinkq_start(struct sc_sinkq **qp, const struct sc_sink *target, struct sc_sink *front)
{
	struct sc_sinkq *q = calloc(1, sizeof(*q));
	int rc;

	*qp = NULL;
	if (!q)
		return -ENOMEM;
	q->target = *target;
	atomic_init(&q->err, 0);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->space, NULL);
	rc = pthread_create(&q->thread, NULL, worker, q);
	if (rc) {
		pthread_cond_destroy(&q->space);
		pthread_cond_destroy(&q->work);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return -rc;
	}
	front->ctx = q;
	front->conn_begin = q_conn_begin;
	front->conn_end = q_conn_end;
	front->tx = q_tx;
	front->anomaly = q_anomaly;
	front->process = q_process;
	*qp = q;
	return 0;
}

int sc_sinkq_finish(struct sc_sinkq *q)
{
	int rc;

	if (!q)
		return 0;
	submit(q);
	pthread_mutex_lock(&q->mu);
	q->done = true;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	rc = atomic_load(&q->err);
	while (q->free) {
		struct chunk *c = q->free;

		q->free = c->next;
		free(c);
	}
	pthread_cond_destroy(&q->space);
	pthread_cond_destroy(&q->work);
	pthread_mutex_destroy(&q->mu);
	free(q);
	return rc;
}
