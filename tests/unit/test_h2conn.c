/* test_h2conn.c - the HTTP/2 connection decoder: frames built here (with a
 * tiny HPACK encoder), fed whole, byte by byte and split at every offset,
 * with the transactions and anomalies compared as exact text dumps. */
#include "sc_test.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/h2conn.h"
#include "analyze/hpack_int.h"

/* ---- Byte buffers, frames, HPACK ---------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;

		while (ncap < b->n + n)
			ncap *= 2;
		b->p = realloc(b->p, ncap);
		cr_assert_not_null(b->p);
		b->cap = ncap;
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	put(b, &x, 1);
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put(b, x, 4);
}

static void putstr(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

enum { DATA = 0, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION };

#define END_STREAM 0x1
#define ACK 0x1
#define END_HEADERS 0x4
#define PADDED 0x8
#define PRIO 0x20

static void frame(struct buf *b, unsigned type, unsigned flags, uint32_t sid, const void *payload, size_t len)
{
	put8(b, (unsigned)(len >> 16));
	put8(b, (unsigned)(len >> 8));
	put8(b, (unsigned)len);
	put8(b, type);
	put8(b, flags);
	put32(b, sid);
	put(b, payload, len);
}

static void frameb(struct buf *b, unsigned type, unsigned flags, uint32_t sid, const struct buf *payload)
{
	frame(b, type, flags, sid, payload->p, payload->n);
}

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static void settings(struct buf *b, int n, ...)
{
	struct buf pl = { 0 };
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		unsigned id = va_arg(ap, unsigned);
		uint32_t v = va_arg(ap, uint32_t);

		put8(&pl, id >> 8);
		put8(&pl, id);
		put32(&pl, v);
	}
	va_end(ap);
	frame(b, SETTINGS, 0, 0, pl.p, pl.n);
	buf_free(&pl);
}

static void settings_ack(struct buf *b)
{
	frame(b, SETTINGS, ACK, 0, NULL, 0);
}

/* RFC 7541 §5.1 */
static void hp_int(struct buf *b, unsigned first, unsigned bits, uint32_t v)
{
	uint32_t max = (1u << bits) - 1;

	if (v < max) {
		put8(b, first | v);
		return;
	}
	put8(b, first | max);
	v -= max;
	while (v >= 128) {
		put8(b, (v & 0x7f) | 0x80);
		v >>= 7;
	}
	put8(b, v);
}

static void hp_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	hp_int(b, 0x00, 7, (uint32_t)n);
	put(b, s, n);
}

static void hp_huff(struct buf *b, const char *s)
{
	uint8_t tmp[512];
	size_t n;

	cr_assert_eq(sc_hpack_huff_encode(tmp, sizeof(tmp), (const uint8_t *)s, strlen(s), &n), 0);
	hp_int(b, 0x80, 7, (uint32_t)n);
	put(b, tmp, n);
}

static void hp_idx(struct buf *b, uint32_t i) /* indexed field (§6.1) */
{
	hp_int(b, 0x80, 7, i);
}

static void hp_inc(struct buf *b, const char *name, const char *value) /* §6.2.1, new name */
{
	put8(b, 0x40);
	hp_str(b, name);
	hp_str(b, value);
}

static void hp_inc_n(struct buf *b, uint32_t nidx, const char *value) /* §6.2.1, indexed name */
{
	hp_int(b, 0x40, 6, nidx);
	hp_str(b, value);
}

static void hp_lit(struct buf *b, const char *name, const char *value) /* §6.2.2 */
{
	put8(b, 0x00);
	hp_str(b, name);
	hp_str(b, value);
}

static void hp_lit_n(struct buf *b, uint32_t nidx, const char *value)
{
	hp_int(b, 0x00, 4, nidx);
	hp_str(b, value);
}

static void hp_never(struct buf *b, const char *name, const char *value) /* §6.2.3 */
{
	put8(b, 0x10);
	hp_str(b, name);
	hp_str(b, value);
}

static void hp_size(struct buf *b, uint32_t n) /* §6.3 */
{
	hp_int(b, 0x20, 5, n);
}

/* A GET request block: :method GET, :scheme https, :authority (indexed into
 * the table), :path. */
static void req_get(struct buf *b, const char *path)
{
	hp_idx(b, 2);
	hp_idx(b, 7);
	hp_inc_n(b, 1, "example.com");
	if (strcmp(path, "/") == 0)
		hp_idx(b, 4);
	else
		hp_lit_n(b, 4, path);
}

static void data_frame(struct buf *b, unsigned flags, uint32_t sid, const char *s)
{
	frame(b, DATA, flags, sid, s, strlen(s));
}

/* ---- Capturing sink and text dumps -------------------------------------------------- */

struct out {
	char *s;
	size_t n, cap;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		size_t room = o->cap - o->n;

		va_start(ap, fmt);
		k = vsnprintf(o->s ? o->s + o->n : NULL, o->s ? room : 0, fmt, ap);
		va_end(ap);
		cr_assert(k >= 0);
		if (o->s && (size_t)k < room) {
			o->n += (size_t)k;
			return;
		}
		o->cap = o->cap ? o->cap * 2 : 4096;
		while (o->cap - o->n <= (size_t)k)
			o->cap *= 2;
		o->s = realloc(o->s, o->cap);
		cr_assert_not_null(o->s);
		o->s[o->n] = '\0';
	}
}

static void outv(struct out *o, struct sc_view v)
{
	outf(o, "\"");
	for (size_t i = 0; i < v.len; i++) {
		uint8_t ch = v.p[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			outf(o, "%c", ch);
		else
			outf(o, "\\x%02x", ch);
	}
	outf(o, "\"");
}

static void dump_hdrs(struct out *o, const char *dir, const struct sc_hdr_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct sc_hdr *h = &l->v[i];

		outf(o, " %s%s%s ", dir, (h->flags & SC_HDR_TRAILER) ? "T" : "", (h->flags & SC_HDR_NEVER_INDEXED) ? "N" : "");
		if (h->flags & SC_HDR_NAME_UNKNOWN) {
			cr_assert(h->name.p == NULL && h->name.len == 0);
			outf(o, "<?>");
		} else {
			outv(o, h->name);
		}
		outf(o, ": ");
		if (h->flags & SC_HDR_VALUE_UNKNOWN) {
			cr_assert(h->value.p == NULL && h->value.len == 0);
			outf(o, "<?>");
		} else {
			outv(o, h->value);
		}
		outf(o, "\n");
	}
}

struct cap {
	struct out all;  /* every event, in order */
	struct out tx;   /* the transactions only */
	struct out anom; /* the anomalies only */
	unsigned ntx, nanom;
	int fail_at;     /* return -EIO from the sink at this event (1-based), 0: never */
	unsigned nev;
};

static int sink_tx(void *ctx, const struct sc_tx *t)
{
	struct cap *c = ctx;
	struct out o = { 0 };

	outf(&o, "tx %u %s ", t->stream_id, t->version);
	outv(&o, t->method);
	outf(&o, " ");
	outv(&o, t->scheme);
	outf(&o, " ");
	outv(&o, t->authority);
	outf(&o, " ");
	outv(&o, t->path);
	outf(&o, " -> %d interim=%d\n", t->status, t->interim_status);
	outf(&o, " complete=%d truncated=%d error=%d headers_incomplete=%d rst=%d/%u promised_by=%u\n", t->complete,
	     t->truncated, t->error, t->headers_incomplete, t->rst, t->rst_code, t->promised_by);
	outf(&o, " req off=%llu t=%llu-%llu hdr=%llu body=%llu cut=%d ", (unsigned long long)t->req_offset,
	     (unsigned long long)t->req_start_ns, (unsigned long long)t->req_end_ns,
	     (unsigned long long)t->req_header_bytes, (unsigned long long)t->req_body_bytes, t->req_body_cut);
	outv(&o, t->req_body);
	outf(&o, "\n resp off=%llu t=%llu-%llu hdr=%llu body=%llu cut=%d ", (unsigned long long)t->resp_offset,
	     (unsigned long long)t->resp_start_ns, (unsigned long long)t->resp_end_ns,
	     (unsigned long long)t->resp_header_bytes, (unsigned long long)t->resp_body_bytes, t->resp_body_cut);
	outv(&o, t->resp_body);
	outf(&o, "\n ctype=");
	outv(&o, t->content_type);
	outf(&o, " cenc=");
	outv(&o, t->content_encoding);
	outf(&o, "\n");
	if (t->grpc) {
		outf(&o, " grpc status=%d msg=", t->grpc_status);
		outv(&o, t->grpc_message);
		outf(&o, " req=%u/%llu resp=%u/%llu compressed=%u\n", t->grpc_req_msgs,
		     (unsigned long long)t->grpc_req_msg_bytes, t->grpc_resp_msgs,
		     (unsigned long long)t->grpc_resp_msg_bytes, t->grpc_compressed_msgs);
	}
	dump_hdrs(&o, ">", &t->req_hdrs);
	dump_hdrs(&o, "<", &t->resp_hdrs);
	outf(&c->tx, "%s", o.s);
	outf(&c->all, "%s", o.s);
	free(o.s);
	c->ntx++;
	return ++c->nev == (unsigned)c->fail_at ? -EIO : 0;
}

static int sink_anomaly(void *ctx, const struct sc_anomaly *a)
{
	struct cap *c = ctx;
	char line[700];

	snprintf(line, sizeof(line), "%s side=%d off=%llu len=%llu stream=%u: %s\n", sc_anomaly_kind_name(a->kind),
		 a->side, (unsigned long long)a->offset, (unsigned long long)a->len, a->stream_id, a->msg);
	outf(&c->anom, "%s", line);
	outf(&c->all, "%s", line);
	c->nanom++;
	return ++c->nev == (unsigned)c->fail_at ? -EIO : 0;
}

static void cap_free(struct cap *c)
{
	free(c->all.s);
	free(c->tx.s);
	free(c->anom.s);
	memset(c, 0, sizeof(*c));
}

static const char *S(const struct out *o)
{
	return o->s ? o->s : "";
}

/* ---- Scripts ---------------------------------------------------------------------- */

struct ev {
	int side;
	bool gap;
	uint64_t ts;
	struct buf data;
	uint64_t gapn;
};

struct script {
	struct ev ev[64];
	size_t nev;
	bool midstream;
	const struct sc_h2_upgrade *up;
	uint64_t max_body;
	uint64_t start[2]; /* stream offset of each side's first byte */
};

static void sc_data(struct script *s, int side, uint64_t ts, const struct buf *b)
{
	struct ev *e = &s->ev[s->nev++];

	cr_assert(s->nev <= 64);
	e->side = side;
	e->ts = ts;
	put(&e->data, b->p, b->n);
}

static void sc_gap(struct script *s, int side, uint64_t ts, uint64_t n)
{
	struct ev *e = &s->ev[s->nev++];

	cr_assert(s->nev <= 64);
	e->side = side;
	e->gap = true;
	e->ts = ts;
	e->gapn = n;
}

static void script_free(struct script *s)
{
	for (size_t i = 0; i < s->nev; i++)
		buf_free(&s->ev[i].data);
	s->nev = 0;
}

enum mode { WHOLE, BYTES, SPLIT };

/* Feed a script: whole events, byte by byte, or event `ei` split at `at`.
 * Each piece goes in a buffer of its own size, so that ASan sees a read past
 * it. */
static void feed_piece(struct sc_h2conn *h, int side, uint64_t ts, uint64_t off, const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);

	cr_assert_not_null(copy);
	memcpy(copy, p, n);
	cr_assert_eq(sc_h2conn_data(h, side, ts, off, copy, n), 0);
	free(copy);
}

