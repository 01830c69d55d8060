#include "analyze/arena.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 16384u

struct sc_arena_chunk {
	struct sc_arena_chunk *next;
	size_t size, used;
	max_align_t data[]; /* aligned payload */
};

void sc_arena_init(struct sc_arena *a, size_t cap)
{
	a->head = NULL;
	a->used = 0;
	a->cap = cap;
}

void sc_arena_reset(struct sc_arena *a)
{
	struct sc_arena_chunk *c = a->head;

	if (c) {
		struct sc_arena_chunk *n = c->next;

		while (n) {
			struct sc_arena_chunk *nn = n->next;

			free(n);
			n = nn;
		}
		c->next = NULL;
		c->used = 0;
		/* A chunk grown for one big body is not kept for every later one. */
		if (c->size > 4 * CHUNK_MIN) {
			free(c);
			a->head = NULL;
		}
	}
	a->used = 0;
}

void sc_arena_fini(struct sc_arena *a)
{
	sc_arena_reset(a);
	free(a->head);
	a->head = NULL;
}

void *sc_arena_alloc(struct sc_arena *a, size_t n)
{
	const size_t al = sizeof(max_align_t);
	size_t need = (n + al - 1) / al * al;
	struct sc_arena_chunk *c = a->head;

	if (need < n || need > a->cap || a->used + need > a->cap)
		return NULL;
	if (!c || c->size - c->used < need) {
		size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (uint8_t *)c->data + c->used;

	c->used += need;
	a->used += need;
	return p;
}

struct sc_view sc_arena_dup(struct sc_arena *a, const void *p, size_t n)
{
	struct sc_view v = { NULL, 0 };
	uint8_t *d = sc_arena_alloc(a, n ? n : 1);

	if (!d)
		return v;
	if (n)
		memcpy(d, p, n);
	v.p = d;
	v.len = n;
	return v;
}
