/* test_hpack.c - the HPACK decoder: RFC 7541 Appendix C, the hpack-test-case
 * stories of five encoders, malformed blocks, caps and the unknown state. */
#include "sc_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "analyze/hpack.h"
#include "analyze/hpack_int.h"

/* ---- Helpers ---------------------------------------------------------------- */

struct fcopy {
	char *name, *value; /* NUL-terminated copies (the bytes may hold NULs too) */
	size_t name_len, value_len;
	unsigned flags;
};

struct collect {
	struct fcopy *f;
	size_t n, cap;
	size_t stop_at; /* return 42 from this field on, if non-zero: stop_at - 1 fields pass */
};

static char *dup_bytes(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	cr_assert_not_null(s);
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int collect_cb(void *ctx, const struct sc_hpack_field *f)
{
	struct collect *c = ctx;

	if (c->stop_at && c->n + 1 >= c->stop_at)
		return 42;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->f = realloc(c->f, c->cap * sizeof(*c->f));
		cr_assert_not_null(c->f);
	}
	cr_assert_not_null(f->name.p);
	cr_assert_not_null(f->value.p);
	c->f[c->n].name = dup_bytes(f->name.p, f->name.len);
	c->f[c->n].name_len = f->name.len;
	c->f[c->n].value = dup_bytes(f->value.p, f->value.len);
	c->f[c->n].value_len = f->value.len;
	c->f[c->n].flags = f->flags;
	c->n++;
	return 0;
}

static void collect_clear(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->f[i].name);
		free(c->f[i].value);
	}
	c->n = 0;
}

static void collect_free(struct collect *c)
{
	collect_clear(c);
	free(c->f);
	c->f = NULL;
	c->cap = 0;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		cr_assert(sscanf(hex, "%2x", &v) == 1, "bad hex at %s", hex);
		cr_assert(n < cap);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* Decode a hex block, expecting `want` (0 or an error). */
static int decode_hex(struct sc_hpack *h, const char *hex, struct collect *c, struct sc_diag *diag)
{
	uint8_t buf[4096];
	size_t n = unhex(hex, buf, sizeof(buf));

	return sc_hpack_decode(h, buf, n, c ? collect_cb : NULL, c, diag);
}

struct hf {
	const char *name, *value;
};

static void expect_fields(const struct collect *c, const struct hf *want, size_t n)
{
	cr_assert_eq(c->n, n, "got %zu fields, want %zu", c->n, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(c->f[i].name, want[i].name, "field %zu name", i);
		cr_assert_str_eq(c->f[i].value, want[i].value, "field %zu value", i);
	}
}

/* The dynamic table, newest first, and its size. */
static void expect_table(struct sc_hpack *h, const struct hf *want, size_t n, uint64_t size)
{
	struct sc_hpack_field f;

	cr_assert_eq(sc_hpack_table_len(h), n, "table has %zu entries, want %zu", sc_hpack_table_len(h), n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(sc_hpack_table_get(h, i, &f), 0);
		cr_assert(f.name.len == strlen(want[i].name) && memcmp(f.name.p, want[i].name, f.name.len) == 0,
			  "entry %zu name %.*s, want %s", i, (int)f.name.len, f.name.p, want[i].name);
		cr_assert(f.value.len == strlen(want[i].value) && memcmp(f.value.p, want[i].value, f.value.len) == 0,
			  "entry %zu value %.*s, want %s", i, (int)f.value.len, f.value.p, want[i].value);
	}
	cr_assert_eq(sc_hpack_table_get(h, n, &f), SC_ELIMIT);
	cr_assert_eq(sc_hpack_table_size(h), size, "table size %llu, want %llu",
		     (unsigned long long)sc_hpack_table_size(h), (unsigned long long)size);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct sc_hpack *new_decoder(uint32_t size)
{
	struct sc_hpack *h = sc_hpack_new(size);

	cr_assert_not_null(h);
	return h;
}

/* ---- RFC 7541 Appendix C ---------------------------------------------------- */

static uint32_t int_of(const char *hex, unsigned prefix_bits, int *rc, size_t *used)
{
	uint8_t buf[64];
	size_t n = unhex(hex, buf, sizeof(buf));
	struct sc_rd r;
	uint32_t v = 0;

	sc_rd_init(&r, buf + 1, n - 1);
	*rc = sc_hpack_int_decode(&r, buf[0], prefix_bits, &v);
	*used = n - sc_rd_left(&r);
	return v;
}

Test(hpack, rfc_c1_integer_examples)
{
	int rc;
	size_t used;

	/* C.1.1: 10 with a 5-bit prefix (the 3 high bits are not the integer's). */
	cr_assert_eq(int_of("ea", 5, &rc, &used), 10);
	cr_assert_eq(rc, 0);
	cr_assert_eq(used, 1);
	/* C.1.2: 1337 with a 5-bit prefix. */
	cr_assert_eq(int_of("1f9a0a", 5, &rc, &used), 1337);
	cr_assert_eq(rc, 0);
	cr_assert_eq(used, 3);
	/* C.1.3: 42 starting at an octet boundary (8-bit prefix). */
	cr_assert_eq(int_of("2a", 8, &rc, &used), 42);
	cr_assert_eq(rc, 0);
	/* Limits: 2^32-1 is the largest value; 2^32 overflows. */
	cr_assert_eq(int_of("1fe0ffffff0f", 5, &rc, &used), UINT32_MAX);
	cr_assert_eq(rc, 0);
	int_of("1fe1ffffff0f", 5, &rc, &used);
	cr_assert_eq(rc, SC_EPROTO);
	/* A sixth continuation byte is refused even when it adds nothing. */
	int_of("1f808080808000", 5, &rc, &used);
	cr_assert_eq(rc, SC_EPROTO);
	cr_assert_eq(int_of("1f8080808000", 5, &rc, &used), 31);
	cr_assert_eq(rc, 0);
	int_of("1f9a", 5, &rc, &used);
	cr_assert_eq(rc, SC_ETRUNC);

	/* The same integers through the decoder: size updates use a 5-bit prefix. */
	struct sc_hpack *h = new_decoder(4096);
	struct sc_diag diag = { 0 };

	cr_assert_eq(decode_hex(h, "3f9a0a", NULL, &diag), 0, "%s", diag.msg);
	cr_assert_eq(sc_hpack_table_max_size(h), 1337);
	cr_assert_eq(decode_hex(h, "2a", NULL, &diag), 0, "%s", diag.msg);
	cr_assert_eq(sc_hpack_table_max_size(h), 10);
	sc_hpack_free(h);
}

Test(hpack, rfc_c2_1_literal_with_indexing)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };
	static const struct hf want[] = { { "custom-key", "custom-header" } };

	cr_assert_eq(decode_hex(h, "400a637573746f6d2d6b65790d637573746f6d2d686561646572", &c, NULL), 0);
	expect_fields(&c, want, 1);
	cr_assert_eq(c.f[0].flags, 0);
	expect_table(h, want, 1, 55);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, rfc_c2_2_literal_without_indexing)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };
	static const struct hf want[] = { { ":path", "/sample/path" } };

	cr_assert_eq(decode_hex(h, "040c2f73616d706c652f70617468", &c, NULL), 0);
	expect_fields(&c, want, 1);
	cr_assert_eq(c.f[0].flags, 0);
	expect_table(h, NULL, 0, 0);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, rfc_c2_3_literal_never_indexed_keeps_flag)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };
	static const struct hf want[] = { { "password", "secret" } };

	cr_assert_eq(decode_hex(h, "100870617373776f726406736563726574", &c, NULL), 0);
	expect_fields(&c, want, 1);
	cr_assert_eq(c.f[0].flags, SC_HPACK_NEVER_INDEXED);
	expect_table(h, NULL, 0, 0);
	/* Also with an indexed name (authorization, static 23). */
	collect_clear(&c);
	cr_assert_eq(decode_hex(h, "1f08027879", &c, NULL), 0);
	cr_assert_eq(c.n, 1);
	cr_assert_str_eq(c.f[0].name, "authorization");
	cr_assert_str_eq(c.f[0].value, "xy");
	cr_assert_eq(c.f[0].flags, SC_HPACK_NEVER_INDEXED);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, rfc_c2_4_indexed)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };
	static const struct hf want[] = { { ":method", "GET" } };

	cr_assert_eq(decode_hex(h, "82", &c, NULL), 0);
	expect_fields(&c, want, 1);
	expect_table(h, NULL, 0, 0);
	collect_free(&c);
	sc_hpack_free(h);
}