static void run_script(const struct script *s, enum mode m, size_t ei, size_t at, struct cap *c)
{
	struct sc_dec_stats stats = { 0 };
	struct sc_sink sink = { .ctx = c, .tx = sink_tx, .anomaly = sink_anomaly };
	struct sc_dec_env env = { .sink = &sink, .max_body = s->max_body ? s->max_body : 4096, .stats = &stats };
	struct sc_conn conn = { .id = 7, .midstream = s->midstream };
	struct sc_h2conn *h = sc_h2conn_new(&conn, &env, s->up);
	uint64_t off[2] = { s->start[0], s->start[1] }, end_ts = 0;

	cr_assert_not_null(h);
	for (size_t i = 0; i < s->nev; i++) {
		const struct ev *e = &s->ev[i];

		end_ts = e->ts;
		if (e->gap) {
			cr_assert_eq(sc_h2conn_gap(h, e->side, e->ts, off[e->side], e->gapn), 0);
			off[e->side] += e->gapn;
			continue;
		}
		if (m == BYTES) {
			for (size_t k = 0; k < e->data.n; k++)
				feed_piece(h, e->side, e->ts, off[e->side] + k, e->data.p + k, 1);
		} else if (m == SPLIT && i == ei) {
			feed_piece(h, e->side, e->ts, off[e->side], e->data.p, at);
			feed_piece(h, e->side, e->ts, off[e->side] + at, e->data.p + at, e->data.n - at);
		} else {
			feed_piece(h, e->side, e->ts, off[e->side], e->data.p, e->data.n);
		}
		off[e->side] += e->data.n;
	}
	cr_assert_eq(sc_h2conn_end(h, end_ts + 1, true), 0);
	sc_h2conn_free(h);
	cr_assert_eq(stats.transactions, c->ntx);
	cr_assert_eq(stats.anomalies, c->nanom);
}

/* With H2_SEED_DIR set, write the script as a fuzz_h2conn input named after
 * the test (tests/fuzz/corpus/h2conn/ is seeded this way).  Upgrades are
 * written without their request: the target makes up its own. */
static void write_seed(const struct script *s)
{
	const char *dir = getenv("H2_SEED_DIR");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/unit-%s", dir, criterion_current_test->name);
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	fputc((s->midstream ? 1 : 0) | (s->up ? 2 : 0) | 0x08 | 0x10 | 0x20, f);
	if (s->up) {
		fputc((int)s->up->settings.len, f);
		fwrite(s->up->settings.p, 1, s->up->settings.len, f);
	}
	for (size_t i = 0; i < s->nev; i++) {
		const struct ev *e = &s->ev[i];
		uint64_t n = e->gap ? e->gapn - 1 : e->data.n;

		fputc(e->side | (e->gap ? 2 : 0) | 4, f);
		fputc((int)(n >> 8 & 0xff), f);
		fputc((int)(n & 0xff), f);
		if (!e->gap)
			fwrite(e->data.p, 1, e->data.n, f);
	}
	fclose(f);
}

/* Run whole, then byte by byte and split at every offset of every event:
 * every run must give the same dump.  Returns the whole run's capture. */
static void run_all(const struct script *s, struct cap *c)
{
	write_seed(s);
	run_script(s, WHOLE, 0, 0, c);
	if (getenv("H2_DUMP"))
		fprintf(stderr, "----\n%s----\n", S(&c->all));
	{
		struct cap b = { 0 };

		run_script(s, BYTES, 0, 0, &b);
		cr_assert_str_eq(S(&b.all), S(&c->all), "byte by byte differs:\n%s\n--- whole:\n%s", S(&b.all), S(&c->all));
		cap_free(&b);
	}
	for (size_t i = 0; i < s->nev; i++) {
		for (size_t at = 1; at < s->ev[i].data.n; at++) {
			struct cap x = { 0 };

			run_script(s, SPLIT, i, at, &x);
			cr_assert_str_eq(S(&x.all), S(&c->all), "split of event %zu at %zu differs:\n%s\n--- whole:\n%s", i, at,
					 S(&x.all), S(&c->all));
			cap_free(&x);
		}
	}
}

/* The usual start: client preface + SETTINGS, server SETTINGS + ACK,
 * client ACK. */
static void start(struct script *s)
{
	struct buf c = { 0 }, v = { 0 };

	putstr(&c, preface);
	settings(&c, 0);
	sc_data(s, 0, 1, &c);
	settings(&v, 1, 0x3, 100u);
	settings_ack(&v);
	sc_data(s, 1, 2, &v);
	buf_free(&c);
	c.n = 0;
	settings_ack(&c);
	sc_data(s, 0, 3, &c);
	buf_free(&c);
	buf_free(&v);
}

/* ---- Exchanges --------------------------------------------------------------------- */

Test(h2conn, get_and_response)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf b = { 0 }, f = { 0 };

	start(&s);
	req_get(&b, "/");
	hp_lit_n(&b, 58, "test/1.0"); /* user-agent */
	frameb(&f, HEADERS, END_STREAM | END_HEADERS, 1, &b);
	sc_data(&s, 0, 10, &f);
	buf_free(&b);
	buf_free(&f);
	hp_idx(&b, 8);                /* :status 200 */
	hp_inc_n(&b, 31, "text/plain"); /* content-type */
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	data_frame(&f, END_STREAM, 1, "hello");
	sc_data(&s, 1, 20, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				    " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				    " req off=42 t=10-10 hdr=27 body=0 cut=0 \"\"\n"
				    " resp off=24 t=20-20 hdr=13 body=5 cut=0 \"hello\"\n"
				    " ctype=\"text/plain\" cenc=\"\"\n"
				    " > \":method\": \"GET\"\n"
				    " > \":scheme\": \"https\"\n"
				    " > \":authority\": \"example.com\"\n"
				    " > \":path\": \"/\"\n"
				    " > \"user-agent\": \"test/1.0\"\n"
				    " < \":status\": \"200\"\n"
				    " < \"content-type\": \"text/plain\"\n");
	buf_free(&b);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

/* Client HEADERS for a request on `sid`. */
static void client_req(struct script *s, uint64_t ts, uint32_t sid, bool end_stream, void (*fill)(struct buf *))
{
	struct buf b = { 0 }, f = { 0 };

	fill(&b);
	frameb(&f, HEADERS, END_HEADERS | (end_stream ? END_STREAM : 0), sid, &b);
	sc_data(s, 0, ts, &f);
	buf_free(&b);
	buf_free(&f);
}

static void fill_get(struct buf *b)
{
	req_get(b, "/");
}

static void fill_200(struct buf *b)
{
	hp_idx(b, 8);
}

static void server_resp(struct script *s, uint64_t ts, uint32_t sid, void (*fill)(struct buf *), const char *body)
{
	struct buf b = { 0 }, f = { 0 };

	fill(&b);
	frameb(&f, HEADERS, END_HEADERS | (body ? 0 : END_STREAM), sid, &b);
	if (body)
		data_frame(&f, END_STREAM, sid, body);
	sc_data(s, 1, ts, &f);
	buf_free(&b);
	buf_free(&f);
}

static void fill_post(struct buf *b)
{
	hp_idx(b, 3);
	hp_idx(b, 7);
	hp_inc_n(b, 1, "example.com");
	hp_lit_n(b, 4, "/upload");
	hp_lit_n(b, 28, "30"); /* content-length */
}

