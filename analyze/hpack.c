/* hpack.c - HPACK header block decoder (RFC 7541).
 *
 * The dynamic table is modelled as what it really is for a passive observer:
 * the newest entries the decoder has seen inserted, newest first, possibly
 * followed (flag `old_unknown`) by older entries it never saw.  Wire indices
 * count from the newest entry (§2.3.3), so a model that holds the newest K
 * entries of the real table resolves every reference to them exactly, however
 * many unknown entries lie behind.  Keeping an entry the real table already
 * evicted is harmless (only a broken encoder would refer to it); dropping one
 * it still has only turns later references into "unknown" fields.  The model
 * therefore never evicts before the real table does, and claims the state
 * known again only when the arithmetic proves that the real table has no
 * unknown entry left.  Entries whose name is unknown (a literal naming an
 * unknown entry, inserted with incremental indexing) have an unknown size:
 * the model counts the lower bound value + 32, which keeps both rules sound.
 */
#include "hpack.h"
#include "hpack_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATIC_LEN 61u
#define FIRST_DYNAMIC (STATIC_LEN + 1)
#define ENTRY_OVERHEAD 32u /* RFC 7541 §4.1 */

/* RFC 7541 Appendix A. */
struct static_entry {
	const char *name, *value;
	uint8_t name_len, value_len;
};

#define S(n, v) { n, v, sizeof(n) - 1, sizeof(v) - 1 }
static const struct static_entry static_table[STATIC_LEN] = {
	S(":authority", ""),
	S(":method", "GET"),
	S(":method", "POST"),
	S(":path", "/"),
	S(":path", "/index.html"),
	S(":scheme", "http"),
	S(":scheme", "https"),
	S(":status", "200"),
	S(":status", "204"),
	S(":status", "206"),
	S(":status", "304"),
	S(":status", "400"),
	S(":status", "404"),
	S(":status", "500"),
	S("accept-charset", ""),
	S("accept-encoding", "gzip, deflate"),
	S("accept-language", ""),
	S("accept-ranges", ""),
	S("accept", ""),
	S("access-control-allow-origin", ""),
	S("age", ""),
	S("allow", ""),
	S("authorization", ""),
	S("cache-control", ""),
	S("content-disposition", ""),
	S("content-encoding", ""),
	S("content-language", ""),
	S("content-length", ""),
	S("content-location", ""),
	S("content-range", ""),
	S("content-type", ""),
	S("cookie", ""),
	S("date", ""),
	S("etag", ""),
	S("expect", ""),
	S("expires", ""),
	S("from", ""),
	S("host", ""),
	S("if-match", ""),
	S("if-modified-since", ""),
	S("if-none-match", ""),
	S("if-range", ""),
	S("if-unmodified-since", ""),
	S("last-modified", ""),
	S("link", ""),
	S("location", ""),
	S("max-forwards", ""),
	S("proxy-authenticate", ""),
	S("proxy-authorization", ""),
	S("range", ""),
	S("referer", ""),
	S("refresh", ""),
	S("retry-after", ""),
	S("server", ""),
	S("set-cookie", ""),
	S("strict-transport-security", ""),
	S("transfer-encoding", ""),
	S("user-agent", ""),
	S("vary", ""),
	S("via", ""),
	S("www-authenticate", ""),
};
#undef S

/* ---- Scratch arena --------------------------------------------------------
 * Decoded strings live here until the next decode call.  Chunks never move,
 * so a view handed to the callback stays valid while later fields of the
 * block are decoded.  The header list cap bounds what one block uses (plus
 * one string's worth: a skipped field is rolled back after decoding). */

#define ARENA_FIRST 4096u
#define ARENA_MAX_CHUNK (1u << 20)

struct chunk {
	struct chunk *next;
	size_t cap, used;
	uint8_t data[];
};

struct arena {
	struct chunk *first, *cur;
};

struct arena_mark {
	struct chunk *c;
	size_t used;
};

static void arena_fini(struct arena *a)
{
	struct chunk *c = a->first, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	a->first = a->cur = NULL;
}

/* Keep one small chunk: an idle decoder (one per connection direction)
 * should not hold the memory of its largest block. */
static void arena_reset(struct arena *a)
{
	struct chunk *first = a->first;

	if (!first)
		return;
	if (first->cap != ARENA_FIRST) {
		arena_fini(a);
		return;
	}
	a->first = first->next;
	arena_fini(a);
	first->next = NULL;
	first->used = 0;
	a->first = a->cur = first;
}

