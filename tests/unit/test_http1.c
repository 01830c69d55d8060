/* test_http1.c - the HTTP/1 message parser: heads, body framing, chunked
 * decoding, gaps and resynchronisation.  Every stream case is decoded whole,
 * byte by byte and split at every offset, and must give one transcript; every
 * prefix of every case is also parsed right before a PROT_NONE page. */
#include "sc_test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analyze/http1.h"

/* ---- Transcripts ------------------------------------------------------------- */

struct tx {
	char *s;
	size_t len, cap;
};

static void tx_reserve(struct tx *t, size_t n)
{
	if (t->len + n + 1 <= t->cap)
		return;
	while (t->len + n + 1 > t->cap)
		t->cap = t->cap ? t->cap * 2 : 256;
	t->s = realloc(t->s, t->cap);
	cr_assert_not_null(t->s);
}

static void tx_printf(struct tx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tx_printf(struct tx *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0);
	tx_reserve(t, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* Printable ASCII as it is; backslash, CR, LF and other bytes escaped. */
static void tx_bytes(struct tx *t, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	tx_reserve(t, 4 * n);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		char *o = t->s + t->len;

		if (c == '\\' || c == '\r' || c == '\n') {
			o[0] = '\\';
			o[1] = c == '\\' ? '\\' : c == '\r' ? 'r' : 'n';
			t->len += 2;
		} else if (c >= 0x20 && c < 0x7f) {
			o[0] = (char)c;
			t->len += 1;
		} else {
			o[0] = '\\';
			o[1] = 'x';
			o[2] = hex[c >> 4];
			o[3] = hex[c & 15];
			t->len += 4;
		}
	}
}

static void tx_view(struct tx *t, struct sc_view v)
{
	tx_bytes(t, v.p, v.len);
}

static const char *tx_str(struct tx *t)
{
	tx_reserve(t, 0);
	t->s[t->len] = '\0';
	return t->s;
}

static void tx_free(struct tx *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}

static bool view_is(struct sc_view v, const char *s)
{
	return v.len == strlen(s) && (v.len == 0 || memcmp(v.p, s, v.len) == 0);
}

static struct sc_view view_of(const char *s)
{
	struct sc_view v = { (const uint8_t *)s, s ? strlen(s) : 0 };

	return v;
}

/* ---- A stream driver: heads and bodies, one message after another ----------- */

enum { PH_HEAD, PH_BODY, PH_FAILED };

struct drv {
	bool request;
	const char *const *methods; /* responses: the method each one answers ("GET" past the end) */
	struct tx out, data;
	int phase;
	size_t last_len, msg;
	struct sc_h1_head h;
	struct sc_h1_body b;
	uint8_t *acc; /* bytes not consumed yet */
	size_t acc_len, acc_cap;
	const uint8_t *buf_lo, *buf_hi; /* the buffer of the current call, for view checks */
};

static void check_view(const struct drv *d, struct sc_view v)
{
	if (v.p == NULL) {
		cr_assert_eq(v.len, 0);
		return;
	}
	cr_assert(v.p >= d->buf_lo && v.p + v.len <= d->buf_hi, "view outside the buffer");
}

static int on_data(void *ctx, const uint8_t *p, size_t n)
{
	struct drv *d = ctx;

	cr_assert(n > 0);
	cr_assert(p >= d->buf_lo && p + n <= d->buf_hi, "data outside the buffer");
	tx_bytes(&d->data, p, n);
	return 0;
}

static const char *method_for(const struct drv *d, size_t i)
{
	if (!d->methods)
		return "GET";
	for (size_t k = 0; k <= i; k++)
		if (!d->methods[k])
			return "GET";
	return d->methods[i];
}

static void rec_error(struct drv *d, const char *where, int rc, const struct sc_diag *diag)
{
	tx_printf(&d->out, "%s error %s: %s\n", where, sc_strerror(rc), diag->msg);
	d->phase = PH_FAILED;
}

static void rec_head(struct drv *d, const struct sc_h1_head *h)
{
	struct tx *t = &d->out;

	if (h->request) {
		tx_view(t, h->method);
		tx_printf(t, " ");
		tx_view(t, h->target);
		tx_printf(t, " HTTP/1.%d\n", h->minor);
		check_view(d, h->method);
		check_view(d, h->target);
	} else {
		tx_printf(t, "HTTP/1.%d %d \"", h->minor, h->status);
		tx_view(t, h->reason);
		tx_printf(t, "\"\n");
		check_view(d, h->reason);
	}
	for (size_t i = 0; i < h->nheaders; i++) {
		tx_printf(t, "  ");
		tx_view(t, h->headers[i].name);
		tx_printf(t, ": ");
		tx_view(t, h->headers[i].value);
		tx_printf(t, "\n");
		check_view(d, h->headers[i].name);
		check_view(d, h->headers[i].value);
	}
	tx_printf(t, "  [len=%zu cl=%lld", h->head_len, (long long)h->content_length);
	if (h->chunked)
		tx_printf(t, " chunked");
	if (h->te_other)
		tx_printf(t, " te_other");
	if (h->te_and_cl)
		tx_printf(t, " te_and_cl");
	if (h->conn_close)
		tx_printf(t, " close");
	if (h->conn_keep_alive)
		tx_printf(t, " keep-alive");
	if (h->expect_continue)
		tx_printf(t, " expect");
	if (h->upgrade)
		tx_printf(t, " upgrade");
	if (h->upgrade_proto.p) {
		tx_printf(t, " proto=");
		tx_view(t, h->upgrade_proto);
	}
	if (h->host.p) {
		tx_printf(t, " host=");
		tx_view(t, h->host);
	}
	if (h->content_type.p) {
		tx_printf(t, " type=");
		tx_view(t, h->content_type);
	}
	if (h->content_encoding.p) {
		tx_printf(t, " enc=");
		tx_view(t, h->content_encoding);
	}
	tx_printf(t, "%s]\n", sc_h1_persistent(h) ? " persistent" : "");
	check_view(d, h->upgrade_proto);
	check_view(d, h->host);
	check_view(d, h->content_type);
	check_view(d, h->content_encoding);
}

static void rec_end(struct drv *d)
{
	const struct sc_h1_body *b = &d->b;

	if (d->data.len) {
		tx_printf(&d->out, "  data \"%s\"\n", tx_str(&d->data));
		d->data.len = 0;
	}
	for (size_t i = 0; i < b->ntrailers; i++) {
		tx_printf(&d->out, "  trailer ");
		tx_view(&d->out, b->trailers[i].name);
		tx_printf(&d->out, ": ");
		tx_view(&d->out, b->trailers[i].value);
		tx_printf(&d->out, "\n");
	}
	tx_printf(&d->out, "  end decoded=%llu wire=%llu", (unsigned long long)b->decoded, (unsigned long long)b->wire);
	if (b->incomplete)
		tx_printf(&d->out, " missing=%llu", (unsigned long long)b->missing);
	tx_printf(&d->out, "\n");
	cr_assert(b->decoded <= b->wire);
}

/* Decodes what it can of buf[0..len); returns the bytes consumed. */
static size_t drv_process(struct drv *d, const uint8_t *buf, size_t len)
{
	struct sc_diag diag = { 0 };
	size_t used = 0;
	uint64_t length;
	bool done;
	int rc;

	d->buf_lo = buf;
	d->buf_hi = buf + len;
	for (;;) {
		if (d->phase == PH_FAILED)
			return len;
		if (d->phase == PH_HEAD) {
			enum sc_h1_body_kind kind;

			if (used == len)
				return used;
			rc = sc_h1_parse_head(buf + used, len - used, d->last_len, d->request, &d->h, &diag);
			if (rc == SC_EAGAIN) {
				cr_assert(len - used < SC_H1_MAX_HEAD);
				d->last_len = len - used;
				return used;
			}
			if (rc < 0) {
				rec_error(d, "head", rc, &diag);
				return len;
			}
			cr_assert((size_t)rc <= len - used);
			cr_assert_eq((size_t)rc, d->h.head_len);
			rec_head(d, &d->h);
			used += (size_t)rc;
			d->last_len = 0;
			if (d->request)
				kind = sc_h1_request_body(&d->h, &length);
			else
				kind = sc_h1_response_body(&d->h, view_of(method_for(d, d->msg)), &length);
			tx_printf(&d->out, "  body %s %llu\n", sc_h1_body_kind_name(kind), (unsigned long long)length);
			sc_h1_body_init(&d->b, kind, length);
			d->phase = PH_BODY;
		}
		rc = sc_h1_body_feed(&d->b, buf + used, len - used, on_data, d, &done, &diag);
		if (rc < 0) {
			rec_error(d, "body", rc, &diag);
			return len;
		}
		cr_assert((size_t)rc <= len - used);
		used += (size_t)rc;
		if (!done)
			return used;
		cr_assert(sc_h1_body_done(&d->b));
		rec_end(d);
		d->phase = PH_HEAD;
		d->msg++;
	}
}

static void acc_put(struct drv *d, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (d->acc_len + n > d->acc_cap) {
		d->acc_cap = d->acc_len + n + 256;
		d->acc = realloc(d->acc, d->acc_cap);
		cr_assert_not_null(d->acc);
	}
	memcpy(d->acc + d->acc_len, p, n);
	d->acc_len += n;
}

/* The next piece of the stream.  Without bytes held back, the piece is
 * decoded where it lies (so that a guard page after it counts). */
static void drv_feed(struct drv *d, const uint8_t *p, size_t n)
{
	size_t used;

	if (d->acc_len == 0) {
		used = drv_process(d, p, n);
		acc_put(d, p + used, n - used);
		return;
	}
	acc_put(d, p, n);
	used = drv_process(d, d->acc, d->acc_len);
	memmove(d->acc, d->acc + used, d->acc_len - used);
	d->acc_len -= used;
}

/* The stream ended. */
static void drv_end(struct drv *d)
{
	struct sc_diag diag = { 0 };
	int rc;

	if (d->phase == PH_HEAD && d->acc_len)
		tx_printf(&d->out, "eof inside a head (%zu bytes)\n", d->acc_len);
	if (d->phase == PH_BODY) {
		rc = sc_h1_body_finish(&d->b, &diag);
		if (rc) {
			if (d->data.len)
				tx_printf(&d->out, "  data \"%s\"\n", tx_str(&d->data));
			rec_error(d, "finish", rc, &diag);
		} else {
			rec_end(d);
			d->msg++;
		}
	}
	tx_printf(&d->out, "eof after %zu messages\n", d->msg);
}

static void drv_free(struct drv *d)
{
	tx_free(&d->out);
	tx_free(&d->data);
	free(d->acc);
}

/* Decodes `in` cut into pieces at the given offsets (ascending). */
static char *decode_pieces(bool request, const char *const *methods, const uint8_t *in, size_t n, const size_t *cuts,
			   size_t ncuts)
{
	struct drv *d = calloc(1, sizeof(*d));
	size_t at = 0;
	char *s;

	cr_assert_not_null(d);
	d->request = request;
	d->methods = methods;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		if (to > at)
			drv_feed(d, in + at, to - at);
		at = to;
	}
	drv_end(d);
	s = strdup(tx_str(&d->out));
	cr_assert_not_null(s);
	drv_free(d);
	free(d);
	return s;
}

static char *decode_whole(bool request, const char *const *methods, const uint8_t *in, size_t n)
{
	return decode_pieces(request, methods, in, n, NULL, 0);
}

static char *decode_bytewise(bool request, const char *const *methods, const uint8_t *in, size_t n)
{
	size_t *cuts = calloc(n + 1, sizeof(*cuts));
	char *s;

	cr_assert_not_null(cuts);
	for (size_t i = 0; i < n; i++)
		cuts[i] = i + 1;
	s = decode_pieces(request, methods, in, n, cuts, n ? n - 1 : 0);
	free(cuts);
	return s;
}

/* ---- Stream cases -------------------------------------------------------------- */

struct h1case {
	bool request;
	const char *methods[6]; /* responses: the request method each answers */
	const char *in;
	size_t len;
	const char *want; /* transcript of the whole stream */
};

#define IN(lit) .in = lit, .len = sizeof(lit) - 1

static void run_case(const struct h1case *c)
{
	const char *const *m = c->request ? NULL : c->methods;
	const uint8_t *in = (const uint8_t *)c->in;
	char *whole = decode_whole(c->request, m, in, c->len);
	char *bytes;

	cr_assert_str_eq(whole, c->want, "whole stream transcript:\n%s", whole);
	bytes = decode_bytewise(c->request, m, in, c->len);
	cr_assert_str_eq(bytes, whole, "byte by byte:\n%s", bytes);
	free(bytes);
	for (size_t k = 1; k < c->len; k++) {
		char *split = decode_pieces(c->request, m, in, c->len, &k, 1);

		cr_assert_str_eq(split, whole, "split at %zu:\n%s", k, split);
		free(split);
	}
	free(whole);
}

