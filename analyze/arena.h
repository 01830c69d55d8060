/* arena.h - bump allocation freed as one unit (tcpdump's nd_malloc/nd_free_all).
 *
 * Decoded headers and bodies of a transaction live in its arena and are freed
 * together when the transaction has been handed to the sink.  A cap bounds
 * what one arena may hold, so a hostile stream cannot grow it without end.
 */
#ifndef SC_ARENA_H
#define SC_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "formats/sc_rd.h"

struct sc_arena_chunk;

struct sc_arena {
	struct sc_arena_chunk *head; /* current chunk, newest first */
	size_t used;                 /* bytes handed out since the last reset */
	size_t cap;                  /* most bytes handed out between resets */
};

void sc_arena_init(struct sc_arena *a, size_t cap);
/* Free everything but one chunk, for reuse. */
void sc_arena_reset(struct sc_arena *a);
void sc_arena_fini(struct sc_arena *a);

/* `n` bytes aligned for any type, or NULL when out of memory or over the cap. */
void *sc_arena_alloc(struct sc_arena *a, size_t n);

/* A copy of p[0..n) in the arena; on failure a view with p == NULL. */
struct sc_view sc_arena_dup(struct sc_arena *a, const void *p, size_t n);

#endif
