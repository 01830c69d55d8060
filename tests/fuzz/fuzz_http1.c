/* fuzz_http1.c - libFuzzer target for the HTTP/1 parser (analyze/http1.c).
 *
 * The input is one direction of a connection, decoded as the analyzer does:
 * a head, then its body, then the next head; after an error, skip the line
 * and look for the next plausible start line with sc_h1_find_head().
 *
 *   byte 0   bit 0      1: a request stream, 0: a response stream
 *            bits 1-3   how the stream arrives in pieces: 0 two pieces cut at
 *                       byte 1 * len / 256; 1 byte by byte; 2..6 pieces of 2,
 *                       3, 7, 64, 1000 bytes; 7 random sizes of 1 to 16
 *            bits 4-5   method each response answers: GET, HEAD, CONNECT, or
 *                       GET/HEAD/CONNECT/POST in turn
 *            bit 6      capture gaps: pieces may be lost (sc_h1_body_gap)
 *   byte 1   seed for the cut and the random sizes
 *   rest     the stream (at most 128 KiB)
 *
 * Without gaps the stream is decoded twice, whole and in pieces, and both
 * runs must agree exactly (a digest of every head, decoded byte, trailer,
 * error message and resynchronisation): results must not depend on where the
 * pieces are cut.  Invariants checked on every call: bytes consumed <= bytes
 * given, decoded <= wire, LENGTH bodies add up, every view inside the buffer
 * of the call, caps respected, SC_EAGAIN only under SC_H1_MAX_HEAD, messages
 * set on errors.  A failed check calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/http1.h"

#define MAX_INPUT (128u << 10)

#define CHECK(x)                  \
	do {                      \
		if (!(x))         \
			abort();  \
	} while (0)

enum { PH_HEAD, PH_BODY, PH_SKIP_LINE, PH_RESYNC };

struct run {
	bool request, gaps;
	unsigned method_mode;
	uint64_t hash;
	size_t msg, dropped;
	int phase;
	size_t last_len;
	struct sc_h1_head h;
	struct sc_h1_body b;
	uint8_t *acc; /* bytes not consumed yet, MAX_INPUT */
	size_t acc_len;
	const uint8_t *lo, *hi; /* the buffer of the current call */
	unsigned sum;
};

static void mix(struct run *r, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		r->hash ^= b[i];
		r->hash *= 0x100000001b3ull;
	}
}

static void mix_u64(struct run *r, uint64_t v)
{
	mix(r, &v, sizeof(v));
}

static void mix_view(struct run *r, struct sc_view v)
{
	mix_u64(r, v.len);
	mix(r, v.p, v.len);
}

static void check_view(const struct run *r, struct sc_view v, const uint8_t *lo, const uint8_t *hi)
{
	(void)r;
	if (!v.p) {
		CHECK(v.len == 0);
		return;
	}
	CHECK(v.p >= lo && v.len <= (size_t)(hi - v.p));
}

static void check_diag(const struct sc_diag *d, int rc)
{
	CHECK(d->err == rc);
	CHECK(strncmp(d->msg, "HTTP/1 ", 7) == 0);
	CHECK(memchr(d->msg, '\0', sizeof(d->msg)) != NULL);
}

static struct sc_view method_for(const struct run *r)
{
	static const char *const m[] = { "GET", "HEAD", "CONNECT", "POST" };
	const char *s = r->method_mode < 3 ? m[r->method_mode] : m[r->msg % 4];
	struct sc_view v = { (const uint8_t *)s, strlen(s) };

	return v;
}

static int on_data(void *ctx, const uint8_t *p, size_t n)
{
	struct run *r = ctx;

	CHECK(n > 0);
	CHECK(p >= r->lo && n <= (size_t)(r->hi - p));
	mix(r, p, n);
	return 0;
}