static const struct h1case case_get_with_headers = {
	.request = true,
	IN("GET /index.html?q=1&r=%20 HTTP/1.1\r\n"
	   "Host: example.com\r\n"
	   "User-Agent: curl/8.0\r\n"
	   "Accept: */*\r\n"
	   "X-Dup: a\r\n"
	   "x-dup: b\r\n"
	   "X-Empty:\r\n"
	   "X-Spaces: \t v a l \t \r\n"
	   "X-Obs-Text: caf\xc3\xa9\r\n"
	   "\r\n"),
	.want =
		"GET /index.html?q=1&r=%20 HTTP/1.1\n"
		"  Host: example.com\n"
		"  User-Agent: curl/8.0\n"
		"  Accept: */*\n"
		"  X-Dup: a\n"
		"  x-dup: b\n"
		"  X-Empty: \n"
		"  X-Spaces: v a l\n"
		"  X-Obs-Text: caf\\xc3\\xa9\n"
		"  [len=163 cl=-1 host=example.com persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"eof after 1 messages\n",
};

static const struct h1case case_post_with_content_length = {
	.request = true,
	IN("POST /submit HTTP/1.1\r\n"
	   "Host: api.example\r\n"
	   "Content-Type: application/json\r\n"
	   "Content-Length: 13\r\n"
	   "\r\n"
	   "{\"a\":\"hello\"}"),
	.want =
		"POST /submit HTTP/1.1\n"
		"  Host: api.example\n"
		"  Content-Type: application/json\n"
		"  Content-Length: 13\n"
		"  [len=96 cl=13 host=api.example type=application/json persistent]\n"
		"  body length 13\n"
		"  data \"{\"a\":\"hello\"}\"\n"
		"  end decoded=13 wire=13\n"
		"eof after 1 messages\n",
};

static const struct h1case case_chunked_with_extensions_and_trailers = {
	.request = false,
	.methods = { "GET", "GET" },
	IN("HTTP/1.1 200 OK\r\n"
	   "Transfer-Encoding: chunked\r\n"
	   "Trailer: X-Checksum\r\n"
	   "\r\n"
	   "5;name=value\r\n"
	   "hello\r\n"
	   "7 ; a=\"q;x\" ;b\r\n"
	   ", world\r\n"
	   "a\r\n"
	   "0123456789\r\n"
	   "1A\r\n"
	   "abcdefghijklmnopqrstuvwxyz\r\n"
	   "000;last\r\n"
	   "X-Checksum: abc\r\n"
	   "X-Other:  v \r\n"
	   "\r\n"
	   "HTTP/1.1 200 OK\r\n"
	   "Transfer-Encoding: chunked\r\n"
	   "\r\n"
	   "3\r\nxyz\r\n"
	   "0\r\n"
	   "\r\n"),
	.want =
		"HTTP/1.1 200 \"OK\"\n"
		"  Transfer-Encoding: chunked\n"
		"  Trailer: X-Checksum\n"
		"  [len=68 cl=-1 chunked persistent]\n"
		"  body chunked 0\n"
		"  data \"hello, world0123456789abcdefghijklmnopqrstuvwxyz\"\n"
		"  trailer X-Checksum: abc\n"
		"  trailer X-Other: v\n"
		"  end decoded=48 wire=136\n"
		"HTTP/1.1 200 \"OK\"\n"
		"  Transfer-Encoding: chunked\n"
		"  [len=47 cl=-1 chunked persistent]\n"
		"  body chunked 0\n"
		"  data \"xyz\"\n"
		"  end decoded=3 wire=13\n"
		"eof after 2 messages\n",
};

static const struct h1case case_chunked_request_with_content_length = {
	.request = true,
	IN("POST /up HTTP/1.1\r\n"
	   "Host: h\r\n"
	   "Content-Length: 100\r\n"
	   "Transfer-Encoding: chunked\r\n"
	   "\r\n"
	   "4\r\nWiki\r\n"
	   "0\r\n\r\n"
	   "GET /next HTTP/1.1\r\n\r\n"),
	.want =
		"POST /up HTTP/1.1\n"
		"  Host: h\n"
		"  Content-Length: 100\n"
		"  Transfer-Encoding: chunked\n"
		"  [len=79 cl=100 chunked te_and_cl host=h persistent]\n"
		"  body chunked 0\n"
		"  data \"Wiki\"\n"
		"  end decoded=4 wire=14\n"
		"GET /next HTTP/1.1\n"
		"  [len=22 cl=-1 persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"eof after 2 messages\n",
};

static const struct h1case case_http10_response_until_close = {
	.request = false,
	IN("HTTP/1.0 200 OK\r\n"
	   "Server: old\r\n"
	   "\r\n"
	   "body bytes until close\r\n"
	   "HTTP/1.1 200 OK\r\n"),
	.want =
		"HTTP/1.0 200 \"OK\"\n"
		"  Server: old\n"
		"  [len=32 cl=-1]\n"
		"  body close 0\n"
		"  data \"body bytes until close\\r\\nHTTP/1.1 200 OK\\r\\n\"\n"
		"  end decoded=41 wire=41\n"
		"eof after 1 messages\n",
};

static const struct h1case case_response_with_other_coding_until_close = {
	.request = false,
	IN("HTTP/1.1 200 OK\r\n"
	   "Transfer-Encoding: gzip\r\n"
	   "Content-Length: 3\r\n"
	   "\r\n"
	   "\x1f\x8b\x08\x00 more"),
	.want =
		"HTTP/1.1 200 \"OK\"\n"
		"  Transfer-Encoding: gzip\n"
		"  Content-Length: 3\n"
		"  [len=63 cl=3 te_other te_and_cl persistent]\n"
		"  body close 0\n"
		"  data \"\\x1f\\x8b\\x08\\x00 more\"\n"
		"  end decoded=9 wire=9\n"
		"eof after 1 messages\n",
};

static const struct h1case case_head_response_has_no_body = {
	.request = false,
	.methods = { "HEAD", "GET" },
	IN("HTTP/1.1 200 OK\r\n"
	   "Content-Length: 1234\r\n"
	   "Content-Type: text/html\r\n"
	   "\r\n"
	   "HTTP/1.1 404 Not Found\r\n"
	   "Content-Length: 3\r\n"
	   "\r\n"
	   "abc"),
	.want =
		"HTTP/1.1 200 \"OK\"\n"
		"  Content-Length: 1234\n"
		"  Content-Type: text/html\n"
		"  [len=66 cl=1234 type=text/html persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"HTTP/1.1 404 \"Not Found\"\n"
		"  Content-Length: 3\n"
		"  [len=45 cl=3 persistent]\n"
		"  body length 3\n"
		"  data \"abc\"\n"
		"  end decoded=3 wire=3\n"
		"eof after 2 messages\n",
};

static const struct h1case case_expect_100_continue_request = {
	.request = true,
	IN("PUT /file HTTP/1.1\r\n"
	   "Host: x\r\n"
	   "Expect: 100-Continue\r\n"
	   "Content-Length: 4\r\n"
	   "\r\n"
	   "data"),
	.want =
		"PUT /file HTTP/1.1\n"
		"  Host: x\n"
		"  Expect: 100-Continue\n"
		"  Content-Length: 4\n"
		"  [len=72 cl=4 expect host=x persistent]\n"
		"  body length 4\n"
		"  data \"data\"\n"
		"  end decoded=4 wire=4\n"
		"eof after 1 messages\n",
};

static const struct h1case case_interim_responses_before_final = {
	.request = false,
	.methods = { "PUT", "PUT", "PUT" },
	IN("HTTP/1.1 100 Continue\r\n"
	   "\r\n"
	   "HTTP/1.1 103 Early Hints\r\n"
	   "Link: </style.css>; rel=preload\r\n"
	   "\r\n"
	   "HTTP/1.1 201 Created\r\n"
	   "Content-Length: 2\r\n"
	   "\r\n"
	   "ok"),
	.want =
		"HTTP/1.1 100 \"Continue\"\n"
		"  [len=25 cl=-1 persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"HTTP/1.1 103 \"Early Hints\"\n"
		"  Link: </style.css>; rel=preload\n"
		"  [len=61 cl=-1 persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"HTTP/1.1 201 \"Created\"\n"
		"  Content-Length: 2\n"
		"  [len=43 cl=2 persistent]\n"
		"  body length 2\n"
		"  data \"ok\"\n"
		"  end decoded=2 wire=2\n"
		"eof after 3 messages\n",
};

static const struct h1case case_204_and_304_have_no_body = {
	.request = false,
	.methods = { "DELETE", "GET", "GET" },
	IN("HTTP/1.1 204 No Content\r\n"
	   "Content-Length: 10\r\n"
	   "\r\n"
	   "HTTP/1.1 304 Not Modified\r\n"
	   "ETag: \"abc\"\r\n"
	   "Content-Length: 500\r\n"
	   "\r\n"
	   "HTTP/1.1 200 OK\r\n"
	   "Content-Length: 2\r\n"
	   "Connection: close\r\n"
	   "\r\n"
	   "hi"),
	.want =
		"HTTP/1.1 204 \"No Content\"\n"
		"  Content-Length: 10\n"
		"  [len=47 cl=10 persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"HTTP/1.1 304 \"Not Modified\"\n"
		"  ETag: \"abc\"\n"
		"  Content-Length: 500\n"
		"  [len=63 cl=500 persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"HTTP/1.1 200 \"OK\"\n"
		"  Content-Length: 2\n"
		"  Connection: close\n"
		"  [len=57 cl=2 close]\n"
		"  body length 2\n"
		"  data \"hi\"\n"
		"  end decoded=2 wire=2\n"
		"eof after 3 messages\n",
};

static const struct h1case case_upgrade_h2c_request = {
	.request = true,
	IN("GET / HTTP/1.1\r\n"
	   "Host: server.example.com\r\n"
	   "Connection: Upgrade, HTTP2-Settings\r\n"
	   "Upgrade: h2c\r\n"
	   "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
	   "\r\n"),
	.want =
		"GET / HTTP/1.1\n"
		"  Host: server.example.com\n"
		"  Connection: Upgrade, HTTP2-Settings\n"
		"  Upgrade: h2c\n"
		"  HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\n"
		"  [len=137 cl=-1 upgrade proto=h2c host=server.example.com persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"eof after 1 messages\n",
};

static const struct h1case case_101_switches_to_a_tunnel = {
	.request = false,
	IN("HTTP/1.1 101 Switching Protocols\r\n"
	   "Connection: Upgrade\r\n"
	   "Upgrade: h2c\r\n"
	   "\r\n"
	   "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
	   "\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64"),
	.want =
		"HTTP/1.1 101 \"Switching Protocols\"\n"
		"  Connection: Upgrade\n"
		"  Upgrade: h2c\n"
		"  [len=71 cl=-1 upgrade proto=h2c persistent]\n"
		"  body tunnel 0\n"
		"  data \"\\x00\\x00\\x00\\x04\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x06\\x04\\x00\\x00\\x00\\x00\\x00\\x00\\x03\\x00\\x00\\x00d\"\n"
		"  end decoded=24 wire=24\n"
		"eof after 1 messages\n",
};

static const struct h1case case_connect_request = {
	.request = true,
	IN("CONNECT example.com:443 HTTP/1.1\r\n"
	   "Host: example.com:443\r\n"
	   "Proxy-Connection: keep-alive\r\n"
	   "\r\n"),
	.want =
		"CONNECT example.com:443 HTTP/1.1\n"
		"  Host: example.com:443\n"
		"  Proxy-Connection: keep-alive\n"
		"  [len=89 cl=-1 host=example.com:443 persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"eof after 1 messages\n",
};

static const struct h1case case_connect_200_is_a_tunnel = {
	.request = false,
	.methods = { "CONNECT" },
	IN("HTTP/1.1 200 Connection established\r\n"
	   "\r\n"
	   "\x16\x03\x01\x00\x05hello"),
	.want =
		"HTTP/1.1 200 \"Connection established\"\n"
		"  [len=39 cl=-1 persistent]\n"
		"  body tunnel 0\n"
		"  data \"\\x16\\x03\\x01\\x00\\x05hello\"\n"
		"  end decoded=10 wire=10\n"
		"eof after 1 messages\n",
};

