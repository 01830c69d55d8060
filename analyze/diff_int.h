/* diff_int.h - what the files of the diff engine share; only they and the
 * unit tests include it.
 *
 *   diff.c        the two sides (which connections and transactions take part)
 *                 and the matching of transactions (diff.h, steps 1-5)
 *   diff_align.c  a bounded Myers alignment, shared by connections,
 *                 transactions, header values and body lines
 *   diff_cmp.c    comparing one pair of transactions: header fields, bodies,
 *                 line diffs of textual bodies
 */
#ifndef SC_DIFF_INT_H
#define SC_DIFF_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/diff.h"

#define NONE SIZE_MAX

/* ---- Bytes and hashes ------------------------------------------------------------ */

static inline int str_set(struct sc_diff_str *s, const void *p, size_t len, bool known)
{
	s->p = malloc(len + 1);
	if (!s->p)
		return -ENOMEM;
	if (len)
		memcpy(s->p, p, len);
	s->p[len] = '\0';
	s->len = len;
	s->known = known;
	return 0;
}

static inline int str_dup(struct sc_diff_str *dst, const struct sc_diff_str *src)
{
	return str_set(dst, src->p, src->len, src->known);
}

static inline void str_free(struct sc_diff_str *s)
{
	free(s->p);
	s->p = NULL;
	s->len = 0;
	s->known = false;
}

static inline bool str_eq(const struct sc_diff_str *a, const struct sc_diff_str *b)
{
	if (a->known != b->known)
		return false;
	return !a->known || (a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0));
}

/* Order for grouping header names: unknown first, then bytewise. */
static inline int str_cmp(const struct sc_diff_str *a, const struct sc_diff_str *b)
{
	size_t n;
	int c;

	if (a->known != b->known)
		return a->known ? 1 : -1;
	if (!a->known)
		return 0;
	n = a->len < b->len ? a->len : b->len;
	c = n ? memcmp(a->p, b->p, n) : 0;
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* A column as bytes: SQL NULL is "unknown", TEXT and BLOB as stored. */
static inline int str_col(struct sc_diff_str *s, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return str_set(s, NULL, 0, false);
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);

	return str_set(s, p, n > 0 && p ? (size_t)n : 0, true);
}

/* FNV-1a: only a fast filter before an exact comparison, never trusted alone. */
static inline uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

static inline uint64_t hash_str(uint64_t h, const struct sc_diff_str *s)
{
	uint64_t len = s->known ? s->len : UINT64_MAX;

	h = fnv(h, &len, sizeof(len));
	return s->known ? fnv(h, s->p, s->len) : h;
}

static inline bool str_is(const struct sc_diff_str *s, const char *lit)
{
	return s->known && s->len == strlen(lit) && memcmp(s->p, lit, s->len) == 0;
}

static inline int64_t col_i64(sqlite3_stmt *st, int col, int64_t null)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? null : sqlite3_column_int64(st, col);
}

static inline int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* ---- Alignment (diff_align.c) ------------------------------------------------------ */

/* Two sequences, seen through hashes and an exact equality. */
struct cmp {
	const uint64_t *ha, *hb;
	bool (*eq)(const void *ctx, size_t i, size_t j); /* NULL: hashes are exact */
	const void *ctx;
};

static inline bool same(const struct cmp *c, size_t i, size_t j)
{
	return c->ha[i] == c->hb[j] && (!c->eq || c->eq(c->ctx, i, j));
}

struct limits {
	size_t max_d;     /* most edits Myers may explore */
	uint64_t work;    /* most element comparisons */
	bool fallback;    /* past a limit: windowed greedy instead of SC_ELIMIT */
};

extern const struct limits sc_diff_lim_tx, sc_diff_lim_hdr, sc_diff_lim_lines;

/* Align a[0..n) with b[0..m): ma[i] is the index in b matched with a[i] or
 * NONE, mb likewise; matches are monotonic.  Common prefix and suffix are
 * matched first (the usual case is "almost everything equal").  `approx` is
 * set when the fallback ran.  Returns 0, SC_ELIMIT (no fallback), -ENOMEM. */
int sc_diff_align(const struct cmp *c, size_t n, size_t m, const struct limits *lim, size_t *ma, size_t *mb,
		  bool *approx);

/* ---- One side (diff.c) ------------------------------------------------------------- */

struct tx {
	int64_t id, conn_id, stream_id;
	struct sc_diff_str method, authority, path, version;
	int status;
	uint64_t key;    /* hash of (method, authority, path), or (method, path) */
	bool key_authority; /* the authority is part of the key (not --ignore-authority) */
	size_t conn;     /* index in side.conns */
	uint32_t index;  /* 1-based position in its connection */
};

struct conn {
	int64_t id;
	size_t first, n; /* its transactions: side.tx[first .. first+n) */
	uint64_t sig;    /* hash of its key sequence */
};

struct side {
	const char *name; /* "A" or "B", for messages */
	bool ignore_authority;
	sqlite3 *db;
	struct conn *conns;
	size_t n_conns;
	struct tx *tx;
	size_t n_tx;
	sqlite3_stmt *hdr, *body;
};

int sc_diff_sql_err(struct side *s, struct sc_diag *diag, const char *what);

/* ---- Comparing a pair (diff_cmp.c) ------------------------------------------------- */

struct run {
	struct side a, b;
	const struct sc_diff_opts *o;
	struct sc_diff_result *res;
	size_t text_cap, budget;
	size_t entries_cap;
	uint64_t sim_work; /* key steps spent scoring connection pairs */
	struct sc_diag *diag;
};

/* Compare a matched pair: a CHANGED entry in r->res when they differ, else
 * r->res->equal counted.  0 or a negative error (diag set for SQL errors). */
int sc_diff_compare_pair(struct run *r, const struct tx *ta, const struct tx *tb);

/* An ADDED (B only) or REMOVED (A only) entry. */
int sc_diff_one_side(struct run *r, const struct tx *t, bool added);

#endif
