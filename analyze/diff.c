/* diff.c - differences between the HTTP transactions of two databases.
 *
 * The contract, the selection of transactions and the matching are described
 * in diff.h.  Here: a bounded Myers alignment shared by connections,
 * transactions, header values and body lines; loading one side; comparing
 * one matched pair of transactions. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyze/diff.h"
#include "formats/sc_grow.h"

/* Headers whose values differ on every run of the same traffic:
 * - clocks: date, age (seconds in a cache), expires (usually date + max-age),
 *   last-modified (the file's mtime: a fixture directory created anew, a
 *   checkout or a deploy changes it while the content stays; a changed body
 *   is caught by the body comparison and content-length anyway);
 * - request and trace ids: x-request-id, request-id, x-correlation-id,
 *   W3C traceparent/tracestate, AWS x-amzn-trace-id, Zipkin's b3 and x-b3-*;
 * - server-timing (measured durations).
 * Not ignored: set-cookie and cookie (which cookies a server sets, and their
 * attributes, are behaviour a regression test must see; a per-run session id
 * can be ignored with --ignore-header set-cookie), etag (usually a content
 * hash or version), keep-alive (its max counts requests, the same each run). */
const char *const sc_diff_volatile_headers[] = {
	"date", "age", "expires", "last-modified",
	"x-request-id", "request-id", "x-correlation-id",
	"traceparent", "tracestate", "x-amzn-trace-id",
	"b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
	"server-timing",
	NULL,
};

#define NONE SIZE_MAX

/* ---- Bytes and hashes ------------------------------------------------------------ */

static int str_set(struct sc_diff_str *s, const void *p, size_t len, bool known)
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

static int str_dup(struct sc_diff_str *dst, const struct sc_diff_str *src)
{
	return str_set(dst, src->p, src->len, src->known);
}

static void str_free(struct sc_diff_str *s)
{
	free(s->p);
	s->p = NULL;
	s->len = 0;
	s->known = false;
}

static bool str_eq(const struct sc_diff_str *a, const struct sc_diff_str *b)
{
	if (a->known != b->known)
		return false;
	return !a->known || (a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0));
}

/* Order for grouping header names: unknown first, then bytewise. */
static int str_cmp(const struct sc_diff_str *a, const struct sc_diff_str *b)
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
static int str_col(struct sc_diff_str *s, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return str_set(s, NULL, 0, false);
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);

	return str_set(s, p, n > 0 && p ? (size_t)n : 0, true);
}

/* FNV-1a: only a fast filter before an exact comparison, never trusted alone. */
static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

static uint64_t hash_str(uint64_t h, const struct sc_diff_str *s)
{
	uint64_t len = s->known ? s->len : UINT64_MAX;

	h = fnv(h, &len, sizeof(len));
	return s->known ? fnv(h, s->p, s->len) : h;
}

/* ---- Alignment --------------------------------------------------------------------- */

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

/* Transactions and connections: long sequences, few differences; the trace
 * of D edits costs about D*D/2 int32s (8 MiB at 2048). */
static const struct limits LIM_TX = { 2048, 50000000, true };
/* Header values of one name. */
static const struct limits LIM_HDR = { 256, 1000000, true };
/* Body lines: no fallback; a diff that is not minimal-ish is not shown. */
static const struct limits LIM_LINES = { 2048, 20000000, false };

#define GREEDY_WINDOW 16

/* Myers' O(ND) greedy algorithm (Myers 1986, "An O(ND) Difference Algorithm
 * and Its Variations", §3), forward only, keeping for each d the furthest x
 * of every diagonal so that the path can be walked back.  Diagonals outside
 * the grid are never entered (the textbook version relies on x >= N && y >= M
 * and can end outside the grid; backtracking from there would be wrong).
 * Indices are relative to a0/b0.  Returns 0, SC_ELIMIT, or -ENOMEM. */
static int myers(const struct cmp *c, size_t a0, size_t N, size_t b0, size_t M, const struct limits *lim,
		 uint64_t *work, size_t *ma, size_t *mb)
{
	size_t maxd = N + M < lim->max_d ? N + M : lim->max_d;
	int32_t *v = NULL, *trace = NULL;
	size_t tcap = 0, D = 0;
	int64_t fx = -1;
	int rc = SC_ELIMIT;

	if (N > INT32_MAX / 2 || M > INT32_MAX / 2)
		return SC_ELIMIT;
	/* v[k + maxd + 1] for k in [-maxd-1, maxd+1]; -1: diagonal not reached. */
	v = malloc((2 * maxd + 3) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < 2 * maxd + 3; i++)
		v[i] = -1;
	int32_t *V = v + maxd + 1;

	for (size_t d = 0; d <= maxd && fx < 0; d++) {
		/* The trace of step d: x of diagonals -d, -d+2, ..., d at index
		 * d*(d+1)/2 + (k+d)/2. */
		size_t need = (d + 1) * (d + 2) / 2;

		if (need > tcap) {
			size_t ncap = tcap ? tcap * 2 : 1024;
			int32_t *t;

			while (ncap < need)
				ncap *= 2;
			t = realloc(trace, ncap * sizeof(*t));
			if (!t) {
				rc = -ENOMEM;
				goto out;
			}
			trace = t;
			tcap = ncap;
		}
		int32_t *row = trace + d * (d + 1) / 2;

		for (int64_t k = -(int64_t)d; k <= (int64_t)d; k += 2) {
			int64_t x, y;

			if (k < -(int64_t)M || k > (int64_t)N) {
				row[(k + (int64_t)d) / 2] = -1;
				continue;
			}
			if (d == 0) {
				x = 0;
			} else {
				/* Down from k+1 (an insertion) or right from k-1 (a
				 * deletion), whichever reaches further; down on a tie. */
				int64_t xd = V[k + 1] >= 0 && V[k + 1] - (k + 1) < (int64_t)M ? V[k + 1] : -1;
				int64_t xr = V[k - 1] >= 0 && V[k - 1] < (int64_t)N ? V[k - 1] + 1 : -1;

				x = xd >= xr ? xd : xr;
				if (x < 0) {
					V[k] = -1;
					row[(k + (int64_t)d) / 2] = -1;
					continue;
				}
			}
			y = x - k;
			*work += 1;
			while (x < (int64_t)N && y < (int64_t)M && same(c, a0 + (size_t)x, b0 + (size_t)y)) {
				x++;
				y++;
				*work += 1;
			}
			V[k] = (int32_t)x;
			row[(k + (int64_t)d) / 2] = (int32_t)x;
			if (x == (int64_t)N && y == (int64_t)M) {
				fx = x;
				D = d;
				break;
			}
		}
		if (*work > lim->work)
			break;
	}
	if (fx < 0)
		goto out;

	/* Walk back from (N, M), repeating each step's choice from the trace of
	 * the step before; the diagonal run after each edit is the matches. */
	{
		int64_t x = (int64_t)N, y = (int64_t)M;

		for (size_t d = D; d > 0; d--) {
			const int32_t *prev = trace + (d - 1) * d / 2;
			int64_t k = x - y, xd = -1, xr = -1, mx, my;

			if (k + 1 <= (int64_t)(d - 1) && prev[(k + 1 + (int64_t)d - 1) / 2] >= 0 &&
			    prev[(k + 1 + (int64_t)d - 1) / 2] - (k + 1) < (int64_t)M)
				xd = prev[(k + 1 + (int64_t)d - 1) / 2];
			if (k - 1 >= -(int64_t)(d - 1) && prev[(k - 1 + (int64_t)d - 1) / 2] >= 0 &&
			    prev[(k - 1 + (int64_t)d - 1) / 2] < (int64_t)N)
				xr = prev[(k - 1 + (int64_t)d - 1) / 2] + 1;
			if (xd >= xr) {
				mx = xd;
				my = xd - k;
			} else {
				mx = xr;
				my = xr - k;
			}
			while (x > mx && y > my) {
				x--, y--;
				ma[a0 + (size_t)x] = b0 + (size_t)y;
				mb[b0 + (size_t)y] = a0 + (size_t)x;
			}
			if (xd >= xr)
				y = my - 1, x = mx;
			else
				x = mx - 1, y = my;
		}
		while (x > 0 && y > 0) {
			x--, y--;
			ma[a0 + (size_t)x] = b0 + (size_t)y;
			mb[b0 + (size_t)y] = a0 + (size_t)x;
		}
	}
	rc = 0;
out:
	free(v);
	free(trace);
	return rc;
}

