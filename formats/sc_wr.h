/* sc_wr.h - a bounded writer, the mirror of sc_rd.h.
 *
 * Writes into a caller-owned buffer of fixed capacity.  A write that does not
 * fit sets a sticky error (SC_ETOOBIG) and writes nothing, so an encoder may put
 * a whole structure and check `w->err` once.
 */
#ifndef SC_WR_H
#define SC_WR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sc_err.h"

struct sc_wr {
	uint8_t *p;   /* next byte to write */
	uint8_t *end; /* one past the last writable byte */
	int err;
};

static inline void sc_wr_init(struct sc_wr *w, void *p, size_t cap)
{
	w->p = (uint8_t *)p;
	w->end = w->p + cap;
	w->err = 0;
}

static inline size_t sc_wr_left(const struct sc_wr *w)
{
	return (size_t)(w->end - w->p);
}

static inline int sc_wr_room(struct sc_wr *w, size_t n)
{
	if (w->err)
		return 0;
	if (n > sc_wr_left(w)) {
		w->err = SC_ETOOBIG;
		return 0;
	}
	return 1;
}

static inline void sc_wr_u8(struct sc_wr *w, uint8_t v)
{
	if (sc_wr_room(w, 1))
		*w->p++ = v;
}

static inline void sc_wr_le16(struct sc_wr *w, uint16_t v)
{
	if (!sc_wr_room(w, 2))
		return;
	w->p[0] = (uint8_t)v;
	w->p[1] = (uint8_t)(v >> 8);
	w->p += 2;
}

static inline void sc_wr_le32(struct sc_wr *w, uint32_t v)
{
	if (!sc_wr_room(w, 4))
		return;
	w->p[0] = (uint8_t)v;
	w->p[1] = (uint8_t)(v >> 8);
	w->p[2] = (uint8_t)(v >> 16);
	w->p[3] = (uint8_t)(v >> 24);
	w->p += 4;
}

static inline void sc_wr_le64(struct sc_wr *w, uint64_t v)
{
	if (!sc_wr_room(w, 8))
		return;
	sc_wr_le32(w, (uint32_t)v);
	sc_wr_le32(w, (uint32_t)(v >> 32));
}

static inline void sc_wr_be16(struct sc_wr *w, uint16_t v)
{
	if (!sc_wr_room(w, 2))
		return;
	w->p[0] = (uint8_t)(v >> 8);
	w->p[1] = (uint8_t)v;
	w->p += 2;
}

static inline void sc_wr_be32(struct sc_wr *w, uint32_t v)
{
	if (!sc_wr_room(w, 4))
		return;
	w->p[0] = (uint8_t)(v >> 24);
	w->p[1] = (uint8_t)(v >> 16);
	w->p[2] = (uint8_t)(v >> 8);
	w->p[3] = (uint8_t)v;
	w->p += 4;
}

static inline void sc_wr_bytes(struct sc_wr *w, const void *src, size_t n)
{
	if (n == 0 || !sc_wr_room(w, n))
		return;
	memcpy(w->p, src, n);
	w->p += n;
}

static inline void sc_wr_zero(struct sc_wr *w, size_t n)
{
	if (n == 0 || !sc_wr_room(w, n))
		return;
	memset(w->p, 0, n);
	w->p += n;
}

/* A u16-length-prefixed string; longer than 65535 bytes is an error. */
static inline void sc_wr_str16(struct sc_wr *w, const void *s, size_t n)
{
	if (n > UINT16_MAX) {
		if (!w->err)
			w->err = SC_ETOOBIG;
		return;
	}
	if (!sc_wr_room(w, 2 + n))
		return;
	sc_wr_le16(w, (uint16_t)n);
	sc_wr_bytes(w, s, n);
}

#endif