static void hash_head(struct run *r, const struct sc_h1_head *h, const uint8_t *buf, size_t len)
{
	const uint8_t *end = buf + len;

	CHECK(h->head_len == len);
	CHECK(h->request == r->request);
	CHECK(h->minor == 0 || h->minor == 1);
	CHECK(h->nheaders <= SC_H1_MAX_HEADERS);
	CHECK(h->content_length >= -1 && h->content_length <= SC_H1_MAX_CONTENT_LENGTH);
	CHECK(!(h->chunked && h->te_other));
	CHECK(!(r->request && h->te_other));
	if (h->request) {
		CHECK(h->method.len > 0 && h->target.len > 0);
		check_view(r, h->method, buf, end);
		check_view(r, h->target, buf, end);
		mix_view(r, h->method);
		mix_view(r, h->target);
	} else {
		CHECK(h->status >= 100 && h->status <= 999);
		check_view(r, h->reason, buf, end);
		mix_u64(r, (uint64_t)h->status);
		mix_view(r, h->reason);
	}
	for (size_t i = 0; i < h->nheaders; i++) {
		CHECK(h->headers[i].name.len > 0);
		check_view(r, h->headers[i].name, buf, end);
		check_view(r, h->headers[i].value, buf, end);
		mix_view(r, h->headers[i].name);
		mix_view(r, h->headers[i].value);
	}
	check_view(r, h->upgrade_proto, buf, end);
	check_view(r, h->host, buf, end);
	check_view(r, h->content_type, buf, end);
	check_view(r, h->content_encoding, buf, end);
	mix_view(r, h->upgrade_proto);
	mix_view(r, h->host);
	mix_view(r, h->content_type);
	mix_view(r, h->content_encoding);
	mix_u64(r, (uint64_t)h->minor << 40 | (uint64_t)h->head_len << 8 | (uint64_t)h->chunked << 7 |
			   (uint64_t)h->te_other << 6 | (uint64_t)h->te_and_cl << 5 | (uint64_t)h->conn_close << 4 |
			   (uint64_t)h->conn_keep_alive << 3 | (uint64_t)h->upgrade << 2 |
			   (uint64_t)h->expect_continue << 1 | (uint64_t)sc_h1_persistent(h));
	mix_u64(r, (uint64_t)h->content_length);
}

static void hash_end(struct run *r, const uint8_t *buf, size_t len)
{
	const struct sc_h1_body *b = &r->b;

	CHECK(b->ntrailers <= SC_H1_MAX_TRAILERS);
	mix(r, "E", 1);
	mix_u64(r, b->decoded);
	mix_u64(r, b->wire);
	mix_u64(r, b->missing);
	for (size_t i = 0; i < b->ntrailers; i++) {
		check_view(r, b->trailers[i].name, buf, buf + len);
		check_view(r, b->trailers[i].value, buf, buf + len);
		mix_view(r, b->trailers[i].name);
		mix_view(r, b->trailers[i].value);
	}
}

static void check_body(const struct sc_h1_body *b)
{
	CHECK(b->decoded <= b->wire);
	if (b->kind == SC_H1_BODY_LENGTH)
		CHECK(b->decoded + b->missing + b->remaining == b->length);
	if (!b->incomplete)
		CHECK(b->missing == 0);
}

static void fail(struct run *r, const char *where, int rc, const struct sc_diag *d)
{
	check_diag(d, rc);
	mix(r, where, strlen(where));
	mix_u64(r, (uint64_t)(int64_t)rc);
	mix(r, d->msg, strlen(d->msg));
	mix_u64(r, d->offset);
	r->phase = PH_SKIP_LINE;
}

