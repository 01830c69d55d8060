/* diff_cmp.c - comparing one matched pair of transactions (diff.h,
 * "Comparison of a matched pair"): header fields grouped by name, bodies by
 * length and bytes, and unified line diffs of textual bodies. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyze/diff_int.h"
#include "formats/sc_grow.h"

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
		rc = sc_diff_sql_err(s, diag, "reading headers");
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
	if ((rc = sc_diff_align(&c, na, nb, &sc_diff_lim_hdr, ma, mb, approx)) < 0)
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
		return sc_diff_sql_err(s, diag, "reading bodies");
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
	rc = sc_diff_align(&c, na, nb, &sc_diff_lim_lines, ma, mb, NULL);
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

void sc_diff_entry_fini(struct sc_diff_entry *e)
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

int sc_diff_compare_pair(struct run *r, const struct tx *ta, const struct tx *tb)
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
	sc_diff_entry_fini(&e);
	fields_fini(&fa);
	fields_fini(&fb);
	for (int d = 0; d < 2; d++) {
		free(ba[d].p);
		free(bb[d].p);
	}
	return rc;
}

int sc_diff_one_side(struct run *r, const struct tx *t, bool added)
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
