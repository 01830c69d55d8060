/* diff_align.c - a bounded Myers alignment of two sequences seen through
 * hashes (diff_int.h), with a windowed greedy fallback past its bounds. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyze/diff_int.h"
#include "formats/sc_grow.h"

/* Transactions and connections: long sequences, few differences; the trace
 * of D edits costs about D*D/2 int32s (8 MiB at 2048). */
const struct limits sc_diff_lim_tx = { 2048, 50000000, true };
/* Header values of one name. */
const struct limits sc_diff_lim_hdr = { 256, 1000000, true };
/* Body lines: no fallback; a diff that is not minimal-ish is not shown. */
const struct limits sc_diff_lim_lines = { 2048, 20000000, false };

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
int sc_diff_align(const struct cmp *c, size_t n, size_t m, const struct limits *lim, size_t *ma, size_t *mb,
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