static const struct h1case case_pipelined_requests = {
	.request = true,
	IN("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	   "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
	   "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
	   "\r\n" /* RFC 9112 §2.2: a CRLF after a body, skipped */
	   "GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
	   "OPTIONS * HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
	.want =
		"GET /a HTTP/1.1\n"
		"  Host: h\n"
		"  [len=28 cl=-1 host=h persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"GET /b HTTP/1.1\n"
		"  Host: h\n"
		"  [len=28 cl=-1 host=h persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"POST /c HTTP/1.1\n"
		"  Host: h\n"
		"  Content-Length: 3\n"
		"  [len=48 cl=3 host=h persistent]\n"
		"  body length 3\n"
		"  data \"xyz\"\n"
		"  end decoded=3 wire=3\n"
		"GET /d HTTP/1.0\n"
		"  Connection: keep-alive\n"
		"  [len=45 cl=-1 keep-alive persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"OPTIONS * HTTP/1.1\n"
		"  Host: h\n"
		"  Connection: close\n"
		"  [len=50 cl=-1 close host=h]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"eof after 5 messages\n",
};

static const struct h1case case_bare_lf_line_ends = {
	.request = false,
	IN("HTTP/1.1 200 OK\n"
	   "Content-Length: 2\n"
	   "\n"
	   "ok"
	   "HTTP/1.1 200 OK\n"
	   "Transfer-Encoding: chunked\n"
	   "\n"
	   "3\nabc\n"
	   "0\n"
	   "T: 1\n"
	   "\n"
	   "HTTP/1.1 200 OK\r\n"
	   "Content-Length: 1\n"
	   "\r\n"
	   "x"),
	.want =
		"HTTP/1.1 200 \"OK\"\n"
		"  Content-Length: 2\n"
		"  [len=35 cl=2 persistent]\n"
		"  body length 2\n"
		"  data \"ok\"\n"
		"  end decoded=2 wire=2\n"
		"HTTP/1.1 200 \"OK\"\n"
		"  Transfer-Encoding: chunked\n"
		"  [len=44 cl=-1 chunked persistent]\n"
		"  body chunked 0\n"
		"  data \"abc\"\n"
		"  trailer T: 1\n"
		"  end decoded=3 wire=14\n"
		"HTTP/1.1 200 \"OK\"\n"
		"  Content-Length: 1\n"
		"  [len=37 cl=1 persistent]\n"
		"  body length 1\n"
		"  data \"x\"\n"
		"  end decoded=1 wire=1\n"
		"eof after 3 messages\n",
};

static const struct h1case case_bare_lf_request = {
	.request = true,
	IN("GET /lf HTTP/1.1\nHost: h\n\nGET /two HTTP/1.0\n\n"),
	.want =
		"GET /lf HTTP/1.1\n"
		"  Host: h\n"
		"  [len=26 cl=-1 host=h persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"GET /two HTTP/1.0\n"
		"  [len=19 cl=-1]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"eof after 2 messages\n",
};

static const struct h1case case_empty_reason_phrase = {
	.request = false,
	IN("HTTP/1.1 200 \r\n"
	   "Content-Length: 1\r\n"
	   "\r\n"
	   "x"
	   "HTTP/1.1 404\r\n"
	   "Content-Length: 0\r\n"
	   "\r\n"
	   "HTTP/1.0 500\n"
	   "Content-Length: 5, 5\n"
	   "\n"
	   "error"),
	.want =
		"HTTP/1.1 200 \"\"\n"
		"  Content-Length: 1\n"
		"  [len=36 cl=1 persistent]\n"
		"  body length 1\n"
		"  data \"x\"\n"
		"  end decoded=1 wire=1\n"
		"HTTP/1.1 404 \"\"\n"
		"  Content-Length: 0\n"
		"  [len=35 cl=0 persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"HTTP/1.0 500 \"\"\n"
		"  Content-Length: 5, 5\n"
		"  [len=35 cl=5]\n"
		"  body length 5\n"
		"  data \"error\"\n"
		"  end decoded=5 wire=5\n"
		"eof after 3 messages\n",
};

static const struct h1case case_truncated_length_body = {
	.request = false,
	IN("HTTP/1.1 200 OK\r\n"
	   "Content-Length: 10\r\n"
	   "\r\n"
	   "abc"),
	.want =
		"HTTP/1.1 200 \"OK\"\n"
		"  Content-Length: 10\n"
		"  [len=39 cl=10 persistent]\n"
		"  body length 10\n"
		"  data \"abc\"\n"
		"finish error truncated input: HTTP/1 body truncated: 3 of 10 bytes\n"
		"eof after 0 messages\n",
};

static const struct h1case case_truncated_chunked_body = {
	.request = false,
	IN("HTTP/1.1 200 OK\r\n"
	   "Transfer-Encoding: chunked\r\n"
	   "\r\n"
	   "5\r\nhello\r\n"
	   "10\r\nabc"),
	.want =
		"HTTP/1.1 200 \"OK\"\n"
		"  Transfer-Encoding: chunked\n"
		"  [len=47 cl=-1 chunked persistent]\n"
		"  body chunked 0\n"
		"  data \"helloabc\"\n"
		"finish error truncated input: HTTP/1 chunked body truncated inside a chunk\n"
		"eof after 0 messages\n",
};

static const struct h1case case_stream_ending_inside_a_head = {
	.request = true,
	IN("GET / HTTP/1.1\r\nHost: h\r\n\r\n"
	   "GET /next HTTP/1.1\r\nHost"),
	.want =
		"GET / HTTP/1.1\n"
		"  Host: h\n"
		"  [len=27 cl=-1 host=h persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"eof inside a head (24 bytes)\n"
		"eof after 1 messages\n",
};

static const struct h1case case_bad_chunk_after_good_messages = {
	.request = false,
	IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
	   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	   "2\r\nok\r\n"
	   "x\r\n"),
	.want =
		"HTTP/1.1 200 \"OK\"\n"
		"  Content-Length: 1\n"
		"  [len=38 cl=1 persistent]\n"
		"  body length 1\n"
		"  data \"A\"\n"
		"  end decoded=1 wire=1\n"
		"HTTP/1.1 200 \"OK\"\n"
		"  Transfer-Encoding: chunked\n"
		"  [len=47 cl=-1 chunked persistent]\n"
		"  body chunked 0\n"
		"body error protocol error: HTTP/1 chunked body at offset 7: expected a hex chunk size\n"
		"eof after 1 messages\n",
};

static const struct h1case case_bad_header_after_good_messages = {
	.request = true,
	IN("GET / HTTP/1.1\r\n\r\n"
	   "GET / HTTP/1.1\r\n"
	   "Bad Header: x\r\n"
	   "\r\n"),
	.want =
		"GET / HTTP/1.1\n"
		"  [len=18 cl=-1 persistent]\n"
		"  body none 0\n"
		"  end decoded=0 wire=0\n"
		"head error protocol error: HTTP/1 header at offset 19: invalid character 0x20 in the field name\n"
		"eof after 1 messages\n",
};