static const struct hf req1[] = {
	{ ":method", "GET" }, { ":scheme", "http" }, { ":path", "/" }, { ":authority", "www.example.com" },
};
static const struct hf req2[] = {
	{ ":method", "GET" },
	{ ":scheme", "http" },
	{ ":path", "/" },
	{ ":authority", "www.example.com" },
	{ "cache-control", "no-cache" },
};
static const struct hf req3[] = {
	{ ":method", "GET" },
	{ ":scheme", "https" },
	{ ":path", "/index.html" },
	{ ":authority", "www.example.com" },
	{ "custom-key", "custom-value" },
};
static const struct hf req_t1[] = { { ":authority", "www.example.com" } };
static const struct hf req_t2[] = { { "cache-control", "no-cache" }, { ":authority", "www.example.com" } };
static const struct hf req_t3[] = {
	{ "custom-key", "custom-value" },
	{ "cache-control", "no-cache" },
	{ ":authority", "www.example.com" },
};

#define DATE1 "Mon, 21 Oct 2013 20:13:21 GMT"
#define DATE2 "Mon, 21 Oct 2013 20:13:22 GMT"
#define LOC "https://www.example.com"
#define COOKIE "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
static const struct hf resp1[] = {
	{ ":status", "302" }, { "cache-control", "private" }, { "date", DATE1 }, { "location", LOC },
};
static const struct hf resp2[] = {
	{ ":status", "307" }, { "cache-control", "private" }, { "date", DATE1 }, { "location", LOC },
};
static const struct hf resp3[] = {
	{ ":status", "200" },   { "cache-control", "private" },    { "date", DATE2 },
	{ "location", LOC },    { "content-encoding", "gzip" },    { "set-cookie", COOKIE },
};
static const struct hf resp_t1[] = {
	{ "location", LOC }, { "date", DATE1 }, { "cache-control", "private" }, { ":status", "302" },
};
static const struct hf resp_t2[] = {
	{ ":status", "307" }, { "location", LOC }, { "date", DATE1 }, { "cache-control", "private" },
};
static const struct hf resp_t3[] = { { "set-cookie", COOKIE }, { "content-encoding", "gzip" }, { "date", DATE2 } };

struct step {
	const char *hex;
	const struct hf *fields;
	size_t nfields;
	const struct hf *table;
	size_t ntable;
	uint64_t size;
};

#define STEP(hex, f, t, sz) { hex, f, N(f), t, N(t), sz }

static const struct step c3[] = {
	STEP("828684410f7777772e6578616d706c652e636f6d", req1, req_t1, 57),
	STEP("828684be58086e6f2d6361636865", req2, req_t2, 110),
	STEP("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565", req3, req_t3, 164),
};
static const struct step c4[] = {
	STEP("828684418cf1e3c2e5f23a6ba0ab90f4ff", req1, req_t1, 57),
	STEP("828684be5886a8eb10649cbf", req2, req_t2, 110),
	STEP("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf", req3, req_t3, 164),
};
static const struct step c5[] = {
	STEP("4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54"
	     "6e1768747470733a2f2f7777772e6578616d706c652e636f6d",
	     resp1, resp_t1, 222),
	STEP("4803333037c1c0bf", resp2, resp_t2, 222),
	STEP("88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f"
	     "3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076"
	     "657273696f6e3d31",
	     resp3, resp_t3, 215),
};
static const struct step c6[] = {
	STEP("488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f"
	     "0b97c8e9ae82ae43d3",
	     resp1, resp_t1, 222),
	STEP("4883640effc1c0bf", resp2, resp_t2, 222),
	STEP("88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335df"
	     "dfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
	     resp3, resp_t3, 215),
};

static void run_steps(const struct step *s, size_t n, uint32_t table_size)
{
	struct sc_hpack *h = new_decoder(table_size);
	struct collect c = { 0 };
	struct sc_diag diag = { 0 };

	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(decode_hex(h, s[i].hex, &c, &diag), 0, "block %zu: %s", i, diag.msg);
		expect_fields(&c, s[i].fields, s[i].nfields);
		expect_table(h, s[i].table, s[i].ntable, s[i].size);
		cr_assert(sc_hpack_state_known(h));
		collect_clear(&c);
	}
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, rfc_c3_requests_without_huffman)
{
	run_steps(c3, N(c3), 4096);
}

Test(hpack, rfc_c4_requests_with_huffman)
{
	run_steps(c4, N(c4), 4096);
}

Test(hpack, rfc_c5_responses_with_eviction)
{
	run_steps(c5, N(c5), 256);
}

Test(hpack, rfc_c6_responses_with_huffman_and_eviction)
{
	run_steps(c6, N(c6), 256);
}

/* ---- hpack-test-case stories ------------------------------------------------ */

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, got;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	cr_assert(!ferror(f));
	fclose(f);
	*len = n;
	return buf;
}

