/* sc_u64map.h - a map from 64-bit keys to pointers (open addressing).
 *
 * Used wherever sockcap looks things up by socket id, pid or a hashed
 * connection key.  The map does not own the values.  Any key is allowed,
 * including 0.  Growth doubles the table; memory is O(entries).
 */
#ifndef SC_U64MAP_H
#define SC_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct sc_u64map {
	uint64_t *keys;
	void **vals;    /* NULL marks an empty slot: values must not be NULL */
	size_t cap;     /* power of two, or 0 */
	size_t n;
};

void sc_u64map_init(struct sc_u64map *m);
void sc_u64map_fini(struct sc_u64map *m);

/* The value stored for `key`, or NULL. */
void *sc_u64map_get(const struct sc_u64map *m, uint64_t key);

/* Insert or replace.  `val` must not be NULL.  Returns 0 or -ENOMEM. */
int sc_u64map_put(struct sc_u64map *m, uint64_t key, void *val);

/* Remove `key`; returns its value or NULL if absent. */
void *sc_u64map_del(struct sc_u64map *m, uint64_t key);

/* Iterate: `*pos` starts at 0; returns 1 with *key and *val set, 0 at the end.
 * The map must not be modified during the iteration. */
int sc_u64map_next(const struct sc_u64map *m, size_t *pos, uint64_t *key, void **val);

/* A 64-bit mixing function (splitmix64's finaliser), for building keys. */
uint64_t sc_hash64(uint64_t x);

/* FNV-1a over bytes, then mixed: a key for byte strings (tuples, names). */
uint64_t sc_hash_bytes(const void *p, size_t n, uint64_t seed);

#endif