static const struct h1case case_not_http_fails_at_once = {
	.request = true,
	IN("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
	.want =
		"head error protocol error: HTTP/1 request line at offset 0: invalid character 0x16 in the method\n"
		"eof after 0 messages\n",
};

static const struct h1case *const all_cases[] = {
	&case_get_with_headers,
	&case_post_with_content_length,
	&case_chunked_with_extensions_and_trailers,
	&case_chunked_request_with_content_length,
	&case_http10_response_until_close,
	&case_response_with_other_coding_until_close,
	&case_head_response_has_no_body,
	&case_expect_100_continue_request,
	&case_interim_responses_before_final,
	&case_204_and_304_have_no_body,
	&case_upgrade_h2c_request,
	&case_101_switches_to_a_tunnel,
	&case_connect_request,
	&case_connect_200_is_a_tunnel,
	&case_pipelined_requests,
	&case_bare_lf_line_ends,
	&case_bare_lf_request,
	&case_empty_reason_phrase,
	&case_truncated_length_body,
	&case_truncated_chunked_body,
	&case_stream_ending_inside_a_head,
	&case_bad_chunk_after_good_messages,
	&case_bad_header_after_good_messages,
	&case_not_http_fails_at_once,
};

#define CASE_TEST(id)                          \
	Test(http1, id##_any_split)           \
	{                                      \
		run_case(&case_##id);          \
	}

CASE_TEST(get_with_headers)
CASE_TEST(post_with_content_length)
CASE_TEST(chunked_with_extensions_and_trailers)
CASE_TEST(chunked_request_with_content_length)
CASE_TEST(http10_response_until_close)
CASE_TEST(response_with_other_coding_until_close)
CASE_TEST(head_response_has_no_body)
CASE_TEST(expect_100_continue_request)
CASE_TEST(interim_responses_before_final)
CASE_TEST(204_and_304_have_no_body)
CASE_TEST(upgrade_h2c_request)
CASE_TEST(101_switches_to_a_tunnel)
CASE_TEST(connect_request)
CASE_TEST(connect_200_is_a_tunnel)
CASE_TEST(pipelined_requests)
CASE_TEST(bare_lf_line_ends)
CASE_TEST(bare_lf_request)
CASE_TEST(empty_reason_phrase)
CASE_TEST(truncated_length_body)
CASE_TEST(truncated_chunked_body)
CASE_TEST(stream_ending_inside_a_head)
CASE_TEST(bad_chunk_after_good_messages)
CASE_TEST(bad_header_after_good_messages)
CASE_TEST(not_http_fails_at_once)

/* ---- Guard pages ----------------------------------------------------------------- */

struct guard {
	uint8_t *map, *end; /* end: the first byte of the PROT_NONE page */
	size_t size, page;
};

static void guard_init(struct guard *g, size_t cap)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	cap = (cap + g->page - 1) / g->page * g->page;
	if (cap == 0)
		cap = g->page;
	g->size = cap + g->page;
	g->map = mmap(NULL, g->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(g->map != MAP_FAILED);
	g->end = g->map + cap;
	cr_assert_eq(mprotect(g->end, g->page, PROT_NONE), 0);
}

/* Copies in[0..n) so that it ends right before the guard page. */
static const uint8_t *guard_place(struct guard *g, const void *in, size_t n)
{
	cr_assert(n <= (size_t)(g->end - g->map));
	memcpy(g->end - n, in, n);
	return g->end - n;
}

static void guard_fini(struct guard *g)
{
	munmap(g->map, g->size);
}

Test(http1, every_prefix_of_every_case_before_guard_page)
{
	struct guard g;

	guard_init(&g, 4096);
	for (size_t c = 0; c < sizeof(all_cases) / sizeof(all_cases[0]); c++) {
		const struct h1case *k = all_cases[c];

		for (size_t n = 0; n <= k->len; n++) {
			const uint8_t *p = guard_place(&g, k->in, n);
			struct drv *d = calloc(1, sizeof(*d));
			long at;

			cr_assert_not_null(d);
			/* As sent, and read the wrong way round. */
			for (int flip = 0; flip < 2; flip++) {
				memset(d, 0, sizeof(*d));
				d->request = flip ? !k->request : k->request;
				d->methods = k->request ? NULL : k->methods;
				drv_feed(d, p, n);
				drv_end(d);
				drv_free(d);
			}
			free(d);
			at = sc_h1_find_head(p, n, k->request);
			cr_assert(at == -1 || (at >= 0 && (size_t)at < n && (at == 0 || p[at - 1] == '\n')));
			at = sc_h1_find_head(p, n, !k->request);
			cr_assert(at == -1 || (at >= 0 && (size_t)at < n && (at == 0 || p[at - 1] == '\n')));
		}
	}
	guard_fini(&g);
}

/* ---- Head errors ------------------------------------------------------------------ */

/* `in` must fail with `err` and exactly `msg`: parsed whole before a guard
 * page, grown byte by byte with last_len, and (when small) every prefix alone
 * gives either SC_EAGAIN or the same error. */
static void expect_head_error(bool request, const void *in, size_t n, int err, const char *msg)
{
	struct sc_h1_head *h = malloc(sizeof(*h));
	struct sc_diag diag = { 0 };
	struct guard g;
	const uint8_t *p;
	size_t last = 0;
	int rc = SC_EAGAIN;

	cr_assert_not_null(h);
	guard_init(&g, n);
	p = guard_place(&g, in, n);
	rc = sc_h1_parse_head(p, n, 0, request, h, &diag);
	cr_assert_eq(rc, err, "whole: rc %d (%s), want %d", rc, diag.msg, err);
	cr_assert_str_eq(diag.msg, msg);
	cr_assert_eq(diag.err, err);

	for (size_t len = 1; len <= n; len++) {
		memset(&diag, 0, sizeof(diag));
		rc = sc_h1_parse_head(in, len, last, request, h, &diag);
		if (rc != SC_EAGAIN)
			break;
		last = len;
	}
	cr_assert_eq(rc, err, "grown byte by byte: rc %d (%s), want %d", rc, diag.msg, err);
	cr_assert_str_eq(diag.msg, msg, "grown byte by byte");

	if (n <= 4096) {
		for (size_t len = 0; len < n; len++) {
			memset(&diag, 0, sizeof(diag));
			p = guard_place(&g, in, len);
			rc = sc_h1_parse_head(p, len, 0, request, h, &diag);
			cr_assert(rc == SC_EAGAIN || rc == err, "prefix %zu: rc %d (%s)", len, rc, diag.msg);
			if (rc == err)
				cr_assert_str_eq(diag.msg, msg, "prefix %zu", len);
		}
	}
	guard_fini(&g);
	free(h);
}

#define HEAD_ERR(req, lit, err, msg) expect_head_error(req, lit, sizeof(lit) - 1, err, msg)

/* Parses a whole head that must be valid; returns head_len. */
static int parse_ok(bool request, const char *in, struct sc_h1_head *h)
{
	struct sc_diag diag = { 0 };
	int rc = sc_h1_parse_head((const uint8_t *)in, strlen(in), 0, request, h, &diag);

	cr_assert(rc > 0, "rc %d: %s", rc, diag.msg);
	return rc;
}

Test(http1, rejects_invalid_character_in_method)
{
	HEAD_ERR(true, "G(T / HTTP/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 1: invalid character 0x28 in the method");
	HEAD_ERR(true, " GET / HTTP/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 0: invalid character 0x20 in the method");
	HEAD_ERR(true, "GET/ HTTP/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 3: invalid character 0x2f in the method");
}

Test(http1, rejects_missing_or_extra_sp_in_request_line)
{
	HEAD_ERR(true, "GET\r\n\r\n", SC_EPROTO, "HTTP/1 request line at offset 3: expected SP after the method");
	HEAD_ERR(true, "GET\t/ HTTP/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 3: expected SP after the method");
	HEAD_ERR(true, "GET  / HTTP/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 4: expected the request-target after the method");
	HEAD_ERR(true, "GET /x\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: expected SP after the request-target");
	HEAD_ERR(true, "GET / \r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: expected HTTP-version after the request-target");
	HEAD_ERR(true, "GET /  HTTP/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: expected HTTP-version after the request-target");
	HEAD_ERR(true, "GET / HTTP/1.1 \r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 14: expected CRLF after the HTTP-version");
	HEAD_ERR(true, "GET / HTTP/1.1\rX\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 14: expected CRLF after the HTTP-version");
}

Test(http1, rejects_control_characters_in_start_line)
{
	HEAD_ERR(true, "GET /a\x01z HTTP/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: invalid character 0x01 in the request-target");
	HEAD_ERR(true, "GET /a\x7fz HTTP/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: invalid character 0x7f in the request-target");
	expect_head_error(true, "GET /\0 HTTP/1.1\r\n\r\n", 20, SC_EPROTO,
			  "HTTP/1 request line at offset 5: invalid character 0x00 in the request-target");
	HEAD_ERR(false, "HTTP/1.1 200 O\x01K\r\n\r\n", SC_EPROTO,
		 "HTTP/1 status line at offset 14: invalid character 0x01 in the reason phrase");
	HEAD_ERR(false, "HTTP/1.1 200 OK\rX\r\n\r\n", SC_EPROTO,
		 "HTTP/1 status line at offset 15: invalid character 0x0d in the reason phrase");
}

Test(http1, rejects_unsupported_or_malformed_versions)
{
	HEAD_ERR(true, "GET / HTTP/2.0\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: unsupported HTTP version 2.0");
	HEAD_ERR(true, "GET / HTTP/1.2\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: unsupported HTTP version 1.2");
	HEAD_ERR(true, "GET / HTTP/0.9\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: unsupported HTTP version 0.9");
	HEAD_ERR(true, "GET / HTTX/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: expected HTTP-version after the request-target");
	HEAD_ERR(true, "GET / http/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: expected HTTP-version after the request-target");
	HEAD_ERR(true, "GET / HTTP/1\r\n\r\n", SC_EPROTO, "HTTP/1 request line at offset 6: malformed HTTP-version");
	HEAD_ERR(true, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 6: unsupported HTTP version 2.0");
	HEAD_ERR(false, "HTTP/1.2 200 OK\r\n\r\n", SC_EPROTO,
		 "HTTP/1 status line at offset 0: unsupported HTTP version 1.2");
	HEAD_ERR(false, "ICY 200 OK\r\n\r\n", SC_EPROTO, "HTTP/1 status line at offset 0: expected HTTP-version");
	HEAD_ERR(false, "HTTP/1.10 200 OK\r\n\r\n", SC_EPROTO,
		 "HTTP/1 status line at offset 8: expected SP after the HTTP-version");
}

Test(http1, rejects_bad_status_codes)
{
	HEAD_ERR(false, "HTTP/1.1 20 OK\r\n\r\n", SC_EPROTO,
		 "HTTP/1 status line at offset 9: expected a 3-digit status code");
	HEAD_ERR(false, "HTTP/1.1 2000 OK\r\n\r\n", SC_EPROTO,
		 "HTTP/1 status line at offset 12: expected SP after the status code");
	HEAD_ERR(false, "HTTP/1.1 099 Low\r\n\r\n", SC_EPROTO,
		 "HTTP/1 status line at offset 9: status code 099 out of range");
	HEAD_ERR(false, "HTTP/1.1  200 OK\r\n\r\n", SC_EPROTO,
		 "HTTP/1 status line at offset 9: expected a 3-digit status code");
}

Test(http1, status_999_and_empty_reasons_are_accepted)
{
	struct sc_h1_head h;

	cr_assert_eq(parse_ok(false, "HTTP/1.1 999 \r\n\r\n", &h), 17);
	cr_assert_eq(h.status, 999);
	cr_assert_eq(h.reason.len, 0);
	cr_assert_eq(parse_ok(false, "HTTP/1.0 200\n\n", &h), 14);
	cr_assert_eq(h.status, 200);
	cr_assert_eq(h.minor, 0);
	cr_assert_eq(h.reason.len, 0);
	cr_assert_eq(parse_ok(false, "HTTP/1.1 200 A \tB \r\n\r\n", &h), 22);
	cr_assert(view_is(h.reason, "A \tB "));
}

Test(http1, request_line_over_cap_is_too_big)
{
	/* The line with its CRLF may be SC_H1_MAX_LINE bytes long, not one more. */
	size_t fixed = strlen("GET / HTTP/1.1\r\n");
	size_t n = SC_H1_MAX_LINE + 100;
	char *in = malloc(n + 1);
	struct sc_h1_head h;
	struct sc_diag diag = { 0 };

	cr_assert_not_null(in);
	memset(in, 'a', n);
	memcpy(in, "GET /", 5);
	memcpy(in + SC_H1_MAX_LINE - (fixed - 5), " HTTP/1.1\r\n\r\n", 13);
	cr_assert_eq(sc_h1_parse_head((uint8_t *)in, SC_H1_MAX_LINE + 2, 0, true, &h, &diag), SC_H1_MAX_LINE + 2,
		     "%s", diag.msg);
	cr_assert_eq(h.target.len, SC_H1_MAX_LINE - fixed + 1);

	memset(in, 'a', n);
	memcpy(in, "GET /", 5);
	memcpy(in + SC_H1_MAX_LINE - (fixed - 5) + 1, " HTTP/1.1\r\n\r\n", 13);
	expect_head_error(true, in, SC_H1_MAX_LINE + 3, SC_ETOOBIG, "HTTP/1 request line over 8192 bytes");
	/* No line end at all: the error comes as soon as the cap is reached. */
	memset(in, 'a', n);
	memcpy(in, "GET /", 5);
	expect_head_error(true, in, SC_H1_MAX_LINE, SC_ETOOBIG, "HTTP/1 request line over 8192 bytes");
	cr_assert_eq(sc_h1_parse_head((uint8_t *)in, SC_H1_MAX_LINE - 1, 0, true, &h, &diag), SC_EAGAIN);
	/* A bare LF at the last byte allowed. */
	memset(in, 'a', n);
	memcpy(in, "GET /", 5);
	memcpy(in + SC_H1_MAX_LINE - 10, " HTTP/1.1\n\n", 11);
	cr_assert_eq(sc_h1_parse_head((uint8_t *)in, SC_H1_MAX_LINE + 1, 0, true, &h, &diag), SC_H1_MAX_LINE + 1,
		     "%s", diag.msg);
	free(in);
}

Test(http1, status_line_over_cap_is_too_big)
{
	size_t n = SC_H1_MAX_LINE + 10;
	char *in = malloc(n);

	cr_assert_not_null(in);
	memset(in, 'r', n);
	memcpy(in, "HTTP/1.1 200 ", 13);
	memcpy(in + SC_H1_MAX_LINE - 1, "\r\n\r\n", 4);
	expect_head_error(false, in, SC_H1_MAX_LINE + 3, SC_ETOOBIG, "HTTP/1 status line over 8192 bytes");
	free(in);
}

static size_t head_with_fields(char *buf, size_t cap, size_t nfields)
{
	size_t n = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\n");

	for (size_t i = 0; i < nfields; i++)
		n += (size_t)snprintf(buf + n, cap - n, "X-%zu: %zu\r\n", i, i);
	n += (size_t)snprintf(buf + n, cap - n, "\r\n");
	cr_assert(n < cap);
	return n;
}

Test(http1, too_many_header_fields)
{
	static char buf[8192];
	struct sc_h1_head h;
	struct sc_diag diag = { 0 };
	size_t n = head_with_fields(buf, sizeof(buf), SC_H1_MAX_HEADERS);
	char msg[128];
	size_t off;

	cr_assert_eq(sc_h1_parse_head((uint8_t *)buf, n, 0, true, &h, &diag), (int)n, "%s", diag.msg);
	cr_assert_eq(h.nheaders, SC_H1_MAX_HEADERS);
	cr_assert(view_is(h.headers[127].name, "X-127"));
	cr_assert(view_is(h.headers[127].value, "127"));

	n = head_with_fields(buf, sizeof(buf), SC_H1_MAX_HEADERS + 1);
	off = n - strlen("X-128: 128\r\n\r\n");
	snprintf(msg, sizeof(msg), "HTTP/1 header at offset %zu: more than 128 header fields", off);
	expect_head_error(true, buf, n, SC_ETOOBIG, msg);
}

Test(http1, head_over_64k_is_too_big)
{
	size_t n = SC_H1_MAX_HEAD + 100;
	char *in = malloc(n);
	struct sc_h1_head *h = malloc(sizeof(*h));
	struct sc_diag diag = { 0 };
	size_t vlen;

	cr_assert_not_null(in);
	cr_assert_not_null(h);
	/* Exactly 65536 bytes: accepted. */
	memset(in, 'v', n);
	memcpy(in, "GET / HTTP/1.1\r\nX: ", 19);
	vlen = SC_H1_MAX_HEAD - 19 - 4;
	memcpy(in + 19 + vlen, "\r\n\r\n", 4);
	cr_assert_eq(sc_h1_parse_head((uint8_t *)in, SC_H1_MAX_HEAD, 0, true, h, &diag), SC_H1_MAX_HEAD, "%s",
		     diag.msg);
	cr_assert_eq(h->headers[0].value.len, vlen);
	/* One more. */
	memset(in, 'v', n);
	memcpy(in, "GET / HTTP/1.1\r\nX: ", 19);
	memcpy(in + 19 + vlen + 1, "\r\n\r\n", 4);
	expect_head_error(true, in, SC_H1_MAX_HEAD + 1, SC_ETOOBIG, "HTTP/1 head over 65536 bytes");
	/* Never SC_EAGAIN at 64 KiB, even with a bad field earlier on. */
	memset(in, 'v', n);
	memcpy(in, "GET / HTTP/1.1\r\nBad Field: x\r\nX: ", 33);
	expect_head_error(true, in, SC_H1_MAX_HEAD, SC_ETOOBIG, "HTTP/1 head over 65536 bytes");
	/* ...but an error in the start line still comes first. */
	memcpy(in, "GET / HTTP/3.0\r\n", 16);
	expect_head_error(true, in, SC_H1_MAX_HEAD + 10, SC_EPROTO,
			  "HTTP/1 request line at offset 6: unsupported HTTP version 3.0");
	free(h);
	free(in);
}

Test(http1, rejects_field_line_without_colon)
{
	HEAD_ERR(true, "GET / HTTP/1.1\r\nHost: h\r\nNoColonHere\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 25: no colon in the header field");
	HEAD_ERR(true, "GET / HTTP/1.1\r\nHost: h\r\nNoColon\n\n", SC_EPROTO,
		 "HTTP/1 header at offset 25: no colon in the header field");
	HEAD_ERR(true, "GET / HTTP/1.1\r\n: empty\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 16: empty field name");
	HEAD_ERR(true, "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 19: invalid character 0x20 in the field name");
	HEAD_ERR(true, "GET / HTTP/1.1\r\nBad(Name): x\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 19: invalid character 0x28 in the field name");
	HEAD_ERR(false, "HTTP/1.1 200 OK\r\nX\rY: 1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 18: invalid character 0x0d in the field name");
}

Test(http1, rejects_whitespace_before_colon)
{
	HEAD_ERR(true, "GET / HTTP/1.1\r\nHost : h\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 20: whitespace between the field name and the colon");
	HEAD_ERR(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding\t: chunked\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 34: whitespace between the field name and the colon");
}

Test(http1, rejects_obs_fold_and_leading_whitespace)
{
	HEAD_ERR(true, "GET / HTTP/1.1\r\nX-A: a\r\n  b\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 24: obs-fold (a line starting with whitespace) is not accepted");
	HEAD_ERR(true, "GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 24: obs-fold (a line starting with whitespace) is not accepted");
	HEAD_ERR(true, "GET / HTTP/1.1\r\n Host: h\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 16: obs-fold (a line starting with whitespace) is not accepted");
}

Test(http1, rejects_nul_and_controls_in_field_values)
{
	expect_head_error(true, "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 28, SC_EPROTO,
			  "HTTP/1 header at offset 22: invalid character 0x00 in the field value");
	HEAD_ERR(true, "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 22: invalid character 0x0d in the field value");
	HEAD_ERR(true, "GET / HTTP/1.1\r\nX-A: a\x1b[0m\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 22: invalid character 0x1b in the field value");
	HEAD_ERR(true, "GET / HTTP/1.1\r\nX-A: \x7f\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 21: invalid character 0x7f in the field value");
	/* A CR right before the CRLF is a CTL in the value, not a line end. */
	HEAD_ERR(true, "GET / HTTP/1.1\r\nX-A: a\r\r\n\r\n", SC_EPROTO,
		 "HTTP/1 header at offset 22: invalid character 0x0d in the field value");
}

Test(http1, htab_and_obs_text_are_kept_in_values)
{
	struct sc_h1_head h;

	parse_ok(true, "GET / HTTP/1.1\r\nX: \ta\tb\xff\t \r\n\r\n", &h);
	cr_assert_eq(h.nheaders, 1);
	cr_assert(view_is(h.headers[0].value, "a\tb\xff"));
	parse_ok(true, "GET / HTTP/1.1\r\nX:\r\nY:   \r\n\r\n", &h);
	cr_assert_eq(h.nheaders, 2);
	cr_assert_eq(h.headers[0].value.len, 0);
	cr_assert_eq(h.headers[1].value.len, 0);
}

Test(http1, too_many_empty_lines_before_start_line)
{
	char in[128];
	struct sc_h1_head h;
	size_t n = 0;

	for (int i = 0; i < SC_H1_MAX_EMPTY_LINES; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, i % 2 ? "\n" : "\r\n");
	n += (size_t)snprintf(in + n, sizeof(in) - n, "GET / HTTP/1.1\r\n\r\n");
	cr_assert_eq(parse_ok(true, in, &h), (int)n);
	cr_assert_eq(h.method.p, (const uint8_t *)in + n - 18);

	HEAD_ERR(true, "\r\n\n\r\n\n\r\n\n\r\n\n\r\n\n\r\n\n\r\n\n\r\n\n\r\nGET / HTTP/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: more than 16 empty lines before the request line");
	HEAD_ERR(false, "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nHTTP/1.1 200 OK\r\n\r\n", SC_EPROTO,
		 "HTTP/1 response: more than 16 empty lines before the status line");
	HEAD_ERR(true, "\r\r\nGET / HTTP/1.1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request line at offset 0: invalid character 0x0d in the method");
}

Test(http1, only_empty_lines)
{
	static const char *const yes[] = { "\r\n", "\n", "\r", "\r\n\r\n", "\n\r\n\r" };
	static const char *const no[] = { "", "x", "\r\nH", " \r\n", "\r\r\n",
					  "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n" /* 17: over the cap */ };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert(sc_h1_only_empty_lines((const uint8_t *)yes[i], strlen(yes[i])), "%zu", i);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert_not(sc_h1_only_empty_lines((const uint8_t *)no[i], strlen(no[i])), "%zu", i);
}

Test(http1, conflicting_content_length_values)
{
	HEAD_ERR(false, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", SC_EPROTO,
		 "HTTP/1 response: conflicting Content-Length values");
	HEAD_ERR(true, "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: conflicting Content-Length values");
}

Test(http1, invalid_content_length_values)
{
	HEAD_ERR(true, "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: invalid Content-Length value");
	HEAD_ERR(true, "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: invalid Content-Length value");
	HEAD_ERR(true, "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: invalid Content-Length value");
	HEAD_ERR(true, "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: invalid Content-Length value");
	HEAD_ERR(true, "POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: invalid Content-Length value");
	HEAD_ERR(true, "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: invalid Content-Length value");
}

Test(http1, content_length_overflow)
{
	struct sc_h1_head h;
	uint64_t len;

	HEAD_ERR(true, "POST / HTTP/1.1\r\nContent-Length: 4611686018427387905\r\n\r\n", SC_ETOOBIG,
		 "HTTP/1 request: Content-Length value over 2^62");
	HEAD_ERR(false, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\n", SC_ETOOBIG,
		 "HTTP/1 response: Content-Length value over 2^62");
	parse_ok(true, "POST / HTTP/1.1\r\nContent-Length: 0004611686018427387904\r\n\r\n", &h);
	cr_assert_eq(h.content_length, SC_H1_MAX_CONTENT_LENGTH);
	cr_assert_eq(sc_h1_request_body(&h, &len), SC_H1_BODY_LENGTH);
	cr_assert_eq(len, (uint64_t)1 << 62);
}

Test(http1, identical_content_length_values_are_one)
{
	struct sc_h1_head h;

	parse_ok(false, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\ncontent-length: 7,7 , 007\r\n\r\n", &h);
	cr_assert_eq(h.content_length, 7);
	cr_assert_eq(h.nheaders, 2);
}

Test(http1, request_transfer_encoding_must_end_in_chunked)
{
	HEAD_ERR(true, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: Transfer-Encoding not ending in chunked");
	HEAD_ERR(true, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: Transfer-Encoding not ending in chunked");
	HEAD_ERR(true, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
		 SC_EPROTO, "HTTP/1 request: Transfer-Encoding not ending in chunked");
	HEAD_ERR(true, "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", SC_EPROTO,
		 "HTTP/1 request: Transfer-Encoding not ending in chunked");
}

Test(http1, transfer_encoding_final_coding_decides)
{
	struct sc_h1_head h;
	uint64_t len;

	parse_ok(true, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: CHUNKED\r\n\r\n", &h);
	cr_assert(h.chunked);
	cr_assert(!h.te_other);
	cr_assert_eq(sc_h1_request_body(&h, &len), SC_H1_BODY_CHUNKED);
	parse_ok(true, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked;x=1 ,\r\n\r\n", &h);
	cr_assert(h.chunked);
	parse_ok(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 5\r\n\r\n", &h);
	cr_assert(!h.chunked);
	cr_assert(h.te_other);
	cr_assert(h.te_and_cl);
	cr_assert_eq(h.content_length, 5);
	cr_assert_eq(sc_h1_response_body(&h, view_of("GET"), &len), SC_H1_BODY_CLOSE);
	cr_assert_eq(len, 0);
}

Test(http1, connection_options_and_expect)
{
	struct sc_h1_head h;

	parse_ok(true,
		 "GET / HTTP/1.0\r\nConnection: foo, Keep-Alive ,\r\nconnection: CLOSE\r\nExpect: 100-CONTINUE\r\n\r\n",
		 &h);
	cr_assert(h.conn_keep_alive);
	cr_assert(h.conn_close);
	cr_assert(h.expect_continue);
	cr_assert(!h.upgrade);
	cr_assert(!sc_h1_persistent(&h));

	parse_ok(true, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h);
	cr_assert(sc_h1_persistent(&h));
	parse_ok(true, "GET / HTTP/1.0\r\n\r\n", &h);
	cr_assert(!sc_h1_persistent(&h));
	parse_ok(true, "GET / HTTP/1.1\r\nConnection: closed\r\nExpect: 100-continuex\r\n\r\n", &h);
	cr_assert(!h.conn_close);
	cr_assert(!h.expect_continue);
	cr_assert(sc_h1_persistent(&h));
}

Test(http1, upgrade_needs_the_connection_option)
{
	struct sc_h1_head h;

	parse_ok(true, "GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", &h);
	cr_assert(!h.upgrade);
	cr_assert(view_is(h.upgrade_proto, "websocket"));
	parse_ok(true, "GET /chat HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nUpgrade: x\r\n\r\n",
		 &h);
	cr_assert(h.upgrade);
	cr_assert(view_is(h.upgrade_proto, "websocket"));
	parse_ok(true, "GET /chat HTTP/1.1\r\nConnection: upgrade\r\n\r\n", &h);
	cr_assert(!h.upgrade);
	cr_assert_null(h.upgrade_proto.p);
}

Test(http1, first_host_type_and_encoding_win)
{
	struct sc_h1_head h;

	parse_ok(false,
		 "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\nContent-Type: x/y\r\n"
		 "Content-Encoding: gzip\r\n\r\n",
		 &h);
	cr_assert(view_is(h.content_type, "text/plain; charset=utf-8"));
	cr_assert(view_is(h.content_encoding, "gzip"));
	cr_assert_null(h.host.p);
	cr_assert_eq(h.content_length, -1);
}

Test(http1, views_point_into_the_buffer)
{
	static const char in[] = "POST /p HTTP/1.1\r\nHost: h\r\n\r\n";
	struct sc_h1_head h;

	parse_ok(true, in, &h);
	cr_assert_eq(h.method.p, (const uint8_t *)in);
	cr_assert_eq(h.method.len, 4);
	cr_assert_eq(h.target.p, (const uint8_t *)in + 5);
	cr_assert_eq(h.headers[0].name.p, (const uint8_t *)in + 18);
	cr_assert_eq(h.headers[0].value.p, (const uint8_t *)in + 24);
	cr_assert_eq(h.host.p, h.headers[0].value.p);
	cr_assert_eq(h.head_len, sizeof(in) - 1);
	cr_assert(h.request);
}

Test(http1, need_more_until_the_blank_line)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nA: b\r\n\r\nBODY";
	struct sc_h1_head h;
	struct sc_diag diag = { 0 };
	size_t last = 0;

	for (size_t n = 0; n < 25; n++) {
		cr_assert_eq(sc_h1_parse_head((const uint8_t *)in, n, last, false, &h, &diag), SC_EAGAIN, "at %zu", n);
		last = n;
	}
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)in, 25, last, false, &h, &diag), 25);
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)in, sizeof(in) - 1, 0, false, &h, &diag), 25);
	cr_assert_eq(h.nheaders, 1);
	/* A response parsed as a request is no request. */
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)in, 5, 0, true, &h, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HTTP/1 request line at offset 4: invalid character 0x2f in the method");
}

Test(http1, parse_head_searches_only_bytes_after_last_len)
{
	/* The blank line lies wholly before last_len - 3: a caller that keeps
	 * the contract (last_len from a call that returned SC_EAGAIN) cannot
	 * have such a buffer, so it is not searched again.  This is what keeps
	 * a byte-by-byte feed linear. */
	static const char in[] = "GET / HTTP/1.1\n\nXYZ";
	struct sc_h1_head h;
	struct sc_diag diag = { 0 };

	cr_assert_eq(sc_h1_parse_head((const uint8_t *)in, 19, 19, true, &h, &diag), SC_EAGAIN);
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)in, 19, 15, true, &h, &diag), 16);
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)in, 19, 0, true, &h, &diag), 16);
	/* A last_len beyond len is ignored. */
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)in, 19, 500, true, &h, &diag), 16);
}