/* The fallback past Myers' limits: match in order, and on a mismatch resync
 * at the nearest pair of equal elements within GREEDY_WINDOW on each side.
 * O((N+M) * W^2) comparisons; not minimal, but never shifts everything. */
static void greedy(const struct cmp *c, size_t a0, size_t N, size_t b0, size_t M, size_t *ma, size_t *mb)
{
	size_t i = 0, j = 0;

	while (i < N && j < M) {
		bool found = false;

		if (same(c, a0 + i, b0 + j)) {
			ma[a0 + i] = b0 + j;
			mb[b0 + j] = a0 + i;
			i++, j++;
			continue;
		}
		for (size_t s = 1; s <= 2 * GREEDY_WINDOW && !found; s++)
			for (size_t di = 0; di <= s && !found; di++) {
				size_t dj = s - di;

				if (di <= GREEDY_WINDOW && dj <= GREEDY_WINDOW && i + di < N && j + dj < M &&
				    same(c, a0 + i + di, b0 + j + dj)) {
					i += di;
					j += dj;
					found = true;
				}
			}
		if (!found)
			i++, j++;
	}
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* The elements of a middle part that may match, as a sequence of its own. */
struct sub {
	const struct cmp *c;
	const size_t *fa, *fb; /* index in the whole sequence of each kept element */
};

static bool sub_eq(const void *ctx, size_t i, size_t j)
{
	const struct sub *s = ctx;

	return !s->c->eq || s->c->eq(s->c->ctx, s->fa[i], s->fb[j]);
}

/* Indices in [from, from+n) of `h` whose hash occurs in `other` (sorted). */
static size_t keep_common(const uint64_t *h, size_t from, size_t n, const uint64_t *other, size_t n_other,
			  size_t *idx, uint64_t *kept_h)
{
	size_t k = 0;

	for (size_t i = from; i < from + n; i++)
		if (bsearch(&h[i], other, n_other, sizeof(*other), u64_cmp)) {
			idx[k] = i;
			kept_h[k] = h[i];
			k++;
		}
	return k;
}

/* Align a[0..n) with b[0..m): ma[i] is the index in b matched with a[i] or
 * NONE, mb likewise; matches are monotonic.  Common prefix and suffix are
 * matched first (the usual case is "almost everything equal").  `approx` is
 * set when the fallback ran.  Returns 0, SC_ELIMIT (no fallback), -ENOMEM. */
static int align(const struct cmp *c, size_t n, size_t m, const struct limits *lim, size_t *ma, size_t *mb,
		 bool *approx)
{
	size_t pre = 0, suf = 0, N, M, kn, km;
	uint64_t work = 0, *sa = NULL, *sb = NULL, *ha = NULL, *hb = NULL;
	size_t *fa = NULL, *fb = NULL, *ma2 = NULL, *mb2 = NULL;
	struct sub sv;
	struct cmp c2;
	int rc = -ENOMEM;

	for (size_t i = 0; i < n; i++)
		ma[i] = NONE;
	for (size_t j = 0; j < m; j++)
		mb[j] = NONE;
	while (pre < n && pre < m && same(c, pre, pre)) {
		ma[pre] = pre;
		mb[pre] = pre;
		pre++;
	}
	while (suf < n - pre && suf < m - pre && same(c, n - 1 - suf, m - 1 - suf)) {
		ma[n - 1 - suf] = m - 1 - suf;
		mb[m - 1 - suf] = n - 1 - suf;
		suf++;
	}
	if (pre + suf == n || pre + suf == m)
		return 0;
	N = n - pre - suf;
	M = m - pre - suf;
	/* An element whose hash does not occur on the other side never matches:
	 * leave it out of the search (GNU diff discards lines unique to one
	 * file), so that D, and with it time and memory, counts only what could
	 * match.  The longest common subsequence is the same. */
	sa = malloc(N * sizeof(*sa));
	sb = malloc(M * sizeof(*sb));
	ha = malloc(N * sizeof(*ha));
	hb = malloc(M * sizeof(*hb));
	fa = malloc(N * sizeof(*fa));
	fb = malloc(M * sizeof(*fb));
	ma2 = malloc(N * sizeof(*ma2));
	mb2 = malloc(M * sizeof(*mb2));
	if (!sa || !sb || !ha || !hb || !fa || !fb || !ma2 || !mb2)
		goto out;
	memcpy(sa, c->ha + pre, N * sizeof(*sa));
	memcpy(sb, c->hb + pre, M * sizeof(*sb));
	qsort(sa, N, sizeof(*sa), u64_cmp);
	qsort(sb, M, sizeof(*sb), u64_cmp);
	kn = keep_common(c->ha, pre, N, sb, M, fa, ha);
	km = keep_common(c->hb, pre, M, sa, N, fb, hb);
	rc = 0;
	if (!kn || !km)
		goto out;
	for (size_t i = 0; i < kn; i++)
		ma2[i] = NONE;
	for (size_t j = 0; j < km; j++)
		mb2[j] = NONE;
	sv = (struct sub){ c, fa, fb };
	c2 = (struct cmp){ ha, hb, sub_eq, &sv };
	rc = myers(&c2, 0, kn, 0, km, lim, &work, ma2, mb2);
	if (rc == SC_ELIMIT && lim->fallback) {
		for (size_t i = 0; i < kn; i++)
			ma2[i] = NONE;
		for (size_t j = 0; j < km; j++)
			mb2[j] = NONE;
		greedy(&c2, 0, kn, 0, km, ma2, mb2);
		if (approx)
			*approx = true;
		rc = 0;
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < kn; i++)
		if (ma2[i] != NONE) {
			ma[fa[i]] = fb[ma2[i]];
			mb[fb[ma2[i]]] = fa[i];
		}
out:
	free(sa);
	free(sb);
	free(ha);
	free(hb);
	free(fa);
	free(fb);
	free(ma2);
	free(mb2);
	return rc;
}

/* ---- One side: connections and transactions ----------------------------------------- */

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

static int sql_err(struct side *s, struct sc_diag *diag, const char *what)
{
	return sc_diag_set(diag, -EIO, 0, "%s: sqlite: %s: %s", s->name, what, sqlite3_errmsg(s->db));
}

static void tx_fini(struct tx *t)
{
	str_free(&t->method);
	str_free(&t->authority);
	str_free(&t->path);
	str_free(&t->version);
}

static void side_fini(struct side *s)
{
	for (size_t i = 0; i < s->n_tx; i++)
		tx_fini(&s->tx[i]);
	free(s->tx);
	free(s->conns);
	sqlite3_finalize(s->hdr);
	sqlite3_finalize(s->body);
	s->tx = NULL;
	s->conns = NULL;
	s->hdr = s->body = NULL;
}

static bool key_eq(const struct tx *a, const struct tx *b)
{
	return a->key == b->key && str_eq(&a->method, &b->method) &&
	       (!a->key_authority || str_eq(&a->authority, &b->authority)) && str_eq(&a->path, &b->path);
}

/* A connection row, for the mirror rule. */
struct crow {
	int64_t id, capture, lport, rport;
	struct sc_diff_str role, family, laddr, raddr, upath;
	bool keep;
};

static void crow_fini(struct crow *r)
{
	str_free(&r->role);
	str_free(&r->family);
	str_free(&r->laddr);
	str_free(&r->raddr);
	str_free(&r->upath);
}

static bool str_is(const struct sc_diff_str *s, const char *lit)
{
	return s->known && s->len == strlen(lit) && memcmp(s->p, lit, s->len) == 0;
}

/* The endpoints of a client connection as its server-side mirror would see
 * them: (capture, family, address A, port A, address B, port B), where for a
 * client A is local and for a server A is remote. */
struct mkey {
	int64_t capture, pa, pb;
	const struct sc_diff_str *family, *aa, *ab;
};

static int mkey_cmp(const void *x, const void *y)
{
	const struct mkey *a = x, *b = y;
	int c;

	if (a->capture != b->capture)
		return a->capture < b->capture ? -1 : 1;
	if ((c = str_cmp(a->family, b->family)) || (c = str_cmp(a->aa, b->aa)))
		return c;
	if (a->pa != b->pa)
		return a->pa < b->pa ? -1 : 1;
	if ((c = str_cmp(a->ab, b->ab)))
		return c;
	if (a->pb != b->pb)
		return a->pb < b->pb ? -1 : 1;
	return 0;
}

static const struct sc_diff_str no_str = { NULL, 0, false };

static struct mkey mkey_of(const struct crow *r, bool as_client)
{
	struct mkey k = { .capture = r->capture, .family = &r->family };

	if (str_is(&r->family, "unix")) {
		/* Both ends of a Unix-domain connection name the socket file. */
		k.aa = &r->upath;
		k.ab = &no_str;
		k.pa = k.pb = -1;
	} else if (as_client) {
		k.aa = &r->laddr, k.pa = r->lport;
		k.ab = &r->raddr, k.pb = r->rport;
	} else {
		k.aa = &r->raddr, k.pa = r->rport;
		k.ab = &r->laddr, k.pb = r->lport;
	}
	return k;
}

static int64_t col_i64(sqlite3_stmt *st, int col, int64_t null)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? null : sqlite3_column_int64(st, col);
}