/* The whole decompressed text, NUL-terminated. */
static char *read_zst(const char *path, size_t *len)
{
	size_t zlen, cap = 8 << 20, n = 0;
	uint8_t *z = read_file(path, &zlen);
	char *out = malloc(cap + 1);
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer in = { z, zlen, 0 };
	size_t rc = 1;

	cr_assert_not_null(out);
	cr_assert_not_null(ds);
	while (in.pos < in.size || rc != 0) {
		if (n == cap) {
			cr_assert(cap < (256u << 20), "%s: too large", path);
			cap *= 2;
			out = realloc(out, cap + 1);
			cr_assert_not_null(out);
		}
		ZSTD_outBuffer ob = { out + n, cap - n, 0 };
		size_t before = in.pos;

		rc = ZSTD_decompressStream(ds, &ob, &in);
		cr_assert(!ZSTD_isError(rc), "%s: %s", path, ZSTD_getErrorName(rc));
		n += ob.pos;
		if (rc != 0 && in.pos == in.size && ob.pos == 0 && before == in.pos)
			cr_assert_fail("%s: truncated zstd frame", path);
	}
	ZSTD_freeDStream(ds);
	free(z);
	out[n] = '\0';
	*len = n;
	return out;
}

/* %XX-unescape `s` (up to `end`) in place; returns the length. */
static size_t unescape(char *s, const char *end)
{
	size_t n = 0;

	for (const char *p = s; p < end; p++) {
		unsigned v;

		if (*p == '%') {
			cr_assert(end - p >= 3 && sscanf(p + 1, "%2x", &v) == 1, "bad escape");
			s[n++] = (char)v;
			p += 2;
		} else {
			s[n++] = *p;
		}
	}
	return n;
}

struct want_field {
	char *name, *value;
	size_t name_len, value_len;
};

struct story_state {
	const char *impl;
	struct sc_hpack *h;
	char story[64];
	long seqno;
	uint8_t *wire;
	size_t wire_len, wire_cap;
	struct want_field *want;
	size_t nwant, want_cap;
	bool in_case;
	unsigned long stories, cases, headers;
};

static void finish_case(struct story_state *st)
{
	struct collect c = { 0 };
	struct sc_diag diag = { 0 };
	int rc;

	if (!st->in_case)
		return;
	rc = sc_hpack_decode(st->h, st->wire, st->wire_len, collect_cb, &c, &diag);
	cr_assert_eq(rc, 0, "%s/%s case %ld: %s", st->impl, st->story, st->seqno, diag.msg);
	cr_assert_eq(c.n, st->nwant, "%s/%s case %ld: %zu fields, want %zu", st->impl, st->story, st->seqno, c.n,
		     st->nwant);
	for (size_t i = 0; i < c.n; i++) {
		const struct want_field *w = &st->want[i];

		cr_assert(c.f[i].flags == 0 && c.f[i].name_len == w->name_len &&
				  memcmp(c.f[i].name, w->name, w->name_len) == 0 && c.f[i].value_len == w->value_len &&
				  memcmp(c.f[i].value, w->value, w->value_len) == 0,
			  "%s/%s case %ld field %zu: got %s: %s, want %.*s: %.*s", st->impl, st->story, st->seqno, i,
			  c.f[i].name, c.f[i].value, (int)w->name_len, w->name, (int)w->value_len, w->value);
	}
	cr_assert(sc_hpack_state_known(st->h));
	collect_free(&c);
	st->cases++;
	st->headers += st->nwant;
	st->nwant = 0;
	st->wire_len = 0;
	st->in_case = false;
}

static void run_stories(const char *impl, unsigned long want_stories, unsigned long want_cases,
			unsigned long want_headers)
{
	char path[4096];
	size_t len;
	char *text, *line, *next, *end;
	struct story_state st = { .impl = impl };
	unsigned long declared_cases = 0, story_cases = 0;
	bool ended = false;

	snprintf(path, sizeof(path), "%s/tests/fixtures/hpack-test-case/%s.txt.zst", sc_test_srcdir(), impl);
	text = read_zst(path, &len);
	end = text + len;
	for (line = text; line < end; line = next) {
		char *nl = memchr(line, '\n', (size_t)(end - line));

		cr_assert_not_null(nl, "%s: last line has no newline", impl);
		*nl = '\0';
		next = nl + 1;
		cr_assert(!ended, "%s: data after the end line", impl);
		if (strncmp(line, "h ", 2) == 0) {
			char *name = line + 2, *sp = memchr(name, ' ', (size_t)(nl - name));

			cr_assert(st.in_case && sp, "%s: stray header line", impl);
			if (st.nwant == st.want_cap) {
				st.want_cap = st.want_cap ? st.want_cap * 2 : 64;
				st.want = realloc(st.want, st.want_cap * sizeof(*st.want));
				cr_assert_not_null(st.want);
			}
			struct want_field *w = &st.want[st.nwant++];

			w->name = name;
			w->name_len = unescape(name, sp);
			w->value = sp + 1;
			w->value_len = unescape(sp + 1, nl);
		} else if (strncmp(line, "wire ", 5) == 0) {
			size_t hexlen = (size_t)(nl - line - 5);

			cr_assert(st.in_case && hexlen % 2 == 0, "%s: bad wire line", impl);
			if (hexlen / 2 > st.wire_cap) {
				st.wire_cap = hexlen / 2;
				st.wire = realloc(st.wire, st.wire_cap);
				cr_assert_not_null(st.wire);
			}
			st.wire_len = unhex(line + 5, st.wire, st.wire_cap);
		} else if (strncmp(line, "case ", 5) == 0) {
			char size[32];

			finish_case(&st);
			cr_assert(st.h, "%s: case before story", impl);
			cr_assert(sscanf(line, "case %ld %31s", &st.seqno, size) == 2, "%s: bad case line", impl);
			if (strcmp(size, "-") != 0)
				sc_hpack_set_max_table_size(st.h, (uint32_t)strtoul(size, NULL, 10));
			st.in_case = true;
			story_cases++;
		} else if (strncmp(line, "story ", 6) == 0) {
			finish_case(&st);
			cr_assert_eq(story_cases, declared_cases, "%s/%s: case count", impl, st.story);
			sc_hpack_free(st.h);
			st.h = new_decoder(SC_HPACK_DEFAULT_TABLE_SIZE);
			cr_assert(sscanf(line, "story %63s %lu", st.story, &declared_cases) == 2, "%s: bad story", impl);
			story_cases = 0;
			st.stories++;
		} else if (strncmp(line, "end ", 4) == 0) {
			unsigned long s, c, hd;

			finish_case(&st);
			cr_assert_eq(story_cases, declared_cases, "%s/%s: case count", impl, st.story);
			cr_assert(sscanf(line, "end %lu %lu %lu", &s, &c, &hd) == 3);
			cr_assert(s == st.stories && c == st.cases && hd == st.headers, "%s: totals disagree", impl);
			ended = true;
		} else {
			cr_assert(strncmp(line, "stories ", 8) == 0, "%s: unknown line %.40s", impl, line);
		}
	}
	cr_assert(ended, "%s: no end line", impl);
	/* The exact numbers, so that a silently shortened fixture fails. */
	cr_assert_eq(st.stories, want_stories, "%s: %lu stories", impl, st.stories);
	cr_assert_eq(st.cases, want_cases, "%s: %lu cases", impl, st.cases);
	cr_assert_eq(st.headers, want_headers, "%s: %lu headers", impl, st.headers);
	cr_log_info("%s: %lu stories, %lu cases, %lu headers decoded", impl, st.stories, st.cases, st.headers);
	sc_hpack_free(st.h);
	free(st.want);
	free(st.wire);
	free(text);
}