/* Decodes what it can of buf[0..len); returns the bytes consumed. */
static size_t process(struct run *r, const uint8_t *buf, size_t len)
{
	struct sc_diag diag;
	size_t used = 0;
	uint64_t length, wire0;
	bool done;
	long at;
	int rc;

	r->lo = buf;
	r->hi = buf + len;
	for (;;) {
		const uint8_t *p = buf + used;
		size_t n = len - used;

		memset(&diag, 0, sizeof(diag));
		switch (r->phase) {
		case PH_SKIP_LINE: {
			const uint8_t *lf = memchr(p, '\n', n);

			if (!lf) {
				r->dropped += n;
				return len;
			}
			r->dropped += (size_t)(lf - p) + 1;
			used += (size_t)(lf - p) + 1;
			r->phase = PH_RESYNC;
			break;
		}
		case PH_RESYNC:
			at = sc_h1_find_head(p, n, r->request);
			CHECK(at >= -1 && at < (long)n);
			if (at < 0) {
				/* Keep the last, unfinished line: it may become a start line. */
				size_t keep = 0;

				while (keep < n && p[n - 1 - keep] != '\n')
					keep++;

				if (keep >= SC_H1_MAX_LINE) {
					r->phase = PH_SKIP_LINE;
					r->dropped += n - keep;
					used += n - keep;
					break;
				}
				r->dropped += n - keep;
				return used + n - keep;
			}
			CHECK(at == 0 || p[at - 1] == '\n');
			r->dropped += (size_t)at;
			used += (size_t)at;
			mix(r, "F", 1);
			mix_u64(r, r->dropped);
			r->dropped = 0;
			r->phase = PH_HEAD;
			r->last_len = 0;
			break;
		case PH_HEAD: {
			enum sc_h1_body_kind kind;

			if (n == 0)
				return used;
			rc = sc_h1_parse_head(p, n, r->last_len, r->request, &r->h, &diag);
			if (rc == SC_EAGAIN) {
				CHECK(n < SC_H1_MAX_HEAD);
				r->last_len = n;
				return used;
			}
			if (rc < 0) {
				CHECK(rc == SC_EPROTO || rc == SC_ETOOBIG);
				fail(r, "head", rc, &diag);
				break;
			}
			CHECK((size_t)rc <= n);
			hash_head(r, &r->h, p, (size_t)rc);
			used += (size_t)rc;
			r->last_len = 0;
			length = 12345;
			if (r->request)
				kind = sc_h1_request_body(&r->h, &length);
			else
				kind = sc_h1_response_body(&r->h, method_for(r), &length);
			CHECK(kind == SC_H1_BODY_LENGTH ? length > 0 : length == 0);
			CHECK(kind <= SC_H1_BODY_TUNNEL);
			CHECK(!(r->request && (kind == SC_H1_BODY_CLOSE || kind == SC_H1_BODY_TUNNEL)));
			mix_u64(r, (uint64_t)kind);
			mix_u64(r, length);
			sc_h1_body_init(&r->b, kind, length);
			r->phase = PH_BODY;
			break;
		}
		case PH_BODY:
			wire0 = r->b.wire;
			rc = sc_h1_body_feed(&r->b, p, n, on_data, r, &done, &diag);
			check_body(&r->b);
			if (rc < 0) {
				CHECK(rc == SC_EPROTO || rc == SC_ETOOBIG);
				CHECK(r->b.kind == SC_H1_BODY_CHUNKED);
				CHECK(r->b.wire - wire0 <= n);
				/* Resynchronise from the byte that failed. */
				used += (size_t)(r->b.wire - wire0);
				fail(r, "body", rc, &diag);
				r->msg++;
				break;
			}
			CHECK((size_t)rc <= n);
			CHECK(r->b.wire - wire0 == (uint64_t)rc);
			used += (size_t)rc;
			if (!done) {
				/* Only an unfinished trailer section is left unconsumed. */
				CHECK((size_t)rc == n || r->b.kind == SC_H1_BODY_CHUNKED);
				return used;
			}
			CHECK(sc_h1_body_done(&r->b));
			hash_end(r, p, n);
			r->phase = PH_HEAD;
			r->msg++;
			break;
		default:
			abort();
		}
	}
}

static void feed(struct run *r, const uint8_t *p, size_t n)
{
	size_t used;

	/* Without bytes held back, decode the piece where it lies, as the
	 * analyzer would: an over-read of the piece is then an ASan report. */
	if (r->acc_len == 0) {
		used = process(r, p, n);
		CHECK(used <= n);
		memcpy(r->acc, p + used, n - used);
		r->acc_len = n - used;
		return;
	}
	CHECK(r->acc_len + n <= MAX_INPUT);
	memcpy(r->acc + r->acc_len, p, n);
	r->acc_len += n;
	used = process(r, r->acc, r->acc_len);
	CHECK(used <= r->acc_len);
	memmove(r->acc, r->acc + used, r->acc_len - used);
	r->acc_len -= used;
}