/* The connections that take part, in order (diff.h: the mirror rule). */
static int load_conns(struct side *s, struct sc_diag *diag)
{
	static const char sql[] =
		"SELECT id, capture_id, role, family, local_addr, local_port, remote_addr, remote_port, unix_path "
		"FROM connections ORDER BY open_ns IS NULL, open_ns, capture_id, source_id, id";
	sqlite3_stmt *st = NULL;
	struct crow *rows = NULL;
	struct mkey *clients = NULL;
	size_t n = 0, cap = 0, nc = 0;
	int rc = 0, src;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_err(s, diag, "reading connections");
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		struct crow *r;

		if (n == cap) {
			struct crow *t = sc_grow(rows, &cap, sizeof(*t), 64);

			if (!t) {
				rc = -ENOMEM;
				goto out;
			}
			rows = t;
		}
		r = &rows[n];
		memset(r, 0, sizeof(*r));
		n++;
		r->id = sqlite3_column_int64(st, 0);
		r->capture = sqlite3_column_int64(st, 1);
		r->lport = col_i64(st, 5, -1);
		r->rport = col_i64(st, 7, -1);
		r->keep = true;
		if (str_col(&r->role, st, 2) || str_col(&r->family, st, 3) || str_col(&r->laddr, st, 4) ||
		    str_col(&r->raddr, st, 6) || str_col(&r->upath, st, 8)) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (src != SQLITE_DONE) {
		rc = sql_err(s, diag, "reading connections");
		goto out;
	}
	if (n) {
		clients = malloc(n * sizeof(*clients));
		if (!clients) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (str_is(&rows[i].role, "client"))
			clients[nc++] = mkey_of(&rows[i], true);
	if (nc) {
		qsort(clients, nc, sizeof(*clients), mkey_cmp);
		for (size_t i = 0; i < n; i++) {
			struct mkey k;

			if (!str_is(&rows[i].role, "server"))
				continue;
			k = mkey_of(&rows[i], false);
			if (bsearch(&k, clients, nc, sizeof(*clients), mkey_cmp))
				rows[i].keep = false;
		}
	}
	if (n) {
		s->conns = calloc(n, sizeof(*s->conns));
		if (!s->conns) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (rows[i].keep)
			s->conns[s->n_conns++].id = rows[i].id;
out:
	for (size_t i = 0; i < n; i++)
		crow_fini(&rows[i]);
	free(rows);
	free(clients);
	sqlite3_finalize(st);
	return rc;
}

struct idmap {
	int64_t id;
	size_t idx;
};

static int idmap_cmp(const void *x, const void *y)
{
	const struct idmap *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

/* Transactions of the connections that take part, grouped by connection in
 * connection order, each group in request order. */
static int load_tx(struct side *s, struct sc_diag *diag)
{
	static const char sql[] =
		"SELECT id, connection_id, stream_id, http_version, method, authority, path, status FROM transactions "
		"ORDER BY connection_id, coalesce(req_start_ns, resp_start_ns) IS NULL, "
		"coalesce(req_start_ns, resp_start_ns), stream_id, id";
	sqlite3_stmt *st = NULL;
	struct idmap *map = NULL;
	struct tx *all = NULL;
	size_t n = 0, cap = 0, *count = NULL;
	int rc = 0, src;

	if (s->n_conns) {
		map = malloc(s->n_conns * sizeof(*map));
		count = calloc(s->n_conns + 1, sizeof(*count));
		if (!map || !count) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < s->n_conns; i++)
		map[i] = (struct idmap){ s->conns[i].id, i };
	if (s->n_conns)
		qsort(map, s->n_conns, sizeof(*map), idmap_cmp);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = sql_err(s, diag, "reading transactions");
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		struct idmap k = { sqlite3_column_int64(st, 1), 0 }, *m;
		struct tx *t;

		m = s->n_conns ? bsearch(&k, map, s->n_conns, sizeof(*map), idmap_cmp) : NULL;
		if (!m)
			continue; /* a mirrored server-side connection */
		if (n == cap) {
			struct tx *nt = sc_grow(all, &cap, sizeof(*nt), 256);

			if (!nt) {
				rc = -ENOMEM;
				goto out;
			}
			all = nt;
		}
		t = &all[n];
		memset(t, 0, sizeof(*t));
		n++;
		t->id = sqlite3_column_int64(st, 0);
		t->conn_id = k.id;
		t->conn = m->idx;
		t->stream_id = col_i64(st, 2, -1);
		t->status = (int)col_i64(st, 7, -1);
		if (str_col(&t->version, st, 3) || str_col(&t->method, st, 4) || str_col(&t->authority, st, 5) ||
		    str_col(&t->path, st, 6)) {
			rc = -ENOMEM;
			goto out;
		}
		t->key_authority = !s->ignore_authority;
		t->key = hash_str(FNV_INIT, &t->method);
		if (t->key_authority)
			t->key = hash_str(t->key, &t->authority);
		t->key = hash_str(t->key, &t->path);
		count[m->idx + 1]++;
	}
	if (src != SQLITE_DONE) {
		rc = sql_err(s, diag, "reading transactions");
		goto out;
	}
	/* Counting sort by connection order; stable, so request order stays. */
	if (n) {
		s->tx = malloc(n * sizeof(*s->tx));
		if (!s->tx) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < s->n_conns; i++) {
		count[i + 1] += count[i];
		s->conns[i].first = count[i];
		s->conns[i].n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct conn *c = &s->conns[all[i].conn];

		s->tx[c->first + c->n] = all[i];
		c->n++;
		s->tx[c->first + c->n - 1].index = (uint32_t)c->n;
	}
	s->n_tx = n;
	n = 0; /* now owned by s->tx */
	/* Drop connections without transactions, keeping the order. */
	{
		size_t k = 0;

		for (size_t i = 0; i < s->n_conns; i++) {
			if (!s->conns[i].n)
				continue;
			s->conns[k] = s->conns[i];
			for (size_t j = 0; j < s->conns[k].n; j++)
				s->tx[s->conns[k].first + j].conn = k;
			k++;
		}
		s->n_conns = k;
	}
	for (size_t i = 0; i < s->n_conns; i++) {
		struct conn *c = &s->conns[i];
		uint64_t h = fnv(FNV_INIT, &c->n, sizeof(c->n));

		for (size_t j = 0; j < c->n; j++)
			h = fnv(h, &s->tx[c->first + j].key, sizeof(uint64_t));
		c->sig = h;
	}
out:
	for (size_t i = 0; i < n; i++)
		tx_fini(&all[i]);
	free(all);
	free(map);
	free(count);
	sqlite3_finalize(st);
	return rc;
}

static int side_load(struct side *s, struct sc_diag *diag)
{
	int rc;

	if ((rc = load_conns(s, diag)) < 0 || (rc = load_tx(s, diag)) < 0)
		return rc;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT direction, name, value, is_trailer FROM headers WHERE transaction_id = ?1 "
			       "ORDER BY direction = 'response', idx",
			       -1, &s->hdr, NULL) != SQLITE_OK)
		return sql_err(s, diag, "reading headers");
	if (sqlite3_prepare_v2(s->db, "SELECT direction, data, length FROM bodies WHERE transaction_id = ?1", -1,
			       &s->body, NULL) != SQLITE_OK)
		return sql_err(s, diag, "reading bodies");
	return 0;
}

/* ---- Headers ------------------------------------------------------------------------------- */

struct field {
	int dir;       /* enum sc_diff_dir */
	bool trailer;
	struct sc_diff_str name, value; /* name lower-cased */
	size_t idx;    /* order within the transaction */
	uint64_t vh;   /* hash of the value */
};

struct fields {
	struct field *f;
	size_t n;
};

static void fields_fini(struct fields *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		str_free(&fs->f[i].name);
		str_free(&fs->f[i].value);
	}
	free(fs->f);
	fs->f = NULL;
	fs->n = 0;
}

