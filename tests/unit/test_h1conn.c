/* test_h1conn.c - the HTTP/1 connection engine (analyze/h1conn.c): what a
 * stream of messages, with its stray bytes and bad messages, becomes, as exact
 * text dumps of the transactions and anomalies.  Every stream is also fed
 * split at every offset and byte by byte: the dump must not change. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "analyze/convo.h"
#include "analyze/h2conn.h"

#include "sc_test.h"

struct rec {
	char out[8192];
	size_t len;
};

static void app(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void app(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->out + r->len, sizeof(r->out) - r->len, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(r->out) - r->len, "dump too long");
	r->len += (size_t)n;
}

static int on_tx(void *ctx, const struct sc_tx *t)
{
	struct rec *r = ctx;

	app(r, "tx %.*s %.*s %d", (int)t->method.len, t->method.p ? (const char *)t->method.p : "",
	    (int)t->path.len, t->path.p ? (const char *)t->path.p : "", t->status);
	if (t->interim_status)
		app(r, " interim=%d", t->interim_status);
	app(r, " req_body=%" PRIu64 " resp_body=%" PRIu64 "%s%s%s%s%s\n", t->req_body_bytes, t->resp_body_bytes,
	    t->complete ? " complete" : "", t->truncated ? " truncated" : "", t->error ? " error" : "",
	    t->req_body_cut ? " req_body_not_whole" : "", t->resp_body_cut ? " resp_body_not_whole" : "");
	if (t->resp_body.len && t->resp_body_cut)
		app(r, " resp_body_data=\"%.*s\"\n", (int)t->resp_body.len, (const char *)t->resp_body.p);
	return 0;
}

static int on_anomaly(void *ctx, const struct sc_anomaly *a)
{
	struct rec *r = ctx;

	app(r, "anomaly %s side=%d off=%" PRIu64 " len=%" PRIu64 ": %s\n", sc_anomaly_kind_name(a->kind), a->side,
	    a->offset, a->len, a->msg);
	return 0;
}

struct chunk {
	int side;      /* SC_FROM_CLIENT, SC_FROM_SERVER */
	const char *p; /* NULL: a gap of `gap` bytes */
	size_t gap;
};

/* Feed the chunks, each cut into pieces of `step` bytes (0: whole), then end
 * the connection (`closed`).  Returns the dump. */
static void run(const struct chunk *c, size_t nc, size_t step, size_t split, bool closed, bool midstream,
		struct rec *r, enum sc_proto *proto)
{
	struct sc_sink sink = { r, NULL, NULL, on_tx, on_anomaly, NULL };
	struct sc_dec_stats st = { 0 };
	struct sc_dec_env env = { &sink, 1 << 20, &st };
	struct sc_conn conn = { .id = 1, .proto = SC_PROTO_HTTP1, .midstream = midstream };
	struct sc_h1conn *h;
	uint64_t off[2] = { 0, 0 }, ts = 1000;

	memset(r, 0, sizeof(*r));
	h = sc_h1conn_new(&conn, &env);
	cr_assert_not_null(h);
	for (size_t i = 0; i < nc; i++) {
		int s = c[i].side;

		if (!c[i].p) {
			cr_assert_eq(sc_h1conn_gap(h, s, ts++, off[s], c[i].gap), 0);
			off[s] += c[i].gap;
			continue;
		}
		size_t n = strlen(c[i].p), at = 0;

		while (at < n) {
			size_t k = step ? step : (split && at == 0 && split < n ? split : n - at);

			if (k > n - at)
				k = n - at;
			cr_assert_geq(sc_h1conn_data(h, s, ts++, off[s], (const uint8_t *)c[i].p + at, k), 0);
			off[s] += k;
			at += k;
		}
	}
	cr_assert_eq(sc_h1conn_end(h, ts, closed), 0);
	if (proto)
		*proto = conn.proto;
	sc_h1conn_free(h);
}

/* The dump, the same whole, byte by byte and split at every offset of
 * each chunk. */