Test(hpack, stories_go_hpack)
{
	run_stories("go-hpack", 32, 3384, 39359);
}

Test(hpack, stories_haskell_http2_static)
{
	run_stories("haskell-http2-static", 32, 3384, 39359);
}

Test(hpack, stories_nghttp2)
{
	run_stories("nghttp2", 32, 3384, 39359);
}

Test(hpack, stories_python_hpack)
{
	run_stories("python-hpack", 32, 3384, 39359);
}

Test(hpack, stories_swift_nio_hpack_huffman)
{
	run_stories("swift-nio-hpack-huffman", 32, 3384, 39359);
}

/* ---- Malformed blocks --------------------------------------------------------- */

static void expect_error(const char *hex, uint32_t table_size, int err, const char *msg)
{
	struct sc_hpack *h = new_decoder(table_size);
	struct sc_diag diag = { 0 };
	struct collect c = { 0 };

	cr_assert_eq(decode_hex(h, hex, &c, &diag), err, "%s: got %d (%s)", hex, diag.err, diag.msg);
	cr_assert_eq(diag.err, err);
	if (msg)
		cr_assert_str_eq(diag.msg, msg);
	/* Sticky: the table can no longer be trusted. */
	memset(&diag, 0, sizeof(diag));
	cr_assert_eq(decode_hex(h, "82", &c, &diag), err);
	cr_assert(strstr(diag.msg, "failed earlier"), "%s", diag.msg);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, truncated_blocks_fail_or_decode_a_prefix)
{
	const struct step *sets[] = { c3, c4, c5, c6 };
	const uint32_t sizes[] = { 4096, 4096, 256, 256 };

	for (size_t s = 0; s < 4; s++) {
		for (size_t b = 0; b < 3; b++) {
			uint8_t buf[512];
			size_t n = unhex(sets[s][b].hex, buf, sizeof(buf));

			for (size_t cut = 0; cut < n; cut++) {
				struct sc_hpack *h = new_decoder(sizes[s]);
				struct collect c = { 0 };
				struct sc_diag diag = { 0 };
				uint8_t *exact = malloc(cut ? cut : 1);
				int rc;

				/* Bring the table to the state before block b. */
				for (size_t k = 0; k < b; k++)
					cr_assert_eq(decode_hex(h, sets[s][k].hex, NULL, NULL), 0);
				memcpy(exact, buf, cut);
				rc = sc_hpack_decode(h, exact, cut, collect_cb, &c, &diag);
				cr_assert(rc == 0 || rc == SC_ETRUNC || rc == SC_EPROTO, "C.%zu block %zu cut %zu: %d", s + 3,
					  b, cut, rc);
				/* Whatever was delivered is a prefix of the real fields. */
				cr_assert(c.n <= sets[s][b].nfields);
				for (size_t i = 0; i < c.n; i++) {
					cr_assert_str_eq(c.f[i].name, sets[s][b].fields[i].name);
					cr_assert_str_eq(c.f[i].value, sets[s][b].fields[i].value);
				}
				if (rc == 0)
					cr_assert_lt(c.n, sets[s][b].nfields);
				free(exact);
				collect_free(&c);
				sc_hpack_free(h);
			}
		}
	}
}

Test(hpack, rejects_integer_overflow)
{
	/* An indexed field whose index needs more than 32 bits. */
	expect_error("ffffffffffffffffffffff", 4096, SC_EPROTO,
		     "HPACK: integer overflow at block offset 0 (over 2^32-1 or 6+ continuation bytes)");
	/* 0x1f then ten 0xff bytes: a literal without indexing whose name index overflows. */
	expect_error("1fffffffffffffffffffff", 4096, SC_EPROTO, NULL);
	/* A string length that overflows, at offset 3 after a valid field and a literal's first byte. */
	expect_error("8282007fffffffff0f", 4096, SC_EPROTO,
		     "HPACK: integer overflow at block offset 3 (over 2^32-1 or 6+ continuation bytes)");
}

Test(hpack, rejects_index_zero)
{
	expect_error("80", 4096, SC_EPROTO, "HPACK: index 0 at block offset 0 (RFC 7541 §6.1)");
}

Test(hpack, rejects_index_beyond_table)
{
	struct sc_hpack *h = new_decoder(4096);
	struct sc_diag diag = { 0 };

	/* Four entries (62..65), then a reference to 70. */
	for (int i = 0; i < 4; i++)
		cr_assert_eq(decode_hex(h, "4001610162", NULL, NULL), 0);
	cr_assert_eq(decode_hex(h, "c6", NULL, &diag), SC_EPROTO);
	cr_assert_str_eq(diag.msg, "HPACK: index 70 beyond table of 65 entries at block offset 0 (RFC 7541 §2.3.3)");
	sc_hpack_free(h);
	/* Empty table: 62 is beyond, as an indexed name too. */
	expect_error("be", 4096, SC_EPROTO, NULL);
	expect_error("7e0161", 4096, SC_EPROTO, NULL);
}

/* A literal without indexing, new name "a", Huffman value of the given bytes. */
static void expect_huffman_error(const char *value_hex, const char *what)
{
	char hex[256];
	char msg[256];

	snprintf(hex, sizeof(hex), "00016181%s", value_hex);
	cr_assert(strlen(value_hex) == 2);
	snprintf(msg, sizeof(msg), "HPACK: Huffman-coded value string at block offset 3 %s (RFC 7541 §5.2)", what);
	expect_error(hex, 4096, SC_EPROTO, msg);
}

Test(hpack, rejects_huffman_eos_in_data)
{
	/* EOS is 30 ones: four 0xff bytes hold it. */
	expect_error("0001618" "4ffffffff", 4096, SC_EPROTO,
		     "HPACK: Huffman-coded value string at block offset 3 contains EOS (RFC 7541 §5.2)");
	/* EOS after a symbol ('a' = 00011, then 27 ones and 3 more) */
	expect_error("00016185" "1fffffffff", 4096, SC_EPROTO, NULL);
}

Test(hpack, rejects_huffman_padding_of_8_bits)
{
	expect_huffman_error("ff", "has padding longer than 7 bits");
	/* 'a' (00011) + 11 ones: 16 bits. */
	expect_error("00016182" "1fff", 4096, SC_EPROTO,
		     "HPACK: Huffman-coded value string at block offset 3 has padding longer than 7 bits (RFC 7541 §5.2)");
}

