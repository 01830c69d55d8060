/* fuzz_hpack.c - libFuzzer target for the HPACK decoder (analyze/hpack.c).
 *
 * Two decoders run through a sequence of header blocks, as on one direction
 * of a connection, with the connection-level events between blocks driven by
 * the input:
 *
 *   byte 0     bits 0-3: blocks - 1; bits 4-5: initial SETTINGS_HEADER_TABLE_SIZE
 *              (4096, 256, 0, 65536); bit 6: small string and header list
 *              caps; bit 7: a 96-byte cap on stored table content
 *   per block  ctl byte:  0x80 call sc_hpack_set_unknown() on both decoders
 *                         0x40 then sc_hpack_set_max_table_size(next byte * 32)
 *                         0x20 the first decoder's callback stops at field 3
 *                         0x10 call sc_hpack_set_unknown() on the second only
 *              2-byte big-endian length (clipped to what is left), the block
 *
 * Decoder A is the reference; decoder B forgets its table at every point A
 * does and at more.  The unknown state must never produce a wrong field, so
 * while A decodes a block fully, B must too, with the same fields, except
 * that B may flag a name or value unknown (and must where A does).
 *
 * Also checked: every view is read again after the call returns (views live
 * until the next decode), unknown parts have empty views, and a table never
 * exceeds its maximum size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/hpack.h"

#define UNKNOWN (SC_HPACK_NAME_UNKNOWN | SC_HPACK_VALUE_UNKNOWN)

struct fuzz_ctx {
	struct sc_hpack_field *f; /* A's fields (views into A, valid until A's next decode) */
	size_t n, cap;
	size_t cmp; /* B: next field of A to compare with */
	unsigned stop_at;
	bool oom;
	unsigned sum;
};

static unsigned touch(struct sc_view v)
{
	unsigned s = 0;

	for (size_t i = 0; i < v.len; i++)
		s += v.p[i];
	return s;
}

static void check_field(const struct sc_hpack_field *f)
{
	if (!f->name.p || !f->value.p)
		__builtin_trap();
	if ((f->flags & SC_HPACK_NAME_UNKNOWN) && f->name.len)
		__builtin_trap();
	if ((f->flags & SC_HPACK_VALUE_UNKNOWN) && f->value.len)
		__builtin_trap();
	if (f->flags & ~(UNKNOWN | SC_HPACK_NEVER_INDEXED))
		__builtin_trap();
}

static int emit_a(void *arg, const struct sc_hpack_field *f)
{
	struct fuzz_ctx *c = arg;

	check_field(f);
	c->sum += touch(f->name) + touch(f->value);
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct sc_hpack_field *nf = realloc(c->f, ncap * sizeof(*nf));

		if (!nf) {
			c->oom = true;
			return 1;
		}
		c->f = nf;
		c->cap = ncap;
	}
	c->f[c->n++] = *f;
	if (c->n == c->stop_at)
		return 1;
	return 0;
}

static bool same(struct sc_view a, struct sc_view b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static int emit_b(void *arg, const struct sc_hpack_field *f)
{
	struct fuzz_ctx *c = arg;
	const struct sc_hpack_field *a;

	check_field(f);
	c->sum += touch(f->name) + touch(f->value);
	if (c->cmp >= c->n)
		__builtin_trap(); /* B delivered a field A did not */
	a = &c->f[c->cmp++];
	if ((a->flags & SC_HPACK_NEVER_INDEXED) != (f->flags & SC_HPACK_NEVER_INDEXED))
		__builtin_trap();
	/* B knows no more than A: what A does not know, B does not either. */
	if ((a->flags & UNKNOWN) & ~(f->flags & UNKNOWN))
		__builtin_trap();
	if (!(f->flags & SC_HPACK_NAME_UNKNOWN) && !same(a->name, f->name))
		__builtin_trap();
	if (!(f->flags & SC_HPACK_VALUE_UNKNOWN) && !same(a->value, f->value))
		__builtin_trap();
	return 0;
}

static void check_table(struct sc_hpack *h, struct fuzz_ctx *c)
{
	if (sc_hpack_table_size(h) > sc_hpack_table_max_size(h))
		__builtin_trap();
	for (size_t i = 0; i < sc_hpack_table_len(h); i++) {
		struct sc_hpack_field f;

		if (sc_hpack_table_get(h, i, &f) == 0)
			c->sum += touch(f.name) + touch(f.value);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t sizes[4] = { 4096, 256, 0, 65536 };
	struct sc_hpack *a = NULL, *b = NULL;
	struct sc_hpack_limits l;
	struct sc_diag diag;
	struct fuzz_ctx c = { 0 };
	unsigned nblocks;
	size_t pos = 1;

	if (size < 1)
		return 0;
	nblocks = (data[0] & 0x0f) + 1u;
	a = sc_hpack_new(sizes[(data[0] >> 4) & 3]);
	b = sc_hpack_new(sizes[(data[0] >> 4) & 3]);
	if (!a || !b)
		goto out;
	sc_hpack_limits_default(&l);
	if (data[0] & 0x40) {
		l.max_string_len = 64;
		l.max_header_list = 512;
		l.max_fields = 8;
	}
	if (data[0] & 0x80)
		l.max_table_mem = 96;
	if (sc_hpack_set_limits(a, &l) != 0 || sc_hpack_set_limits(b, &l) != 0)
		__builtin_trap();
	for (unsigned blk_no = 0; blk_no < nblocks && pos < size; blk_no++) {
		uint8_t ctl = data[pos++];
		size_t len;
		bool comparing;
		int ra, rb;

		if (ctl & 0x80) {
			sc_hpack_set_unknown(a);
			sc_hpack_set_unknown(b);
		}
		if (ctl & 0x10)
			sc_hpack_set_unknown(b);
		if ((ctl & 0x40) && pos < size) {
			sc_hpack_set_max_table_size(a, (uint32_t)data[pos] * 32);
			sc_hpack_set_max_table_size(b, (uint32_t)data[pos] * 32);
			pos++;
		}
		if (size - pos < 2)
			break;
		len = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		/* An exact-size copy, so that ASan sees a read past the block. */
		uint8_t *blk = malloc(len ? len : 1);

		if (!blk)
			break;
		memcpy(blk, data + pos, len);
		pos += len;
		c.n = c.cmp = 0;
		c.stop_at = ctl & 0x20 ? 3 : 0;
		ra = sc_hpack_decode(a, blk, len, emit_a, &c, &diag);
		/* A's errors other than the header list cap are sticky, and then
		 * it has nothing more to say; B is not bound by it either. */
		comparing = ra == 0 && !c.oom;
		rb = sc_hpack_decode(b, blk, len, comparing ? emit_b : NULL, &c, &diag);
		free(blk);
		if (comparing && (rb != 0 || c.cmp != c.n))
			__builtin_trap(); /* B failed or fell short where A decoded the block */
		for (size_t i = 0; i < c.n; i++)
			c.sum += touch(c.f[i].name) + touch(c.f[i].value);
		check_table(a, &c);
		check_table(b, &c);
	}
out:
	free(c.f);
	sc_hpack_free(a);
	sc_hpack_free(b);
	return 0;
}