Test(http1, non_http_bytes_fail_within_the_first_bytes)
{
	struct sc_h1_head h;
	struct sc_diag diag = { 0 };

	/* A TLS ClientHello. */
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)"\x16\x03\x01", 1, 0, true, &h, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HTTP/1 request line at offset 0: invalid character 0x16 in the method");
	/* The HTTP/2 preface, as soon as the version is seen. */
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)"PRI * HTTP/2.0", 14, 0, true, &h, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HTTP/1 request line at offset 6: unsupported HTTP version 2.0");
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)"PRI * HTTP/2.", 13, 0, true, &h, &diag), SC_EAGAIN);
	/* A response stream that is not HTTP/1. */
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)"SSH-2.0-OpenSSH", 15, 0, false, &h, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HTTP/1 status line at offset 0: expected HTTP-version");
}

/* ---- Body decoder ---------------------------------------------------------------- */

struct bres {
	int rc; /* 0, or the error of the feed or finish that failed */
	char msg[256];
	struct tx data, trailers;
	uint64_t wire, decoded;
	size_t consumed; /* input bytes consumed in all (before the error, if any) */
	bool done;       /* a feed reported the end */
};

static int body_data(void *ctx, const uint8_t *p, size_t n)
{
	tx_bytes(ctx, p, n);
	return 0;
}