static struct chunk *chunk_new(size_t cap)
{
	struct chunk *c;

	if (cap > SIZE_MAX - sizeof(*c))
		return NULL;
	c = malloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	c->next = NULL;
	c->cap = cap;
	c->used = 0;
	return c;
}

/* `n` bytes, or NULL when out of memory. */
static uint8_t *arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c;
	size_t cap;

	if (!a->first) {
		a->first = chunk_new(n > ARENA_FIRST ? n : ARENA_FIRST);
		if (!a->first)
			return NULL;
		a->cur = a->first;
	}
	for (;;) {
		c = a->cur;
		if (n <= c->cap - c->used) {
			c->used += n;
			return c->data + c->used - n;
		}
		/* Chunks after `cur` hold nothing live (see arena_rollback). */
		if (!c->next || c->next->cap < n)
			break;
		a->cur = c->next;
		a->cur->used = 0;
	}
	cap = c->cap < ARENA_MAX_CHUNK / 2 ? c->cap * 2 : ARENA_MAX_CHUNK;
	if (cap < n)
		cap = n;
	c = chunk_new(cap);
	if (!c)
		return NULL;
	c->next = a->cur->next;
	a->cur->next = c;
	a->cur = c;
	c->used = n;
	return c->data;
}

/* Give back the tail of the last allocation, which ends at `p + n` and is
 * kept up to `p + keep`. */
static void arena_trim(struct arena *a, const uint8_t *p, size_t keep)
{
	a->cur->used = (size_t)(p - a->cur->data) + keep;
}

static struct arena_mark arena_save(const struct arena *a)
{
	struct arena_mark m = { a->cur, a->cur ? a->cur->used : 0 };

	return m;
}

static void arena_rollback(struct arena *a, struct arena_mark m)
{
	if (!m.c) {
		if (a->first) {
			a->cur = a->first;
			a->cur->used = 0;
		}
		return;
	}
	a->cur = m.c;
	a->cur->used = m.used;
}

/* ---- Dynamic table -------------------------------------------------------
 * Two rings, both grown by doubling and never beyond what the table size and
 * max_table_mem allow: the entry descriptors, oldest at `ent_head`, and the
 * bytes (name then value of each entry, in insertion order), oldest at
 * `data_head`.  No allocation per entry. */

struct entry {
	uint32_t off; /* where the name starts in the data ring; the value follows */
	uint32_t name_len, value_len; /* name_len is 0 when the name is unknown */
	bool name_unknown;
};

struct sc_hpack {
	struct sc_hpack_limits lim;
	uint32_t setting;  /* SETTINGS_HEADER_TABLE_SIZE acknowledged by the peer */
	uint32_t max_size; /* the table size limit: the last size update, or the setting */
	bool old_unknown;  /* entries older than the model's may exist */
	uint32_t n_name_unknown;
	int failed;        /* sticky error, 0 when usable */
	char fail_msg[160];

	struct entry *ent;
	uint32_t ent_cap, ent_head, n;
	uint8_t *data;
	uint32_t data_cap, data_head, data_used;
	uint64_t size; /* sum of entry sizes (lower bounds for unknown names) */

	struct arena arena;
	uint8_t *peek; /* sc_hpack_table_get's copy of an entry */
	size_t peek_cap;
};

static uint32_t ring_pos(uint32_t pos, uint64_t add, uint32_t cap)
{
	return cap ? (uint32_t)((pos + add) % cap) : 0;
}

static void ring_write(struct sc_hpack *h, uint32_t pos, const uint8_t *src, size_t len)
{
	size_t first = h->data_cap - pos;

	if (len <= first) {
		if (len)
			memcpy(h->data + pos, src, len);
		return;
	}
	memcpy(h->data + pos, src, first);
	memcpy(h->data, src + first, len - first);
}

static void ring_read(const struct sc_hpack *h, uint8_t *dst, uint32_t pos, size_t len)
{
	size_t first = h->data_cap - pos;

	if (len <= first) {
		if (len)
			memcpy(dst, h->data + pos, len);
		return;
	}
	memcpy(dst, h->data + pos, first);
	memcpy(dst + first, h->data, len - first);
}

static uint64_t entry_size(const struct entry *e)
{
	return (uint64_t)e->name_len + e->value_len + ENTRY_OVERHEAD;
}

/* Entry `i`, 0 being the newest (wire index 62). */
static const struct entry *entry_at(const struct sc_hpack *h, uint32_t i)
{
	return &h->ent[((uint64_t)h->ent_head + h->n - 1 - i) % h->ent_cap];
}