static void check(const struct chunk *c, size_t nc, bool closed, const char *want)
{
	struct rec r;
	size_t longest = 0;

	run(c, nc, 0, 0, closed, false, &r, NULL);
	cr_assert_str_eq(r.out, want);
	run(c, nc, 1, 0, closed, false, &r, NULL);
	cr_assert_str_eq(r.out, want, "byte by byte");
	for (size_t i = 0; i < nc; i++)
		if (c[i].p && strlen(c[i].p) > longest)
			longest = strlen(c[i].p);
	for (size_t split = 1; split < longest; split++) {
		run(c, nc, 0, split, closed, false, &r, NULL);
		cr_assert_str_eq(r.out, want, "split at %zu", split);
	}
}

#define REQ "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
#define RESP "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"

/* ---- issue 14 item 4: an empty line after the last message ---------------------- */

Test(h1conn, stray_crlf_at_the_end_of_a_stream_is_not_a_cut_head)
{
	static const char *const tails[] = { "\r\n", "\n", "\r\n\r\n", "\r" };

	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		char resp[128];
		struct chunk c[] = { { SC_FROM_CLIENT, REQ, 0 }, { SC_FROM_SERVER, resp, 0 } };

		snprintf(resp, sizeof(resp), "%s%s", RESP, tails[i]);
		/* RFC 9112 §2.2: empty lines where a message may start are ignored. */
		check(c, 2, true, "tx GET /a 200 req_body=0 resp_body=2 complete\n");
	}
}

Test(h1conn, stray_crlf_after_a_request_at_the_end_is_not_a_cut_head)
{
	struct chunk c[] = { { SC_FROM_CLIENT, "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\r\n", 0 },
			     { SC_FROM_SERVER, RESP, 0 } };

	check(c, 2, true, "tx POST /a 200 req_body=3 resp_body=2 complete\n");
}

Test(h1conn, a_head_cut_by_the_end_is_still_reported)
{
	struct chunk c[] = { { SC_FROM_CLIENT, REQ, 0 }, { SC_FROM_SERVER, RESP "\r\nHTTP/1.1 2", 0 } };

	check(c, 2, true,
	      "tx GET /a 200 req_body=0 resp_body=2 complete\n"
	      "anomaly truncated side=1 off=40 len=12: HTTP/1 response head cut by the end of the stream\n");
}

/* ---- issue 14 item 5: after a parse error ---------------------------------------- */

Test(h1conn, resync_after_a_bad_request_starts_after_its_first_line)
{
	/* Two Content-Length values: the framing is invalid (RFC 9112 §6.3).
	 * Resync must not find "OST /a ..." one byte in, nor report the error
	 * twice; every byte up to the next request is in the skipped anomaly. */
	struct chunk c[] = { { SC_FROM_CLIENT, "POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
					       "GET /b HTTP/1.1\r\n\r\n", 0 },
			     { SC_FROM_SERVER, RESP, 0 } };

	check(c, 2, true,
	      "anomaly parse_error side=0 off=37 len=0: HTTP/1 request: conflicting Content-Length values\n"
	      "anomaly undecoded side=0 off=0 len=58: HTTP/1: skipped 58 bytes to the next request\n"
	      "tx GET /b 200 req_body=0 resp_body=2 complete\n");
}

Test(h1conn, skipped_bytes_are_reported_when_no_head_follows)
{
	struct chunk c[] = { { SC_FROM_CLIENT, "BAD/ /x HTTP/1.1\r\nHost: x\r\n\r\ntrailing junk", 0 } };

	check(c, 1, true,
	      "anomaly parse_error side=0 off=3 len=0: HTTP/1 request line at offset 3: invalid character 0x2f in the "
	      "method\n"
	      "anomaly undecoded side=0 off=0 len=42: HTTP/1: skipped 42 bytes, and no request followed before the "
	      "end of the stream\n");
}