static void bres_free(struct bres *r)
{
	tx_free(&r->data);
	tx_free(&r->trailers);
}

/* Feeds `in` cut at `cuts` (ascending) as a caller would: bytes not consumed
 * are kept and presented again with the next piece.  At the end, calls
 * sc_h1_body_finish() if the body did not end and `finish` is set. */
static void body_run(enum sc_h1_body_kind kind, uint64_t length, const uint8_t *in, size_t n, const size_t *cuts,
		     size_t ncuts, bool finish, struct bres *r)
{
	struct sc_h1_body *b = malloc(sizeof(*b));
	uint8_t *acc = malloc(n + 1);
	size_t acc_len = 0, at = 0;
	struct sc_diag diag = { 0 };
	bool done = false;
	int rc;

	cr_assert_not_null(b);
	cr_assert_not_null(acc);
	memset(r, 0, sizeof(*r));
	sc_h1_body_init(b, kind, length);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;
		const uint8_t *p;
		size_t len;

		if (acc_len == 0) {
			p = in + at; /* where it lies: a guard page after it counts */
			len = to - at;
		} else {
			memcpy(acc + acc_len, in + at, to - at);
			acc_len += to - at;
			p = acc;
			len = acc_len;
		}
		at = to;
		if (len == 0 && i < ncuts)
			continue;
		rc = sc_h1_body_feed(b, p, len, body_data, &r->data, &done, &diag);
		if (rc < 0) {
			r->rc = rc;
			snprintf(r->msg, sizeof(r->msg), "%s", diag.msg);
			break;
		}
		cr_assert((size_t)rc <= len);
		if (done) {
			r->done = true;
			for (size_t k = 0; k < b->ntrailers; k++) {
				cr_assert(b->trailers[k].name.p >= p && b->trailers[k].value.p + b->trailers[k].value.len <= p + len);
				tx_view(&r->trailers, b->trailers[k].name);
				tx_printf(&r->trailers, ": ");
				tx_view(&r->trailers, b->trailers[k].value);
				tx_printf(&r->trailers, "\n");
			}
			break;
		}
		if (p == acc) {
			memmove(acc, acc + rc, acc_len - (size_t)rc);
			acc_len -= (size_t)rc;
		} else {
			memcpy(acc, p + rc, len - (size_t)rc);
			acc_len = len - (size_t)rc;
		}
	}
	if (r->rc == 0 && !r->done && finish) {
		rc = sc_h1_body_finish(b, &diag);
		if (rc) {
			r->rc = rc;
			snprintf(r->msg, sizeof(r->msg), "%s", diag.msg);
		}
	}
	r->wire = b->wire;
	r->consumed = (size_t)b->wire; /* no gaps here: what was consumed, errors or not */
	r->decoded = b->decoded;
	cr_assert(r->decoded <= r->wire);
	tx_str(&r->data);
	tx_str(&r->trailers);
	free(acc);
	free(b);
}

struct bwant {
	int rc;
	const char *msg;      /* when rc != 0 */
	const char *data;     /* decoded bytes, escaped as by tx_bytes */
	const char *trailers; /* "Name: value\n"... */
	size_t consumed;      /* bytes consumed in all, before the error if any */
	bool done;
};

static void bres_eq(const struct bres *a, const struct bres *b, const char *how)
{
	cr_assert_eq(a->rc, b->rc, "%s: rc %d (%s) vs %d (%s)", how, a->rc, a->msg, b->rc, b->msg);
	cr_assert_str_eq(a->msg, b->msg, "%s", how);
	cr_assert_str_eq(a->data.s, b->data.s, "%s", how);
	cr_assert_str_eq(a->trailers.s, b->trailers.s, "%s", how);
	cr_assert_eq(a->consumed, b->consumed, "%s: consumed %zu vs %zu", how, a->consumed, b->consumed);
	cr_assert_eq(a->done, b->done, "%s", how);
	cr_assert_eq(a->wire, b->wire, "%s", how);
	cr_assert_eq(a->decoded, b->decoded, "%s", how);
}

/* Whole (before a guard page), byte by byte and split at every offset: one
 * result, the wanted one. */
static void expect_body(enum sc_h1_body_kind kind, uint64_t length, const void *in_, size_t n, const struct bwant *w)
{
	const uint8_t *in = in_;
	struct guard g;
	struct bres whole, other;
	size_t *cuts = calloc(n + 1, sizeof(*cuts));

	cr_assert_not_null(cuts);
	guard_init(&g, n);
	body_run(kind, length, guard_place(&g, in, n), n, NULL, 0, true, &whole);
	cr_assert_eq(whole.rc, w->rc, "rc %d (%s), want %d", whole.rc, whole.msg, w->rc);
	if (w->rc)
		cr_assert_str_eq(whole.msg, w->msg);
	cr_assert_str_eq(whole.data.s, w->data);
	cr_assert_str_eq(whole.trailers.s, w->trailers ? w->trailers : "");
	cr_assert_eq(whole.consumed, w->consumed, "consumed %zu, want %zu", whole.consumed, w->consumed);
	cr_assert_eq(whole.done, w->done);

	for (size_t i = 0; i < n; i++)
		cuts[i] = i + 1;
	body_run(kind, length, in, n, cuts, n ? n - 1 : 0, true, &other);
	bres_eq(&other, &whole, "byte by byte");
	bres_free(&other);
	for (size_t k = 1; k < n; k++) {
		char how[64];

		body_run(kind, length, in, n, &k, 1, true, &other);
		snprintf(how, sizeof(how), "split at %zu", k);
		bres_eq(&other, &whole, how);
		bres_free(&other);
	}
	bres_free(&whole);
	guard_fini(&g);
	free(cuts);
}

#define BODY(kind, length, lit, ...)                                          \
	do {                                                                  \
		const struct bwant w_ = { __VA_ARGS__ };                      \
		expect_body(kind, length, lit, sizeof(lit) - 1, &w_);         \
	} while (0)

Test(http1, length_body_stops_at_its_end)
{
	BODY(SC_H1_BODY_LENGTH, 5, "helloGET / HTTP/1.1\r\n", .data = "hello", .consumed = 5, .done = true);
	BODY(SC_H1_BODY_LENGTH, 0, "GET", .data = "", .consumed = 0, .done = true);
	BODY(SC_H1_BODY_NONE, 0, "GET", .data = "", .consumed = 0, .done = true);
}

Test(http1, close_and_tunnel_bodies_take_everything)
{
	BODY(SC_H1_BODY_CLOSE, 0, "any\r\n\r\nbytes\x00", .data = "any\\r\\n\\r\\nbytes\\x00", .consumed = 13);
	BODY(SC_H1_BODY_TUNNEL, 0, "\x16\x03", .data = "\\x16\\x03", .consumed = 2);
	BODY(SC_H1_BODY_CLOSE, 0, "", .data = "", .consumed = 0);
}

Test(http1, chunked_body_with_extensions_and_trailers)
{
	BODY(SC_H1_BODY_CHUNKED, 0,
	     "5;name=value\r\nhello\r\n7 ; a=\"q;x\" ;b\r\n, world\r\nA\r\n0123456789\r\n"
	     "0;last\r\nX-Checksum: abc\r\nX-Other:  v \r\n\r\nNEXT",
	     .data = "hello, world0123456789", .trailers = "X-Checksum: abc\nX-Other: v\n", .consumed = 102,
	     .done = true);
	BODY(SC_H1_BODY_CHUNKED, 0, "3\nabc\n0\n\nNEXT", .data = "abc", .consumed = 9, .done = true);
	BODY(SC_H1_BODY_CHUNKED, 0, "3\r\nabc\n0\r\nA: 1\nB: 2\r\n\nNEXT", .data = "abc", .trailers = "A: 1\nB: 2\n",
	     .consumed = 22, .done = true);
	BODY(SC_H1_BODY_CHUNKED, 0, "0\r\n\r\n", .data = "", .consumed = 5, .done = true);
	BODY(SC_H1_BODY_CHUNKED, 0, "0000000000000003\r\nabc\r\n0\r\n\r\n", .data = "abc", .consumed = 28,
	     .done = true);
	BODY(SC_H1_BODY_CHUNKED, 0, "1a \t\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
	     .data = "abcdefghijklmnopqrstuvwxyz", .consumed = 39, .done = true);
}

Test(http1, chunked_body_split_at_every_offset)
{
	/* expect_body splits everywhere; here the split pieces are also
	 * checked against the decoder's own counters. */
	static const char in[] = "4\r\nWiki\r\n6;x=\"a b\"\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n";
	struct bres whole;

	BODY(SC_H1_BODY_CHUNKED, 0, in, .data = "Wikipedia in \\r\\n\\r\\nchunks.", .trailers = "Expires: never\n",
	     .consumed = sizeof(in) - 1, .done = true);
	body_run(SC_H1_BODY_CHUNKED, 0, (const uint8_t *)in, sizeof(in) - 1, NULL, 0, true, &whole);
	cr_assert_eq(whole.wire, sizeof(in) - 1);
	cr_assert_eq(whole.decoded, 24);
	bres_free(&whole);
}

Test(http1, chunked_body_split_at_every_pair_of_offsets)
{
	static const char in[] = "5;e=1\r\nhello\r\n3\r\nabc\r\n0\r\nT: 1\r\nU: 2\r\n\r\nHTTP/1.1";
	size_t n = sizeof(in) - 1;
	struct bres whole, other;

	body_run(SC_H1_BODY_CHUNKED, 0, (const uint8_t *)in, n, NULL, 0, true, &whole);
	cr_assert_eq(whole.rc, 0);
	cr_assert_str_eq(whole.data.s, "helloabc");
	cr_assert_str_eq(whole.trailers.s, "T: 1\nU: 2\n");
	cr_assert_eq(whole.consumed, n - 8);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			size_t cuts[2] = { i, j };
			char how[64];

			body_run(SC_H1_BODY_CHUNKED, 0, (const uint8_t *)in, n, cuts, 2, true, &other);
			snprintf(how, sizeof(how), "split at %zu and %zu", i, j);
			bres_eq(&other, &whole, how);
			bres_free(&other);
		}
	bres_free(&whole);
}

Test(http1, rejects_bad_chunk_size)
{
	BODY(SC_H1_BODY_CHUNKED, 0, "zz\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 0: expected a hex chunk size", .data = "");
	BODY(SC_H1_BODY_CHUNKED, 0, "\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 0: expected a hex chunk size", .data = "");
	BODY(SC_H1_BODY_CHUNKED, 0, "5\r\nhello\r\n;x\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 10: expected a hex chunk size", .data = "hello", .consumed = 10);
	BODY(SC_H1_BODY_CHUNKED, 0, "-5\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 0: expected a hex chunk size", .data = "");
	BODY(SC_H1_BODY_CHUNKED, 0, "0x5\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 1: invalid character 0x78 after the chunk size", .data = "",
	     .consumed = 1);
	BODY(SC_H1_BODY_CHUNKED, 0, "5 x\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 2: invalid character 0x78 after the chunk size", .data = "",
	     .consumed = 2);
	BODY(SC_H1_BODY_CHUNKED, 0, "5;a\x01\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 3: invalid character 0x01 in a chunk extension", .data = "",
	     .consumed = 3);
	BODY(SC_H1_BODY_CHUNKED, 0, "5\rx", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 2: expected LF after CR in the chunk-size line", .data = "",
	     .consumed = 2);
}

Test(http1, rejects_chunk_size_of_17_hex_digits)
{
	BODY(SC_H1_BODY_CHUNKED, 0, "00000000000000001\r\n", .rc = SC_ETOOBIG,
	     .msg = "HTTP/1 chunked body at offset 16: chunk size over 16 hex digits", .data = "", .consumed = 16);
	/* 16 digits fit, even all ones. */
	BODY(SC_H1_BODY_CHUNKED, 0, "ffffffffffffffff\r\nab", .rc = SC_ETRUNC,
	     .msg = "HTTP/1 chunked body truncated inside a chunk", .data = "ab", .consumed = 20);
}

