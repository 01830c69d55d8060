/* sc_grow.h - growing an array by doubling, with the size arithmetic checked.
 *
 *	if (n == cap) {
 *		struct row *t = sc_grow(rows, &cap, sizeof(*t), 64);
 *
 *		if (!t)
 *			return -ENOMEM;
 *		rows = t;
 *	}
 *
 * On failure (no memory, or a size that would overflow) the array and `*cap`
 * are left as they were, so the caller still owns and frees `p`.
 */
#ifndef SC_GROW_H
#define SC_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* `p` reallocated to twice `*cap` elements of `elem` bytes (`min` when
 * `*cap` is 0); `*cap` updated.  NULL on failure. */
static inline void *sc_grow(void *p, size_t *cap, size_t elem, size_t min)
{
	size_t ncap = *cap ? *cap * 2 : min;
	void *np;

	if (ncap <= *cap || elem == 0 || ncap > SIZE_MAX / elem)
		return NULL;
	np = realloc(p, ncap * elem);
	if (np)
		*cap = ncap;
	return np;
}

#endif