Test(h2conn, post_body_across_many_data_frames)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	client_req(&s, 10, 1, false, fill_post);
	data_frame(&f, 0, 1, "0123456789");
	data_frame(&f, 0, 1, "abcdefghij");
	data_frame(&f, 0, 1, "");
	data_frame(&f, END_STREAM, 1, "ABCDEFGHIJ");
	sc_data(&s, 0, 11, &f);
	server_resp(&s, 20, 1, fill_200, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "tx 1 HTTP/2 \"POST\" \"https\" \"example.com\" \"/upload\" -> 200 interim=0\n"
				    " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				    " req off=42 t=10-11 hdr=29 body=30 cut=0 \"0123456789abcdefghijABCDEFGHIJ\"\n"
				    " resp off=24 t=20-20 hdr=1 body=0 cut=0 \"\"\n"
				    " ctype=\"\" cenc=\"\"\n"
				    " > \":method\": \"POST\"\n"
				    " > \":scheme\": \"https\"\n"
				    " > \":authority\": \"example.com\"\n"
				    " > \":path\": \"/upload\"\n"
				    " > \"content-length\": \"30\"\n"
				    " < \":status\": \"200\"\n");
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, body_kept_up_to_max_body_and_content_length_checked)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	s.max_body = 8;
	start(&s);
	client_req(&s, 10, 1, false, fill_post);
	data_frame(&f, END_STREAM, 1, "0123456789abc");
	sc_data(&s, 0, 11, &f);
	server_resp(&s, 20, 1, fill_200, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=80 len=0 stream=1: HTTP/2 frame at offset 80: stream 1: "
				     "content-length 30 but 13 bytes of DATA from the client (RFC 9113 §8.1.1)\n");
	cr_assert(strstr(S(&c.tx), " complete=0 truncated=0 error=1 ") != NULL);
	cr_assert(strstr(S(&c.tx), " req off=42 t=10-11 hdr=29 body=13 cut=1 \"01234567\"\n") != NULL);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, padding_on_data_and_headers)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf b = { 0 }, f = { 0 }, pl = { 0 };

	start(&s);
	/* HEADERS with PADDED and PRIORITY: pad length 3, dependency 0, weight 15. */
	put8(&pl, 3);
	put32(&pl, 0x80000000u);
	put8(&pl, 15);
	req_get(&pl, "/p");
	put(&pl, "\0\0\0", 3);
	frameb(&f, HEADERS, END_HEADERS | END_STREAM | PADDED | PRIO, 1, &pl);
	sc_data(&s, 0, 10, &f);
	buf_free(&f);
	buf_free(&pl);
	fill_200(&b);
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	/* DATA with 5 bytes of padding, then one that is all padding. */
	put8(&pl, 5);
	putstr(&pl, "padded");
	put(&pl, "\0\0\0\0\0", 5);
	frameb(&f, DATA, PADDED, 1, &pl);
	buf_free(&pl);
	put8(&pl, 2);
	put(&pl, "\0\0", 2);
	frameb(&f, DATA, PADDED | END_STREAM, 1, &pl);
	sc_data(&s, 1, 20, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/p\" -> 200 interim=0\n"
				    " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				    " req off=42 t=10-10 hdr=19 body=0 cut=0 \"\"\n"
				    " resp off=24 t=20-20 hdr=1 body=6 cut=0 \"padded\"\n"
				    " ctype=\"\" cenc=\"\"\n"
				    " > \":method\": \"GET\"\n"
				    " > \":scheme\": \"https\"\n"
				    " > \":authority\": \"example.com\"\n"
				    " > \":path\": \"/p\"\n"
				    " < \":status\": \"200\"\n");
	buf_free(&b);
	buf_free(&f);
	buf_free(&pl);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, priority_frames)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, pl = { 0 };

	start(&s);
	/* PRIORITY on an idle stream is allowed (§6.3) and opens nothing. */
	put32(&pl, 0);
	put8(&pl, 200);
	frameb(&f, PRIORITY, 0, 11, &pl);
	/* A 4-byte PRIORITY is a stream error: reported, skipped by length. */
	frame(&f, PRIORITY, 0, 13, "\0\0\0\0", 4);
	sc_data(&s, 0, 10, &f);
	client_req(&s, 11, 1, true, fill_get);
	buf_free(&f);
	/* A stream that depends on itself (§5.3.1). */
	buf_free(&pl);
	put32(&pl, 1);
	put8(&pl, 16);
	frameb(&f, PRIORITY, 0, 1, &pl);
	sc_data(&s, 0, 12, &f);
	server_resp(&s, 20, 1, fill_200, "ok");
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom),
			 "parse_error side=0 off=56 len=0 stream=13: HTTP/2 frame at offset 56: PRIORITY frame of 4 bytes, not 5 "
			 "(RFC 9113 §6.3)\n"
			 "parse_error side=0 off=94 len=0 stream=1: HTTP/2 frame at offset 94: PRIORITY: stream 1 depends on "
			 "itself (RFC 9113 §5.3.1)\n");
	cr_assert_eq(c.ntx, 1);
	cr_assert(strstr(S(&c.tx), "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				   " complete=0 truncated=0 error=1 ") != NULL);
	buf_free(&f);
	buf_free(&pl);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, continuation_frames_join_one_block)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf b = { 0 }, f = { 0 };

	start(&s);
	req_get(&b, "/continued");
	hp_lit(&b, "x-long", "a value that spans three frames");
	/* Cut inside fields: 5 + 20 + the rest. */
	frame(&f, HEADERS, END_STREAM, 1, b.p, 5);
	frame(&f, CONTINUATION, 0, 1, b.p + 5, 20);
	frame(&f, CONTINUATION, END_HEADERS, 1, b.p + 25, b.n - 25);
	sc_data(&s, 0, 10, &f);
	server_resp(&s, 20, 1, fill_200, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/continued\" -> 200 interim=0\n"
				    " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				    " req off=42 t=10-10 hdr=67 body=0 cut=0 \"\"\n"
				    " resp off=24 t=20-20 hdr=1 body=0 cut=0 \"\"\n"
				    " ctype=\"\" cenc=\"\"\n"
				    " > \":method\": \"GET\"\n"
				    " > \":scheme\": \"https\"\n"
				    " > \":authority\": \"example.com\"\n"
				    " > \":path\": \"/continued\"\n"
				    " > \"x-long\": \"a value that spans three frames\"\n"
				    " < \":status\": \"200\"\n");
	buf_free(&b);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, trailers_and_interim_response)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf b = { 0 }, f = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_get);
	hp_lit_n(&b, 8, "103");
	hp_lit(&b, "link", "</style.css>; rel=preload");
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	buf_free(&b);
	hp_idx(&b, 8);
	hp_lit(&b, "trailer", "x-checksum");
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	data_frame(&f, 0, 1, "body");
	buf_free(&b);
	hp_lit(&b, "x-checksum", "c0ffee");
	hp_never(&b, "x-secret", "s3");
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 1, &b);
	sc_data(&s, 1, 20, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=103\n"
				    " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				    " req off=42 t=10-10 hdr=16 body=0 cut=0 \"\"\n"
				    " resp off=24 t=20-20 hdr=90 body=4 cut=0 \"body\"\n"
				    " ctype=\"\" cenc=\"\"\n"
				    " > \":method\": \"GET\"\n"
				    " > \":scheme\": \"https\"\n"
				    " > \":authority\": \"example.com\"\n"
				    " > \":path\": \"/\"\n"
				    " < \":status\": \"200\"\n"
				    " < \"trailer\": \"x-checksum\"\n"
				    " <T \"x-checksum\": \"c0ffee\"\n"
				    " <TN \"x-secret\": \"s3\"\n");
	buf_free(&b);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, rst_stream_emits_at_once_and_late_frames_are_ignored)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, pl = { 0 };

	start(&s);
	client_req(&s, 10, 1, false, fill_post);
	data_frame(&f, 0, 1, "0123456789");
	sc_data(&s, 0, 11, &f);
	buf_free(&f);
	fill_200(&pl);
	frameb(&f, HEADERS, END_HEADERS, 1, &pl);
	data_frame(&f, 0, 1, "partial");
	buf_free(&pl);
	put32(&pl, 8); /* CANCEL */
	frameb(&f, RST_STREAM, 0, 1, &pl);
	sc_data(&s, 1, 20, &f);
	buf_free(&f);
	/* In flight when the stream was reset: ignored without a report. */
	data_frame(&f, END_STREAM, 1, "late");
	sc_data(&s, 0, 21, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "tx 1 HTTP/2 \"POST\" \"https\" \"example.com\" \"/upload\" -> 200 interim=0\n"
				    " complete=0 truncated=0 error=0 headers_incomplete=0 rst=1/8 promised_by=0\n"
				    " req off=42 t=10-11 hdr=29 body=10 cut=0 \"0123456789\"\n"
				    " resp off=24 t=20-20 hdr=1 body=7 cut=0 \"partial\"\n"
				    " ctype=\"\" cenc=\"\"\n"
				    " > \":method\": \"POST\"\n"
				    " > \":scheme\": \"https\"\n"
				    " > \":authority\": \"example.com\"\n"
				    " > \":path\": \"/upload\"\n"
				    " > \"content-length\": \"30\"\n"
				    " < \":status\": \"200\"\n");
	buf_free(&f);
	buf_free(&pl);
	script_free(&s);
	cap_free(&c);
}

static void goaway(struct buf *f, uint32_t last, uint32_t code, const char *debug)
{
	struct buf pl = { 0 };

	put32(&pl, last);
	put32(&pl, code);
	putstr(&pl, debug);
	frameb(f, GOAWAY, 0, 0, &pl);
	buf_free(&pl);
}

Test(h2conn, goaway_marks_streams_above_last_stream_id_not_processed)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_get);
	client_req(&s, 11, 3, true, fill_get);
	client_req(&s, 12, 5, true, fill_get);
	goaway(&f, 1, 0, "");
	sc_data(&s, 1, 20, &f);
	server_resp(&s, 21, 1, fill_200, "one");
	/* Opened after the GOAWAY: not processed either. */
	client_req(&s, 22, 7, true, fill_get);
	buf_free(&f);
	goaway(&f, 1, 11, "calm down");
	sc_data(&s, 1, 23, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom),
			 "truncated side=1 off=24 len=0 stream=3: HTTP/2 stream 3 was not processed: GOAWAY from the server with "
			 "last-stream-id 1 (RFC 9113 §6.8)\n"
			 "truncated side=1 off=24 len=0 stream=5: HTTP/2 stream 5 was not processed: GOAWAY from the server with "
			 "last-stream-id 1 (RFC 9113 §6.8)\n"
			 "truncated side=1 off=24 len=0 stream=7: HTTP/2 stream 7 was not processed: GOAWAY from the server with "
			 "last-stream-id 1 (RFC 9113 §6.8)\n"
			 "parse_error side=1 off=63 len=0 stream=0: HTTP/2 frame at offset 63: GOAWAY from the server with error "
			 "ENHANCE_YOUR_CALM (0xb), last-stream-id 1, debug data \"calm down\"\n");
	cr_assert_eq(c.ntx, 4);
	cr_assert(strstr(S(&c.tx), "tx 5 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 0 interim=0\n"
				   " complete=0 truncated=1 error=0 ") != NULL);
	cr_assert(strstr(S(&c.tx), "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 ") != NULL);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, server_push_opens_the_promised_stream)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf b = { 0 }, f = { 0 }, pl = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_get);
	put32(&pl, 2);
	hp_idx(&pl, 2);
	hp_idx(&pl, 7);
	hp_inc_n(&pl, 1, "example.com");
	hp_lit_n(&pl, 4, "/style.css");
	frameb(&f, PUSH_PROMISE, END_HEADERS, 1, &pl);
	fill_200(&b);
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	buf_free(&b);
	hp_idx(&b, 8);
	hp_lit_n(&b, 31, "text/css");
	frameb(&f, HEADERS, END_HEADERS, 2, &b);
	data_frame(&f, END_STREAM, 2, "p{}");
	data_frame(&f, END_STREAM, 1, "<html>");
	sc_data(&s, 1, 20, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "tx 2 HTTP/2 \"GET\" \"https\" \"example.com\" \"/style.css\" -> 200 interim=0\n"
				    " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=1\n"
				    " req off=24 t=20-20 hdr=27 body=0 cut=0 \"\"\n"
				    " resp off=74 t=20-20 hdr=12 body=3 cut=0 \"p{}\"\n"
				    " ctype=\"text/css\" cenc=\"\"\n"
				    " > \":method\": \"GET\"\n"
				    " > \":scheme\": \"https\"\n"
				    " > \":authority\": \"example.com\"\n"
				    " > \":path\": \"/style.css\"\n"
				    " < \":status\": \"200\"\n"
				    " < \"content-type\": \"text/css\"\n"
				    "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				    " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				    " req off=42 t=10-10 hdr=16 body=0 cut=0 \"\"\n"
				    " resp off=64 t=20-20 hdr=1 body=6 cut=0 \"<html>\"\n"
				    " ctype=\"\" cenc=\"\"\n"
				    " > \":method\": \"GET\"\n"
				    " > \":scheme\": \"https\"\n"
				    " > \":authority\": \"example.com\"\n"
				    " > \":path\": \"/\"\n"
				    " < \":status\": \"200\"\n");
	buf_free(&b);
	buf_free(&f);
	buf_free(&pl);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, unknown_frame_types_are_skipped_and_reported_once)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	frame(&f, 0x20, 0xff, 1, "opaque", 6);
	frame(&f, 0x0a, 0, 0, "\0\0alt", 5); /* ALTSVC: not decoded either */
	sc_data(&s, 0, 5, &f);
	client_req(&s, 10, 1, true, fill_get);
	server_resp(&s, 20, 1, fill_200, "x");
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "undecoded side=0 off=42 len=6 stream=1: HTTP/2 frame at offset 42: skipped a frame "
				     "of unknown type 0x20 on stream 1 (RFC 9113 §5.5); later frames of unknown types are "
				     "skipped without a report\n");
	cr_assert(strstr(S(&c.tx), " complete=1 truncated=0 error=0 headers_incomplete=0 ") != NULL);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

/* The client's SETTINGS_HEADER_TABLE_SIZE bounds the server's encoder, and
 * a decrease takes effect where the server's ACK is in its byte stream. */