Test(hpack, rejects_huffman_padding_with_a_zero_bit)
{
	/* 'a' (00011) + padding 110. */
	expect_huffman_error("1e", "ends in bits that are not EOS padding");
	/* Zeros: '0' (00000), then 000 of padding. */
	expect_huffman_error("00", "ends in bits that are not EOS padding");
	/* Valid for comparison: 'a' + 111. */
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };

	cr_assert_eq(decode_hex(h, "000161811f", &c, NULL), 0);
	cr_assert_str_eq(c.f[0].value, "a");
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, rejects_size_update_above_setting)
{
	/* 4097 = 31 + 4066 = 0x3f e2 1f */
	expect_error("3fe21f", 4096, SC_EPROTO,
		     "HPACK: dynamic table size update to 4097 above the setting 4096 at block offset 0 (RFC 7541 §6.3)");
	/* After a lower setting, the old default is too much. */
	struct sc_hpack *h = new_decoder(4096);
	struct sc_diag diag = { 0 };

	sc_hpack_set_max_table_size(h, 100);
	cr_assert_eq(decode_hex(h, "3f45", NULL, &diag), 0, "%s", diag.msg); /* 100 */
	cr_assert_eq(decode_hex(h, "3f46", NULL, &diag), SC_EPROTO);
	sc_hpack_free(h);
}

Test(hpack, rejects_size_update_after_a_field)
{
	expect_error("823f45", 4096, SC_EPROTO,
		     "HPACK: dynamic table size update after a field at block offset 1 (RFC 7541 §4.2)");
}

Test(hpack, accepts_size_updates_at_block_start)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };

	cr_assert_eq(decode_hex(h, "4001610162", NULL, NULL), 0);
	/* Two updates (0 then 64) at the start, then a field. */
	cr_assert_eq(decode_hex(h, "203f2182", &c, NULL), 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(sc_hpack_table_max_size(h), 64);
	expect_table(h, NULL, 0, 0);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, rejects_string_longer_than_block)
{
	expect_error("0001610a6263", 4096, SC_ETRUNC,
		     "HPACK: value string of 10 bytes at block offset 3 runs past the end of the block (2 bytes left)");
	/* A length of 2^32-1 in a tiny block. */
	expect_error("0001617f80ffffff0f", 4096, SC_ETRUNC,
		     "HPACK: value string of 4294967295 bytes at block offset 3 runs past the end of the block (0 bytes left)");
}

Test(hpack, rejects_string_over_cap)
{
	struct sc_hpack *h = new_decoder(4096);
	struct sc_hpack_limits l;
	struct sc_diag diag = { 0 };

	sc_hpack_limits_default(&l);
	l.max_string_len = 3;
	cr_assert_eq(sc_hpack_set_limits(h, &l), 0);
	cr_assert_eq(decode_hex(h, "00016103626364", NULL, &diag), 0, "%s", diag.msg);
	cr_assert_eq(decode_hex(h, "0001610462636465", NULL, &diag), SC_ETOOBIG);
	cr_assert_str_eq(diag.msg, "HPACK: value string of 4 bytes at block offset 3 is over the cap of 3");
	sc_hpack_free(h);
}

Test(hpack, rejects_bad_limits)
{
	struct sc_hpack *h = new_decoder(4096);
	struct sc_hpack_limits l;

	sc_hpack_limits_default(&l);
	l.max_fields = 0;
	cr_assert_eq(sc_hpack_set_limits(h, &l), -EINVAL);
	sc_hpack_limits_default(&l);
	l.max_table_mem = 31;
	cr_assert_eq(sc_hpack_set_limits(h, &l), -EINVAL);
	sc_hpack_free(h);
}

Test(hpack, header_list_over_cap_keeps_table_in_sync)
{
	struct sc_hpack *h = new_decoder(4096);
	struct sc_hpack_limits l;
	struct collect c = { 0 };
	struct sc_diag diag = { 0 };

	sc_hpack_limits_default(&l);
	l.max_header_list = 90; /* :method GET is 42; custom-key custom-header 55 */
	cr_assert_eq(sc_hpack_set_limits(h, &l), 0);
	/* :method GET, then custom-key: custom-header with indexing (over the
	 * cap, not delivered but inserted), then :path / (not delivered). */
	cr_assert_eq(decode_hex(h, "82400a637573746f6d2d6b65790d637573746f6d2d68656164657284", &c, &diag), SC_ETOOBIG);
	cr_assert_str_eq(diag.msg, "HPACK: header list over the cap of 90 bytes or 10000 fields at block offset 1; "
				   "the rest of the block was decoded but not delivered");
	cr_assert_eq(c.n, 1);
	cr_assert_str_eq(c.f[0].name, ":method");
	/* Still usable, and the entry inserted past the cap is there. */
	collect_clear(&c);
	cr_assert_eq(decode_hex(h, "be", &c, &diag), 0, "%s", diag.msg);
	cr_assert_eq(c.n, 1);
	cr_assert_str_eq(c.f[0].name, "custom-key");
	cr_assert_str_eq(c.f[0].value, "custom-header");
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, field_count_over_cap)
{
	struct sc_hpack *h = new_decoder(4096);
	struct sc_hpack_limits l;
	struct collect c = { 0 };

	sc_hpack_limits_default(&l);
	l.max_fields = 3;
	cr_assert_eq(sc_hpack_set_limits(h, &l), 0);
	cr_assert_eq(decode_hex(h, "828684", &c, NULL), 0);
	collect_clear(&c);
	cr_assert_eq(decode_hex(h, "82868482", &c, NULL), SC_ETOOBIG);
	cr_assert_eq(c.n, 3);
	collect_free(&c);
	sc_hpack_free(h);
}

struct views {
	struct sc_view v[2048];
	size_t n;
};

static int keep_views(void *ctx, const struct sc_hpack_field *f)
{
	struct views *vs = ctx;

	cr_assert_lt(vs->n, N(vs->v));
	vs->v[vs->n++] = f->value;
	return 0;
}

Test(hpack, views_stay_valid_for_the_whole_block)
{
	/* 2000 references to one 1000-byte entry: 2 MB from 2 KB, over the
	 * default 1 MiB cap.  The arena spans several chunks; every view handed
	 * out is still intact when the call returns. */
	struct sc_hpack *h = new_decoder(4096);
	static struct views vs;
	struct sc_diag diag = { 0 };
	static uint8_t blk[8192];
	size_t n = 0;

	blk[n++] = 0x40;
	blk[n++] = 1;
	blk[n++] = 'x';
	blk[n++] = 0x7f; /* length 1000 = 127 + 873 */
	blk[n++] = 0x80 | (873 & 0x7f);
	blk[n++] = 873 >> 7;
	for (int i = 0; i < 1000; i++)
		blk[n++] = (uint8_t)('a' + i % 26);
	for (int i = 0; i < 2000; i++)
		blk[n++] = 0xbe;
	cr_assert_eq(sc_hpack_decode(h, blk, n, keep_views, &vs, &diag), SC_ETOOBIG, "%s", diag.msg);
	cr_assert_eq(vs.n, (1u << 20) / 1033);
	for (size_t i = 0; i < vs.n; i++) {
		cr_assert_eq(vs.v[i].len, 1000);
		for (int k = 0; k < 1000; k++)
			cr_assert_eq(vs.v[i].p[k], 'a' + k % 26);
	}
	sc_hpack_free(h);
}