static void evict_oldest(struct sc_hpack *h)
{
	const struct entry *e = &h->ent[h->ent_head];
	uint32_t len = e->name_len + e->value_len;

	h->data_head = ring_pos(h->data_head, len, h->data_cap);
	h->data_used -= len;
	h->size -= entry_size(e);
	if (e->name_unknown)
		h->n_name_unknown--;
	h->ent_head = ring_pos(h->ent_head, 1, h->ent_cap);
	h->n--;
}

static void table_clear(struct sc_hpack *h)
{
	h->n = h->ent_head = 0;
	h->data_used = h->data_head = 0;
	h->size = 0;
	h->n_name_unknown = 0;
}

static void evict_to(struct sc_hpack *h, uint64_t limit)
{
	while (h->n && h->size > limit)
		evict_oldest(h);
}

/* Most entries and bytes the model may hold: both bounded by the table size
 * (each entry costs 32 + its bytes) and by max_table_mem. */
static uint32_t max_entries(const struct sc_hpack *h)
{
	uint32_t lim = h->max_size < h->lim.max_table_mem ? h->max_size : h->lim.max_table_mem;

	return lim / ENTRY_OVERHEAD;
}

static uint32_t max_data(const struct sc_hpack *h)
{
	return h->max_size < h->lim.max_table_mem ? h->max_size : h->lim.max_table_mem;
}

static uint32_t grow_cap(uint32_t cur, uint32_t need, uint32_t bound, uint32_t min)
{
	uint64_t cap = cur ? (uint64_t)cur * 2 : min;

	if (cap < need)
		cap = need;
	if (cap > bound)
		cap = bound;
	return (uint32_t)cap;
}