Test(h2conn, header_table_size_decrease_applies_at_the_ack)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf b = { 0 }, f = { 0 }, v = { 0 };

	putstr(&f, preface);
	settings(&f, 1, 0x1, 0u);
	sc_data(&s, 0, 1, &f);
	client_req(&s, 2, 1, false, fill_get);
	client_req(&s, 3, 3, true, fill_get);
	buf_free(&f);
	settings(&v, 0);
	/* Before the ACK the server still encodes with its 4096-byte table. */
	hp_idx(&b, 8);
	hp_inc(&b, "x-a", "1");
	frameb(&v, HEADERS, END_HEADERS, 1, &b);
	buf_free(&b);
	hp_idx(&b, 62);
	frameb(&v, HEADERS, END_HEADERS | END_STREAM, 1, &b); /* trailers from the table */
	settings_ack(&v);
	buf_free(&b);
	/* After it the table is empty: index 62 is a COMPRESSION_ERROR. */
	hp_size(&b, 0);
	hp_idx(&b, 8);
	hp_idx(&b, 62);
	frameb(&v, HEADERS, END_HEADERS | END_STREAM, 3, &b);
	sc_data(&s, 1, 10, &v);
	buf_free(&f);
	data_frame(&f, END_STREAM, 1, "");
	sc_data(&s, 0, 11, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=1 off=45 len=0 stream=3: HTTP/2 frame at offset 45: header block "
				     "of stream 3: HPACK: index 62 beyond table of 61 entries at block offset 2 (RFC 7541 "
				     "§2.3.3) (RFC 9113 §4.3: COMPRESSION_ERROR)\n");
	cr_assert(strstr(S(&c.tx), " <T \"x-a\": \"1\"\n") != NULL);
	cr_assert(strstr(S(&c.tx), "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=0") != NULL);
	cr_assert(strstr(S(&c.tx), "tx 3 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				   " complete=0 truncated=0 error=1 headers_incomplete=1") != NULL);
	buf_free(&b);
	buf_free(&f);
	buf_free(&v);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, header_table_size_increase_applies_at_once)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf b = { 0 }, f = { 0 }, v = { 0 };
	char big[6001];

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	putstr(&f, preface);
	settings(&f, 1, 0x1, 8192u);
	sc_data(&s, 0, 1, &f);
	client_req(&s, 2, 1, true, fill_get);
	settings(&v, 0);
	/* A size update to 8192 and an entry of 6000+ bytes, before the ACK:
	 * allowed, since the encoder may have processed the SETTINGS already. */
	hp_size(&b, 8192);
	hp_idx(&b, 8);
	hp_inc(&b, "x-big", big);
	hp_idx(&b, 62);
	frameb(&v, HEADERS, END_HEADERS | END_STREAM, 1, &b);
	settings_ack(&v);
	sc_data(&s, 1, 10, &v);
	run_script(&s, WHOLE, 0, 0, &c);
	cr_assert_str_eq(S(&c.anom), "");
	cr_assert_eq(c.ntx, 1);
	cr_assert(strstr(S(&c.tx), " complete=1 truncated=0 error=0 headers_incomplete=0") != NULL);
	cr_assert(strstr(S(&c.tx), " < \"x-big\": \"vvvvvvvv") != NULL);
	buf_free(&b);
	buf_free(&f);
	buf_free(&v);
	script_free(&s);
	cap_free(&c);
}

static void fill_get_token(struct buf *b)
{
	req_get(b, "/");
	hp_inc(b, "x-token", "abc");
}

static void fill_get_reuse(struct buf *b)
{
	hp_idx(b, 2);
	hp_idx(b, 7);
	hp_idx(b, 63); /* :authority example.com */
	hp_lit_n(b, 4, "/two");
	hp_idx(b, 62); /* x-token abc */
}

Test(h2conn, dynamic_table_entries_reused_across_streams)
{
	struct script s = { 0 };
	struct cap c = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_get_token);
	client_req(&s, 11, 3, true, fill_get_reuse);
	server_resp(&s, 20, 1, fill_200, NULL);
	server_resp(&s, 21, 3, fill_200, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "");
	cr_assert(strstr(S(&c.tx), "tx 3 HTTP/2 \"GET\" \"https\" \"example.com\" \"/two\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				   " req off=80 t=11-11 hdr=10 body=0 cut=0 \"\"\n") != NULL);
	cr_assert(strstr(S(&c.tx), " > \":path\": \"/two\"\n > \"x-token\": \"abc\"\n") != NULL);
	script_free(&s);
	cap_free(&c);
}

/* ---- Gaps, mid-stream joins, h2c ---------------------------------------------------- */

static void fill_five(struct buf *b)
{
	hp_idx(b, 2);          /* static: exact */
	hp_idx(b, 7);
	hp_idx(b, 63);         /* dynamic :authority, inserted before the gap */
	hp_lit_n(b, 4, "/five"); /* literal: exact */
	hp_idx(b, 62);         /* dynamic x-token */
	hp_lit(b, "x-new", "literal");
}

Test(h2conn, gap_makes_hpack_unknown_and_flags_dependent_fields)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_get_token);
	/* Stream 3's HEADERS (25 bytes) is lost: the gap ends at a frame
	 * boundary, and the frames after it are found again. */
	sc_gap(&s, 0, 11, 25);
	client_req(&s, 12, 5, true, fill_five);
	frame(&f, WINDOW_UPDATE, 0, 0, "\0\0\x10\0", 4);
	sc_data(&s, 0, 13, &f);
	server_resp(&s, 20, 1, fill_200, "1");
	server_resp(&s, 21, 3, fill_200, "3");
	server_resp(&s, 22, 5, fill_200, "5");
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all),
			 "gap side=0 off=80 len=25 stream=0: HTTP/2: 25 bytes of the client stream missing at offset 80; looking "
			 "for the next frame boundary, the HPACK state of the client's header blocks is unknown from here\n"
			 "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
			 " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
			 " req off=42 t=10-10 hdr=29 body=0 cut=0 \"\"\n"
			 " resp off=24 t=20-20 hdr=1 body=1 cut=0 \"1\"\n"
			 " ctype=\"\" cenc=\"\"\n"
			 " > \":method\": \"GET\"\n"
			 " > \":scheme\": \"https\"\n"
			 " > \":authority\": \"example.com\"\n"
			 " > \":path\": \"/\"\n"
			 " > \"x-token\": \"abc\"\n"
			 " < \":status\": \"200\"\n"
			 "tx 3 HTTP/2 \"\" \"\" \"\" \"\" -> 200 interim=0\n"
			 " complete=0 truncated=1 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
			 " req off=0 t=0-0 hdr=0 body=0 cut=0 \"\"\n"
			 " resp off=44 t=21-21 hdr=1 body=1 cut=0 \"3\"\n"
			 " ctype=\"\" cenc=\"\"\n"
			 " < \":status\": \"200\"\n"
			 "tx 5 HTTP/2 \"GET\" \"https\" \"\" \"/five\" -> 200 interim=0\n"
			 " complete=1 truncated=0 error=0 headers_incomplete=1 rst=0/0 promised_by=0\n"
			 " req off=105 t=12-12 hdr=26 body=0 cut=0 \"\"\n"
			 " resp off=64 t=22-22 hdr=1 body=1 cut=0 \"5\"\n"
			 " ctype=\"\" cenc=\"\"\n"
			 " > \":method\": \"GET\"\n"
			 " > \":scheme\": \"https\"\n"
			 " > <?>: <?>\n"
			 " > \":path\": \"/five\"\n"
			 " > <?>: <?>\n"
			 " > \"x-new\": \"literal\"\n"
			 " < \":status\": \"200\"\n");
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, gap_inside_data_keeps_framing_and_hpack_state)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	client_req(&s, 10, 1, false, fill_post);
	client_req(&s, 10, 3, true, fill_get_token);
	/* A 30-byte DATA frame of which 10 bytes in the middle are lost. */
	frame(&f, DATA, END_STREAM, 1, "0123456789", 10);
	f.n -= 0;
	sc_data(&s, 0, 11, &f);
	s.ev[s.nev - 1].data.n = 9 + 10;
	s.ev[s.nev - 1].data.p[2] = 30; /* the header says 30 bytes */
	sc_gap(&s, 0, 12, 10);
	buf_free(&f);
	putstr(&f, "abcdefghij");
	sc_data(&s, 0, 13, &f);
	client_req(&s, 14, 5, true, fill_get_reuse);
	server_resp(&s, 20, 1, fill_200, NULL);
	server_resp(&s, 20, 3, fill_200, NULL);
	server_resp(&s, 20, 5, fill_200, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "gap side=0 off=137 len=10 stream=1: HTTP/2: 10 bytes of the client stream missing at "
				     "offset 137, inside the payload of a DATA frame of stream 1; framing kept\n");
	cr_assert(strstr(S(&c.tx), "tx 1 HTTP/2 \"POST\" \"https\" \"example.com\" \"/upload\" -> 200 interim=0\n"
				   " complete=0 truncated=1 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				   " req off=42 t=10-13 hdr=29 body=20 cut=1 \"0123456789abcdefghij\"\n") != NULL,
		  "the body joins the bytes around the hole: not whole (issue 14)");
	/* The table is still known: stream 5 resolves its indexed fields. */
	cr_assert(strstr(S(&c.tx), "tx 5 HTTP/2 \"GET\" \"https\" \"example.com\" \"/two\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=0 ") != NULL);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, midstream_join_finds_frames_and_marks_unknown_fields)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 };

	s.midstream = true;
	s.start[0] = 100000;
	s.start[1] = 200000;
	/* The client's bytes start 7 bytes before the end of a DATA frame. */
	putstr(&f, "tail!!!");
	frame(&b, DATA, END_STREAM, 9, "", 0);
	put(&f, b.p, b.n);
	buf_free(&b);
	fill_five(&b);
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 11, &b);
	frame(&f, PING, 0, 0, "12345678", 8);
	sc_data(&s, 0, 10, &f);
	buf_free(&f);
	buf_free(&b);
	/* The server's begin at a frame: the end of the response of stream 9
	 * (from before the join), then stream 11's. */
	data_frame(&f, 0, 9, "rest of body");
	hp_lit(&b, "grpc-status", "0");
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 9, &b);
	buf_free(&b);
	hp_idx(&b, 13); /* :status 404 */
	hp_idx(&b, 70); /* from the unknown table */
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 11, &b);
	sc_data(&s, 1, 20, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all),
			 "undecoded side=0 off=100000 len=7 stream=0: HTTP/2: skipped 7 bytes of the client stream from offset "
			 "100000 to a plausible frame boundary at offset 100007\n"
			 "tx 9 HTTP/2 \"\" \"\" \"\" \"\" -> 0 interim=0\n"
			 " complete=0 truncated=1 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
			 " req off=100007 t=10-10 hdr=0 body=0 cut=0 \"\"\n"
			 " resp off=200000 t=20-20 hdr=15 body=12 cut=0 \"rest of body\"\n"
			 " ctype=\"\" cenc=\"\"\n"
			 " grpc status=0 msg=\"\" req=0/0 resp=0/0 compressed=0\n"
			 " <T \"grpc-status\": \"0\"\n"
			 "tx 11 HTTP/2 \"GET\" \"https\" \"\" \"/five\" -> 404 interim=0\n"
			 " complete=1 truncated=0 error=0 headers_incomplete=1 rst=0/0 promised_by=0\n"
			 " req off=100016 t=10-10 hdr=26 body=0 cut=0 \"\"\n"
			 " resp off=200045 t=20-20 hdr=2 body=0 cut=0 \"\"\n"
			 " ctype=\"\" cenc=\"\"\n"
			 " > \":method\": \"GET\"\n"
			 " > \":scheme\": \"https\"\n"
			 " > <?>: <?>\n"
			 " > \":path\": \"/five\"\n"
			 " > <?>: <?>\n"
			 " > \"x-new\": \"literal\"\n"
			 " < \":status\": \"404\"\n"
			 " < <?>: <?>\n");
	buf_free(&f);
	buf_free(&b);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, h2c_upgrade_makes_stream_1_from_the_http1_request)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 };
	struct sc_hdr hdrs[4] = {
		{ { (const uint8_t *)"Host", 4 }, { (const uint8_t *)"127.0.0.1:8080", 14 }, 0 },
		{ { (const uint8_t *)"Connection", 10 }, { (const uint8_t *)"Upgrade, HTTP2-Settings", 23 }, 0 },
		{ { (const uint8_t *)"Upgrade", 7 }, { (const uint8_t *)"h2c", 3 }, 0 },
		{ { (const uint8_t *)"HTTP2-Settings", 14 }, { (const uint8_t *)"AAMAAABkAAQAAP__AAEAAAAA", 24 }, 0 },
	};
	struct sc_h2_upgrade up = {
		.method = { (const uint8_t *)"GET", 3 },
		.path = { (const uint8_t *)"/index.html", 11 },
		.authority = { (const uint8_t *)"127.0.0.1:8080", 14 },
		.hdrs = hdrs,
		.nhdrs = 4,
		/* MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 65535,
		 * HEADER_TABLE_SIZE 0 */
		.settings = { (const uint8_t *)"AAMAAABkAAQAAP__AAEAAAAA", 24 },
		.req_start_ns = 1,
		.req_end_ns = 2,
		.req_header_bytes = 130,
		.req_offset = 0,
	};

	s.up = &up;
	s.start[0] = 130;
	s.start[1] = 71; /* after "HTTP/1.1 101 Switching Protocols..." */
	putstr(&f, preface);
	settings(&f, 0);
	settings_ack(&f);
	sc_data(&s, 0, 10, &f);
	buf_free(&f);
	settings(&f, 0);
	settings_ack(&f);
	/* HEADER_TABLE_SIZE 0 from HTTP2-Settings: the server's encoder has
	 * no table, so an incremental literal stores nothing. */
	hp_idx(&b, 8);
	hp_inc_n(&b, 31, "text/html");
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	data_frame(&f, END_STREAM, 1, "<h1>hi</h1>");
	sc_data(&s, 1, 11, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "tx 1 HTTP/2 \"GET\" \"http\" \"127.0.0.1:8080\" \"/index.html\" -> 200 interim=0\n"
				    " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				    " req off=0 t=1-2 hdr=130 body=0 cut=0 \"\"\n"
				    " resp off=89 t=11-11 hdr=12 body=11 cut=0 \"<h1>hi</h1>\"\n"
				    " ctype=\"text/html\" cenc=\"\"\n"
				    " > \"Host\": \"127.0.0.1:8080\"\n"
				    " > \"Connection\": \"Upgrade, HTTP2-Settings\"\n"
				    " > \"Upgrade\": \"h2c\"\n"
				    " > \"HTTP2-Settings\": \"AAMAAABkAAQAAP__AAEAAAAA\"\n"
				    " < \":status\": \"200\"\n"
				    " < \"content-type\": \"text/html\"\n");
	buf_free(&f);
	buf_free(&b);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, a_gap_before_the_preface_of_an_upgrade_loses_no_hpack_state)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 };
	struct sc_h2_upgrade up = { .req_offset = 0, .interim_status = 101 };

	/* A 101 to h2c whose request was not captured (issue 14): the client's
	 * stream starts with the lost HTTP/1 request, then the preface. */
	s.up = &up;
	s.start[1] = 71;
	sc_gap(&s, 0, 5, 114);
	putstr(&f, preface);
	settings(&f, 0);
	sc_data(&s, 0, 10, &f);
	buf_free(&f);
	settings(&f, 0);
	hp_idx(&b, 8);
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 1, &b);
	sc_data(&s, 1, 11, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "gap side=0 off=0 len=114 stream=0: HTTP/2: 114 bytes of the client stream missing "
				     "at offset 0, before the connection preface\n");
	cr_assert(strstr(S(&c.tx), "tx 1 HTTP/2 \"\" \"http\" \"\" \"\" -> 200 interim=101\n complete=0 truncated=1 error=0 ") != NULL,
		  "%s", S(&c.tx));
	buf_free(&f);
	buf_free(&b);
	script_free(&s);
	cap_free(&c);
}