/* n bytes of the stream are lost. */
static void gap(struct run *r, size_t n)
{
	struct sc_diag diag;
	int rc;

	memset(&diag, 0, sizeof(diag));
	mix(r, "G", 1);
	if (r->phase == PH_BODY && r->acc_len == 0) {
		rc = sc_h1_body_gap(&r->b, n, &diag);
		check_body(&r->b);
		if (rc == 0)
			return;
		CHECK(rc == SC_EPROTO);
		check_diag(&diag, rc);
	}
	r->acc_len = 0;
	r->phase = PH_SKIP_LINE;
}

static void finish(struct run *r)
{
	struct sc_diag diag;
	int rc;

	memset(&diag, 0, sizeof(diag));
	if (r->phase == PH_BODY) {
		rc = sc_h1_body_finish(&r->b, &diag);
		if (rc) {
			CHECK(rc == SC_ETRUNC);
			check_diag(&diag, rc);
			mix(r, diag.msg, strlen(diag.msg));
		} else {
			CHECK(sc_h1_body_done(&r->b));
			mix(r, "end", 3);
		}
	} else if (r->phase == PH_HEAD) {
		mix_u64(r, r->acc_len);
	}
	mix_u64(r, (uint64_t)r->phase);
}

static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static size_t piece_len(unsigned pattern, uint32_t *rng, size_t at, size_t n, size_t cut)
{
	static const size_t fixed[] = { 0, 1, 2, 3, 7, 64, 1000 };

	if (pattern == 0)
		return at < cut ? cut - at : n - at;
	if (pattern == 7)
		return 1 + next_rand(rng) % 16;
	return fixed[pattern];
}

static uint64_t run_stream(struct run *r, const uint8_t *data, size_t n, unsigned pattern, uint8_t seed,
			   bool whole)
{
	uint32_t rng = 0x9e3779b9u ^ seed;
	size_t cut = (size_t)seed * n / 256, at = 0;

	r->hash = 0xcbf29ce484222325ull;
	r->phase = PH_HEAD;
	r->msg = r->dropped = r->acc_len = r->last_len = 0;
	while (at < n) {
		size_t k = whole ? n - at : piece_len(pattern, &rng, at, n, cut);

		if (k == 0)
			k = n - at;
		if (k > n - at)
			k = n - at;
		if (r->gaps && !whole && at > 0 && next_rand(&rng) % 8 == 0)
			gap(r, k);
		else
			feed(r, data + at, k);
		at += k;
	}
	finish(r);
	/* find_head over the raw stream, both ways round. */
	for (int req = 0; req < 2; req++) {
		long f = sc_h1_find_head(data, n, req);

		CHECK(f >= -1 && f < (long)n);
		CHECK(f <= 0 || data[f - 1] == '\n');
	}
	return r->hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)); /* ~7 KiB each */
	unsigned pattern;
	uint64_t ha, hb;
	uint8_t seed;

	if (size < 2 || !a || !b)
		goto out;
	pattern = (data[0] >> 1) & 7;
	seed = data[1];
	a->request = b->request = data[0] & 1;
	a->method_mode = b->method_mode = (data[0] >> 4) & 3;
	a->gaps = false;
	b->gaps = (data[0] >> 6) & 1;
	data += 2;
	size -= 2;
	if (size > MAX_INPUT)
		size = MAX_INPUT;
	a->acc = malloc(MAX_INPUT);
	b->acc = malloc(MAX_INPUT);
	if (!a->acc || !b->acc)
		goto out;
	ha = run_stream(a, data, size, pattern, seed, true);
	hb = run_stream(b, data, size, pattern, seed, false);
	if (!b->gaps)
		CHECK(ha == hb);
out:
	if (a)
		free(a->acc);
	if (b)
		free(b->acc);
	free(a);
	free(b);
	return 0;
}
