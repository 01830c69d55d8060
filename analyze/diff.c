/* diff.c - differences between the HTTP transactions of two databases.
 *
 * The contract, the selection of transactions and the matching are described
 * in diff.h.  Here: loading one side, and matching transactions; the
 * alignment is in diff_align.c, the comparison of a matched pair in
 * diff_cmp.c (diff_int.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyze/diff_int.h"
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


/* ---- One side: connections and transactions ----------------------------------------- */

int sc_diff_sql_err(struct side *s, struct sc_diag *diag, const char *what)
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
		return sc_diff_sql_err(s, diag, "reading connections");
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
		rc = sc_diff_sql_err(s, diag, "reading connections");
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
		rc = sc_diff_sql_err(s, diag, "reading transactions");
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
		rc = sc_diff_sql_err(s, diag, "reading transactions");
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
		return sc_diff_sql_err(s, diag, "reading headers");
	if (sqlite3_prepare_v2(s->db, "SELECT direction, data, length FROM bodies WHERE transaction_id = ?1", -1,
			       &s->body, NULL) != SQLITE_OK)
		return sc_diff_sql_err(s, diag, "reading bodies");
	return 0;
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
	if ((rc = sc_diff_align(&c, na, nb, lim, ma, mb, &r->res->approximate)) < 0)
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
	if ((rc = sc_diff_align(&c, na, nb, &sc_diff_lim_tx, cpa, cpb, &r->res->approximate)) < 0)
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
		if ((rc = align_tx(r, ia, x->n, ib, y->n, &sc_diff_lim_tx, NULL, ga, gb)) < 0)
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
		rc = align_tx(r, ia, la, ib, lb, &sc_diff_lim_tx, cpa, ga, gb);
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
			if ((rc = sc_diff_one_side(&r, &r.a.tx[i++], false)) < 0)
				goto out;
		} else if (j < r.b.n_tx && gb[j] == NONE) {
			if ((rc = sc_diff_one_side(&r, &r.b.tx[j++], true)) < 0)
				goto out;
		} else if (i < r.a.n_tx) {
			done[ga[i]] = true;
			if ((rc = sc_diff_compare_pair(&r, &r.a.tx[i], &r.b.tx[ga[i]])) < 0)
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
		sc_diff_entry_fini(&res->entries[i]);
	free(res->entries);
	memset(res, 0, sizeof(*res));
}