/* ---- gRPC ------------------------------------------------------------------------ */

static void grpc_msg(struct buf *b, unsigned flag, const char *msg)
{
	put8(b, flag);
	put32(b, (uint32_t)strlen(msg));
	putstr(b, msg);
}

static void fill_grpc_req(struct buf *b)
{
	hp_idx(b, 3);
	hp_idx(b, 6);
	hp_inc_n(b, 1, "svc.local:50051");
	hp_lit_n(b, 4, "/helloworld.Greeter/SayHello");
	hp_lit_n(b, 31, "application/grpc");
	hp_lit(b, "te", "trailers");
}

static void fill_grpc_resp(struct buf *b)
{
	hp_idx(b, 8);
	hp_lit_n(b, 31, "application/grpc+proto");
}

/* DATA frames of `sid` cutting `payload` at the given sizes (0-terminated),
 * the rest in a last frame with END_STREAM if `end`. */
static void data_cuts(struct buf *f, uint32_t sid, const struct buf *payload, const size_t *cuts, bool end)
{
	size_t at = 0;

	for (; *cuts; cuts++) {
		frame(f, DATA, 0, sid, payload->p + at, *cuts);
		at += *cuts;
	}
	frame(f, DATA, end ? END_STREAM : 0, sid, payload->p + at, payload->n - at);
}

Test(h2conn, grpc_unary_call)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 }, m = { 0 };

	start(&s);
	client_req(&s, 10, 1, false, fill_grpc_req);
	grpc_msg(&m, 0, "\x0a\x05world");
	frameb(&f, DATA, END_STREAM, 1, &m);
	sc_data(&s, 0, 11, &f);
	buf_free(&f);
	buf_free(&m);
	fill_grpc_resp(&b);
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	grpc_msg(&m, 0, "\x0a\x0bHello world");
	frameb(&f, DATA, 0, 1, &m);
	buf_free(&b);
	hp_lit(&b, "grpc-status", "0");
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 1, &b);
	sc_data(&s, 1, 20, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all),
			 "tx 1 HTTP/2 \"POST\" \"http\" \"svc.local:50051\" \"/helloworld.Greeter/SayHello\" -> 200 interim=0\n"
			 " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
			 " req off=42 t=10-11 hdr=81 body=12 cut=0 \"\\x00\\x00\\x00\\x00\\x07\\x0a\\x05world\"\n"
			 " resp off=24 t=20-20 hdr=41 body=18 cut=0 \"\\x00\\x00\\x00\\x00\\x0d\\x0a\\x0bHello world\"\n"
			 " ctype=\"application/grpc+proto\" cenc=\"\"\n"
			 " grpc status=0 msg=\"\" req=1/7 resp=1/13 compressed=0\n"
			 " > \":method\": \"POST\"\n"
			 " > \":scheme\": \"http\"\n"
			 " > \":authority\": \"svc.local:50051\"\n"
			 " > \":path\": \"/helloworld.Greeter/SayHello\"\n"
			 " > \"content-type\": \"application/grpc\"\n"
			 " > \"te\": \"trailers\"\n"
			 " < \":status\": \"200\"\n"
			 " < \"content-type\": \"application/grpc+proto\"\n"
			 " <T \"grpc-status\": \"0\"\n");
	buf_free(&f);
	buf_free(&b);
	buf_free(&m);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, grpc_streaming_messages_across_data_frames)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 }, m = { 0 };
	static const size_t req_cuts[] = { 3, 14, 2, 0 };
	static const size_t resp_cuts[] = { 1, 1, 1, 1, 1, 20, 0 };

	start(&s);
	client_req(&s, 10, 1, false, fill_grpc_req);
	grpc_msg(&m, 0, "0123456789");
	grpc_msg(&m, 1, "zip");
	grpc_msg(&m, 0, "");
	grpc_msg(&m, 0, "last");
	data_cuts(&f, 1, &m, req_cuts, true);
	sc_data(&s, 0, 11, &f);
	buf_free(&f);
	buf_free(&m);
	fill_grpc_resp(&b);
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	for (int i = 0; i < 5; i++)
		grpc_msg(&m, 0, "reply");
	data_cuts(&f, 1, &m, resp_cuts, false);
	buf_free(&b);
	hp_lit(&b, "grpc-status", "0");
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 1, &b);
	sc_data(&s, 1, 20, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "");
	cr_assert(strstr(S(&c.tx), " grpc status=0 msg=\"\" req=4/17 resp=5/25 compressed=1\n") != NULL);
	cr_assert(strstr(S(&c.tx), " complete=1 truncated=0 error=0 headers_incomplete=0 ") != NULL);
	buf_free(&f);
	buf_free(&b);
	buf_free(&m);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, grpc_trailers_only_error_status_and_message)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 }, m = { 0 };

	start(&s);
	client_req(&s, 10, 1, false, fill_grpc_req);
	grpc_msg(&m, 0, "\x0a\x01x");
	frameb(&f, DATA, END_STREAM, 1, &m);
	sc_data(&s, 0, 11, &f);
	fill_grpc_resp(&b);
	hp_lit(&b, "grpc-status", "5");
	hp_lit(&b, "grpc-message", "not%20found: %E2%9C%93 100%");
	buf_free(&f);
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 1, &b);
	sc_data(&s, 1, 20, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "");
	cr_assert(strstr(S(&c.tx), " grpc status=5 msg=\"not found: \\xe2\\x9c\\x93 100%\" req=1/3 resp=0/0 compressed=0\n") !=
		  NULL);
	cr_assert(strstr(S(&c.tx), " < \"grpc-message\": \"not%20found: %E2%9C%93 100%\"\n") != NULL);
	buf_free(&f);
	buf_free(&b);
	buf_free(&m);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, grpc_stream_ending_inside_a_message_is_reported)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, m = { 0 };

	start(&s);
	client_req(&s, 10, 1, false, fill_grpc_req);
	grpc_msg(&m, 0, "0123456789");
	m.n -= 3;
	frameb(&f, DATA, END_STREAM, 1, &m);
	sc_data(&s, 0, 11, &f);
	server_resp(&s, 20, 1, fill_grpc_resp, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=132 len=0 stream=1: HTTP/2 frame at offset 132: stream 1: the "
				     "client's DATA ends inside a gRPC message (gRPC over HTTP/2)\n");
	cr_assert(strstr(S(&c.tx), " grpc status=-1 msg=\"\" req=0/0 resp=0/0 compressed=0\n") != NULL);
	buf_free(&f);
	buf_free(&m);
	script_free(&s);
	cap_free(&c);
}

/* ---- Protocol errors ------------------------------------------------------------------- */