static int load_fields(struct side *s, int64_t txid, struct fields *fs, struct sc_diag *diag)
{
	size_t cap = 0;
	int src, rc = 0;

	sqlite3_reset(s->hdr);
	sqlite3_bind_int64(s->hdr, 1, txid);
	while ((src = sqlite3_step(s->hdr)) == SQLITE_ROW) {
		struct sc_diff_str dir;
		struct field *f;
		int d;

		if (str_col(&dir, s->hdr, 0))
			return -ENOMEM;
		d = str_is(&dir, "request") ? SC_DIFF_REQUEST : str_is(&dir, "response") ? SC_DIFF_RESPONSE : -1;
		str_free(&dir);
		if (d < 0)
			continue;
		if (fs->n == cap) {
			struct field *t = sc_grow(fs->f, &cap, sizeof(*t), 32);

			if (!t)
				return -ENOMEM;
			fs->f = t;
		}
		f = &fs->f[fs->n];
		memset(f, 0, sizeof(*f));
		fs->n++;
		f->dir = d;
		f->trailer = sqlite3_column_int(s->hdr, 3) != 0;
		f->idx = fs->n - 1;
		if (str_col(&f->name, s->hdr, 1) || str_col(&f->value, s->hdr, 2))
			return -ENOMEM;
		for (size_t i = 0; i < f->name.len; i++)
			if (f->name.p[i] >= 'A' && f->name.p[i] <= 'Z')
				f->name.p[i] = (char)(f->name.p[i] - 'A' + 'a');
		f->vh = hash_str(FNV_INIT, &f->value);
	}
	if (src != SQLITE_DONE)
		rc = sql_err(s, diag, "reading headers");
	return rc;
}

bool sc_diff_header_ignored(const struct sc_diff_opts *o, const char *name, size_t len)
{
	if (o && o->ignore_authority &&
	    ((len == 4 && strncasecmp(name, "host", 4) == 0) || (len == 10 && memcmp(name, ":authority", 10) == 0)))
		return true;
	if (!o || !o->no_default_ignore)
		for (const char *const *v = sc_diff_volatile_headers; *v; v++)
			if (strlen(*v) == len && strncasecmp(*v, name, len) == 0)
				return true;
	if (o)
		for (size_t i = 0; i < o->n_ignore; i++)
			if (o->ignore[i] && strlen(o->ignore[i]) == len && strncasecmp(o->ignore[i], name, len) == 0)
				return true;
	return false;
}

/* The first value of header `name` (lower case) in direction `dir`, not a
 * trailer; NULL when absent. */
static const struct sc_diff_str *field_find(const struct fields *fs, int dir, const char *name)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->f[i].dir == dir && !fs->f[i].trailer && str_is(&fs->f[i].name, name))
			return &fs->f[i].value;
	return NULL;
}

/* Fields of one (direction, trailer, name) form a group. */
static int group_cmp(const struct field *a, const struct field *b)
{
	if (a->dir != b->dir)
		return a->dir - b->dir;
	if (a->trailer != b->trailer)
		return a->trailer - b->trailer;
	return str_cmp(&a->name, &b->name);
}