Test(h1conn, skipped_bytes_are_reported_before_a_gap)
{
	struct chunk c[] = { { SC_FROM_CLIENT, "BAD/ /x HTTP/1.1\r\nHost: x\r\n\r\nab", 0 },
			     { SC_FROM_CLIENT, NULL, 100 },
			     { SC_FROM_CLIENT, "tail\r\n" REQ, 0 },
			     { SC_FROM_SERVER, RESP, 0 } };

	check(c, 4, true,
	      "anomaly parse_error side=0 off=3 len=0: HTTP/1 request line at offset 3: invalid character 0x2f in the "
	      "method\n"
	      "anomaly gap side=0 off=31 len=100: 100 bytes missing from the client stream\n"
	      "anomaly undecoded side=0 off=0 len=31: HTTP/1: skipped 31 bytes, and no request followed before the "
	      "gap\n"
	      "anomaly undecoded side=0 off=131 len=6: HTTP/1: skipped 6 bytes to the next request\n"
	      "tx GET /a 200 req_body=0 resp_body=2 complete\n");
}

Test(h1conn, a_bad_chunk_line_is_skipped_whole)
{
	struct chunk c[] = { { SC_FROM_CLIENT, "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
					       "GET /b HTTP/1.1\r\n\r\n", 0 },
			     { SC_FROM_SERVER, RESP RESP, 0 } };
	struct rec r;

	run(c, 2, 0, 0, true, false, &r, NULL);
	/* The bad chunk-size line is skipped whole, then the next request. */
	cr_assert_str_eq(r.out,
			 "anomaly parse_error side=0 off=48 len=0: HTTP/1 chunked body at offset 0: expected a hex chunk "
			 "size\n"
			 "anomaly undecoded side=0 off=48 len=4: HTTP/1: skipped 4 bytes to the next request\n"
			 "tx POST /a 200 req_body=0 resp_body=2 error\n"
			 "tx GET /b 200 req_body=0 resp_body=2 complete\n");
}

Test(h1conn, a_connection_that_only_looked_like_http1_is_not_http1)
{
	/* Joined in the middle; "STAT 12 34" passed for a request line, but no
	 * HTTP/1 message ever came: no HTTP bytes were lost. */
	struct chunk c[] = { { SC_FROM_CLIENT, "STAT 207122828 45474266\nSTAT 207146737 45514448\n", 0 } };
	struct rec r;
	enum sc_proto proto;

	run(c, 1, 0, 0, false, true, &r, &proto);
	cr_assert_str_eq(r.out, "");
	cr_assert_eq(proto, SC_PROTO_UNKNOWN);
}

Test(h1conn, a_midstream_connection_reports_what_it_skipped_once_http_was_seen)
{
	struct chunk c[] = { { SC_FROM_CLIENT, "dy of an earlier request\r\n" REQ, 0 }, { SC_FROM_SERVER, RESP, 0 } };
	struct rec r;
	enum sc_proto proto;

	run(c, 2, 0, 0, true, true, &r, &proto);
	cr_assert_str_eq(r.out, "anomaly undecoded side=0 off=0 len=26: HTTP/1: skipped 26 bytes to the next request\n"
				"tx GET /a 200 req_body=0 resp_body=2 complete\n");
	cr_assert_eq(proto, SC_PROTO_HTTP1);
}

/* ---- issue 14 item 7: the switch to h2c ------------------------------------------------ */

#define H2C_REQ "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n" \
		"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"
#define H2C_101 "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"

static struct sc_h1conn *h2c_conn(struct rec *r, struct sc_sink *sink, struct sc_dec_stats *st,
				  struct sc_dec_env *env, struct sc_conn *conn)
{
	struct sc_h1conn *h;

	memset(r, 0, sizeof(*r));
	*sink = (struct sc_sink){ r, NULL, NULL, on_tx, on_anomaly, NULL };
	*env = (struct sc_dec_env){ sink, 1 << 20, st };
	*conn = (struct sc_conn){ .id = 1, .proto = SC_PROTO_HTTP1 };
	h = sc_h1conn_new(conn, env);
	cr_assert_not_null(h);
	return h;
}