Test(h2conn, bad_preface_stops_the_client_direction)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	putstr(&f, "PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n");
	settings(&f, 0);
	sc_data(&s, 0, 1, &f);
	buf_free(&f);
	settings(&f, 0);
	sc_data(&s, 1, 2, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "parse_error side=0 off=0 len=0 stream=0: HTTP/2 connection preface at offset 0: byte 11 "
				    "is 0x31, not the client preface \"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\" (RFC 9113 §3.4)\n");
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, frame_over_max_frame_size_is_a_connection_error)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };
	static char big[20000];

	memset(big, 'x', sizeof(big));
	start(&s);
	client_req(&s, 10, 1, false, fill_post);
	frame(&f, DATA, 0, 1, big, 16385);
	sc_data(&s, 0, 11, &f);
	server_resp(&s, 20, 1, fill_200, "still decoded");
	run_script(&s, WHOLE, 0, 0, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=80 len=0 stream=1: HTTP/2 frame at offset 80: DATA frame of 16385 "
				     "bytes is over SETTINGS_MAX_FRAME_SIZE 16384 (RFC 9113 §4.2)\n"
				     "truncated side=0 off=16474 len=0 stream=1: HTTP/2 stream 1 truncated: no END_STREAM from "
				     "the client before the connection closed\n");
	cr_assert(strstr(S(&c.tx), " complete=0 truncated=1 error=1 headers_incomplete=0 ") != NULL);
	cr_assert(strstr(S(&c.tx), " resp off=24 t=20-20 hdr=1 body=13 cut=0 \"still decoded\"\n") != NULL);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, max_frame_size_setting_raises_the_limit)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };
	static char big[20000];

	memset(big, 'y', sizeof(big));
	s.max_body = 100;
	putstr(&f, preface);
	settings(&f, 0);
	sc_data(&s, 0, 1, &f);
	buf_free(&f);
	settings(&f, 1, 0x5, 32768u);
	sc_data(&s, 1, 2, &f);
	buf_free(&f);
	settings_ack(&f);
	client_req(&s, 3, 1, false, fill_get);
	frame(&f, DATA, END_STREAM, 1, big, sizeof(big));
	sc_data(&s, 0, 4, &f);
	server_resp(&s, 5, 1, fill_200, NULL);
	run_script(&s, WHOLE, 0, 0, &c);
	cr_assert_str_eq(S(&c.anom), "");
	cr_assert(strstr(S(&c.tx), " hdr=16 body=20000 cut=1 ") != NULL);
	cap_free(&c);
	run_script(&s, BYTES, 0, 0, &c);
	cr_assert_str_eq(S(&c.anom), "");
	cr_assert(strstr(S(&c.tx), " hdr=16 body=20000 cut=1 ") != NULL);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, continuation_without_headers_and_the_other_direction_goes_on)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_get);
	frame(&f, CONTINUATION, END_HEADERS, 1, "\x82", 1);
	sc_data(&s, 0, 11, &f);
	client_req(&s, 12, 3, true, fill_get); /* ignored: the direction failed */
	server_resp(&s, 20, 1, fill_200, "ok");
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "parse_error side=0 off=67 len=0 stream=1: HTTP/2 frame at offset 67: CONTINUATION "
				    "without a preceding HEADERS (RFC 9113 §6.10)\n"
				    "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				    " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				    " req off=42 t=10-10 hdr=16 body=0 cut=0 \"\"\n"
				    " resp off=24 t=20-20 hdr=1 body=2 cut=0 \"ok\"\n"
				    " ctype=\"\" cenc=\"\"\n"
				    " > \":method\": \"GET\"\n"
				    " > \":scheme\": \"https\"\n"
				    " > \":authority\": \"example.com\"\n"
				    " > \":path\": \"/\"\n"
				    " < \":status\": \"200\"\n");
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, frame_inside_a_header_block_is_a_connection_error)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 };

	start(&s);
	fill_get(&b);
	frameb(&f, HEADERS, END_STREAM, 1, &b);
	frame(&f, PING, 0, 0, "12345678", 8);
	sc_data(&s, 0, 10, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=67 len=0 stream=0: HTTP/2 frame at offset 67: PING frame on "
				     "stream 0 inside the header block of stream 1; only CONTINUATION may follow (RFC 9113 "
				     "§6.10)\n");
	cr_assert_eq(c.ntx, 0); /* the block never completed: no stream */
	buf_free(&f);
	buf_free(&b);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, headers_on_stream_0)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 };

	start(&s);
	fill_get(&b);
	frameb(&f, HEADERS, END_STREAM | END_HEADERS, 0, &b);
	sc_data(&s, 0, 10, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "parse_error side=0 off=42 len=0 stream=0: HTTP/2 frame at offset 42: HEADERS on stream 0 "
				    "(RFC 9113 §6.2)\n");
	buf_free(&f);
	buf_free(&b);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, pad_length_beyond_the_payload)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	client_req(&s, 10, 1, false, fill_post);
	frame(&f, DATA, PADDED, 1, "\x05" "abcd", 5);
	sc_data(&s, 0, 11, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=80 len=0 stream=1: HTTP/2 frame at offset 80: DATA frame of 5 "
				     "bytes on stream 1 has a Pad Length of 5 (RFC 9113 §6.1)\n"
				     "truncated side=-1 off=94 len=0 stream=1: HTTP/2 stream 1 truncated: no END_STREAM from "
				     "the client or the server before the connection closed\n");
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, too_many_continuation_frames)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	frame(&f, HEADERS, END_STREAM, 1, "\x82", 1);
	for (int i = 0; i < 1025; i++)
		frame(&f, CONTINUATION, 0, 1, NULL, 0);
	sc_data(&s, 0, 10, &f);
	run_script(&s, WHOLE, 0, 0, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=9268 len=0 stream=1: HTTP/2 frame at offset 9268: header block "
				     "of stream 1 has more than 1024 CONTINUATION frames\n");
	cap_free(&c);
	run_script(&s, BYTES, 0, 0, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=9268 len=0 stream=1: HTTP/2 frame at offset 9268: header block "
				     "of stream 1 has more than 1024 CONTINUATION frames\n");
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, header_block_over_the_cap)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };
	static uint8_t frag[16384];

	memset(frag, 0x82, sizeof(frag)); /* :method GET, over and over */
	start(&s);
	frame(&f, HEADERS, END_STREAM, 1, frag, sizeof(frag));
	for (int i = 0; i < 64; i++)
		frame(&f, CONTINUATION, 0, 1, frag, sizeof(frag));
	sc_data(&s, 0, 10, &f);
	run_script(&s, WHOLE, 0, 0, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=1049194 len=0 stream=1: HTTP/2 frame at offset 1049194: header "
				     "block of stream 1 is over the cap of 1048576 bytes (RFC 9113 §10.5.1)\n");
	cap_free(&c);
	run_script(&s, SPLIT, 3, 1049194 - 42 + 9 + 5, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=1049194 len=0 stream=1: HTTP/2 frame at offset 1049194: header "
				     "block of stream 1 is over the cap of 1048576 bytes (RFC 9113 §10.5.1)\n");
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

/* ---- Probe ------------------------------------------------------------------------ */

static bool probe2(const struct buf *egress, const struct buf *ingress, bool *client_is_egress, bool roles_known)
{
	uint8_t *head[2] = { egress->p, ingress->p };
	size_t n[2] = { egress->n, ingress->n };

	return sc_h2conn_probe(head, n, client_is_egress, roles_known);
}

Test(h2conn, probe_preface_and_roles)
{
	struct buf e = { 0 }, i = { 0 }, b = { 0 };
	bool cie = false;

	putstr(&e, preface);
	settings(&e, 0);
	cr_assert(probe2(&e, &i, &cie, false));
	cr_assert(cie);
	/* The same bytes the other way round. */
	cie = true;
	cr_assert(probe2(&i, &e, &cie, false));
	cr_assert(!cie);
	/* Roles known: left alone. */
	cie = true;
	cr_assert(probe2(&i, &e, &cie, true));
	cr_assert(cie);
	buf_free(&e);
	buf_free(&i);
	buf_free(&b);
}

Test(h2conn, probe_mid_stream_frames)
{
	struct buf e = { 0 }, i = { 0 }, b = { 0 };
	bool cie = false;

	/* Ingress: the tail of a DATA frame, then a response HEADERS and DATA. */
	putstr(&i, "xyz");
	hp_idx(&b, 8);
	frameb(&i, HEADERS, END_HEADERS, 5, &b);
	data_frame(&i, END_STREAM, 5, "body");
	cr_assert(probe2(&e, &i, &cie, false));
	cr_assert(cie); /* ingress answers: egress is the client */
	/* Egress: request HEADERS after a WINDOW_UPDATE. */
	buf_free(&b);
	buf_free(&i);
	frame(&e, WINDOW_UPDATE, 0, 0, "\0\0\x10\0", 4);
	fill_get(&b);
	frameb(&e, HEADERS, END_HEADERS | END_STREAM, 7, &b);
	cie = true;
	cr_assert(probe2(&i, &e, &cie, false));
	cr_assert(!cie);
	/* Only control frames: HTTP/2, roles unknown. */
	buf_free(&e);
	settings(&e, 1, 0x4, 65535u);
	frame(&e, WINDOW_UPDATE, 0, 0, "\0\0\x10\0", 4);
	cie = true;
	cr_assert(probe2(&e, &i, &cie, false));
	cr_assert(cie);
	cie = false;
	cr_assert(probe2(&e, &i, &cie, false));
	cr_assert(!cie);
	buf_free(&e);
	buf_free(&i);
	buf_free(&b);
}

Test(h2conn, probe_rejects_other_protocols)
{
	struct buf e = { 0 }, i = { 0 };
	bool cie = false;
	uint32_t x = 12345;

	putstr(&e, "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n");
	putstr(&i, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	cr_assert(!probe2(&e, &i, &cie, false));
	buf_free(&e);
	buf_free(&i);
	/* TLS records and random bytes. */
	put(&e, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
	for (int k = 0; k < 4096; k++) {
		x = x * 1103515245u + 12345u;
		put8(&i, x >> 16);
	}
	cr_assert(!probe2(&e, &i, &cie, false));
	/* A single plausible frame header is not enough. */
	buf_free(&e);
	frame(&e, WINDOW_UPDATE, 0, 0, "\0\0\x10\0", 4);
	cr_assert(!probe2(&e, &e, &cie, false));
	buf_free(&e);
	buf_free(&i);
}

/* ---- More behaviour ---------------------------------------------------------------- */

Test(h2conn, end_truncates_open_streams_and_cut_frames)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_get);
	client_req(&s, 11, 3, false, fill_post);
	fill_200(&b);
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	frame(&f, DATA, END_STREAM, 1, "0123456789", 10);
	f.n -= 4;
	sc_data(&s, 1, 20, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "truncated side=1 off=34 len=15 stream=1: HTTP/2 frame at offset 34: DATA frame of "
				     "stream 1 cut after 6 of 10 payload bytes: the connection closed\n"
				     "truncated side=1 off=49 len=0 stream=1: HTTP/2 stream 1 truncated: no END_STREAM from the "
				     "server before the connection closed\n"
				     "truncated side=-1 off=105 len=0 stream=3: HTTP/2 stream 3 truncated: no END_STREAM from "
				     "the client or the server before the connection closed\n");
	cr_assert(strstr(S(&c.tx), " complete=0 truncated=1 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				   " req off=42 t=10-10 hdr=16 body=0 cut=0 \"\"\n"
				   " resp off=24 t=20-20 hdr=1 body=6 cut=1 \"012345\"\n") != NULL, "6 of 10 bytes: not whole");
	buf_free(&f);
	buf_free(&b);
	script_free(&s);
	cap_free(&c);
}

static void fill_bad_req(struct buf *b)
{
	req_get(b, "/");
	hp_lit(b, "X-Upper", "1");
	hp_lit(b, "connection", "keep-alive");
}

Test(h2conn, malformed_requests_are_flagged_and_kept)
{
	struct script s = { 0 };
	struct cap c = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_bad_req);
	server_resp(&s, 20, 1, fill_200, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=42 len=0 stream=1: HTTP/2 frame at offset 42: stream 1: "
				     "malformed request: uppercase characters in a field name: \"X-Upper\" (RFC 9113 "
				     "§8.2.1)\n");
	cr_assert(strstr(S(&c.tx), " complete=0 truncated=0 error=1 ") != NULL);
	cr_assert(strstr(S(&c.tx), " > \"X-Upper\": \"1\"\n > \"connection\": \"keep-alive\"\n") != NULL);
	script_free(&s);
	cap_free(&c);
}

static void fill_huffman(struct buf *b)
{
	put8(b, 0x82);
	put8(b, 0x87);
	put8(b, 0x41);
	hp_huff(b, "www.example.com");
	put8(b, 0x44);
	hp_huff(b, "/sample/path");
	put8(b, 0x40);
	hp_huff(b, "custom-key");
	hp_huff(b, "custom-value");
}