/* Groups together, each in the order of its fields. */
static int field_group_cmp(const void *x, const void *y)
{
	const struct field *a = *(const struct field *const *)x, *b = *(const struct field *const *)y;
	int c = group_cmp(a, b);

	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* A field difference before sorting into output order. */
struct fd {
	struct sc_diff_field f;
	uint64_t group; /* order of its group: A's first field, else after A's, B's first */
	size_t seq;
};

struct fds {
	struct fd *d;
	size_t n, cap;
};

static void fds_fini(struct fds *v)
{
	for (size_t i = 0; i < v->n; i++) {
		str_free(&v->d[i].f.name);
		str_free(&v->d[i].f.a);
		str_free(&v->d[i].f.b);
	}
	free(v->d);
}

static int fds_add(struct fds *v, const struct field *fa, const struct field *fb, uint64_t group)
{
	struct fd *d;
	const struct field *any = fa ? fa : fb;

	if (v->n == v->cap) {
		struct fd *t = sc_grow(v->d, &v->cap, sizeof(*t), 16);

		if (!t)
			return -ENOMEM;
		v->d = t;
	}
	d = &v->d[v->n];
	memset(d, 0, sizeof(*d));
	d->group = group;
	d->seq = v->n;
	d->f.dir = (enum sc_diff_dir)any->dir;
	d->f.trailer = any->trailer;
	d->f.op = fa && fb ? SC_DIFF_OP_CHANGED : fa ? SC_DIFF_OP_REMOVED : SC_DIFF_OP_ADDED;
	v->n++;
	if (str_dup(&d->f.name, &any->name) || (fa && str_dup(&d->f.a, &fa->value)) ||
	    (fb && str_dup(&d->f.b, &fb->value)))
		return -ENOMEM;
	return 0;
}

static int fd_cmp(const void *x, const void *y)
{
	const struct fd *a = x, *b = y;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

struct vcmp {
	struct field *const *a, *const *b;
};

static bool value_eq(const void *ctx, size_t i, size_t j)
{
	const struct vcmp *v = ctx;

	return str_eq(&v->a[i]->value, &v->b[j]->value);
}

/* Regions between matches of an alignment: removed a[i0..i1) and added
 * b[j0..j1), paired in order as changes; calls `fn` per pair or single. */
typedef int (*region_fn)(void *ctx, size_t i, size_t j); /* NONE for the missing side */

static int walk_regions(size_t n, size_t m, const size_t *ma, const size_t *mb, region_fn fn, void *ctx)
{
	size_t i = 0, j = 0;
	int rc;

	while (i < n || j < m) {
		size_t i1 = i, j1 = j;

		while (i1 < n && ma[i1] == NONE)
			i1++;
		while (j1 < m && mb[j1] == NONE)
			j1++;
		for (size_t k = 0; i + k < i1 || j + k < j1; k++)
			if ((rc = fn(ctx, i + k < i1 ? i + k : NONE, j + k < j1 ? j + k : NONE)) < 0)
				return rc;
		/* a[i1] matches b[j1] (monotonic), or both are at their ends. */
		i = i1 < n ? i1 + 1 : i1;
		j = j1 < m ? j1 + 1 : j1;
	}
	return 0;
}

struct group_ctx {
	struct fds *out;
	struct field *const *a, *const *b;
	uint64_t group;
};

static int group_region(void *ctx, size_t i, size_t j)
{
	struct group_ctx *g = ctx;

	return fds_add(g->out, i == NONE ? NULL : g->a[i], j == NONE ? NULL : g->b[j], g->group);
}

/* Differences of one group of fields (same direction, trailer flag, name). */
static int diff_group(struct field *const *a, size_t na, struct field *const *b, size_t nb, struct fds *out,
		      bool *approx)
{
	uint64_t *ha = NULL, *hb = NULL;
	size_t *ma = NULL, *mb = NULL;
	struct vcmp vc = { a, b };
	struct cmp c;
	struct group_ctx g = { out, a, b, 0 };
	int rc = -ENOMEM;

	g.group = na ? (uint64_t)a[0]->idx : ((uint64_t)1 << 40) + b[0]->idx;
	ha = malloc((na + 1) * sizeof(*ha));
	hb = malloc((nb + 1) * sizeof(*hb));
	ma = malloc((na + 1) * sizeof(*ma));
	mb = malloc((nb + 1) * sizeof(*mb));
	if (!ha || !hb || !ma || !mb)
		goto out;
	for (size_t i = 0; i < na; i++)
		ha[i] = a[i]->vh;
	for (size_t j = 0; j < nb; j++)
		hb[j] = b[j]->vh;
	c = (struct cmp){ ha, hb, value_eq, &vc };
	if ((rc = align(&c, na, nb, &LIM_HDR, ma, mb, approx)) < 0)
		goto out;
	rc = walk_regions(na, nb, ma, mb, group_region, &g);
out:
	free(ha);
	free(hb);
	free(ma);
	free(mb);
	return rc;
}

/* The header differences of a matched pair, in output order. */
static int diff_fields(const struct fields *fa, const struct fields *fb, const struct sc_diff_opts *o,
		       struct sc_diff_entry *e, bool *approx)
{
	struct field **pa = NULL, **pb = NULL;
	struct fds out = { 0 };
	size_t na = 0, nb = 0, i = 0, j = 0;
	int rc = -ENOMEM;

	pa = malloc((fa->n + 1) * sizeof(*pa));
	pb = malloc((fb->n + 1) * sizeof(*pb));
	if (!pa || !pb)
		goto out;
	for (size_t k = 0; k < fa->n; k++)
		if (!fa->f[k].name.known || !sc_diff_header_ignored(o, fa->f[k].name.p, fa->f[k].name.len))
			pa[na++] = &fa->f[k];
	for (size_t k = 0; k < fb->n; k++)
		if (!fb->f[k].name.known || !sc_diff_header_ignored(o, fb->f[k].name.p, fb->f[k].name.len))
			pb[nb++] = &fb->f[k];
	qsort(pa, na, sizeof(*pa), field_group_cmp);
	qsort(pb, nb, sizeof(*pb), field_group_cmp);
	/* Merge the groups of both sides. */
	while (i < na || j < nb) {
		size_t i1 = i, j1 = j;
		int c;

		c = i < na && j < nb ? group_cmp(pa[i], pb[j]) : i < na ? -1 : 1;
		if (c <= 0)
			while (i1 < na && group_cmp(pa[i1], pa[i]) == 0)
				i1++;
		if (c >= 0)
			while (j1 < nb && group_cmp(pb[j1], pb[j]) == 0)
				j1++;
		if ((rc = diff_group(pa + i, i1 - i, pb + j, j1 - j, &out, approx)) < 0)
			goto out;
		i = i1;
		j = j1;
	}
	if (out.n)
		qsort(out.d, out.n, sizeof(*out.d), fd_cmp);
	e->fields = out.n ? calloc(out.n, sizeof(*e->fields)) : NULL;
	if (out.n && !e->fields) {
		rc = -ENOMEM;
		goto out;
	}
	/* Directions first: request fields before response fields. */
	for (int d = SC_DIFF_REQUEST; d <= SC_DIFF_RESPONSE; d++)
		for (size_t k = 0; k < out.n; k++)
			if ((int)out.d[k].f.dir == d) {
				e->fields[e->n_fields++] = out.d[k].f;
				memset(&out.d[k].f, 0, sizeof(out.d[k].f));
			}
	rc = 0;
out:
	fds_fini(&out);
	free(pa);
	free(pb);
	return rc;
}

/* ---- Bodies --------------------------------------------------------------------------------- */

struct body {
	uint8_t *p;
	size_t stored;
	uint64_t length;
};

static int load_bodies(struct side *s, int64_t txid, struct body b[2], struct sc_diag *diag)
{
	int src;

	sqlite3_reset(s->body);
	sqlite3_bind_int64(s->body, 1, txid);
	while ((src = sqlite3_step(s->body)) == SQLITE_ROW) {
		struct sc_diff_str dir;
		const void *p;
		int n, d;

		if (str_col(&dir, s->body, 0))
			return -ENOMEM;
		d = str_is(&dir, "request") ? 0 : str_is(&dir, "response") ? 1 : -1;
		str_free(&dir);
		if (d < 0 || b[d].p || b[d].length)
			continue; /* one body per message; a second row would be damage */
		p = sqlite3_column_blob(s->body, 1);
		n = sqlite3_column_bytes(s->body, 1);
		b[d].length = (uint64_t)col_i64(s->body, 2, 0);
		b[d].stored = p && n > 0 ? (size_t)n : 0;
		if (b[d].stored > b[d].length)
			b[d].length = b[d].stored;
		b[d].p = malloc(b[d].stored + 1);
		if (!b[d].p)
			return -ENOMEM;
		if (b[d].stored)
			memcpy(b[d].p, p, b[d].stored);
	}
	if (src != SQLITE_DONE)
		return sql_err(s, diag, "reading bodies");
	return 0;
}

static bool ascii_prefix(const struct sc_diff_str *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len >= n && strncasecmp(s->p, lit, n) == 0;
}

static bool ascii_contains(const struct sc_diff_str *s, const char *lit)
{
	size_t n = strlen(lit);

	for (size_t i = 0; i + n <= s->len; i++)
		if (strncasecmp(s->p + i, lit, n) == 0)
			return true;
	return false;
}

/* Valid UTF-8 without NUL or control bytes other than tab, LF, FF, CR. */
static bool looks_text(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t len;

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r')
				return false;
			i++;
			continue;
		}
		len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
		if (!len || len > n - i)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* Whether one message's body may be shown as lines: a textual media type
 * (text/..., JSON, XML, JavaScript, forms) with no content coding, or, when no
 * type was sent, bytes that are valid UTF-8 text. */
static bool is_textual(const struct fields *fs, int dir, const struct body *b)
{
	const struct sc_diff_str *ct = field_find(fs, dir, "content-type");
	const struct sc_diff_str *ce = field_find(fs, dir, "content-encoding");

	if (b->length == 0)
		return true;
	if (ce && ce->known && ce->len && !(ce->len == 8 && strncasecmp(ce->p, "identity", 8) == 0))
		return false;
	if (!ct || !ct->known)
		return looks_text(b->p, b->stored);
	return ascii_prefix(ct, "text/") || ascii_contains(ct, "json") || ascii_contains(ct, "xml") ||
	       ascii_contains(ct, "javascript") || ascii_contains(ct, "ecmascript") ||
	       ascii_prefix(ct, "application/x-www-form-urlencoded");
}

struct line {
	const uint8_t *p;
	size_t len;   /* without the newline */
	bool nl;      /* ended by a newline */
};

static int split_lines(const struct body *b, struct line **out, size_t *n, uint64_t **hash)
{
	size_t cnt = 0, k = 0;
	const uint8_t *p = b->p, *end = b->stored ? b->p + b->stored : b->p;

	for (size_t i = 0; i < b->stored; i++)
		cnt += p[i] == '\n';
	cnt += b->stored && p[b->stored - 1] != '\n';
	*out = malloc((cnt + 1) * sizeof(**out));
	*hash = malloc((cnt + 1) * sizeof(**hash));
	if (!*out || !*hash)
		return -ENOMEM;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		struct line *l = &(*out)[k];

		l->p = p;
		l->len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		l->nl = nl != NULL;
		(*hash)[k] = fnv(fnv(FNV_INIT, &l->nl, 1), l->p, l->len);
		k++;
		p = nl ? nl + 1 : end;
	}
	*n = k;
	return 0;
}

struct lcmp {
	const struct line *a, *b;
};

static bool line_eq(const void *ctx, size_t i, size_t j)
{
	const struct lcmp *c = ctx;

	return c->a[i].len == c->b[j].len && c->a[i].nl == c->b[j].nl &&
	       (c->a[i].len == 0 || memcmp(c->a[i].p, c->b[j].p, c->a[i].len) == 0);
}

/* One line of the edit script: ' ' both, '-' only A, '+' only B. */
struct op {
	char kind;
	size_t a, b; /* line indices (the side(s) it has) */
};

struct lines_out {
	struct sc_diff_str *v;
	size_t n, cap, bytes;
};

static int lines_add(struct lines_out *lo, char prefix, const void *p, size_t len)
{
	struct sc_diff_str *s;

	if (lo->n == lo->cap) {
		struct sc_diff_str *t = sc_grow(lo->v, &lo->cap, sizeof(*t), 32);

		if (!t)
			return -ENOMEM;
		lo->v = t;
	}
	s = &lo->v[lo->n];
	s->p = malloc(len + 2);
	if (!s->p)
		return -ENOMEM;
	s->p[0] = prefix;
	if (len)
		memcpy(s->p + 1, p, len);
	s->p[len + 1] = '\0';
	s->len = len + 1;
	s->known = true;
	lo->n++;
	lo->bytes += len + 1;
	return 0;
}

/* GNU diff's range: "start,count", "start" when count is 1, and an empty
 * range names the line before it ("0,0" at the top). */
static int range(char *buf, size_t cap, size_t before, size_t count)
{
	if (count == 1)
		return snprintf(buf, cap, "%zu", before + 1);
	return snprintf(buf, cap, "%zu,%zu", count ? before + 1 : before, count);
}

static int emit_line(struct lines_out *lo, char kind, const struct line *l)
{
	static const char nonl[] = "\\ No newline at end of file";
	int rc = lines_add(lo, kind, l->p, l->len);

	if (rc == 0 && !l->nl)
		rc = lines_add(lo, nonl[0], nonl + 1, sizeof(nonl) - 2);
	return rc;
}

/* Unified hunks (context SC_DIFF_CONTEXT) from an edit script. */
static int unified(const struct op *ops, size_t nops, const struct line *la, const struct line *lb,
		   struct lines_out *lo)
{
	size_t i = 0;
	/* Lines of A and B before ops[k], computed as we go. */
	size_t ca = 0, cb = 0;

	while (i < nops) {
		size_t s, e, hs, he, ha = 0, hb = 0, ba, bb;
		char hdr[128], ra[48], rb[48];
		int rc;

		if (ops[i].kind == ' ') {
			ca++, cb++, i++;
			continue;
		}
		/* A hunk: changes from s, extended while the next change is within
		 * 2*context unchanged lines. */
		s = i;
		e = i;
		for (;;) {
			size_t k = e, eq = 0;

			while (k < nops && ops[k].kind != ' ')
				k++;
			e = k;
			while (k < nops && ops[k].kind == ' ' && eq <= 2 * SC_DIFF_CONTEXT)
				k++, eq++;
			if (k < nops && ops[k].kind != ' ' && eq <= 2 * SC_DIFF_CONTEXT)
				e = k;
			else
				break;
		}
		hs = s;
		{
			size_t back = 0;

			while (hs > 0 && back < SC_DIFF_CONTEXT && ops[hs - 1].kind == ' ')
				hs--, back++;
			ba = ca - back;
			bb = cb - back;
		}
		he = e;
		for (size_t fwd = 0; he < nops && fwd < SC_DIFF_CONTEXT && ops[he].kind == ' '; fwd++)
			he++;
		for (size_t k = hs; k < he; k++) {
			ha += ops[k].kind != '+';
			hb += ops[k].kind != '-';
		}
		range(ra, sizeof(ra), ba, ha);
		range(rb, sizeof(rb), bb, hb);
		snprintf(hdr, sizeof(hdr), "@@ -%s +%s @@", ra, rb);
		if ((rc = lines_add(lo, '@', hdr + 1, strlen(hdr) - 1)) < 0)
			return rc;
		for (size_t k = hs; k < he; k++) {
			const struct line *l = ops[k].kind == '+' ? &lb[ops[k].b] : &la[ops[k].a];

			if ((rc = emit_line(lo, ops[k].kind, l)) < 0)
				return rc;
		}
		for (size_t k = s; k < he; k++) {
			ca += ops[k].kind != '+';
			cb += ops[k].kind != '-';
		}
		i = he;
	}
	return 0;
}

/* The unified line diff of two bodies into `bd`.  Returns 0 (bd->text set),
 * or -ENOMEM. */
static int diff_lines(const struct body *a, const struct body *b, size_t *budget, struct sc_diff_body *bd)
{
	struct line *la = NULL, *lb = NULL;
	uint64_t *ha = NULL, *hb = NULL;
	size_t na = 0, nb = 0, *ma = NULL, *mb = NULL, nops = 0, i = 0, j = 0;
	struct op *ops = NULL;
	struct lines_out lo = { 0 };
	struct lcmp lc;
	struct cmp c;
	int rc;

	if ((rc = split_lines(a, &la, &na, &ha)) < 0 || (rc = split_lines(b, &lb, &nb, &hb)) < 0)
		goto out;
	rc = -ENOMEM;
	ma = malloc((na + 1) * sizeof(*ma));
	mb = malloc((nb + 1) * sizeof(*mb));
	ops = malloc((na + nb + 1) * sizeof(*ops));
	if (!ma || !mb || !ops)
		goto out;
	lc = (struct lcmp){ la, lb };
	c = (struct cmp){ ha, hb, line_eq, &lc };
	rc = align(&c, na, nb, &LIM_LINES, ma, mb, NULL);
	if (rc == SC_ELIMIT) {
		bd->text = SC_DIFF_TEXT_TOO_MANY;
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	/* The edit script: in each region, A's lines before B's (as diff -u). */
	while (i < na || j < nb) {
		if (i < na && ma[i] == NONE)
			ops[nops++] = (struct op){ '-', i++, 0 };
		else if (j < nb && mb[j] == NONE)
			ops[nops++] = (struct op){ '+', 0, j++ };
		else
			ops[nops++] = (struct op){ ' ', i++, j++ };
	}
	if ((rc = unified(ops, nops, la, lb, &lo)) < 0)
		goto out;
	if (lo.bytes > *budget) {
		bd->text = SC_DIFF_TEXT_TOO_MANY;
		goto out;
	}
	*budget -= lo.bytes;
	bd->text = SC_DIFF_TEXT_LINES;
	bd->lines = lo.v;
	bd->n_lines = lo.n;
	lo.v = NULL;
	lo.n = 0;
out:
	for (size_t k = 0; k < lo.n; k++)
		free(lo.v[k].p);
	free(lo.v);
	free(la);
	free(lb);
	free(ha);
	free(hb);
	free(ma);
	free(mb);
	free(ops);
	return rc;
}

/* ---- One matched pair --------------------------------------------------------------------- */

struct run {
	struct side a, b;
	const struct sc_diff_opts *o;
	struct sc_diff_result *res;
	size_t text_cap, budget;
	size_t entries_cap;
	uint64_t sim_work; /* key steps spent scoring connection pairs */
	struct sc_diag *diag;
};

static void body_side(struct sc_diff_body_side *s, const struct body *b)
{
	s->length = b->length;
	s->stored = b->stored;
	sc_sha256_digest(b->p, b->stored, s->sha256);
}

static int add_entry(struct run *r, struct sc_diff_entry **out)
{
	struct sc_diff_result *res = r->res;

	if (res->n_entries == r->entries_cap) {
		struct sc_diff_entry *t = sc_grow(res->entries, &r->entries_cap, sizeof(*t), 16);

		if (!t)
			return -ENOMEM;
		res->entries = t;
	}
	*out = &res->entries[res->n_entries++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static void set_ref(struct sc_diff_txref *r, const struct tx *t)
{
	r->tx_id = t->id;
	r->conn_id = t->conn_id;
	r->index = t->index;
	r->stream_id = t->stream_id;
}

static void entry_fini(struct sc_diff_entry *e)
{
	str_free(&e->method);
	str_free(&e->authority);
	str_free(&e->path);
	str_free(&e->version_a);
	str_free(&e->version_b);
	for (size_t i = 0; i < e->n_fields; i++) {
		str_free(&e->fields[i].name);
		str_free(&e->fields[i].a);
		str_free(&e->fields[i].b);
	}
	free(e->fields);
	for (size_t i = 0; i < e->n_bodies; i++) {
		for (size_t k = 0; k < e->bodies[i].n_lines; k++)
			free(e->bodies[i].lines[k].p);
		free(e->bodies[i].lines);
	}
	free(e->bodies);
	memset(e, 0, sizeof(*e));
}

static int entry_key(struct sc_diff_entry *e, const struct tx *t)
{
	if (str_dup(&e->method, &t->method) || str_dup(&e->authority, &t->authority) || str_dup(&e->path, &t->path))
		return -ENOMEM;
	return 0;
}

static int compare_pair(struct run *r, const struct tx *ta, const struct tx *tb)
{
	struct fields fa = { 0 }, fb = { 0 };
	struct body ba[2] = { 0 }, bb[2] = { 0 };
	struct sc_diff_entry e = { 0 }, *slot;
	bool limited = false;
	int rc;

	e.kind = SC_DIFF_CHANGED;
	e.status_a = ta->status;
	e.status_b = tb->status;
	e.status_changed = ta->status != tb->status;
	e.version_changed = !str_eq(&ta->version, &tb->version);
	if ((rc = load_fields(&r->a, ta->id, &fa, r->diag)) < 0 || (rc = load_fields(&r->b, tb->id, &fb, r->diag)) < 0)
		goto out;
	if ((rc = diff_fields(&fa, &fb, r->o, &e, &r->res->approximate)) < 0)
		goto out;
	if ((rc = load_bodies(&r->a, ta->id, ba, r->diag)) < 0 || (rc = load_bodies(&r->b, tb->id, bb, r->diag)) < 0)
		goto out;
	for (int d = 0; d < 2; d++) {
		const struct body *x = &ba[d], *y = &bb[d];
		bool cut = x->stored < x->length || y->stored < y->length;
		size_t common = x->stored < y->stored ? x->stored : y->stored;
		struct sc_diff_body *bd;

		limited |= cut;
		/* Equal as far as both were stored: same full length, and the
		 * bytes both databases kept are the same. */
		if (x->length == y->length && (common == 0 || memcmp(x->p, y->p, common) == 0) &&
		    (cut || x->stored == y->stored))
			continue;
		if (!e.bodies) {
			e.bodies = calloc(2, sizeof(*e.bodies));
			if (!e.bodies) {
				rc = -ENOMEM;
				goto out;
			}
		}
		bd = &e.bodies[e.n_bodies++];
		bd->dir = (enum sc_diff_dir)d;
		bd->limited = cut;
		body_side(&bd->a, x);
		body_side(&bd->b, y);
		bd->text = SC_DIFF_TEXT_NONE;
		if (is_textual(&fa, d, x) && is_textual(&fb, d, y)) {
			if (cut || x->stored > r->text_cap || y->stored > r->text_cap)
				bd->text = SC_DIFF_TEXT_TOO_BIG;
			else if ((rc = diff_lines(x, y, &r->budget, bd)) < 0)
				goto out;
		}
	}
	if (limited)
		r->res->limited++;
	if (!e.status_changed && !e.version_changed && !e.n_fields && !e.n_bodies) {
		r->res->equal++;
		rc = 0;
		goto out;
	}
	if ((rc = entry_key(&e, ta)) < 0 || (rc = str_dup(&e.version_a, &ta->version)) < 0 ||
	    (rc = str_dup(&e.version_b, &tb->version)) < 0)
		goto out;
	set_ref(&e.a, ta);
	set_ref(&e.b, tb);
	if ((rc = add_entry(r, &slot)) < 0)
		goto out;
	*slot = e;
	memset(&e, 0, sizeof(e));
	r->res->changed++;
out:
	entry_fini(&e);
	fields_fini(&fa);
	fields_fini(&fb);
	for (int d = 0; d < 2; d++) {
		free(ba[d].p);
		free(bb[d].p);
	}
	return rc;
}

static int one_side(struct run *r, const struct tx *t, bool added)
{
	struct sc_diff_entry *e;
	int rc;

	if ((rc = add_entry(r, &e)) < 0)
		return rc;
	e->kind = added ? SC_DIFF_ADDED : SC_DIFF_REMOVED;
	set_ref(added ? &e->b : &e->a, t);
	e->status_a = e->status_b = -1;
	if (added) {
		r->res->added++;
		e->status_b = t->status;
	} else {
		r->res->removed++;
		e->status_a = t->status;
	}
	return entry_key(e, t);
}

/* ---- Matching ----------------------------------------------------------------------------- */

struct conn_cmp {
	const struct side *a, *b;
};

static bool conn_eq(const void *ctx, size_t i, size_t j)
{
	const struct conn_cmp *c = ctx;
	const struct conn *x = &c->a->conns[i], *y = &c->b->conns[j];

	if (x->n != y->n)
		return false;
	for (size_t k = 0; k < x->n; k++)
		if (!key_eq(&c->a->tx[x->first + k], &c->b->tx[y->first + k]))
			return false;
	return true;
}

/* Transactions of A and B seen through index lists (a connection's, or the
 * leftovers). */
struct tx_cmp {
	const struct tx *a, *b;
	const size_t *ia, *ib;
	const size_t *cpa; /* leftovers: A's connection -> its paired B connection */
};

static bool tx_eq(const void *ctx, size_t i, size_t j)
{
	const struct tx_cmp *c = ctx;
	const struct tx *x = &c->a[c->ia[i]], *y = &c->b[c->ib[j]];

	/* Two connections aligned against each other already had their say:
	 * within them order counts, so no crossing match is added later. */
	if (c->cpa && c->cpa[x->conn] == y->conn)
		return false;
	return key_eq(x, y);
}

/* Align transactions a.tx[ia[..]] with b.tx[ib[..]] and record matches in
 * the global maps. */
static int align_tx(struct run *r, const size_t *ia, size_t na, const size_t *ib, size_t nb, const struct limits *lim,
		    const size_t *cpa, size_t *ga, size_t *gb)
{
	uint64_t *ha = malloc((na + 1) * sizeof(*ha)), *hb = malloc((nb + 1) * sizeof(*hb));
	size_t *ma = malloc((na + 1) * sizeof(*ma)), *mb = malloc((nb + 1) * sizeof(*mb));
	struct tx_cmp tc = { r->a.tx, r->b.tx, ia, ib, cpa };
	struct cmp c;
	int rc = -ENOMEM;

	if (!ha || !hb || !ma || !mb)
		goto out;
	for (size_t i = 0; i < na; i++)
		ha[i] = r->a.tx[ia[i]].key;
	for (size_t j = 0; j < nb; j++)
		hb[j] = r->b.tx[ib[j]].key;
	c = (struct cmp){ ha, hb, tx_eq, &tc };
	if ((rc = align(&c, na, nb, lim, ma, mb, &r->res->approximate)) < 0)
		goto out;
	for (size_t i = 0; i < na; i++) {
		if (ma[i] == NONE)
			continue;
		ga[ia[i]] = ib[ma[i]];
		gb[ib[ma[i]]] = ia[i];
	}
out:
	free(ha);
	free(hb);
	free(ma);
	free(mb);
	return rc;
}

/* An unmatched transaction of B by its key, for sorting. */
struct kidx {
	uint64_t key;
	size_t j;
};

static int by_key(const void *x, const void *y)
{
	const struct kidx *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->j < b->j ? -1 : a->j > b->j; /* then capture order */
}

/* Work bound of pair_by_key(): keys shared by many transactions of one pair
 * of connections are scanned again for each; past it the rest stays
 * unmatched and the result says approximate. */
#define KEY_SCAN_BUDGET 50000000u

/* Pair every unmatched transaction of A, in capture order, with the earliest
 * unmatched one of B with the same key, outside the pair of connections
 * already aligned against each other (where order counted). */
static int pair_by_key(struct run *r, const size_t *cpa, size_t *ga, size_t *gb)
{
	struct kidx *kb = malloc((r->b.n_tx + 1) * sizeof(*kb));
	uint64_t budget = KEY_SCAN_BUDGET;
	size_t nb = 0;

	if (!kb)
		return -ENOMEM;
	for (size_t j = 0; j < r->b.n_tx; j++)
		if (gb[j] == NONE)
			kb[nb++] = (struct kidx){ r->b.tx[j].key, j };
	qsort(kb, nb, sizeof(*kb), by_key);
	for (size_t i = 0; i < r->a.n_tx && nb; i++) {
		const struct tx *x = &r->a.tx[i];
		size_t lo = 0, hi = nb;

		if (ga[i] != NONE)
			continue;
		while (lo < hi) { /* the first of x's key */
			size_t mid = lo + (hi - lo) / 2;

			if (kb[mid].key < x->key)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < nb && kb[k].key == x->key; k++) {
			const struct tx *y = &r->b.tx[kb[k].j];

			if (budget-- == 0) {
				r->res->approximate = true;
				free(kb);
				return 0;
			}
			if (gb[kb[k].j] != NONE || cpa[x->conn] == y->conn || !key_eq(x, y))
				continue;
			ga[i] = kb[k].j;
			gb[kb[k].j] = i;
			break;
		}
	}
	free(kb);
	return 0;
}

struct cand {
	size_t i, j, common, total;
};

static int cand_cmp(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	/* Dice 2*common/total, compared without division (counts of one
	 * connection's transactions are far below 2^32). */
	uint64_t l = (uint64_t)a->common * b->total, rr = (uint64_t)b->common * a->total;

	if (l != rr)
		return l > rr ? -1 : 1;
	if (a->common != b->common)
		return a->common > b->common ? -1 : 1;
	if (a->i != b->i)
		return a->i < b->i ? -1 : 1;
	return a->j < b->j ? -1 : a->j > b->j;
}

/* Gaps with at most this many (A, B) connection pairs score them all; larger
 * ones score only pairs near the same relative position (both lists are in
 * open order), BAND on each side.  Scoring stops for the whole run after
 * SIM_BUDGET key steps; what is not paired goes to the leftover alignment. */
#define GAP_PAIRS_MAX 16384
#define GAP_BAND 8
#define SIM_BUDGET 200000000u

/* Keys shared by two connections as multisets (by hash: only a score for
 * pairing; the transactions are aligned exactly afterwards). */
static size_t common_keys(const uint64_t *a, size_t n, const uint64_t *b, size_t m)
{
	size_t i = 0, j = 0, c = 0;

	while (i < n && j < m) {
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else
			c++, i++, j++;
	}
	return c;
}

/* Each connection's key hashes, sorted, in the layout of side.tx. */
static int sort_keys(const struct side *s, uint64_t **out)
{
	uint64_t *k = malloc((s->n_tx + 1) * sizeof(*k));

	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_tx; i++)
		k[i] = s->tx[i].key;
	for (size_t c = 0; c < s->n_conns; c++)
		qsort(k + s->conns[c].first, s->conns[c].n, sizeof(*k), u64_cmp);
	*out = k;
	return 0;
}

/* Step 2 (diff.h): pair the connections A[i0..i1) and B[j0..j1) left
 * between two anchors, greedily by similarity. */
static int pair_gap(struct run *r, size_t i0, size_t i1, size_t j0, size_t j1, const uint64_t *ka_sorted,
		    const uint64_t *kb_sorted, size_t *cpa)
{
	size_t ka = i1 - i0, kb = j1 - j0, nc = 0, cap;
	bool all = ka && kb && ka <= GAP_PAIRS_MAX / kb;
	struct cand *cs;
	bool *usedb;
	int rc = 0;

	if (!ka || !kb)
		return 0;
	cap = all ? ka * kb : ka * (2 * GAP_BAND + 1);
	cs = malloc(cap * sizeof(*cs));
	usedb = calloc(kb, sizeof(*usedb));
	if (!cs || !usedb) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = i0; i < i1 && r->sim_work <= SIM_BUDGET; i++) {
		/* The band: B's connections around the same relative position. */
		size_t center = j0 + (size_t)((uint64_t)(i - i0) * kb / ka);
		size_t lo = all || center < j0 + GAP_BAND ? j0 : center - GAP_BAND;
		size_t hi = all || center + GAP_BAND + 1 > j1 ? j1 : center + GAP_BAND + 1;

		for (size_t j = lo; j < hi; j++) {
			const struct conn *x = &r->a.conns[i], *y = &r->b.conns[j];
			size_t common = common_keys(ka_sorted + x->first, x->n, kb_sorted + y->first, y->n);

			r->sim_work += x->n + y->n;
			if (common)
				cs[nc++] = (struct cand){ i, j, common, x->n + y->n };
		}
	}
	qsort(cs, nc, sizeof(*cs), cand_cmp);
	for (size_t k = 0; k < nc; k++)
		if (cpa[cs[k].i] == NONE && !usedb[cs[k].j - j0]) {
			cpa[cs[k].i] = cs[k].j;
			usedb[cs[k].j - j0] = true;
		}
out:
	free(cs);
	free(usedb);
	return rc;
}

static int match(struct run *r, size_t *ga, size_t *gb)
{
	size_t na = r->a.n_conns, nb = r->b.n_conns;
	uint64_t *ha = malloc((na + 1) * sizeof(*ha)), *hb = malloc((nb + 1) * sizeof(*hb));
	size_t *cpa = malloc((na + 1) * sizeof(*cpa)), *cpb = malloc((nb + 1) * sizeof(*cpb));
	size_t *ia = malloc((r->a.n_tx + 1) * sizeof(*ia)), *ib = malloc((r->b.n_tx + 1) * sizeof(*ib));
	uint64_t *sa = NULL, *sb = NULL;
	struct conn_cmp cc = { &r->a, &r->b };
	struct cmp c;
	size_t pi = 0, pj = 0, la = 0, lb = 0;
	int rc = -ENOMEM;

	if (!ha || !hb || !cpa || !cpb || !ia || !ib)
		goto out;
	if ((rc = sort_keys(&r->a, &sa)) < 0 || (rc = sort_keys(&r->b, &sb)) < 0)
		goto out;
	/* 1: connections with identical key sequences, in order. */
	for (size_t i = 0; i < na; i++)
		ha[i] = r->a.conns[i].sig;
	for (size_t j = 0; j < nb; j++)
		hb[j] = r->b.conns[j].sig;
	c = (struct cmp){ ha, hb, conn_eq, &cc };
	if ((rc = align(&c, na, nb, &LIM_TX, cpa, cpb, &r->res->approximate)) < 0)
		goto out;
	/* 2: the gaps between those anchors. */
	for (size_t i = 0, j = 0;; ) {
		while (i < na && cpa[i] == NONE)
			i++;
		while (j < nb && cpb[j] == NONE)
			j++;
		if ((rc = pair_gap(r, pi, i, pj, j, sa, sb, cpa)) < 0)
			goto out;
		if (i >= na || j >= nb)
			break;
		pi = ++i;
		pj = ++j;
	}
	/* 3: transactions within each pair of connections. */
	for (size_t i = 0; i < na; i++) {
		const struct conn *x = &r->a.conns[i], *y;

		if (cpa[i] == NONE)
			continue;
		y = &r->b.conns[cpa[i]];
		for (size_t k = 0; k < x->n; k++)
			ia[k] = x->first + k;
		for (size_t k = 0; k < y->n; k++)
			ib[k] = y->first + k;
		if ((rc = align_tx(r, ia, x->n, ib, y->n, &LIM_TX, NULL, ga, gb)) < 0)
			goto out;
	}
	/* 4: what is left, in capture order. */
	for (size_t i = 0; i < r->a.n_tx; i++)
		if (ga[i] == NONE)
			ia[la++] = i;
	for (size_t j = 0; j < r->b.n_tx; j++)
		if (gb[j] == NONE)
			ib[lb++] = j;
	if (la && lb)
		rc = align_tx(r, ia, la, ib, lb, &LIM_TX, cpa, ga, gb);
	/* 5: across connections, order says little (a replay runs recorded
	 * connections at once): what still has a partner of its key elsewhere
	 * gets the earliest one. */
	if (rc >= 0)
		rc = pair_by_key(r, cpa, ga, gb);
out:
	free(sa);
	free(sb);
	free(ha);
	free(hb);
	free(cpa);
	free(cpb);
	free(ia);
	free(ib);
	return rc;
}

int sc_diff_run(sqlite3 *a, sqlite3 *b, const struct sc_diff_opts *o, struct sc_diff_result *res,
		struct sc_diag *diag)
{
	static const struct sc_diff_opts dflt = { 0 };
	struct run r = { .a = { .name = "A", .db = a }, .b = { .name = "B", .db = b } };
	size_t *ga = NULL, *gb = NULL, i = 0, j = 0;
	bool *done = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	r.o = o ? o : &dflt;
	r.res = res;
	r.diag = diag;
	r.text_cap = r.o->text_cap ? r.o->text_cap : SC_DIFF_TEXT_CAP;
	r.budget = r.o->lines_budget ? r.o->lines_budget : SC_DIFF_LINES_BUDGET;
	r.a.ignore_authority = r.b.ignore_authority = r.o->ignore_authority;
	if ((rc = side_load(&r.a, diag)) < 0 || (rc = side_load(&r.b, diag)) < 0)
		goto out;
	res->conns_a = r.a.n_conns;
	res->conns_b = r.b.n_conns;
	res->tx_a = r.a.n_tx;
	res->tx_b = r.b.n_tx;
	rc = -ENOMEM;
	ga = malloc((r.a.n_tx + 1) * sizeof(*ga));
	gb = malloc((r.b.n_tx + 1) * sizeof(*gb));
	done = calloc(r.b.n_tx + 1, sizeof(*done));
	if (!ga || !gb || !done)
		goto out;
	for (size_t k = 0; k < r.a.n_tx; k++)
		ga[k] = NONE;
	for (size_t k = 0; k < r.b.n_tx; k++)
		gb[k] = NONE;
	if ((rc = match(&r, ga, gb)) < 0)
		goto out;
	/* Report in A's order; a B-only transaction comes before the next
	 * match, as in a diff.  Matches that cross (a request that moved to an
	 * earlier connection) are reported at A's position. */
	while (i < r.a.n_tx || j < r.b.n_tx) {
		if (j < r.b.n_tx && done[j]) {
			j++;
		} else if (i < r.a.n_tx && ga[i] == NONE) {
			if ((rc = one_side(&r, &r.a.tx[i++], false)) < 0)
				goto out;
		} else if (j < r.b.n_tx && gb[j] == NONE) {
			if ((rc = one_side(&r, &r.b.tx[j++], true)) < 0)
				goto out;
		} else if (i < r.a.n_tx) {
			done[ga[i]] = true;
			if ((rc = compare_pair(&r, &r.a.tx[i], &r.b.tx[ga[i]])) < 0)
				goto out;
			i++;
		} else {
			j++; /* unreachable: every matched B was done with its A */
		}
	}
	rc = 0;
out:
	free(ga);
	free(gb);
	free(done);
	side_fini(&r.a);
	side_fini(&r.b);
	if (rc < 0) {
		if (rc == -ENOMEM)
			sc_diag_set(diag, rc, 0, "diff: out of memory");
		sc_diff_result_fini(res);
	}
	return rc;
}

void sc_diff_result_fini(struct sc_diff_result *res)
{
	for (size_t i = 0; i < res->n_entries; i++)
		entry_fini(&res->entries[i]);
	free(res->entries);
	memset(res, 0, sizeof(*res));
}