Test(http1, chunk_size_line_over_cap_is_too_big)
{
	size_t n = SC_H1_MAX_CHUNK_LINE + 64;
	char *in = malloc(n);
	struct bwant ok = { .data = "hello", .done = true };
	struct bwant big = { .rc = SC_ETOOBIG,
			     .msg = "HTTP/1 chunked body at offset 1024: chunk-size line over 1024 bytes",
			     .data = "" };

	cr_assert_not_null(in);
	/* Exactly SC_H1_MAX_CHUNK_LINE bytes with its CRLF. */
	memset(in, 'x', n);
	memcpy(in, "5;", 2);
	memcpy(in + SC_H1_MAX_CHUNK_LINE - 2, "\r\nhello\r\n0\r\n\r\n", 14);
	ok.consumed = SC_H1_MAX_CHUNK_LINE + 12;
	expect_body(SC_H1_BODY_CHUNKED, 0, in, ok.consumed, &ok);
	/* One more. */
	memset(in, 'x', n);
	memcpy(in, "5;", 2);
	memcpy(in + SC_H1_MAX_CHUNK_LINE - 1, "\r\nhello\r\n0\r\n\r\n", 14);
	big.consumed = SC_H1_MAX_CHUNK_LINE;
	expect_body(SC_H1_BODY_CHUNKED, 0, in, SC_H1_MAX_CHUNK_LINE + 13, &big);
	/* Whitespace counts too. */
	memset(in, ' ', n);
	in[0] = '5';
	expect_body(SC_H1_BODY_CHUNKED, 0, in, n, &big);
	free(in);
}