Test(h2conn, huffman_and_never_indexed_fields)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf b = { 0 }, f = { 0 };

	start(&s);
	fill_huffman(&b);
	hp_never(&b, "authorization", "Bearer t0k3n");
	hp_lit_n(&b, 32, "a=b");
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 1, &b);
	sc_data(&s, 0, 10, &f);
	server_resp(&s, 20, 1, fill_200, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "");
	cr_assert(strstr(S(&c.tx), "tx 1 HTTP/2 \"GET\" \"https\" \"www.example.com\" \"/sample/path\" -> 200") != NULL);
	cr_assert(strstr(S(&c.tx), " > \"custom-key\": \"custom-value\"\n"
				   " >N \"authorization\": \"Bearer t0k3n\"\n"
				   " > \"cookie\": \"a=b\"\n") != NULL);
	buf_free(&b);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, push_after_the_client_disabled_it_is_reported)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, v = { 0 }, pl = { 0 };

	putstr(&f, preface);
	settings(&f, 1, 0x2, 0u);
	sc_data(&s, 0, 1, &f);
	client_req(&s, 2, 1, true, fill_get);
	settings(&v, 0);
	settings_ack(&v);
	put32(&pl, 2);
	req_get(&pl, "/pushed");
	frameb(&v, PUSH_PROMISE, END_HEADERS, 1, &pl);
	sc_data(&s, 1, 3, &v);
	run_all(&s, &c);
	cr_assert(strstr(S(&c.anom), "parse_error side=1 off=18 len=0 stream=1: HTTP/2 frame at offset 18: PUSH_PROMISE for "
				     "stream 2 although the client disabled push (RFC 9113 §6.6)\n") != NULL);
	buf_free(&f);
	buf_free(&v);
	buf_free(&pl);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, gap_inside_a_headers_payload_keeps_framing)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 };

	start(&s);
	fill_get_token(&b);
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 1, &b);
	f.n = 9 + 5; /* the header and 5 bytes of the block */
	sc_data(&s, 0, 10, &f);
	sc_gap(&s, 0, 11, b.n - 5);
	client_req(&s, 12, 3, true, fill_get_reuse); /* dynamic refs: unknown now */
	server_resp(&s, 20, 1, fill_200, NULL);
	server_resp(&s, 21, 3, fill_200, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "gap side=0 off=56 len=24 stream=1: HTTP/2: 24 bytes of the client stream missing at "
				     "offset 56, inside the payload of a HEADERS frame of stream 1; framing kept\n");
	cr_assert(strstr(S(&c.tx), "tx 1 HTTP/2 \"\" \"\" \"\" \"\" -> 200 interim=0\n"
				   " complete=0 truncated=1 error=0 headers_incomplete=1 rst=0/0 promised_by=0\n"
				   " req off=42 t=10-11 hdr=29 body=0 cut=0 \"\"\n") != NULL);
	cr_assert(strstr(S(&c.tx), "tx 3 HTTP/2 \"GET\" \"https\" \"\" \"/two\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=1 ") != NULL);
	buf_free(&f);
	buf_free(&b);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, midstream_hpack_error_is_not_sticky)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 };

	s.midstream = true;
	/* Index 300 is beyond any table of the assumed 4096 bytes (61 + 128):
	 * with the peer's settings unseen that may be our guess's fault. */
	hp_idx(&b, 2);
	hp_idx(&b, 300);
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 1, &b);
	buf_free(&b);
	fill_get(&b);
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 3, &b);
	frame(&f, PING, 0, 0, "12345678", 8);
	sc_data(&s, 0, 10, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom),
			 "undecoded side=0 off=0 len=4 stream=1: HTTP/2 frame at offset 0: header block of stream 1: HPACK: "
			 "index 300 at block offset 1 is beyond any table of 4096 bytes (RFC 7541 §2.3.3); the server's "
			 "settings were not all seen, so the HPACK state is taken as unknown (table bound now 65536)\n"
			 "truncated side=1 off=0 len=0 stream=1: HTTP/2 stream 1 truncated: no END_STREAM from the server "
			 "before the connection closed\n"
			 "truncated side=1 off=0 len=0 stream=3: HTTP/2 stream 3 truncated: no END_STREAM from the server "
			 "before the connection closed\n");
	cr_assert(strstr(S(&c.tx), "tx 3 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\"") != NULL);
	buf_free(&f);
	buf_free(&b);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, sink_error_is_fatal_and_sticky)
{
	struct cap c = { .fail_at = 1 };
	struct sc_dec_stats stats = { 0 };
	struct sc_sink sink = { .ctx = &c, .tx = sink_tx, .anomaly = sink_anomaly };
	struct sc_dec_env env = { .sink = &sink, .max_body = 10, .stats = &stats };
	struct sc_conn conn = { .id = 1 };
	struct sc_h2conn *h = sc_h2conn_new(&conn, &env, NULL);

	cr_assert_not_null(h);
	cr_assert_eq(sc_h2conn_data(h, 0, 1, 0, (const uint8_t *)"XRI", 3), -EIO);
	cr_assert_eq(sc_h2conn_data(h, 1, 1, 0, (const uint8_t *)"\0\0\0\4\0\0\0\0\0", 9), -EIO);
	cr_assert_eq(sc_h2conn_gap(h, 1, 1, 9, 5), -EIO);
	cr_assert_eq(sc_h2conn_end(h, 2, true), -EIO);
	cr_assert_eq(c.nanom, 1);
	sc_h2conn_free(h);
	sc_h2conn_free(NULL);
	cap_free(&c);
}

/* ---- Real traffic ------------------------------------------------------------------- */

/* Load a fuzz_h2conn input (tests/fuzz/corpus/h2conn/) as a script: these
 * are captures of nghttp/curl against nghttpd and a python-h2 server. */
static void load_seed(const char *name, struct script *s, struct buf *settings)
{
	char path[1024];
	FILE *f;
	struct buf raw = { 0 };
	uint8_t tmp[4096];
	size_t n, pos = 1;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/h2conn/%s", sc_test_srcdir(), name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s: %s (set top_srcdir)", path, strerror(errno));
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		put(&raw, tmp, n);
	fclose(f);
	cr_assert(raw.n > 0);
	s->midstream = raw.p[0] & 1;
	if (raw.p[0] & 2) {
		put(settings, raw.p + 2, raw.p[1]);
		pos = 2 + raw.p[1];
	}
	while (raw.n - pos >= 3) {
		uint8_t ctl = raw.p[pos];
		size_t len = (size_t)raw.p[pos + 1] << 8 | raw.p[pos + 2];
		struct buf d = { 0 };

		pos += 3;
		cr_assert(!(ctl & 2) && len <= raw.n - pos);
		put(&d, raw.p + pos, len);
		sc_data(s, ctl & 1, 100 + s->nev, &d);
		buf_free(&d);
		pos += len;
	}
	buf_free(&raw);
}

Test(h2conn, real_nghttp_session_with_four_requests)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf st = { 0 };

	load_seed("real-nghttp-multi", &s, &st);
	run_script(&s, WHOLE, 0, 0, &c);
	if (getenv("H2_DUMP"))
		fprintf(stderr, "%s", S(&c.all));
	cr_assert_str_eq(S(&c.anom), "");
	cr_assert_eq(c.ntx, 4);
	/* nghttp numbers requests from 13: streams 1-11 are its PRIORITY anchors. */
	cr_assert(strstr(S(&c.tx), "tx 13 HTTP/2 \"POST\" \"http\" \"127.0.0.1:18081\" \"/index.html\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=0 ") != NULL);
	cr_assert(strstr(S(&c.tx), "tx 19 HTTP/2 \"POST\" \"http\" \"127.0.0.1:18081\" \"/sub/data.bin\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=0 ") != NULL);
	cr_assert(strstr(S(&c.tx), "\"/missing\" -> 404 interim=0\n complete=1 ") != NULL);
	cr_assert(strstr(S(&c.tx), " resp off=") && strstr(S(&c.tx), " body=25600 cut=1 ") != NULL);
	cr_assert(strstr(S(&c.tx), " > \"x-custom\": \"abc\"\n") != NULL);
	script_free(&s);
	buf_free(&st);
	cap_free(&c);
}

Test(h2conn, real_nghttpd_server_push)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf st = { 0 };

	load_seed("real-nghttp-push", &s, &st);
	run_all(&s, &c);
	if (getenv("H2_DUMP"))
		fprintf(stderr, "%s", S(&c.all));
	cr_assert_str_eq(S(&c.anom), "");
	cr_assert_eq(c.ntx, 2);
	cr_assert(strstr(S(&c.tx), "tx 2 HTTP/2 \"GET\" \"http\" \"127.0.0.1:18081\" \"/style.css\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=13\n") != NULL);
	script_free(&s);
	buf_free(&st);
	cap_free(&c);
}

Test(h2conn, real_curl_h2c_upgrade)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf st = { 0 };
	struct sc_h2_upgrade up = {
		.method = { (const uint8_t *)"GET", 3 },
		.path = { (const uint8_t *)"/up", 3 },
		.authority = { (const uint8_t *)"127.0.0.1:18091", 15 },
	};

	load_seed("real-curl-h2c-upgrade", &s, &st);
	up.settings.p = st.p;
	up.settings.len = st.n;
	s.up = &up;
	run_all(&s, &c);
	if (getenv("H2_DUMP"))
		fprintf(stderr, "%s", S(&c.all));
	cr_assert_str_eq(S(&c.anom), "");
	cr_assert(strstr(S(&c.tx), "tx 1 HTTP/2 \"GET\" \"http\" \"127.0.0.1:18091\" \"/up\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n") != NULL);
	cr_assert(strstr(S(&c.tx), " ctype=\"text/plain\" ") != NULL);
	script_free(&s);
	buf_free(&st);
	cap_free(&c);
}

Test(h2conn, real_curl_grpc_calls)
{
	static const char *const names[3] = { "real-curl-grpc-grpc", "real-curl-grpc-stream", "real-curl-grpc-fail" };
	static const char *const want[3] = {
		" grpc status=0 msg=\"\" req=1/7 resp=1/13 compressed=0\n",
		" grpc status=0 msg=\"\" req=3/12 resp=7/30 compressed=1\n",
		" grpc status=5 msg=\"user not found\" req=1/7 resp=0/0 compressed=0\n",
	};

	for (int i = 0; i < 3; i++) {
		struct script s = { 0 };
		struct cap c = { 0 };
		struct buf st = { 0 };

		load_seed(names[i], &s, &st);
		run_all(&s, &c);
		if (getenv("H2_DUMP"))
			fprintf(stderr, "%s", S(&c.all));
		cr_assert_str_eq(S(&c.anom), "", "%s", names[i]);
		cr_assert(strstr(S(&c.tx), want[i]) != NULL, "%s:\n%s", names[i], S(&c.tx));
		cr_assert(strstr(S(&c.tx), " complete=1 truncated=0 error=0 headers_incomplete=0 ") != NULL, "%s", names[i]);
		script_free(&s);
		buf_free(&st);
		cap_free(&c);
	}
}

/* ---- More protocol checks ------------------------------------------------------------ */