Test(h1conn, the_101_of_an_h2c_upgrade_is_stream_1s_interim_response)
{
	struct rec r;
	struct sc_sink sink;
	struct sc_dec_stats st = { 0 };
	struct sc_dec_env env;
	struct sc_conn conn;
	struct sc_h1conn *h = h2c_conn(&r, &sink, &st, &env, &conn);
	struct sc_h2_upgrade up;

	cr_assert_eq(sc_h1conn_data(h, SC_FROM_CLIENT, 1, 0, (const uint8_t *)H2C_REQ, strlen(H2C_REQ)), 0);
	cr_assert_eq(sc_h1conn_data(h, SC_FROM_SERVER, 2, 0, (const uint8_t *)H2C_101, strlen(H2C_101)),
		     SC_H1_UPGRADE_H2);
	cr_assert_eq(sc_h1conn_upgrade_info(h, &up), 0);
	cr_assert_eq(up.interim_status, 101, "RFC 7540 §3.2: the 101 answers stream 1 before HTTP/2 does");
	cr_assert(up.method.len == 3 && memcmp(up.method.p, "GET", 3) == 0);
	cr_assert_str_eq(r.out, "");
	sc_h1conn_free(h);
}

Test(h1conn, a_101_to_h2c_whose_request_was_not_captured_still_switches)
{
	struct rec r;
	struct sc_sink sink;
	struct sc_dec_stats st = { 0 };
	struct sc_dec_env env;
	struct sc_conn conn;
	struct sc_h1conn *h = h2c_conn(&r, &sink, &st, &env, &conn);
	struct sc_h2_upgrade up;

	/* sv-drop-protocol-change.pcap: the request sat in a lost IP fragment. */
	cr_assert_eq(sc_h1conn_gap(h, SC_FROM_CLIENT, 1, 0, strlen(H2C_REQ)), 0);
	cr_assert_eq(sc_h1conn_data(h, SC_FROM_SERVER, 2, 0, (const uint8_t *)H2C_101, strlen(H2C_101)),
		     SC_H1_UPGRADE_H2);
	cr_assert_eq(sc_h1conn_upgrade_info(h, &up), 0);
	cr_assert_eq(up.interim_status, 101);
	cr_assert_null(up.method.p, "the request is not known");
	cr_assert_str_eq(r.out, "anomaly gap side=0 off=0 len=114: 114 bytes missing from the client stream\n");
	sc_h1conn_free(h);
}

Test(h1conn, a_101_to_h2c_for_a_request_that_did_not_ask_is_a_tunnel)
{
	struct chunk c[] = { { SC_FROM_CLIENT, REQ, 0 }, { SC_FROM_SERVER, H2C_101 "RAWBYTES!", 0 } };
	struct rec r;

	run(c, 2, 0, 0, true, false, &r, NULL);
	cr_assert_str_eq(r.out, "tx GET /a 101 req_body=0 resp_body=0 complete\n"
				"anomaly undecoded side=-1 off=0 len=9: HTTP/1: the connection switched protocols; 9 bytes "
				"after the switch are not decoded\n");
}

/* ---- issue 14 item 7: a body with a hole ------------------------------------------------- */

Test(h1conn, a_body_with_a_hole_is_marked_not_whole)
{
	struct chunk c[] = { { SC_FROM_CLIENT, REQ, 0 },
			     { SC_FROM_SERVER, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab", 0 },
			     { SC_FROM_SERVER, NULL, 4 },
			     { SC_FROM_SERVER, "ghij", 0 } };
	struct rec r;

	/* The data joins "ab" and "ghij": resp_body_bytes counts the 6 bytes
	 * seen (not the 4 lost), and the body is not whole. */
	run(c, 4, 0, 0, true, false, &r, NULL);
	cr_assert_str_eq(r.out, "anomaly gap side=1 off=41 len=4: 4 bytes missing from the server stream\n"
				"tx GET /a 200 req_body=0 resp_body=6 truncated resp_body_not_whole\n"
				" resp_body_data=\"abghij\"\n");
}

Test(h1conn, a_body_cut_by_the_end_is_marked_not_whole)
{
	struct chunk c[] = { { SC_FROM_CLIENT, REQ, 0 },
			     { SC_FROM_SERVER, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0 } };
	struct rec r;

	run(c, 2, 0, 0, false, false, &r, NULL);
	cr_assert_str_eq(r.out, "anomaly truncated side=1 off=0 len=0: HTTP/1 response cut by the end of the capture\n"
				"tx GET /a 200 req_body=0 resp_body=3 truncated resp_body_not_whole\n"
				" resp_body_data=\"abc\"\n");
}
