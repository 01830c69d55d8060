#include "analyze/txb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sc_txb_init(struct sc_txb *b, uint64_t conn_id, uint64_t max_body)
{
	struct sc_arena a = b->arena;

	/* Keep the arena's chunk and the body buffers across transactions. */
	uint8_t *body0 = b->body[0], *body1 = b->body[1];
	size_t cap0 = b->body_cap[0], cap1 = b->body_cap[1];
	struct sc_hdr *h0 = b->tx.req_hdrs.v, *h1 = b->tx.resp_hdrs.v;
	size_t hc0 = b->tx.req_hdrs.cap, hc1 = b->tx.resp_hdrs.cap;

	memset(b, 0, sizeof(*b));
	b->arena = a;
	b->body[0] = body0;
	b->body[1] = body1;
	b->body_cap[0] = cap0;
	b->body_cap[1] = cap1;
	b->tx.req_hdrs.v = h0;
	b->tx.req_hdrs.cap = hc0;
	b->tx.resp_hdrs.v = h1;
	b->tx.resp_hdrs.cap = hc1;
	b->tx.conn_id = conn_id;
	b->tx.grpc_status = -1;
	b->max_body = max_body;
	if (!b->arena.cap)
		sc_arena_init(&b->arena, SC_TXB_ARENA_CAP);
}

void sc_txb_fini(struct sc_txb *b)
{
	sc_arena_fini(&b->arena);
	free(b->body[0]);
	free(b->body[1]);
	free(b->tx.req_hdrs.v);
	free(b->tx.resp_hdrs.v);
	memset(b, 0, sizeof(*b));
}

int sc_txb_set(struct sc_txb *b, struct sc_view *field, const void *p, size_t n)
{
	struct sc_view v = sc_arena_dup(&b->arena, p, n);

	if (!v.p) {
		b->overflow = true;
		field->p = NULL;
		field->len = 0;
		return -ENOMEM;
	}
	*field = v;
	return 0;
}

int sc_txb_add_hdr(struct sc_txb *b, enum sc_txb_dir dir, const void *name, size_t nlen, const void *value,
		   size_t vlen, uint8_t flags)
{
	struct sc_hdr_list *l = dir == SC_TXB_REQ ? &b->tx.req_hdrs : &b->tx.resp_hdrs;
	struct sc_hdr h = { { NULL, 0 }, { NULL, 0 }, flags };

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct sc_hdr *nv;

		if (ncap > 100000) { /* more fields than any decoder accepts */
			b->overflow = true;
			return -E2BIG;
		}
		nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv) {
			b->overflow = true;
			return -ENOMEM;
		}
		l->v = nv;
		l->cap = ncap;
	}
	if (name && sc_txb_set(b, &h.name, name, nlen) < 0)
		return -ENOMEM;
	if (value && sc_txb_set(b, &h.value, value, vlen) < 0)
		return -ENOMEM;
	l->v[l->n++] = h;
	return 0;
}

int sc_txb_body(struct sc_txb *b, enum sc_txb_dir dir, const uint8_t *p, size_t n)
{
	uint64_t *total = dir == SC_TXB_REQ ? &b->tx.req_body_bytes : &b->tx.resp_body_bytes;
	uint64_t kept = *total < b->max_body ? *total : b->max_body;
	size_t k = 0;

	if (kept < b->max_body) {
		uint64_t room = b->max_body - kept;

		k = n < room ? n : (size_t)room;
	}
	if (k) {
		if (kept + k > b->body_cap[dir]) {
			size_t ncap = b->body_cap[dir] ? b->body_cap[dir] : 4096;
			uint8_t *nb;

			while (ncap < kept + k)
				ncap *= 2;
			if (ncap > b->max_body)
				ncap = (size_t)b->max_body;
			nb = realloc(b->body[dir], ncap);
			if (!nb) {
				b->overflow = true;
				*total += n;
				return -ENOMEM;
			}
			b->body[dir] = nb;
			b->body_cap[dir] = ncap;
		}
		memcpy(b->body[dir] + kept, p, k);
	}
	*total += n;
	return 0;
}

int sc_txb_emit(struct sc_txb *b, const struct sc_dec_env *env, struct sc_conn *c)
{
	struct sc_tx *t = &b->tx;
	int rc = 0;

	for (int d = 0; d < 2; d++) {
		uint64_t total = d == 0 ? t->req_body_bytes : t->resp_body_bytes;
		struct sc_view *v = d == 0 ? &t->req_body : &t->resp_body;
		bool *cut = d == 0 ? &t->req_body_cut : &t->resp_body_cut;
		uint64_t kept = total < b->max_body ? total : b->max_body;

		v->p = kept ? b->body[d] : NULL;
		v->len = (size_t)kept;
		*cut = *cut || kept < total;
	}
	t->conn_id = c->id;
	if (env->sink->tx)
		rc = env->sink->tx(env->sink->ctx, t);
	env->stats->transactions++;
	if (t->truncated)
		env->stats->truncated++;
	if (!t->complete)
		env->stats->incomplete_tx++;
	c->transactions++;
	t->req_hdrs.n = 0;
	t->resp_hdrs.n = 0;
	sc_arena_reset(&b->arena);
	return rc;
}

const struct sc_hdr *sc_txb_find_hdr(const struct sc_hdr_list *l, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].name.len == n && strncasecmp((const char *)l->v[i].name.p, name, n) == 0)
			return &l->v[i];
	return NULL;
}