Test(hpack, size_update_to_zero_then_back_up)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };
	struct sc_diag diag = { 0 };

	cr_assert_eq(decode_hex(h, c3[0].hex, NULL, NULL), 0);
	expect_table(h, req_t1, 1, 57);
	/* Update to 0 empties the table; then back to 4096 in the same block. */
	cr_assert_eq(decode_hex(h, "203fe11f", NULL, &diag), 0, "%s", diag.msg);
	expect_table(h, NULL, 0, 0);
	cr_assert_eq(sc_hpack_table_max_size(h), 4096);
	cr_assert_eq(decode_hex(h, "be", NULL, &diag), SC_EPROTO);
	sc_hpack_free(h);

	/* With a table of 0, literals with indexing are not stored. */
	h = new_decoder(4096);
	cr_assert_eq(decode_hex(h, "20", NULL, NULL), 0);
	cr_assert_eq(decode_hex(h, "4001610162", &c, NULL), 0);
	cr_assert_eq(c.n, 1);
	expect_table(h, NULL, 0, 0);
	/* Back up: inserts work again. */
	cr_assert_eq(decode_hex(h, "3f21" "4001610162", NULL, NULL), 0);
	expect_table(h, (const struct hf[]){ { "a", "b" } }, 1, 34);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, entry_larger_than_table_empties_it)
{
	struct sc_hpack *h = new_decoder(64);
	struct collect c = { 0 };

	cr_assert_eq(decode_hex(h, "4001610162", NULL, NULL), 0); /* 34 */
	cr_assert_eq(decode_hex(h, "4001630164", NULL, NULL), 0); /* 34: evicts a */
	expect_table(h, (const struct hf[]){ { "c", "d" } }, 1, 34);
	/* name 10 + value 23 + 32 = 65 > 64 */
	cr_assert_eq(decode_hex(h, "400a637573746f6d2d6b657917" "6161616161616161616161616161616161616161616161", &c,
				NULL),
		     0);
	cr_assert_eq(c.n, 1);
	expect_table(h, NULL, 0, 0);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, eviction_keeps_referenced_name)
{
	/* Insert with an indexed name that the insertion itself evicts. */
	struct sc_hpack *h = new_decoder(40);
	struct collect c = { 0 };

	cr_assert_eq(decode_hex(h, "400161026262", NULL, NULL), 0); /* a: bb (35) */
	cr_assert_eq(decode_hex(h, "7e0163", &c, NULL), 0);         /* name of 62, value c: evicts 62 */
	cr_assert_str_eq(c.f[0].name, "a");
	cr_assert_str_eq(c.f[0].value, "c");
	expect_table(h, (const struct hf[]){ { "a", "c" } }, 1, 34);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, callback_abort_is_returned_and_fails_the_decoder)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { .stop_at = 2 };
	struct sc_diag diag = { 0 };

	cr_assert_eq(decode_hex(h, "828684", &c, &diag), 42);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(decode_hex(h, "82", &c, &diag), 42);
	sc_hpack_set_unknown(h);
	c.stop_at = 0;
	cr_assert_eq(decode_hex(h, "82", &c, &diag), 0);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, free_null_is_a_no_op)
{
	sc_hpack_free(NULL);
}

Test(hpack, empty_block_decodes_to_nothing)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };

	cr_assert_eq(sc_hpack_decode(h, NULL, 0, collect_cb, &c, NULL), 0);
	cr_assert_eq(c.n, 0);
	sc_hpack_free(h);
}

/* ---- Unknown state ------------------------------------------------------------ */

Test(hpack, unknown_state_old_reference_yields_unknown_flags)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };
	struct sc_diag diag = { 0 };

	cr_assert_eq(decode_hex(h, c3[0].hex, NULL, NULL), 0);
	sc_hpack_set_unknown(h);
	cr_assert(!sc_hpack_state_known(h));
	cr_assert_eq(sc_hpack_table_len(h), 0);
	/* 62 and 100 may be in the table: unknown, not an error. */
	cr_assert_eq(decode_hex(h, "82bee4", &c, &diag), 0, "%s", diag.msg);
	cr_assert_eq(c.n, 3);
	cr_assert_str_eq(c.f[0].name, ":method");
	cr_assert_eq(c.f[0].flags, 0);
	for (int i = 1; i < 3; i++) {
		cr_assert_eq(c.f[i].flags, SC_HPACK_NAME_UNKNOWN | SC_HPACK_VALUE_UNKNOWN);
		cr_assert_eq(c.f[i].name_len, 0);
		cr_assert_eq(c.f[i].value_len, 0);
	}
	/* No table of 4096 bytes holds 129 entries: index 61 + 129 is an error. */
	cr_assert_eq(decode_hex(h, "ff3e", &c, &diag), 0, "%s", diag.msg); /* 61 + 128 = 189 */
	cr_assert_eq(decode_hex(h, "ff3f", &c, &diag), SC_EPROTO);          /* 190 */
	cr_assert_str_eq(diag.msg, "HPACK: index 190 at block offset 0 is beyond any table of 4096 bytes (RFC 7541 §2.3.3)");
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, unknown_state_new_insert_is_known_at_62)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };

	sc_hpack_set_unknown(h);
	cr_assert_eq(decode_hex(h, "4001610162" "be" "bf", &c, NULL), 0);
	cr_assert_eq(c.n, 3);
	cr_assert_str_eq(c.f[1].name, "a");
	cr_assert_str_eq(c.f[1].value, "b");
	cr_assert_eq(c.f[1].flags, 0);
	cr_assert_eq(c.f[2].flags, SC_HPACK_NAME_UNKNOWN | SC_HPACK_VALUE_UNKNOWN);
	expect_table(h, (const struct hf[]){ { "a", "b" } }, 1, 34);
	cr_assert(!sc_hpack_state_known(h));
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, unknown_state_literal_with_unknown_indexed_name)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };
	struct sc_hpack_field f;

	sc_hpack_set_unknown(h);
	/* Literal without indexing naming 62: name unknown, value known. */
	cr_assert_eq(decode_hex(h, "0f2f0161", &c, NULL), 0);
	cr_assert_eq(c.f[0].flags, SC_HPACK_NAME_UNKNOWN);
	cr_assert_str_eq(c.f[0].value, "a");
	/* With incremental indexing, naming 62: inserts a name-unknown entry... */
	cr_assert_eq(decode_hex(h, "7e0162", &c, NULL), 0);
	cr_assert_eq(c.f[1].flags, SC_HPACK_NAME_UNKNOWN);
	cr_assert_str_eq(c.f[1].value, "b");
	cr_assert_eq(sc_hpack_table_len(h), 1);
	cr_assert_eq(sc_hpack_table_get(h, 0, &f), 0);
	cr_assert_eq(f.flags, SC_HPACK_NAME_UNKNOWN);
	cr_assert_eq(sc_hpack_table_size(h), 33);
	/* ...which later references give as name unknown, value known. */
	cr_assert_eq(decode_hex(h, "be", &c, NULL), 0);
	cr_assert_eq(c.f[2].flags, SC_HPACK_NAME_UNKNOWN);
	cr_assert_str_eq(c.f[2].value, "b");
	/* A literal naming that entry with indexing: another unknown name. */
	cr_assert_eq(decode_hex(h, "7e0163" "be", &c, NULL), 0);
	cr_assert_eq(c.f[4].flags, SC_HPACK_NAME_UNKNOWN);
	cr_assert_str_eq(c.f[4].value, "c");
	/* Static names stay known. */
	cr_assert_eq(decode_hex(h, "440161" "be", &c, NULL), 0);
	cr_assert_str_eq(c.f[6].name, ":path");
	cr_assert_eq(c.f[6].flags, 0);
	/* A size update to 0 evicts everything: known again. */
	cr_assert(!sc_hpack_state_known(h));
	cr_assert_eq(decode_hex(h, "203fe11f82", &c, NULL), 0);
	cr_assert(sc_hpack_state_known(h));
	cr_assert_eq(sc_hpack_table_len(h), 0);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, unknown_state_size_update_to_zero_restores_known)
{
	struct sc_hpack *h = new_decoder(4096);
	struct sc_diag diag = { 0 };

	cr_assert_eq(decode_hex(h, c3[0].hex, NULL, NULL), 0);
	sc_hpack_set_unknown(h);
	cr_assert_eq(decode_hex(h, "20", NULL, &diag), 0);
	cr_assert(sc_hpack_state_known(h));
	/* Known again means strict again. */
	cr_assert_eq(decode_hex(h, "be", NULL, &diag), SC_EPROTO);
	sc_hpack_free(h);
}

