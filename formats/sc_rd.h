/* sc_rd.h - the one checked cursor through which sockcap reads untrusted bytes.
 *
 * Every getter checks what remains before it reads.  A short read sets a sticky
 * error (SC_ETRUNC), returns 0 or NULL and leaves the position where it was, so
 * a parser may read a whole structure and check `r->err` once at the end
 * (tcpdump's GET_* rule, without longjmp).  Wire bytes are never cast to
 * structs.  Lengths are compared, not pointers.
 */
#ifndef SC_RD_H
#define SC_RD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sc_err.h"

struct sc_rd {
	const uint8_t *p;   /* next byte to read */
	const uint8_t *end; /* one past the last readable byte */
	int err;            /* 0, or the first error met (sticky) */
};

/* A borrowed view of bytes, valid as long as the buffer it points into. */
struct sc_view {
	const uint8_t *p;
	size_t len;
};

static inline void sc_rd_init(struct sc_rd *r, const void *p, size_t len)
{
	r->p = (const uint8_t *)p;
	r->end = r->p + len;
	r->err = 0;
}

static inline size_t sc_rd_left(const struct sc_rd *r)
{
	return (size_t)(r->end - r->p);
}

/* True when `n` more bytes can be read; otherwise sets the sticky error. */
static inline int sc_rd_need(struct sc_rd *r, size_t n)
{
	if (r->err)
		return 0;
	if (n > sc_rd_left(r)) {
		r->err = SC_ETRUNC;
		return 0;
	}
	return 1;
}

static inline uint8_t sc_rd_u8(struct sc_rd *r)
{
	if (!sc_rd_need(r, 1))
		return 0;
	return *r->p++;
}

static inline uint16_t sc_rd_be16(struct sc_rd *r)
{
	uint16_t v;

	if (!sc_rd_need(r, 2))
		return 0;
	v = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return v;
}

static inline uint32_t sc_rd_be24(struct sc_rd *r)
{
	uint32_t v;

	if (!sc_rd_need(r, 3))
		return 0;
	v = (uint32_t)r->p[0] << 16 | (uint32_t)r->p[1] << 8 | r->p[2];
	r->p += 3;
	return v;
}

static inline uint32_t sc_rd_be32(struct sc_rd *r)
{
	uint32_t v;

	if (!sc_rd_need(r, 4))
		return 0;
	v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return v;
}

static inline uint16_t sc_rd_le16(struct sc_rd *r)
{
	uint16_t v;

	if (!sc_rd_need(r, 2))
		return 0;
	v = (uint16_t)(r->p[0] | (unsigned)r->p[1] << 8);
	r->p += 2;
	return v;
}

static inline uint32_t sc_rd_le32(struct sc_rd *r)
{
	uint32_t v;

	if (!sc_rd_need(r, 4))
		return 0;
	v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
	r->p += 4;
	return v;
}

static inline uint64_t sc_rd_le64(struct sc_rd *r)
{
	uint64_t lo, hi;

	if (!sc_rd_need(r, 8))
		return 0;
	lo = sc_rd_le32(r);
	hi = sc_rd_le32(r);
	return hi << 32 | lo;
}

/* A view of the next `n` bytes, or NULL (and the sticky error) if fewer remain. */
static inline const uint8_t *sc_rd_bytes(struct sc_rd *r, size_t n)
{
	const uint8_t *p;

	if (!sc_rd_need(r, n))
		return NULL;
	p = r->p;
	r->p += n;
	return p;
}

static inline void sc_rd_skip(struct sc_rd *r, size_t n)
{
	(void)sc_rd_bytes(r, n);
}

/* Copy `n` bytes out; on a short read `dst` is zeroed. */
static inline void sc_rd_copy(struct sc_rd *r, void *dst, size_t n)
{
	const uint8_t *p = sc_rd_bytes(r, n);

	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

/* A u16-length-prefixed little-endian string (the .skc `str`). */
static inline struct sc_view sc_rd_str16(struct sc_rd *r)
{
	struct sc_view v = { NULL, 0 };
	uint16_t n = sc_rd_le16(r);
	const uint8_t *p = sc_rd_bytes(r, n);

	if (p) {
		v.p = p;
		v.len = n;
	}
	return v;
}

/* A sub-cursor over the next `n` bytes; the parent advances past them. */
static inline struct sc_rd sc_rd_sub(struct sc_rd *r, size_t n)
{
	struct sc_rd s;
	const uint8_t *p = sc_rd_bytes(r, n);

	sc_rd_init(&s, p ? p : r->p, p ? n : 0);
	if (!p)
		s.err = r->err;
	return s;
}

#endif
