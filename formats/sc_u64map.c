#include "sc_u64map.h"

#include <errno.h>
#include <stdlib.h>

uint64_t sc_hash64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint64_t sc_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return sc_hash64(h);
}

void sc_u64map_init(struct sc_u64map *m)
{
	m->keys = NULL;
	m->vals = NULL;
	m->cap = 0;
	m->n = 0;
}

void sc_u64map_fini(struct sc_u64map *m)
{
	free(m->keys);
	free(m->vals);
	sc_u64map_init(m);
}

static size_t slot_of(const struct sc_u64map *m, uint64_t key)
{
	return (size_t)sc_hash64(key) & (m->cap - 1);
}

void *sc_u64map_get(const struct sc_u64map *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (!m->vals[i])
			return NULL;
		if (m->keys[i] == key)
			return m->vals[i];
	}
}

static int grow(struct sc_u64map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	struct sc_u64map nm = { calloc(ncap, sizeof(uint64_t)), calloc(ncap, sizeof(void *)), ncap, 0 };

	if (!nm.keys || !nm.vals || ncap < m->cap) {
		free(nm.keys);
		free(nm.vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->vals[i])
			(void)sc_u64map_put(&nm, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = nm;
	return 0;
}

int sc_u64map_put(struct sc_u64map *m, uint64_t key, void *val)
{
	if (!val)
		return -EINVAL;
	/* Keep the load factor at most 1/2 so that probe runs stay short. */
	if ((m->n + 1) * 2 > m->cap) {
		int rc = grow(m);

		if (rc < 0)
			return rc;
	}
	for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (!m->vals[i]) {
			m->keys[i] = key;
			m->vals[i] = val;
			m->n++;
			return 0;
		}
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	}
}

void *sc_u64map_del(struct sc_u64map *m, uint64_t key)
{
	size_t i, j, mask;
	void *val;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = slot_of(m, key);; i = (i + 1) & mask) {
		if (!m->vals[i])
			return NULL;
		if (m->keys[i] == key)
			break;
	}
	val = m->vals[i];
	m->vals[i] = NULL;
	m->n--;
	/* Backward-shift deletion (no tombstones): move later members of the
	 * probe run into the hole when their home slot allows it. */
	for (j = (i + 1) & mask; m->vals[j]; j = (j + 1) & mask) {
		size_t home = slot_of(m, m->keys[j]);

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->vals[j] = NULL;
			i = j;
		}
	}
	return val;
}

int sc_u64map_next(const struct sc_u64map *m, size_t *pos, uint64_t *key, void **val)
{
	for (; *pos < m->cap; (*pos)++) {
		if (m->vals[*pos]) {
			*key = m->keys[*pos];
			*val = m->vals[*pos];
			(*pos)++;
			return 1;
		}
	}
	return 0;
}