Test(h2conn, error_inside_a_payload_after_a_resync_restarts_at_the_same_byte)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	client_req(&s, 10, 1, false, fill_post);
	sc_gap(&s, 0, 11, 20);
	frame(&f, WINDOW_UPDATE, 0, 0, "\0\0\0\1", 4);
	frame(&f, WINDOW_UPDATE, 0, 0, "\0\0\0\1", 4);
	frame(&f, DATA, PADDED, 1, "\x09zz", 3);
	put(&f, "\xff\xff\xff\xff\xff", 5);
	sc_data(&s, 0, 12, &f);
	client_req(&s, 13, 3, true, fill_get);
	buf_free(&f);
	frame(&f, PING, 0, 0, "12345678", 8);
	sc_data(&s, 0, 14, &f);
	run_all(&s, &c);
	cr_assert(strstr(S(&c.anom), "undecoded side=0 off=126 len=0 stream=1: HTTP/2 frame at offset 126: DATA frame of 3 "
				     "bytes on stream 1 has a Pad Length of 9 (RFC 9113 §6.1); 3 frames after a "
				     "resynchronisation, so taken as a false frame boundary: resynchronising again\n"
				     "undecoded side=0 off=136 len=7 stream=0: HTTP/2: skipped 7 bytes of the client stream "
				     "from offset 136 to a plausible frame boundary at offset 143\n") != NULL);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, false_frame_boundary_after_a_gap_resynchronises_again)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_get);
	sc_gap(&s, 0, 11, 20);
	/* Two plausible frames, then one whose Pad Length is impossible: the
	 * boundary was false.  Found again at stream 3's HEADERS. */
	frame(&f, WINDOW_UPDATE, 0, 0, "\0\0\0\1", 4);
	frame(&f, WINDOW_UPDATE, 0, 0, "\0\0\0\1", 4);
	frame(&f, DATA, PADDED, 1, "\x09zz", 3);
	put(&f, "\xff\xff\xff\xff\xff", 5);
	sc_data(&s, 0, 12, &f);
	client_req(&s, 13, 3, true, fill_get);
	buf_free(&f);
	frame(&f, PING, 0, 0, "12345678", 8);
	sc_data(&s, 0, 14, &f);
	server_resp(&s, 20, 1, fill_200, NULL);
	server_resp(&s, 21, 3, fill_200, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom),
			 "gap side=0 off=67 len=20 stream=0: HTTP/2: 20 bytes of the client stream missing at offset 67; looking "
			 "for the next frame boundary, the HPACK state of the client's header blocks is unknown from here\n"
			 "undecoded side=0 off=113 len=0 stream=1: HTTP/2 frame at offset 113: DATA on stream 1 after END_STREAM "
			 "from the client (RFC 9113 §5.1: STREAM_CLOSED); 3 frames after a resynchronisation, so taken as a "
			 "false frame boundary: resynchronising again\n"
			 "undecoded side=0 off=122 len=8 stream=0: HTTP/2: skipped 8 bytes of the client stream from offset 122 to "
			 "a plausible frame boundary at offset 130\n");
	/* Stream 1 is not blamed for the garbage. */
	cr_assert(strstr(S(&c.tx), "tx 1 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 ") != NULL);
	/* Its :authority is a literal: exact even with the table unknown. */
	cr_assert(strstr(S(&c.tx), "tx 3 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				   " req off=130 t=13-13 ") != NULL);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

static void fill_host_mismatch(struct buf *b)
{
	req_get(b, "/");
	hp_lit_n(b, 38, "evil.example"); /* host */
}

static void fill_head(struct buf *b)
{
	hp_lit_n(b, 2, "HEAD");
	hp_idx(b, 7);
	hp_inc_n(b, 1, "example.com");
	hp_idx(b, 4);
}

static void fill_200_len(struct buf *b)
{
	hp_idx(b, 8);
	hp_lit_n(b, 28, "1234"); /* content-length of the representation */
}

Test(h2conn, host_must_agree_with_authority_and_head_responses_carry_no_body)
{
	struct script s = { 0 };
	struct cap c = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_host_mismatch);
	client_req(&s, 11, 3, true, fill_head);
	server_resp(&s, 20, 1, fill_200, NULL);
	server_resp(&s, 21, 3, fill_200_len, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=42 len=0 stream=1: HTTP/2 frame at offset 42: stream 1: "
				     "malformed request: Host differs from :authority (RFC 9113 §8.3.1)\n");
	cr_assert(strstr(S(&c.tx), "tx 3 HTTP/2 \"HEAD\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 ") != NULL);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, settings_values_and_first_frame_are_checked)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	putstr(&f, preface);
	frame(&f, PING, 0, 0, "12345678", 8);
	settings(&f, 3, 0x2, 2u, 0x5, 100u, 0x4, 0x80000000u);
	sc_data(&s, 0, 1, &f);
	buf_free(&f);
	settings(&f, 1, 0x2, 1u);
	sc_data(&s, 1, 2, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom),
			 "parse_error side=0 off=24 len=0 stream=0: HTTP/2 frame at offset 24: the first frame from the client "
			 "is PING, not SETTINGS (RFC 9113 §3.4)\n"
			 "parse_error side=0 off=41 len=0 stream=0: HTTP/2 frame at offset 41: SETTINGS_ENABLE_PUSH of 2 from "
			 "the client (RFC 9113 §6.5.2)\n"
			 "parse_error side=0 off=41 len=0 stream=0: HTTP/2 frame at offset 41: SETTINGS_MAX_FRAME_SIZE of 100 is "
			 "outside 16384..16777215 (RFC 9113 §6.5.2)\n"
			 "parse_error side=0 off=41 len=0 stream=0: HTTP/2 frame at offset 41: SETTINGS_INITIAL_WINDOW_SIZE of "
			 "2147483648 is over 2^31-1 (RFC 9113 §6.5.2: FLOW_CONTROL_ERROR)\n"
			 "parse_error side=1 off=0 len=0 stream=0: HTTP/2 frame at offset 0: SETTINGS_ENABLE_PUSH of 1 from the "
			 "server (RFC 9113 §6.5.2)\n");
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, a_settings_ack_as_the_first_frame_is_named_as_such)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	/* sv-http2-authority-mismatch.pcap: the client acknowledges the
	 * server's SETTINGS before sending its own (issue 14). */
	putstr(&f, preface);
	settings_ack(&f);
	settings(&f, 0);
	sc_data(&s, 0, 1, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=24 len=0 stream=0: HTTP/2 frame at offset 24: the first "
				     "frame from the client is a SETTINGS acknowledgement, not its own SETTINGS (RFC 9113 "
				     "§3.4)\n");
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, stream_state_errors_are_reported_and_decoding_goes_on)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_get);
	data_frame(&f, 0, 5, "idle");         /* DATA on an idle stream */
	data_frame(&f, END_STREAM, 1, "late"); /* after END_STREAM */
	sc_data(&s, 0, 11, &f);
	server_resp(&s, 20, 1, fill_200, NULL);
	client_req(&s, 21, 1, true, fill_get); /* HEADERS on a closed stream */
	client_req(&s, 22, 7, true, fill_get); /* decoding goes on */
	server_resp(&s, 23, 7, fill_200, "7");
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom), "parse_error side=0 off=67 len=0 stream=5: HTTP/2 frame at offset 67: DATA on idle "
				     "stream 5 (RFC 9113 §5.1)\n"
				     "parse_error side=0 off=80 len=0 stream=1: HTTP/2 frame at offset 80: DATA on stream 1 "
				     "after END_STREAM from the client (RFC 9113 §5.1: STREAM_CLOSED)\n"
				     "parse_error side=0 off=93 len=0 stream=1: HTTP/2 frame at offset 93: HEADERS on closed "
				     "stream 1 (RFC 9113 §5.1)\n");
	cr_assert_eq(c.ntx, 2);
	cr_assert(strstr(S(&c.tx), "tx 7 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=0 ") != NULL);
	buf_free(&f);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, unknown_head_then_known_status_is_the_final_head)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 };

	s.midstream = true;
	/* A head made only of an unknown table entry: a 1xx or the final
	 * response, nobody can tell.  The next block has :status 200. */
	hp_idx(&b, 70);
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	buf_free(&b);
	hp_idx(&b, 8);
	hp_lit_n(&b, 31, "text/plain");
	frameb(&f, HEADERS, END_HEADERS, 1, &b);
	data_frame(&f, END_STREAM, 1, "ok");
	sc_data(&s, 1, 10, &f);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.all), "tx 1 HTTP/2 \"\" \"\" \"\" \"\" -> 200 interim=0\n"
				    " complete=0 truncated=1 error=0 headers_incomplete=1 rst=0/0 promised_by=0\n"
				    " req off=0 t=0-0 hdr=0 body=0 cut=0 \"\"\n"
				     " resp off=0 t=10-10 hdr=15 body=2 cut=0 \"ok\"\n"
				    " ctype=\"text/plain\" cenc=\"\"\n"
				    " < <?>: <?>\n"
				    " < \":status\": \"200\"\n"
				    " < \"content-type\": \"text/plain\"\n");
	buf_free(&f);
	buf_free(&b);
	script_free(&s);
	cap_free(&c);
}

Test(h2conn, gap_that_ends_a_frame_at_a_false_boundary_searches_after_the_gap)
{
	struct script s = { 0 };
	struct cap c = { 0 };
	struct buf f = { 0 }, b = { 0 };

	start(&s);
	client_req(&s, 10, 1, true, fill_get);
	server_resp(&s, 11, 1, fill_200, NULL); /* stream 1 is closed */
	sc_gap(&s, 0, 12, 30);
	/* Found again at two WINDOW_UPDATEs; then a HEADERS on closed stream 1
	 * whose payload is cut by a gap: ending it shows the boundary was
	 * false, and the search goes on after the gap. */
	frame(&f, WINDOW_UPDATE, 0, 0, "\0\0\0\1", 4);
	frame(&f, WINDOW_UPDATE, 0, 0, "\0\0\0\1", 4);
	fill_get(&b);
	frameb(&f, HEADERS, END_HEADERS | END_STREAM, 1, &b);
	f.n -= 10;
	sc_data(&s, 0, 13, &f);
	sc_gap(&s, 0, 14, 10);
	buf_free(&f);
	put(&f, "\xff\xff\xff", 3);
	sc_data(&s, 0, 15, &f);
	client_req(&s, 16, 5, true, fill_get);
	buf_free(&f);
	frame(&f, PING, 0, 0, "12345678", 8);
	sc_data(&s, 0, 17, &f);
	server_resp(&s, 20, 5, fill_200, NULL);
	run_all(&s, &c);
	cr_assert_str_eq(S(&c.anom),
			 "gap side=0 off=67 len=30 stream=0: HTTP/2: 30 bytes of the client stream missing at offset 67; looking "
			 "for the next frame boundary, the HPACK state of the client's header blocks is unknown from here\n"
			 "gap side=0 off=138 len=10 stream=1: HTTP/2: 10 bytes of the client stream missing at offset 138, "
			 "inside the payload of a HEADERS frame of stream 1; framing kept\n"
			 "undecoded side=0 off=123 len=0 stream=1: HTTP/2 frame at offset 123: HEADERS on closed stream 1 (RFC "
			 "9113 §5.1); 3 frames after a resynchronisation, so taken as a false frame boundary: resynchronising "
			 "again\n"
			 "undecoded side=0 off=148 len=3 stream=0: HTTP/2: skipped 3 bytes of the client stream from offset 148 to "
			 "a plausible frame boundary at offset 151\n");
	cr_assert(strstr(S(&c.tx), "tx 5 HTTP/2 \"GET\" \"https\" \"example.com\" \"/\" -> 200 interim=0\n"
				   " complete=1 truncated=0 error=0 headers_incomplete=0 rst=0/0 promised_by=0\n"
				   " req off=151 t=16-16 ") != NULL);
	buf_free(&f);
	buf_free(&b);
	script_free(&s);
	cap_free(&c);
}