static int ensure_entries(struct sc_hpack *h, uint32_t need)
{
	struct entry *ne;
	uint32_t cap, i;

	if (need <= h->ent_cap)
		return 0;
	cap = grow_cap(h->ent_cap, need, max_entries(h), 16);
	if (cap < need)
		return SC_ELIMIT; /* table_insert checked the bounds */
	ne = malloc((size_t)cap * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	for (i = 0; i < h->n; i++)
		ne[i] = h->ent[((uint64_t)h->ent_head + i) % h->ent_cap];
	free(h->ent);
	h->ent = ne;
	h->ent_cap = cap;
	h->ent_head = 0;
	return 0;
}

static int ensure_data(struct sc_hpack *h, uint32_t need)
{
	uint8_t *nd;
	uint32_t cap, i;

	if (need <= h->data_cap)
		return 0;
	cap = grow_cap(h->data_cap, need, max_data(h), 256);
	if (cap < need)
		return SC_ELIMIT;
	nd = malloc(cap);
	if (!nd)
		return -ENOMEM;
	if (h->data_used)
		ring_read(h, nd, h->data_head, h->data_used);
	for (i = 0; i < h->n; i++) {
		struct entry *e = &h->ent[((uint64_t)h->ent_head + i) % h->ent_cap];

		e->off = h->data_cap ? (e->off + h->data_cap - h->data_head) % h->data_cap : 0;
	}
	free(h->data);
	h->data = nd;
	h->data_cap = cap;
	h->data_head = 0;
	return 0;
}

/* RFC 7541 §4.4: add an entry (the strings are copied). */
static int table_insert(struct sc_hpack *h, struct sc_view name, struct sc_view value, bool name_unknown)
{
	uint64_t esize = (uint64_t)name.len + value.len + ENTRY_OVERHEAD;
	uint32_t len;
	struct entry *e;
	int rc;

	if (esize > h->max_size) {
		/* Too large: the table is emptied and nothing is added.  With an
		 * unknown name `esize` is a lower bound, so this is certain too. */
		table_clear(h);
		h->old_unknown = false;
		return 0;
	}
	/* Making room evicts the oldest entries, all the unknown ones first;
	 * if the known entries alone leave no room, none of those is left. */
	if (h->size + esize >= h->max_size)
		h->old_unknown = false;
	evict_to(h, h->max_size - esize);

	/* Storage caps: forgetting the oldest entries makes them unknown. */
	len = (uint32_t)(name.len + value.len);
	while (h->n && ((uint64_t)h->data_used + len > h->lim.max_table_mem || h->n + 1 > max_entries(h))) {
		evict_oldest(h);
		h->old_unknown = true;
	}
	if (len > h->lim.max_table_mem || max_entries(h) == 0) {
		h->old_unknown = true;
		return 0;
	}
	rc = ensure_entries(h, h->n + 1);
	if (rc == 0)
		rc = ensure_data(h, h->data_used + len);
	if (rc)
		return rc;

	e = &h->ent[ring_pos(h->ent_head, h->n, h->ent_cap)];
	e->off = ring_pos(h->data_head, h->data_used, h->data_cap);
	e->name_len = (uint32_t)name.len;
	e->value_len = (uint32_t)value.len;
	e->name_unknown = name_unknown;
	ring_write(h, e->off, name.p, name.len);
	ring_write(h, ring_pos(e->off, name.len, h->data_cap), value.p, value.len);
	h->data_used += len;
	h->n++;
	h->size += esize;
	if (name_unknown)
		h->n_name_unknown++;
	return 0;
}

/* RFC 7541 §4.3 (a size update): the new limit is exact.  Shrinking below
 * the size of the known entries evicts every unknown entry. */
static void table_resize(struct sc_hpack *h, uint32_t n)
{
	h->max_size = n;
	if (h->size >= n)
		h->old_unknown = false;
	evict_to(h, n);
}

/* ---- Huffman (RFC 7541 §5.2, Appendix B) ----------------------------------
 * A state machine consuming 4 bits per step (hpack_huffman.c, generated by
 * scripts/gen-hpack-huffman.py).  The loop has no data-dependent branch: the
 * symbol byte is always stored and the output pointer advances by the SYM
 * flag (its value is 1); an EOS step goes back to the root and is reported
 * after the loop.  Rejected: walking the tree bit by bit (a dependent load
 * and an unpredictable branch per bit), and an 8-bit machine (one load per
 * byte, but a 256 KiB table that does not stay in cache). */
int sc_hpack_huff_decode(uint8_t *dst, const uint8_t *src, size_t len, size_t *out_len)
{
	uint32_t e, row = 0, seen = 0, last = SC_HPACK_HUFF_ACCEPT;
	uint8_t *o = dst;
	size_t i;

	for (i = 0; i < len; i++) {
		e = sc_hpack_huff_fsm[row | src[i] >> 4];
		*o = (uint8_t)(e >> 16);
		o += e & SC_HPACK_HUFF_SYM;
		seen |= e;
		e = sc_hpack_huff_fsm[SC_HPACK_HUFF_ROW(e) | (src[i] & 0xfu)];
		*o = (uint8_t)(e >> 16);
		o += e & SC_HPACK_HUFF_SYM;
		seen |= e;
		row = SC_HPACK_HUFF_ROW(e);
		last = e;
	}
	*out_len = (size_t)(o - dst);
	if (seen & SC_HPACK_HUFF_FAIL)
		return SC_HPACK_HUFF_EOS;
	if (last & SC_HPACK_HUFF_ACCEPT)
		return SC_HPACK_HUFF_OK;
	return last & SC_HPACK_HUFF_LONGPAD ? SC_HPACK_HUFF_PADLONG : SC_HPACK_HUFF_PADBAD;
}

int sc_hpack_huff_encode(uint8_t *dst, size_t cap, const uint8_t *src, size_t len, size_t *out_len)
{
	uint64_t acc = 0;
	unsigned nbits = 0;
	size_t n = 0, i;

	for (i = 0; i < len; i++) {
		acc = acc << sc_hpack_huff_len[src[i]] | sc_hpack_huff_code[src[i]];
		nbits += sc_hpack_huff_len[src[i]];
		while (nbits >= 8) {
			if (n == cap)
				return SC_ELIMIT;
			nbits -= 8;
			dst[n++] = (uint8_t)(acc >> nbits);
		}
	}
	if (nbits) {
		if (n == cap)
			return SC_ELIMIT;
		dst[n++] = (uint8_t)(acc << (8 - nbits) | (0xffu >> nbits));
	}
	*out_len = n;
	return 0;
}

/* ---- Decoder lifecycle --------------------------------------------------- */

void sc_hpack_limits_default(struct sc_hpack_limits *l)
{
	l->max_string_len = SC_HPACK_DEFAULT_MAX_STRING_LEN;
	l->max_header_list = SC_HPACK_DEFAULT_MAX_HEADER_LIST;
	l->max_fields = SC_HPACK_DEFAULT_MAX_FIELDS;
	l->max_table_mem = SC_HPACK_DEFAULT_MAX_TABLE_MEM;
}

struct sc_hpack *sc_hpack_new(uint32_t max_table_size)
{
	struct sc_hpack *h = calloc(1, sizeof(*h));

	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	sc_hpack_limits_default(&h->lim);
	h->setting = h->max_size = max_table_size;
	return h;
}

void sc_hpack_free(struct sc_hpack *h)
{
	if (!h)
		return;
	arena_fini(&h->arena);
	free(h->ent);
	free(h->data);
	free(h->peek);
	free(h);
}

int sc_hpack_set_limits(struct sc_hpack *h, const struct sc_hpack_limits *l)
{
	if (!l->max_string_len || !l->max_header_list || !l->max_fields || l->max_table_mem < ENTRY_OVERHEAD)
		return -EINVAL;
	h->lim = *l;
	/* The rings may be larger than the new cap; that memory stays until the
	 * decoder is freed, but no more entries or bytes are kept than allowed. */
	while (h->n && (h->data_used > h->lim.max_table_mem || h->n > max_entries(h))) {
		evict_oldest(h);
		h->old_unknown = true;
	}
	return 0;
}

void sc_hpack_set_max_table_size(struct sc_hpack *h, uint32_t n)
{
	/* Whether the encoder already uses a larger table after an increase is
	 * not known until its size update, so take the bound: keeping entries
	 * longer than the encoder does never changes a valid reference.  After a
	 * decrease the encoder must send a size update of at most n (§4.2); a
	 * missing one is not reported, as trimming now gives the same table. */
	h->setting = n;
	h->max_size = n;
	evict_to(h, n);
}

void sc_hpack_set_unknown(struct sc_hpack *h)
{
	table_clear(h);
	h->old_unknown = true;
	/* The encoder may have shrunk its table in a size update we missed:
	 * the setting is the only bound left. */
	h->max_size = h->setting;
	h->failed = 0;
	h->fail_msg[0] = '\0';
	arena_reset(&h->arena);
}

bool sc_hpack_state_known(const struct sc_hpack *h)
{
	return !h->old_unknown && h->n_name_unknown == 0;
}

size_t sc_hpack_table_len(const struct sc_hpack *h)
{
	return h->n;
}

uint64_t sc_hpack_table_size(const struct sc_hpack *h)
{
	return h->size;
}

uint32_t sc_hpack_table_max_size(const struct sc_hpack *h)
{
	return h->max_size;
}

int sc_hpack_table_get(struct sc_hpack *h, size_t i, struct sc_hpack_field *f)
{
	const struct entry *e;
	size_t len;

	if (i >= h->n)
		return SC_ELIMIT;
	e = entry_at(h, (uint32_t)i);
	len = (size_t)e->name_len + e->value_len;
	if (len > h->peek_cap) {
		uint8_t *p = realloc(h->peek, len);

		if (!p)
			return -ENOMEM;
		h->peek = p;
		h->peek_cap = len;
	}
	if (len)
		ring_read(h, h->peek, e->off, len);
	f->name.p = h->peek ? h->peek : (const uint8_t *)"";
	f->name.len = e->name_len;
	f->value.p = f->name.p + e->name_len;
	f->value.len = e->value_len;
	f->flags = e->name_unknown ? SC_HPACK_NAME_UNKNOWN : 0;
	return 0;
}

/* ---- Block decoding ------------------------------------------------------ */

struct dec {
	struct sc_hpack *h;
	struct sc_rd r;
	const uint8_t *start;
	struct sc_diag *diag;
	sc_hpack_emit_fn emit;
	void *ctx;
	uint64_t list_size;
	uint32_t nfields;
	bool over; /* over a header list cap: decode on, deliver nothing */
	size_t over_off;
};

static const struct sc_view empty_view = { (const uint8_t *)"", 0 };

static size_t doff(const struct dec *d)
{
	return (size_t)(d->r.p - d->start);
}

static int fail(struct dec *d, int err, size_t off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Record an error that leaves the table untrustworthy: the decoder fails. */
static int fail(struct dec *d, int err, size_t off, const char *fmt, ...)
{
	struct sc_hpack *h = d->h;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->fail_msg, sizeof(h->fail_msg), fmt, ap);
	va_end(ap);
	h->failed = err;
	return sc_diag_set(d->diag, err, off, "HPACK: %s", h->fail_msg);
}

static int truncated(struct dec *d, size_t off, const char *what)
{
	return fail(d, SC_ETRUNC, off, "block ends inside %s that starts at block offset %zu", what, off);
}

/* RFC 7541 §5.1, with the first byte (its high bits already used) in hand:
 *
 *     0   1   2   3   4   5   6   7
 *   +---+---+---+---+---+---+---+---+
 *   | ? | ? | ? |       Value       |   value < 2^N-1, or
 *   +---+---+---+-------------------+
 *   | ? | ? | ? | 1   1   1   1   1 |   2^N-1, then
 *   +---+---+---+-------------------+
 *   | 1 |    Value-(2^N-1) LSB      |   7 bits per byte, least
 *   +---+---------------------------+   significant first, the
 *                  ...                  high bit set on all but
 *   +---+---------------------------+   the last byte
 *   | 0 |    Value-(2^N-1) MSB      |
 *   +---+---------------------------+
 *
 * Values are capped at 2^32-1 (every length, index and size we accept is far
 * below), which also bounds the continuation bytes to 5: a sixth cannot be
 * needed, so it is refused even if it adds nothing. */
int sc_hpack_int_decode(struct sc_rd *r, uint8_t first, unsigned prefix_bits, uint32_t *out)
{
	uint32_t mask = (1u << prefix_bits) - 1;
	uint64_t v = first & mask;
	unsigned shift;
	uint8_t b;

	if (v < mask) {
		*out = (uint32_t)v;
		return 0;
	}
	for (shift = 0;; shift += 7) {
		b = sc_rd_u8(r);
		if (r->err)
			return SC_ETRUNC;
		if (shift > 28)
			return SC_EPROTO;
		v += (uint64_t)(b & 0x7f) << shift;
		if (v > UINT32_MAX)
			return SC_EPROTO;
		if (!(b & 0x80))
			break;
	}
	*out = (uint32_t)v;
	return 0;
}

static int get_int(struct dec *d, uint8_t first, unsigned prefix_bits, size_t off, uint32_t *out)
{
	int rc = sc_hpack_int_decode(&d->r, first, prefix_bits, out);

	if (rc == SC_ETRUNC)
		return truncated(d, off, "an integer");
	if (rc)
		return fail(d, SC_EPROTO, off, "integer overflow at block offset %zu (over 2^32-1 or 6+ continuation bytes)",
			    off);
	return 0;
}

/* RFC 7541 §5.2: a string literal, decoded into the arena.
 *
 *     0   1   2   3   4   5   6   7
 *   +---+---+---+---+---+---+---+---+
 *   | H |    String Length (7+)     |
 *   +---+---------------------------+
 *   |  String Data (Length octets)  |
 *   +-------------------------------+
 */
static int get_string(struct dec *d, const char *what, struct sc_view *out)
{
	struct sc_hpack *h = d->h;
	size_t off = doff(d), left, n;
	const uint8_t *src;
	uint8_t first, *dst;
	uint32_t len;
	int rc;

	first = sc_rd_u8(&d->r);
	if (d->r.err)
		return fail(d, SC_ETRUNC, off, "block ends before the %s string", what);
	rc = get_int(d, first, 7, off, &len);
	if (rc)
		return rc;
	left = sc_rd_left(&d->r);
	if (len > left)
		return fail(d, SC_ETRUNC, off,
			    "%s string of %u bytes at block offset %zu runs past the end of the block (%zu bytes left)",
			    what, len, off, left);
	if (len > h->lim.max_string_len)
		return fail(d, SC_ETOOBIG, off, "%s string of %u bytes at block offset %zu is over the cap of %u",
			    what, len, off, h->lim.max_string_len);
	src = sc_rd_bytes(&d->r, len);
	if (len == 0) {
		*out = empty_view;
		return 0;
	}
	if (!(first & 0x80)) {
		dst = arena_alloc(&h->arena, len);
		if (!dst)
			return fail(d, -ENOMEM, off, "out of memory for a %u-byte string", len);
		memcpy(dst, src, len);
		out->p = dst;
		out->len = len;
		return 0;
	}
	dst = arena_alloc(&h->arena, sc_hpack_huff_max_decoded(len) + 1);
	if (!dst)
		return fail(d, -ENOMEM, off, "out of memory for a %u-byte string", len);
	rc = sc_hpack_huff_decode(dst, src, len, &n);
	arena_trim(&h->arena, dst, rc == SC_HPACK_HUFF_OK ? n : 0);
	switch (rc) {
	case SC_HPACK_HUFF_OK:
		break;
	case SC_HPACK_HUFF_EOS:
		return fail(d, SC_EPROTO, off, "Huffman-coded %s string at block offset %zu contains EOS (RFC 7541 §5.2)",
			    what, off);
	case SC_HPACK_HUFF_PADLONG:
		return fail(d, SC_EPROTO, off,
			    "Huffman-coded %s string at block offset %zu has padding longer than 7 bits (RFC 7541 §5.2)",
			    what, off);
	default:
		return fail(d, SC_EPROTO, off,
			    "Huffman-coded %s string at block offset %zu ends in bits that are not EOS padding (RFC 7541 §5.2)",
			    what, off);
	}
	out->p = dst;
	out->len = n;
	return 0;
}

static int copy_out(struct dec *d, uint32_t pos, uint32_t len, size_t off, struct sc_view *out)
{
	uint8_t *dst;

	if (!len) {
		*out = empty_view;
		return 0;
	}
	dst = arena_alloc(&d->h->arena, len);
	if (!dst)
		return fail(d, -ENOMEM, off, "out of memory for a %u-byte table string", len);
	ring_read(d->h, dst, pos, len);
	out->p = dst;
	out->len = len;
	return 0;
}

/* Resolve index `idx` (RFC 7541 §2.3.3) into f's name and, if `with_value`,
 * value.  Table strings are copied to the arena: inserting later fields of
 * the block may evict the entry. */
static int lookup(struct dec *d, uint32_t idx, bool with_value, size_t off, struct sc_hpack_field *f)
{
	struct sc_hpack *h = d->h;
	const struct entry *e;
	uint32_t j;
	int rc;

	f->name = f->value = empty_view;
	if (idx <= STATIC_LEN) {
		const struct static_entry *s = &static_table[idx - 1];

		f->name.p = (const uint8_t *)s->name;
		f->name.len = s->name_len;
		if (with_value) {
			f->value.p = (const uint8_t *)s->value;
			f->value.len = s->value_len;
		}
		return 0;
	}
	j = idx - FIRST_DYNAMIC;
	if (j < h->n) {
		e = entry_at(h, j);
		if (e->name_unknown) {
			f->flags |= SC_HPACK_NAME_UNKNOWN;
		} else {
			rc = copy_out(d, e->off, e->name_len, off, &f->name);
			if (rc)
				return rc;
		}
		if (with_value)
			return copy_out(d, ring_pos(e->off, e->name_len, h->data_cap), e->value_len, off, &f->value);
		return 0;
	}
	/* An unknown entry can be anywhere a table of max_size bytes has room
	 * for: at most max_size / 32 entries. */
	if (h->old_unknown && j < h->max_size / ENTRY_OVERHEAD) {
		f->flags |= SC_HPACK_NAME_UNKNOWN;
		if (with_value)
			f->flags |= SC_HPACK_VALUE_UNKNOWN;
		return 0;
	}
	if (h->old_unknown)
		return fail(d, SC_EPROTO, off,
			    "index %u at block offset %zu is beyond any table of %u bytes (RFC 7541 §2.3.3)", idx, off,
			    h->max_size);
	return fail(d, SC_EPROTO, off, "index %u beyond table of %u entries at block offset %zu (RFC 7541 §2.3.3)", idx,
		    STATIC_LEN + h->n, off);
}

/* Deliver a field, unless a header list cap was passed. */
static int deliver(struct dec *d, const struct sc_hpack_field *f, struct arena_mark m, size_t off)
{
	struct sc_hpack *h = d->h;
	int rc;

	if (!d->over) {
		d->list_size += (uint64_t)f->name.len + f->value.len + ENTRY_OVERHEAD;
		d->nfields++;
		if (d->list_size > h->lim.max_header_list || d->nfields > h->lim.max_fields) {
			d->over = true;
			d->over_off = off;
		}
	}
	if (d->over) {
		arena_rollback(&h->arena, m);
		return 0;
	}
	rc = d->emit ? d->emit(d->ctx, f) : 0;
	if (rc) {
		h->failed = rc;
		snprintf(h->fail_msg, sizeof(h->fail_msg), "the field consumer stopped at block offset %zu (%d)", off, rc);
		sc_diag_set(d->diag, rc, off, "HPACK: %s", h->fail_msg);
	}
	return rc;
}

/* RFC 7541 §6.1:
 *     0   1   2   3   4   5   6   7
 *   +---+---+---+---+---+---+---+---+
 *   | 1 |        Index (7+)         |
 *   +---+---------------------------+
 */
static int field_indexed(struct dec *d, uint8_t first, size_t off)
{
	struct arena_mark m = arena_save(&d->h->arena);
	struct sc_hpack_field f = { .flags = 0 };
	uint32_t idx;
	int rc;

	rc = get_int(d, first, 7, off, &idx);
	if (rc)
		return rc;
	if (idx == 0)
		return fail(d, SC_EPROTO, off, "index 0 at block offset %zu (RFC 7541 §6.1)", off);
	rc = lookup(d, idx, true, off, &f);
	if (rc)
		return rc;
	return deliver(d, &f, m, off);
}

/* RFC 7541 §6.2.1-6.2.3: literal fields.
 *     0   1   2   3   4   5   6   7
 *   +---+---+---+---+---+---+---+---+
 *   | 0 | 1 |      Index (6+)       |  with incremental indexing
 *   | 0 | 0 | 0 | 0 |  Index (4+)   |  without indexing
 *   | 0 | 0 | 0 | 1 |  Index (4+)   |  never indexed
 *   +---+---+-----------------------+
 *   | H |     Name Length (7+)      |  only when Index is 0
 *   +---+---------------------------+
 *   |  Name String (Length octets)  |
 *   +---+---------------------------+
 *   | H |     Value Length (7+)     |
 *   +---+---------------------------+
 *   | Value String (Length octets)  |
 *   +-------------------------------+
 */
static int field_literal(struct dec *d, uint8_t first, size_t off, unsigned prefix_bits, bool indexing,
			 unsigned flags)
{
	struct arena_mark m = arena_save(&d->h->arena);
	struct sc_hpack_field f = { .flags = flags };
	uint32_t idx;
	int rc;

	rc = get_int(d, first, prefix_bits, off, &idx);
	if (rc)
		return rc;
	if (idx)
		rc = lookup(d, idx, false, off, &f);
	else
		rc = get_string(d, "name", &f.name);
	if (rc == 0)
		rc = get_string(d, "value", &f.value);
	if (rc)
		return rc;
	if (indexing) {
		rc = table_insert(d->h, f.name, f.value, f.flags & SC_HPACK_NAME_UNKNOWN);
		if (rc)
			return fail(d, rc, off, "cannot store the dynamic table entry at block offset %zu: %s", off,
				    sc_strerror(rc));
	}
	return deliver(d, &f, m, off);
}

/* RFC 7541 §6.3:
 *     0   1   2   3   4   5   6   7
 *   +---+---+---+---+---+---+---+---+
 *   | 0 | 0 | 1 |   Max size (5+)   |
 *   +---+---------------------------+
 */
static int size_update(struct dec *d, uint8_t first, size_t off, bool at_start)
{
	uint32_t n;
	int rc;

	if (!at_start)
		return fail(d, SC_EPROTO, off,
			    "dynamic table size update after a field at block offset %zu (RFC 7541 §4.2)", off);
	rc = get_int(d, first, 5, off, &n);
	if (rc)
		return rc;
	if (n > d->h->setting)
		return fail(d, SC_EPROTO, off,
			    "dynamic table size update to %u above the setting %u at block offset %zu (RFC 7541 §6.3)", n,
			    d->h->setting, off);
	table_resize(d->h, n);
	return 0;
}

int sc_hpack_decode(struct sc_hpack *h, const uint8_t *block, size_t len, sc_hpack_emit_fn emit, void *ctx,
		    struct sc_diag *diag)
{
	struct dec d = { .h = h, .start = block, .diag = diag, .emit = emit, .ctx = ctx };
	bool at_start = true;
	uint8_t b;
	size_t off;
	int rc = 0;

	if (h->failed)
		return sc_diag_set(diag, h->failed, 0, "HPACK: decoder failed earlier (%s); its table is unknown until reset",
				   h->fail_msg);
	arena_reset(&h->arena);
	if (len == 0)
		return 0; /* an empty block is valid, and `block` may be NULL */
	sc_rd_init(&d.r, block, len);
	while (rc == 0 && sc_rd_left(&d.r)) {
		off = doff(&d);
		b = sc_rd_u8(&d.r);
		if (b & 0x80)
			rc = field_indexed(&d, b, off);
		else if (b & 0x40)
			rc = field_literal(&d, b, off, 6, true, 0);
		else if (b & 0x20)
			rc = size_update(&d, b, off, at_start);
		else
			rc = field_literal(&d, b, off, 4, false, b & 0x10 ? SC_HPACK_NEVER_INDEXED : 0);
		if ((b & 0xe0) != 0x20)
			at_start = false;
	}
	if (rc)
		return rc;
	if (d.over)
		return sc_diag_set(diag, SC_ETOOBIG, d.over_off,
				   "HPACK: header list over the cap of %u bytes or %u fields at block offset %zu; "
				   "the rest of the block was decoded but not delivered",
				   h->lim.max_header_list, h->lim.max_fields, d.over_off);
	return 0;
}