Test(hpack, unknown_state_size_update_below_known_entries_restores_known)
{
	struct sc_hpack *h = new_decoder(4096);

	sc_hpack_set_unknown(h);
	cr_assert_eq(decode_hex(h, "4001610162", NULL, NULL), 0); /* 34 bytes known */
	cr_assert_eq(decode_hex(h, "3f1d", NULL, NULL), 0);       /* update to 60: unknown ones may remain */
	cr_assert(!sc_hpack_state_known(h));
	cr_assert_eq(decode_hex(h, "3f03", NULL, NULL), 0); /* 34: the known entry fills it */
	cr_assert(sc_hpack_state_known(h));
	expect_table(h, (const struct hf[]){ { "a", "b" } }, 1, 34);
	sc_hpack_free(h);
}

Test(hpack, unknown_state_filling_the_table_restores_known)
{
	struct sc_hpack *h = new_decoder(100);
	struct collect c = { 0 };

	sc_hpack_set_unknown(h);
	cr_assert_eq(decode_hex(h, "4001610162", NULL, NULL), 0); /* 34 */
	cr_assert(!sc_hpack_state_known(h));
	cr_assert_eq(decode_hex(h, "4001630164", NULL, NULL), 0); /* 68 */
	cr_assert(!sc_hpack_state_known(h));
	cr_assert_eq(decode_hex(h, "400165026667", NULL, NULL), 0); /* 68 + 35 > 100: every older one is gone */
	cr_assert(sc_hpack_state_known(h));
	expect_table(h, (const struct hf[]){ { "e", "fg" }, { "c", "d" } }, 2, 69);
	cr_assert_eq(decode_hex(h, "bebf", &c, NULL), 0);
	cr_assert_str_eq(c.f[1].name, "c");
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, unknown_state_known_entries_survive_unknown_ones)
{
	/* Real table: 3 old entries of 40 bytes (unknown to us), limit 200.
	 * New entries 34, 34: the real table evicts the old ones first. */
	struct sc_hpack *h = new_decoder(200);
	struct collect c = { 0 };

	for (int i = 0; i < 3; i++)
		cr_assert_eq(decode_hex(h, "40036f6c64057878787878", NULL, NULL), 0);
	sc_hpack_set_unknown(h);
	cr_assert_eq(decode_hex(h, "4001610162" "4001630164", NULL, NULL), 0);
	/* 64..66 are the old entries; 67 cannot be told from an error, 68 can
	 * (no table of 200 bytes has 7 entries). */
	cr_assert_eq(decode_hex(h, "bebfc0c1c2c3", &c, NULL), 0);
	cr_assert_str_eq(c.f[0].name, "c");
	cr_assert_str_eq(c.f[1].name, "a");
	for (int i = 2; i < 6; i++)
		cr_assert_eq(c.f[i].flags, SC_HPACK_NAME_UNKNOWN | SC_HPACK_VALUE_UNKNOWN);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, unknown_state_entry_too_large_empties_table)
{
	struct sc_hpack *h = new_decoder(40);

	sc_hpack_set_unknown(h);
	cr_assert_eq(decode_hex(h, "40016109626262626262626262", NULL, NULL), 0); /* 1 + 9 + 32 = 42 > 40 */
	cr_assert(sc_hpack_state_known(h));
	cr_assert_eq(sc_hpack_table_len(h), 0);
	sc_hpack_free(h);
}

Test(hpack, set_unknown_resets_a_failed_decoder)
{
	struct sc_hpack *h = new_decoder(4096);
	struct collect c = { 0 };

	cr_assert_eq(decode_hex(h, "80", NULL, NULL), SC_EPROTO);
	cr_assert_eq(decode_hex(h, "82", NULL, NULL), SC_EPROTO);
	sc_hpack_set_unknown(h);
	cr_assert_eq(decode_hex(h, "82be", &c, NULL), 0);
	cr_assert_eq(c.f[1].flags, SC_HPACK_NAME_UNKNOWN | SC_HPACK_VALUE_UNKNOWN);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, table_mem_cap_forgets_oldest_as_unknown)
{
	struct sc_hpack *h = new_decoder(4096);
	struct sc_hpack_limits l;
	struct collect c = { 0 };

	sc_hpack_limits_default(&l);
	l.max_table_mem = 64; /* two entries of 32 + 2 stored bytes */
	cr_assert_eq(sc_hpack_set_limits(h, &l), 0);
	cr_assert_eq(decode_hex(h, "4001610162" "4001630164", NULL, NULL), 0);
	cr_assert(sc_hpack_state_known(h));
	cr_assert_eq(decode_hex(h, "4001650166", NULL, NULL), 0);
	cr_assert(!sc_hpack_state_known(h));
	cr_assert_eq(decode_hex(h, "bebfc0", &c, NULL), 0);
	cr_assert_str_eq(c.f[0].name, "e");
	cr_assert_str_eq(c.f[1].name, "c");
	cr_assert_eq(c.f[2].flags, SC_HPACK_NAME_UNKNOWN | SC_HPACK_VALUE_UNKNOWN);
	collect_free(&c);
	sc_hpack_free(h);
}