Test(http1, rejects_missing_crlf_after_chunk_data)
{
	BODY(SC_H1_BODY_CHUNKED, 0, "3\r\nabcX", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 6: expected CRLF after the chunk data", .data = "abc", .consumed = 6);
	BODY(SC_H1_BODY_CHUNKED, 0, "3\r\nabc\rX", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 7: expected CRLF after the chunk data", .data = "abc", .consumed = 7);
	BODY(SC_H1_BODY_CHUNKED, 0, "3\r\nabcd\r\n0\r\n\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 chunked body at offset 6: expected CRLF after the chunk data", .data = "abc", .consumed = 6);
}

Test(http1, rejects_bad_trailers)
{
	BODY(SC_H1_BODY_CHUNKED, 0, "0\r\nBad Trailer: x\r\n\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 trailer at offset 6: invalid character 0x20 in the field name", .data = "", .consumed = 3);
	BODY(SC_H1_BODY_CHUNKED, 0, "0\r\nA: 1\r\n folded\r\n\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 trailer at offset 9: obs-fold (a line starting with whitespace) is not accepted",
	     .data = "", .consumed = 3);
	BODY(SC_H1_BODY_CHUNKED, 0, "0\r\nA: \x00\r\n\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 trailer at offset 6: invalid character 0x00 in the field value", .data = "", .consumed = 3);
	BODY(SC_H1_BODY_CHUNKED, 0, "0\r\n\rX\r\n\r\n", .rc = SC_EPROTO,
	     .msg = "HTTP/1 trailer at offset 3: invalid character 0x0d in the field name", .data = "", .consumed = 3);
}

Test(http1, too_many_trailers)
{
	static char in[4096], want[4096];
	size_t n = (size_t)snprintf(in, sizeof(in), "1\r\nx\r\n0\r\n"), off = 0, wn = 0;
	struct bwant w = { .data = "x", .trailers = want, .done = true };
	char msg[128];

	for (int i = 0; i < SC_H1_MAX_TRAILERS; i++) {
		n += (size_t)snprintf(in + n, sizeof(in) - n, "T%d: %d\r\n", i, i);
		wn += (size_t)snprintf(want + wn, sizeof(want) - wn, "T%d: %d\n", i, i);
	}
	off = n;
	n += (size_t)snprintf(in + n, sizeof(in) - n, "\r\n");
	w.consumed = n;
	expect_body(SC_H1_BODY_CHUNKED, 0, in, n, &w);

	n = off + (size_t)snprintf(in + off, sizeof(in) - off, "T64: 64\r\n\r\n");
	snprintf(msg, sizeof(msg), "HTTP/1 trailer at offset %zu: more than 64 trailer fields", off);
	w.rc = SC_ETOOBIG;
	w.msg = msg;
	w.trailers = NULL;
	w.consumed = 9;
	w.done = false;
	expect_body(SC_H1_BODY_CHUNKED, 0, in, n, &w);
}

Test(http1, trailer_section_over_cap_is_too_big)
{
	size_t n = SC_H1_MAX_TRAILER_LEN + 64;
	char *in = malloc(n), *want = malloc(n);
	struct bwant w = { .data = "", .trailers = want, .done = true };

	cr_assert_not_null(in);
	cr_assert_not_null(want);
	/* "0\r\n" then a section of exactly SC_H1_MAX_TRAILER_LEN bytes. */
	memset(in, 'v', n);
	memcpy(in, "0\r\nT: ", 6);
	memcpy(in + 3 + SC_H1_MAX_TRAILER_LEN - 4, "\r\n\r\n", 4);
	snprintf(want, n, "T: %.*s\n", SC_H1_MAX_TRAILER_LEN - 7, in + 6);
	w.consumed = 3 + SC_H1_MAX_TRAILER_LEN;
	expect_body(SC_H1_BODY_CHUNKED, 0, in, w.consumed, &w);
	w.trailers = NULL;
	/* One more byte. */
	memset(in, 'v', n);
	memcpy(in, "0\r\nT: ", 6);
	memcpy(in + 3 + SC_H1_MAX_TRAILER_LEN - 3, "\r\n\r\n", 4);
	w.rc = SC_ETOOBIG;
	w.msg = "HTTP/1 chunked body at offset 3: trailer section over 8192 bytes";
	w.consumed = 3;
	w.done = false;
	expect_body(SC_H1_BODY_CHUNKED, 0, in, 3 + SC_H1_MAX_TRAILER_LEN + 1, &w);
	/* No end at all. */
	expect_body(SC_H1_BODY_CHUNKED, 0, in, n, &w);
	free(want);
	free(in);
}

Test(http1, truncated_bodies_at_finish)
{
	struct bres r;
	static char big[1200];

	memset(big, 'b', sizeof(big));
	body_run(SC_H1_BODY_LENGTH, 5000, (const uint8_t *)big, sizeof(big), NULL, 0, true, &r);
	cr_assert_eq(r.rc, SC_ETRUNC);
	cr_assert_str_eq(r.msg, "HTTP/1 body truncated: 1200 of 5000 bytes");
	cr_assert_eq(r.decoded, 1200);
	bres_free(&r);

	BODY(SC_H1_BODY_LENGTH, 10, "", .rc = SC_ETRUNC, .msg = "HTTP/1 body truncated: 0 of 10 bytes", .data = "");
	BODY(SC_H1_BODY_CHUNKED, 0, "5\r\nhel", .rc = SC_ETRUNC, .msg = "HTTP/1 chunked body truncated inside a chunk",
	     .data = "hel", .consumed = 6);
	BODY(SC_H1_BODY_CHUNKED, 0, "", .rc = SC_ETRUNC, .msg = "HTTP/1 chunked body truncated in a chunk-size line",
	     .data = "");
	BODY(SC_H1_BODY_CHUNKED, 0, "5;ext", .rc = SC_ETRUNC,
	     .msg = "HTTP/1 chunked body truncated in a chunk-size line", .data = "", .consumed = 5);
	BODY(SC_H1_BODY_CHUNKED, 0, "5\r\nhello\r", .rc = SC_ETRUNC,
	     .msg = "HTTP/1 chunked body truncated before the CRLF after a chunk", .data = "hello", .consumed = 9);
	BODY(SC_H1_BODY_CHUNKED, 0, "0\r\nT: 1\r\n", .rc = SC_ETRUNC,
	     .msg = "HTTP/1 chunked body truncated in the trailer section", .data = "", .consumed = 3);
	BODY(SC_H1_BODY_CHUNKED, 0, "0\r\n\r", .rc = SC_ETRUNC,
	     .msg = "HTTP/1 chunked body truncated in the trailer section", .data = "", .consumed = 3);
}

Test(http1, body_errors_are_sticky)
{
	struct sc_h1_body b;
	struct sc_diag diag = { 0 };
	bool done = true;

	sc_h1_body_init(&b, SC_H1_BODY_CHUNKED, 0);
	cr_assert_eq(sc_h1_body_feed(&b, (const uint8_t *)"2\r\nokX", 6, NULL, NULL, &done, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HTTP/1 chunked body at offset 5: expected CRLF after the chunk data");
	cr_assert_eq(b.decoded, 2);
	cr_assert_eq(b.wire, 5);
	cr_assert_eq(sc_h1_body_feed(&b, (const uint8_t *)"\r\n0\r\n\r\n", 7, NULL, NULL, &done, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HTTP/1 body: the decoder already failed (protocol error)");
	cr_assert(!done);
	cr_assert_eq(sc_h1_body_finish(&b, &diag), SC_EPROTO);
	cr_assert_eq(sc_h1_body_gap(&b, 1, &diag), SC_EPROTO);
	cr_assert(!sc_h1_body_done(&b));
	cr_assert_eq(b.wire, 5);
}

struct stop_ctx {
	int ret;
	size_t calls;
};

static int stop_data(void *ctx, const uint8_t *p, size_t n)
{
	struct stop_ctx *s = ctx;

	(void)p;
	(void)n;
	s->calls++;
	return s->ret;
}

Test(http1, data_callback_stops_the_decoder)
{
	struct sc_h1_body b;
	struct sc_diag diag = { 0 };
	struct stop_ctx s = { .ret = -5 };
	bool done;

	sc_h1_body_init(&b, SC_H1_BODY_LENGTH, 10);
	cr_assert_eq(sc_h1_body_feed(&b, (const uint8_t *)"abc", 3, stop_data, &s, &done, &diag), -5);
	cr_assert_str_eq(diag.msg, "HTTP/1 body at offset 0: stopped by the data callback (-5)");
	cr_assert_eq(sc_h1_body_feed(&b, (const uint8_t *)"abc", 3, stop_data, &s, &done, &diag), -5);
	cr_assert_eq(s.calls, 1);

	s.ret = 7;
	sc_h1_body_init(&b, SC_H1_BODY_CHUNKED, 0);
	cr_assert_eq(sc_h1_body_feed(&b, (const uint8_t *)"3\r\nabc\r\n", 8, stop_data, &s, &done, &diag), SC_ELIMIT);
	cr_assert_str_eq(diag.msg, "HTTP/1 body at offset 3: stopped by the data callback (7)");
	cr_assert_eq(b.decoded, 3);
}

Test(http1, body_done_and_feeds_after_the_end)
{
	struct sc_h1_body b;
	struct sc_diag diag = { 0 };
	bool done = false;

	sc_h1_body_init(&b, SC_H1_BODY_NONE, 0);
	cr_assert(sc_h1_body_done(&b));
	cr_assert_eq(sc_h1_body_feed(&b, NULL, 0, NULL, NULL, &done, &diag), 0);
	cr_assert(done);
	sc_h1_body_init(&b, SC_H1_BODY_LENGTH, 2);
	cr_assert(!sc_h1_body_done(&b));
	cr_assert_eq(sc_h1_body_feed(&b, (const uint8_t *)"ab", 2, NULL, NULL, &done, &diag), 2);
	cr_assert(done);
	cr_assert_eq(sc_h1_body_feed(&b, (const uint8_t *)"cd", 2, NULL, NULL, &done, &diag), 0);
	cr_assert(done);
	cr_assert_eq(sc_h1_body_finish(&b, &diag), 0);
	sc_h1_body_init(&b, SC_H1_BODY_CLOSE, 0);
	cr_assert_eq(sc_h1_body_feed(&b, (const uint8_t *)"ab", 2, NULL, NULL, &done, &diag), 2);
	cr_assert(!done);
	cr_assert(!sc_h1_body_done(&b));
	cr_assert_eq(sc_h1_body_finish(&b, &diag), 0);
	cr_assert(sc_h1_body_done(&b));
	cr_assert_eq(b.decoded, 2);
}

/* ---- Gaps ------------------------------------------------------------------------- */

static int feed_str(struct sc_h1_body *b, const char *s, struct tx *data, bool *done)
{
	struct sc_diag diag = { 0 };
	int rc = sc_h1_body_feed(b, (const uint8_t *)s, strlen(s), body_data, data, done, &diag);

	cr_assert(rc >= 0, "feed: %d %s", rc, diag.msg);
	return rc;
}

Test(http1, gap_absorbed_inside_length_body)
{
	struct sc_h1_body b;
	struct sc_diag diag = { 0 };
	struct tx data = { 0 };
	bool done;

	sc_h1_body_init(&b, SC_H1_BODY_LENGTH, 10);
	cr_assert_eq(feed_str(&b, "abc", &data, &done), 3);
	cr_assert_eq(sc_h1_body_gap(&b, 4, &diag), 0);
	cr_assert(b.incomplete);
	cr_assert_eq(b.remaining, 3);
	cr_assert_eq(b.missing, 4);
	cr_assert_eq(b.wire, 7);
	cr_assert_eq(feed_str(&b, "xyzGET", &data, &done), 3);
	cr_assert(done);
	cr_assert_str_eq(tx_str(&data), "abcxyz");
	cr_assert_eq(b.decoded, 6);
	cr_assert_eq(b.wire, 10);
	/* A gap running exactly to the end of the body ends it. */
	sc_h1_body_init(&b, SC_H1_BODY_LENGTH, 10);
	cr_assert_eq(sc_h1_body_gap(&b, 10, &diag), 0);
	cr_assert(sc_h1_body_done(&b));
	cr_assert_eq(sc_h1_body_gap(&b, 0, &diag), 0);
	tx_free(&data);
}

Test(http1, gap_refused_past_the_end_of_length_body)
{
	struct sc_h1_body b;
	struct sc_diag diag = { 0 };

	sc_h1_body_init(&b, SC_H1_BODY_LENGTH, 10);
	cr_assert_eq(sc_h1_body_gap(&b, 11, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HTTP/1 body at offset 0: a gap of 11 bytes crosses the end of the body (10 bytes left)");
	sc_h1_body_init(&b, SC_H1_BODY_NONE, 0);
	cr_assert_eq(sc_h1_body_gap(&b, 1, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HTTP/1 body at offset 0: a gap of 1 bytes outside body data");
}

Test(http1, gap_absorbed_inside_a_chunk_keeps_framing)
{
	struct sc_h1_body b;
	struct sc_diag diag = { 0 };
	struct tx data = { 0 };
	bool done;

	sc_h1_body_init(&b, SC_H1_BODY_CHUNKED, 0);
	cr_assert_eq(feed_str(&b, "5\r\nhe", &data, &done), 5);
	cr_assert_eq(sc_h1_body_gap(&b, 3, &diag), 0);
	cr_assert_eq(b.remaining, 0);
	cr_assert_eq(feed_str(&b, "\r\n3\r\nabc\r\n", &data, &done), 10);
	cr_assert(!done);
	cr_assert_eq(sc_h1_body_gap(&b, 0, &diag), 0);
	cr_assert_eq(feed_str(&b, "4\r\nw", &data, &done), 4);
	cr_assert_eq(sc_h1_body_gap(&b, 2, &diag), 0);
	cr_assert_eq(feed_str(&b, "z\r\n0\r\n\r\nNEXT", &data, &done), 8);
	cr_assert(done);
	cr_assert_str_eq(tx_str(&data), "heabcwz");
	cr_assert(b.incomplete);
	cr_assert_eq(b.missing, 5);
	cr_assert_eq(b.decoded, 7);
	cr_assert_eq(b.wire, strlen("5\r\nhello\r\n3\r\nabc\r\n4\r\nwxyz\r\n0\r\n\r\n"));
	tx_free(&data);
}

Test(http1, gap_refused_across_a_chunk_boundary)
{
	struct sc_h1_body b;
	struct sc_diag diag = { 0 };
	struct tx data = { 0 };
	bool done;

	sc_h1_body_init(&b, SC_H1_BODY_CHUNKED, 0);
	cr_assert_eq(feed_str(&b, "5\r\nhe", &data, &done), 5);
	cr_assert_eq(sc_h1_body_gap(&b, 4, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HTTP/1 body at offset 5: a gap of 4 bytes crosses the end of the chunk (3 bytes left)");
	cr_assert_eq(sc_h1_body_feed(&b, (const uint8_t *)"llo", 3, NULL, NULL, &done, &diag), SC_EPROTO);

	/* In a chunk-size line, or in the CRLF after the data. */
	sc_h1_body_init(&b, SC_H1_BODY_CHUNKED, 0);
	cr_assert_eq(feed_str(&b, "5", &data, &done), 1);
	cr_assert_eq(sc_h1_body_gap(&b, 1, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HTTP/1 body at offset 1: a gap of 1 bytes outside body data");
	sc_h1_body_init(&b, SC_H1_BODY_CHUNKED, 0);
	cr_assert_eq(feed_str(&b, "1\r\nx", &data, &done), 4);
	cr_assert_eq(sc_h1_body_gap(&b, 1, &diag), SC_EPROTO);
	tx_free(&data);
}

Test(http1, gap_absorbed_in_close_and_tunnel_bodies)
{
	struct sc_h1_body b;
	struct sc_diag diag = { 0 };

	sc_h1_body_init(&b, SC_H1_BODY_CLOSE, 0);
	cr_assert_eq(sc_h1_body_gap(&b, 1u << 30, &diag), 0);
	cr_assert(b.incomplete);
	cr_assert_eq(b.missing, 1u << 30);
	cr_assert_eq(sc_h1_body_finish(&b, &diag), 0);
	sc_h1_body_init(&b, SC_H1_BODY_TUNNEL, 0);
	cr_assert_eq(sc_h1_body_gap(&b, 7, &diag), 0);
	cr_assert_eq(b.wire, 7);
}

/* ---- Body kinds ------------------------------------------------------------------- */

static enum sc_h1_body_kind resp_kind(const char *head, const char *method, uint64_t *len)
{
	struct sc_h1_head h;

	parse_ok(false, head, &h);
	return sc_h1_response_body(&h, view_of(method), len);
}

Test(http1, response_body_kinds)
{
	uint64_t len = 99;

	cr_assert_eq(resp_kind("HTTP/1.1 101 Switching Protocols\r\nContent-Length: 5\r\n\r\n", "GET", &len),
		     SC_H1_BODY_TUNNEL);
	cr_assert_eq(len, 0);
	cr_assert_eq(resp_kind("HTTP/1.1 100 Continue\r\n\r\n", "POST", &len), SC_H1_BODY_NONE);
	cr_assert_eq(resp_kind("HTTP/1.1 199 X\r\nContent-Length: 5\r\n\r\n", "POST", &len), SC_H1_BODY_NONE);
	cr_assert_eq(resp_kind("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", &len), SC_H1_BODY_NONE);
	cr_assert_eq(resp_kind("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD", &len), SC_H1_BODY_NONE);
	cr_assert_eq(resp_kind("HTTP/1.1 200 OK\r\n\r\n", "CONNECT", &len), SC_H1_BODY_TUNNEL);
	cr_assert_eq(resp_kind("HTTP/1.1 299 OK\r\nContent-Length: 5\r\n\r\n", "CONNECT", &len), SC_H1_BODY_TUNNEL);
	cr_assert_eq(resp_kind("HTTP/1.1 407 Auth\r\nContent-Length: 5\r\n\r\n", "CONNECT", &len), SC_H1_BODY_LENGTH);
	cr_assert_eq(len, 5);
	cr_assert_eq(resp_kind("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", "GET", &len), SC_H1_BODY_NONE);
	cr_assert_eq(resp_kind("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", &len),
		     SC_H1_BODY_NONE);
	cr_assert_eq(resp_kind("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "GET", &len),
		     SC_H1_BODY_CHUNKED);
	cr_assert_eq(len, 0);
	cr_assert_eq(resp_kind("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", &len), SC_H1_BODY_NONE);
	cr_assert_eq(resp_kind("HTTP/1.1 200 OK\r\n\r\n", "GET", &len), SC_H1_BODY_CLOSE);
	cr_assert_eq(resp_kind("HTTP/1.0 200 OK\r\n\r\n", "GET", &len), SC_H1_BODY_CLOSE);
	cr_assert_eq(resp_kind("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n", "GET", &len),
		     SC_H1_BODY_CLOSE);
	/* Methods are case-sensitive; an unknown method is neither HEAD nor CONNECT. */
	cr_assert_eq(resp_kind("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "head", &len), SC_H1_BODY_LENGTH);
	cr_assert_eq(resp_kind("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", NULL, &len), SC_H1_BODY_LENGTH);
	cr_assert_eq(resp_kind("HTTP/1.1 200 OK\r\n\r\n", NULL, NULL), SC_H1_BODY_CLOSE);
}

Test(http1, request_body_kinds)
{
	struct sc_h1_head h;
	uint64_t len = 99;

	parse_ok(true, "GET / HTTP/1.1\r\n\r\n", &h);
	cr_assert_eq(sc_h1_request_body(&h, &len), SC_H1_BODY_NONE);
	cr_assert_eq(len, 0);
	parse_ok(true, "POST / HTTP/1.0\r\n\r\n", &h);
	cr_assert_eq(sc_h1_request_body(&h, &len), SC_H1_BODY_NONE);
	parse_ok(true, "POST / HTTP/1.0\r\nContent-Length: 12\r\n\r\n", &h);
	cr_assert_eq(sc_h1_request_body(&h, &len), SC_H1_BODY_LENGTH);
	cr_assert_eq(len, 12);
	parse_ok(true, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &h);
	cr_assert_eq(sc_h1_request_body(&h, &len), SC_H1_BODY_NONE);
	parse_ok(true, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h);
	cr_assert_eq(sc_h1_request_body(&h, NULL), SC_H1_BODY_CHUNKED);
	cr_assert_str_eq(sc_h1_body_kind_name(SC_H1_BODY_CHUNKED), "chunked");
	cr_assert_str_eq(sc_h1_body_kind_name((enum sc_h1_body_kind)42), "?");
}

/* ---- Resynchronisation -------------------------------------------------------------- */

#define FIND(lit, req) sc_h1_find_head((const uint8_t *)(lit), sizeof(lit) - 1, req)

Test(http1, find_head_after_garbage_and_mid_body_bytes)
{
	static const char req[] = "\x00\x01garbage\nrest of a body\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char resp[] = "\x89PNG\r\n\x1a\n...image bytes...\nHTTP/1.0 404 Not Found\r\n\r\n";
	struct sc_h1_head h;
	struct sc_diag diag = { 0 };
	long at;

	at = FIND(req, true);
	cr_assert_eq(at, 26);
	cr_assert_eq(sc_h1_parse_head((const uint8_t *)req + at, sizeof(req) - 1 - (size_t)at, 0, true, &h, &diag),
		     (int)(sizeof(req) - 1 - (size_t)at));
	at = FIND(resp, false);
	cr_assert_eq(at, 26);
	cr_assert_eq(FIND("GET / HTTP/1.0\n", true), 0);
	cr_assert_eq(FIND("HTTP/1.1 200\n", false), 0);
	cr_assert_eq(FIND("\nM-SEARCH * HTTP/1.1\r\n", true), 1);
	cr_assert_eq(FIND("x\nGET / HTTP/2.0\r\nGET / HTTP/1.1\r\n", true), 18);
	cr_assert_eq(FIND("HTTP/1.1 200 OK\r\n", true), -1);
	cr_assert_eq(FIND("GET / HTTP/1.1\r\n", false), -1);
}

Test(http1, find_head_not_inside_a_line)
{
	cr_assert_eq(FIND("xxGET / HTTP/1.1\r\n", true), -1);
	cr_assert_eq(FIND("see HTTP/1.1 200 OK\r\n", false), -1);
	cr_assert_eq(FIND(" GET / HTTP/1.1\r\n", true), -1);
	cr_assert_eq(FIND("\rGET / HTTP/1.1\r\n", true), -1);
}

Test(http1, find_head_none)
{
	cr_assert_eq(sc_h1_find_head(NULL, 0, true), -1);
	cr_assert_eq(FIND("", false), -1);
	cr_assert_eq(FIND("get / HTTP/1.1\r\n", true), -1);          /* not a known-looking method */
	cr_assert_eq(FIND("GE / HTTP/1.1\r\n", true), -1);           /* too short */
	cr_assert_eq(FIND("ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\n", true), -1); /* too long */
	cr_assert_eq(FIND("GET / HTTP/1.1", true), -1);              /* line not complete */
	cr_assert_eq(FIND("GET / HTTP/1.1\r", true), -1);
	cr_assert_eq(FIND("GET  / HTTP/1.1\r\n", true), -1);
	cr_assert_eq(FIND("GET / HTTP/1.1 \r\n", true), -1);
	cr_assert_eq(FIND("HTTP/1.1 200 OK", false), -1);            /* line not complete */
	cr_assert_eq(FIND("HTTP/1.1 099 Low\n", false), -1);
	cr_assert_eq(FIND("HTTP/1.1 2000\n", false), -1);
	cr_assert_eq(FIND("HTTP/1.2 200 OK\n", false), -1);
	cr_assert_eq(FIND("HTTP/1.1 20\n", false), -1);
	cr_assert_eq(FIND("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true), -1);
}

Test(http1, find_head_line_cap)
{
	size_t n = SC_H1_MAX_LINE + 16;
	char *in = malloc(n);

	cr_assert_not_null(in);
	memset(in, 'a', n);
	memcpy(in, "GET /", 5);
	memcpy(in + SC_H1_MAX_LINE - 11, " HTTP/1.1\r\n", 11);
	cr_assert_eq(sc_h1_find_head((uint8_t *)in, SC_H1_MAX_LINE, true), 0);
	memset(in, 'a', n);
	memcpy(in, "GET /", 5);
	memcpy(in + SC_H1_MAX_LINE - 10, " HTTP/1.1\r\n", 11);
	cr_assert_eq(sc_h1_find_head((uint8_t *)in, SC_H1_MAX_LINE + 1, true), -1);
	free(in);
}