Test(hpack, set_max_table_size_trims_the_table)
{
	struct sc_hpack *h = new_decoder(4096);

	cr_assert_eq(decode_hex(h, c3[0].hex, NULL, NULL), 0);
	cr_assert_eq(decode_hex(h, c3[1].hex, NULL, NULL), 0);
	sc_hpack_set_max_table_size(h, 60);
	expect_table(h, (const struct hf[]){ { "cache-control", "no-cache" } }, 1, 53);
	cr_assert(sc_hpack_state_known(h));
	sc_hpack_free(h);
}

Test(hpack, dynamic_table_ring_wraps)
{
	/* Many insertions into a small table: the rings wrap around many times
	 * and entries straddle the end of the byte ring. */
	struct sc_hpack *h = new_decoder(200);
	struct collect c = { 0 };
	char hex[64];

	for (unsigned i = 0; i < 500; i++) {
		unsigned vlen = 1 + i % 13;

		snprintf(hex, sizeof(hex), "4001%02x%02x", 'a' + i % 26, vlen);
		for (unsigned k = 0; k < vlen; k++)
			snprintf(hex + strlen(hex), 3, "%02x", '0' + (i + k) % 10);
		cr_assert_eq(decode_hex(h, hex, NULL, NULL), 0);
		collect_clear(&c);
		cr_assert_eq(decode_hex(h, "be", &c, NULL), 0);
		cr_assert_eq(c.f[0].name[0], 'a' + i % 26);
		cr_assert_eq(c.f[0].value_len, vlen);
		for (unsigned k = 0; k < vlen; k++)
			cr_assert_eq(c.f[0].value[k], '0' + (i + k) % 10);
		cr_assert_leq(sc_hpack_table_size(h), 200);
	}
	collect_free(&c);
	sc_hpack_free(h);
}

/* ---- Huffman ------------------------------------------------------------------- */

/* Bit-by-bit reference decoder straight from the code table. */
static int ref_huff_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t *out_len)
{
	uint32_t code = 0;
	unsigned nbits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len * 8; i++) {
		code = code << 1 | ((src[i / 8] >> (7 - i % 8)) & 1);
		nbits++;
		for (int s = 0; s < 257; s++) {
			if (sc_hpack_huff_len[s] == nbits && sc_hpack_huff_code[s] == code) {
				if (s == 256)
					return SC_HPACK_HUFF_EOS;
				dst[n++] = (uint8_t)s;
				code = 0;
				nbits = 0;
				break;
			}
		}
	}
	*out_len = n;
	if (nbits && code != (1u << nbits) - 1)
		return SC_HPACK_HUFF_PADBAD;
	if (nbits > 7)
		return SC_HPACK_HUFF_PADLONG;
	return SC_HPACK_HUFF_OK;
}

Test(hpack, huffman_matches_bitwise_reference)
{
	uint8_t src[12], a[32], b[32];
	uint64_t x = 88172645463325252ull;

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (size_t)(iter % 12) + 1, na = 0, nb = 0;
		int ra, rb;

		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Mostly ones, to reach the long codes, EOS and long padding. */
			src[i] = (uint8_t)(iter & 1 ? x | x >> 8 | x >> 16 : x);
		}
		ra = sc_hpack_huff_decode(a, src, len, &na);
		rb = ref_huff_decode(src, len, b, &nb);
		cr_assert_eq(ra, rb, "iter %d", iter);
		if (ra == SC_HPACK_HUFF_OK) {
			cr_assert_eq(na, nb);
			cr_assert_eq(memcmp(a, b, na), 0);
		}
	}
}

Test(hpack, huffman_round_trips_every_byte)
{
	uint8_t src[256], enc[1024], dec[1700];
	size_t n, m;

	for (int i = 0; i < 256; i++)
		src[i] = (uint8_t)i;
	cr_assert_eq(sc_hpack_huff_encode(enc, sizeof(enc), src, 256, &n), 0);
	cr_assert_eq(sc_hpack_huff_decode(dec, enc, n, &m), SC_HPACK_HUFF_OK);
	cr_assert_eq(m, 256);
	cr_assert_eq(memcmp(src, dec, 256), 0);
	/* Each symbol alone (1 to 4 bytes with its padding). */
	for (int i = 0; i < 256; i++) {
		cr_assert_eq(sc_hpack_huff_encode(enc, sizeof(enc), src + i, 1, &n), 0);
		cr_assert_eq(sc_hpack_huff_decode(dec, enc, n, &m), SC_HPACK_HUFF_OK, "symbol %d", i);
		cr_assert(m == 1 && dec[0] == i);
	}
	cr_assert_eq(sc_hpack_huff_encode(enc, 2, src, 256, &n), SC_ELIMIT);
	/* The worst case output bound: 5-bit symbols only. */
	memset(src, '0', 256);
	cr_assert_eq(sc_hpack_huff_encode(enc, sizeof(enc), src, 256, &n), 0);
	cr_assert_eq(n, 160);
	cr_assert_eq(sc_hpack_huff_max_decoded(n), 256);
}

/* ---- Guard page ----------------------------------------------------------------- */

/* Decode `hex` from the last bytes of the page before `guard`. */
static int decode_at_guard(struct sc_hpack *h, uint8_t *guard, const char *hex, size_t cut, struct collect *c)
{
	uint8_t buf[512];
	size_t n = unhex(hex, buf, sizeof(buf));

	if (cut < n)
		n = cut;
	memcpy(guard - n, buf, n);
	return sc_hpack_decode(h, guard - n, n, collect_cb, c, NULL);
}

Test(hpack, block_before_guard_page)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const struct step *sets[] = { c3, c4, c5, c6 };
	const uint32_t sizes[] = { 4096, 4096, 256, 256 };
	uint8_t *guard;

	cr_assert(map != MAP_FAILED);
	guard = map + page;
	cr_assert_eq(mprotect(guard, (size_t)page, PROT_NONE), 0);
	for (size_t s = 0; s < 4; s++) {
		for (size_t cut = 0; cut <= 512; cut++) {
			struct sc_hpack *h = new_decoder(sizes[s]);
			struct collect c = { 0 };
			int rc;

			cr_assert_eq(decode_at_guard(h, guard, sets[s][0].hex, SIZE_MAX, &c), 0);
			cr_assert_eq(decode_at_guard(h, guard, sets[s][1].hex, SIZE_MAX, &c), 0);
			collect_clear(&c);
			rc = decode_at_guard(h, guard, sets[s][2].hex, cut, &c);
			if (cut == 512) {
				cr_assert_eq(rc, 0);
				expect_fields(&c, sets[s][2].fields, sets[s][2].nfields);
				expect_table(h, sets[s][2].table, sets[s][2].ntable, sets[s][2].size);
			} else {
				cr_assert(rc == 0 || rc == SC_ETRUNC || rc == SC_EPROTO);
			}
			collect_free(&c);
			sc_hpack_free(h);
		}
	}
	munmap(map, (size_t)page * 2);
}
