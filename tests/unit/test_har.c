/* test_har.c - the HAR export's building blocks (JSON strings, UTF-8
 * validation, base64) and sc_har_write() on small hand-made databases. */
#include "sc_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/db.h"
#include "analyze/har.h"

/* ---- JSON strings ------------------------------------------------------------------ */

struct mem {
	char *s;
	size_t len;
	FILE *f;
};

static void mem_open(struct mem *m)
{
	m->s = NULL;
	m->len = 0;
	m->f = open_memstream(&m->s, &m->len);
	cr_assert_not_null(m->f);
}

static void mem_close(struct mem *m)
{
	cr_assert_eq(fclose(m->f), 0);
}

/* The JSON literal of `in`, and the number of bytes mapped to Latin-1. */
static char *json(const void *in, size_t len, size_t *latin1)
{
	struct mem m;
	size_t n;

	mem_open(&m);
	n = sc_har_json_str(m.f, in, len);
	mem_close(&m);
	if (latin1)
		*latin1 = n;
	return m.s;
}

static void expect_json(const void *in, size_t len, const char *want, size_t want_latin1)
{
	size_t latin1;
	char *got = json(in, len, &latin1);

	cr_assert_str_eq(got, want);
	cr_assert_eq(latin1, want_latin1, "%s: %zu bytes mapped, want %zu", want, latin1, want_latin1);
	free(got);
}

#define EXPECT_JSON(lit, want, n) expect_json(lit, sizeof(lit) - 1, want, n)

Test(har_json, ascii_passes_through)
{
	EXPECT_JSON("GET /index.html", "\"GET /index.html\"", 0);
	EXPECT_JSON("", "\"\"", 0);
}

Test(har_json, escapes_quotes_backslashes_and_controls)
{
	EXPECT_JSON("a\"b\\c", "\"a\\\"b\\\\c\"", 0);
	EXPECT_JSON("\r\n\t\b\f", "\"\\r\\n\\t\\b\\f\"", 0);
	EXPECT_JSON("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"", 0);
	EXPECT_JSON("a\0b", "\"a\\u0000b\"", 0);
}

Test(har_json, valid_utf8_passes_through)
{
	/* 2, 3 and 4 byte sequences, and the edges of the valid ranges. */
	EXPECT_JSON("caf\xc3\xa9", "\"caf\xc3\xa9\"", 0);
	EXPECT_JSON("\xe2\x82\xac", "\"\xe2\x82\xac\"", 0);
	EXPECT_JSON("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"", 0);
	EXPECT_JSON("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf",
		    "\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\"", 0);
}

Test(har_json, invalid_bytes_become_latin1_escapes)
{
	EXPECT_JSON("a\xe9z", "\"a\\u00e9z\"", 1);
	EXPECT_JSON("\xff\xfe", "\"\\u00ff\\u00fe\"", 2);
	/* A lone continuation byte. */
	EXPECT_JSON("\x80", "\"\\u0080\"", 1);
	/* Overlong forms: C0 AF ('/'), E0 80 AF, F0 80 80 AF. */
	EXPECT_JSON("\xc0\xaf", "\"\\u00c0\\u00af\"", 2);
	EXPECT_JSON("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\"", 3);
	EXPECT_JSON("\xf0\x80\x80\xaf", "\"\\u00f0\\u0080\\u0080\\u00af\"", 4);
	/* A surrogate (U+D800) and a code point above U+10FFFF. */
	EXPECT_JSON("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"", 3);
	EXPECT_JSON("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"", 4);
	/* A sequence cut by the end, and one cut by an ASCII byte. */
	EXPECT_JSON("x\xe2\x82", "\"x\\u00e2\\u0082\"", 2);
	EXPECT_JSON("\xe2\x82z\xc3\xa9", "\"\\u00e2\\u0082z\xc3\xa9\"", 2);
}

Test(har_json, output_is_always_utf8)
{
	/* Every byte value, alone and after a lead byte: the output must be
	 * valid UTF-8 with no raw control character. */
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b += 17) {
			uint8_t in[2] = { (uint8_t)a, (uint8_t)b };
			char *got = json(in, 2, NULL);
			size_t n = strlen(got);

			cr_assert(sc_har_utf8_valid(got, n, NULL), "bytes %02x %02x", a, b);
			for (size_t i = 0; i < n; i++)
				cr_assert((uint8_t)got[i] >= 0x20, "bytes %02x %02x: raw control", a, b);
			free(got);
		}
}

Test(har_utf8, validates_and_reports_cut_tail)
{
	size_t tail = 99;

	cr_assert(sc_har_utf8_valid("abc", 3, &tail));
	cr_assert_eq(tail, 0);
	cr_assert(sc_har_utf8_valid("", 0, NULL));
	cr_assert_not(sc_har_utf8_valid("ab\xe2\x82", 4, NULL));
	cr_assert(sc_har_utf8_valid("ab\xe2\x82", 4, &tail));
	cr_assert_eq(tail, 2);
	cr_assert(sc_har_utf8_valid("\xf0\x9f\x98", 3, &tail));
	cr_assert_eq(tail, 3);
	/* Invalid before the end stays invalid, and so does an invalid tail. */
	cr_assert_not(sc_har_utf8_valid("\xff" "abc", 4, &tail));
	cr_assert_not(sc_har_utf8_valid("ab\xe0\x80", 4, &tail));
	cr_assert_not(sc_har_utf8_valid("ab\xf5", 3, &tail));
}

/* ---- base64 ------------------------------------------------------------------------ */

static char *b64(const void *p, size_t n)
{
	char *out = malloc(SC_HAR_BASE64_LEN(n) + 1);

	cr_assert_not_null(out);
	size_t k = sc_har_base64(out, p, n);

	cr_assert_eq(k, SC_HAR_BASE64_LEN(n));
	out[k] = '\0';
	return out;
}

Test(har_base64, rfc4648_test_vectors)
{
	/* RFC 4648 §10. */
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };

	for (size_t i = 0; i < 7; i++) {
		char *got = b64(in[i], strlen(in[i]));

		cr_assert_str_eq(got, want[i]);
		free(got);
	}
}

Test(har_base64, binary_bytes_use_the_whole_alphabet)
{
	static const uint8_t in[] = { 0x00, 0xff, 0xfe, 0xfb, 0xef, 0xbe, 0x00, 0x10, 0x83 };
	char *got = b64(in, sizeof(in));

	cr_assert_str_eq(got, "AP/+++++ABCD");
	free(got);
}

static int b64val(char c)
{
	const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *q = strchr(a, c);

	return c && q ? (int)(q - a) : -1;
}

Test(har_base64, round_trips_every_byte_and_length)
{
	uint8_t in[256], back[256];

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)(255 - i);
	for (size_t n = 0; n <= sizeof(in); n++) {
		char *enc = b64(in, n);
		size_t len = strlen(enc), o = 0;

		for (size_t i = 0; i < len; i += 4) {
			uint32_t v = 0;
			int pad = 0;

			for (int j = 0; j < 4; j++) {
				int x = enc[i + j] == '=' ? (pad++, 0) : b64val(enc[i + j]);

				cr_assert_geq(x, 0, "bad character '%c'", enc[i + j]);
				v = v << 6 | (uint32_t)x;
			}
			for (int j = 0; j < 3 - pad; j++)
				back[o++] = (uint8_t)(v >> (16 - 8 * j));
		}
		cr_assert_eq(o, n);
		cr_assert(n == 0 || memcmp(in, back, n) == 0, "length %zu", n);
		free(enc);
	}
}

/* ---- sc_har_write on hand-made databases -------------------------------------------- */

static struct sc_db *mkdb(const char *sql)
{
	struct sc_diag d = { 0 };
	struct sc_db *db = sc_db_open(":memory:", &d);
	char *err = NULL;

	cr_assert_not_null(db, "%s", d.msg);
	cr_assert_eq(sqlite3_exec(sc_db_handle(db), sql, NULL, NULL, &err), SQLITE_OK, "%s", err ? err : "");
	return db;
}

static char *har(struct sc_db *db, const struct sc_har_opts *o, struct sc_har_stats *st)
{
	struct sc_diag d = { 0 };
	struct mem m;
	int rc;

	mem_open(&m);
	rc = sc_har_write(sc_db_handle(db), m.f, o, st, &d);
	mem_close(&m);
	cr_assert_eq(rc, 0, "%s", d.msg);
	/* One line: a newline and its indentation become one space, so that
	 * the checks below do not depend on the layout. */
	size_t k = 0;

	for (size_t i = 0; m.s[i]; i++) {
		if (m.s[i] == '\n') {
			while (m.s[i + 1] == ' ')
				i++;
			m.s[k++] = ' ';
		} else {
			m.s[k++] = m.s[i];
		}
	}
	m.s[k] = '\0';
	return m.s;
}

#define CAPTURE "INSERT INTO captures (id, path, format, status) VALUES (1, '/x.skc', 'skc', 'complete');"
#define CONN(id, role, la, lp, ra, rp)                                                                         \
	"INSERT INTO connections (id, capture_id, source_id, pid, comm, role, family, local_addr, local_port, "    \
	"remote_addr, remote_port, open_ns, close_ns, midstream, client_bytes, server_bytes, client_gaps, "       \
	"server_gaps, client_gap_bytes, server_gap_bytes, transactions) VALUES (" #id ", 1, " #id ", 10, 'p', '" \
	role "', 'ipv4', '" la "', " #lp ", '" ra "', " #rp ", 1000000000, 9000000000, 0, 0, 0, 0, 0, 0, 0, 1);"
#define TX(id, conn)                                                                                           \
	"INSERT INTO transactions (id, capture_id, connection_id, http_version, method, authority, path, status, " \
	"reason, req_start_ns, req_end_ns, resp_start_ns, resp_end_ns, req_header_bytes, req_body_bytes, "        \
	"resp_header_bytes, resp_body_bytes, content_type, complete, truncated, error, headers_incomplete) "      \
	"VALUES (" #id ", 1, " #conn ", 'HTTP/1.1', 'GET', 'h:1', '/p?a=1&b=%41+c', 200, 'OK', "                  \
	"1700000000123000000, 1700000000124000000, 1700000000126500000, 1700000000127000000, 40, 0, 50, 0, "       \
	"'text/plain', 1, 0, 0, 0);"

static const struct sc_har_opts dflt = { .max_body = SC_HAR_NO_CAP };

Test(har_write, mirrored_server_side_is_exported_once)
{
	struct sc_db *db = mkdb(CAPTURE CONN(1, "client", "127.0.0.1", 5000, "127.0.0.1", 80)
					CONN(2, "server", "::ffff:127.0.0.1", 80, "127.0.0.1", 5000)
					CONN(3, "server", "127.0.0.1", 80, "127.0.0.1", 5001)
					TX(1, 1) TX(2, 2) TX(3, 3));
	struct sc_har_stats st;
	struct sc_har_opts all = dflt;
	char *s = har(db, &dflt, &st);

	/* Connection 2 mirrors 1; connection 3's client was not recorded. */
	cr_assert_eq(st.entries, 2);
	cr_assert_eq(st.skipped, 1);
	cr_assert_not_null(strstr(s, "\"_transactionId\": 1,"));
	cr_assert_null(strstr(s, "\"_transactionId\": 2,"));
	cr_assert_not_null(strstr(s, "\"_transactionId\": 3,"));
	free(s);
	all.roles = SC_HAR_ROLES_ALL;
	s = har(db, &all, &st);
	cr_assert_eq(st.entries, 3);
	free(s);
	sc_db_close(db);
}

Test(har_write, entry_fields)
{
	struct sc_db *db = mkdb(CAPTURE CONN(1, "client", "127.0.0.1", 5000, "127.0.0.1", 80) TX(1, 1));
	char *s = har(db, &dflt, NULL);

	cr_assert_not_null(strstr(s, "\"startedDateTime\": \"2023-11-14T22:13:20.123Z\""), "%s", s);
	cr_assert_not_null(strstr(s, "\"time\": 4.000000,"));
	cr_assert_not_null(strstr(s, "\"url\": \"http://h:1/p?a=1&b=%41+c\""));
	cr_assert_not_null(strstr(s, "{\"name\": \"a\", \"value\": \"1\"}, {\"name\": \"b\", \"value\": \"A c\"}"));
	cr_assert_not_null(strstr(s, "\"send\": 1.000000, \"wait\": 2.500000, \"receive\": 0.500000"), "%s", s);
	cr_assert_not_null(strstr(s, "\"serverIPAddress\": \"127.0.0.1\""));
	cr_assert_not_null(strstr(s, "\"connection\": \"1\""));
	cr_assert_not_null(strstr(s, "\"version\": \"1.2\""));
	free(s);
	sc_db_close(db);
}

#define HDR(tx, dir, idx, name, value, trailer, ni, unknown)                                                      \
	"INSERT INTO headers VALUES (" #tx ", '" dir "', " #idx ", " name ", " value ", " #trailer ", " #ni ", " \
	#unknown ");"

Test(har_write, redaction_unknown_fields_trailers_and_latin1)
{
	struct sc_db *db = mkdb(
		CAPTURE CONN(1, "client", "127.0.0.1", 5000, "127.0.0.1", 80) TX(1, 1)
		HDR(1, "request", 0, "'Host'", "'h:1'", 0, 0, 0)
		HDR(1, "request", 1, "'authorization'", "'Bearer x'", 0, 0, 0)
		HDR(1, "request", 2, "'Cookie'", "'a=b; c=d'", 0, 0, 0)
		HDR(1, "request", 3, "'x-secret'", "'s1'", 0, 1, 0)
		HDR(1, "request", 4, "'X-Mine'", "'m'", 0, 0, 0)
		HDR(1, "request", 5, "NULL", "'leak?'", 0, 0, 1)
		HDR(1, "request", 6, "'x-known'", "NULL", 0, 0, 1)
		HDR(1, "request", 7, "'x-bin'", "CAST(x'41e942' AS TEXT)", 0, 0, 0)
		HDR(1, "response", 0, "'set-cookie'", "'sid=42; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT; HttpOnly'", 0, 0, 0)
		HDR(1, "response", 1, "'grpc-status'", "'0'", 1, 0, 0));
	const char *extra[] = { "x-MINE" };
	struct sc_har_opts o = dflt;
	struct sc_har_stats st;
	char *s = har(db, &o, &st);

	/* Without --redact everything is there. */
	cr_assert_not_null(strstr(s, "{\"name\": \"authorization\", \"value\": \"Bearer x\"}"));
	cr_assert_not_null(strstr(s, "{\"name\": \"a\", \"value\": \"b\"}, {\"name\": \"c\", \"value\": \"d\"}"));
	cr_assert_not_null(strstr(s, "{\"name\": \"\", \"value\": \"leak?\", \"_unknown\": true}"), "%s", s);
	cr_assert_not_null(strstr(s, "{\"name\": \"x-known\", \"value\": \"\", \"_unknown\": true}"));
	cr_assert_not_null(strstr(s, "{\"name\": \"x-bin\", \"value\": \"A\\u00e9B\", \"_latin1\": true}"));
	cr_assert_not_null(strstr(s, "{\"name\": \"sid\", \"value\": \"42\", \"path\": \"/\", "
				     "\"expires\": \"2015-10-21T07:28:00.000Z\", \"httpOnly\": true}"), "%s", s);
	cr_assert_not_null(strstr(s, "\"_trailers\": [ {"));
	cr_assert_not_null(strstr(s, "{\"name\": \"grpc-status\", \"value\": \"0\"}"));
	cr_assert_eq(st.unknown_headers, 2);
	cr_assert_eq(st.redacted, 0);
	cr_assert_eq(st.latin1_bytes, 1);
	free(s);

	o.redact = true;
	o.redact_headers = extra;
	o.n_redact_headers = 1;
	s = har(db, &o, &st);
	cr_assert_null(strstr(s, "Bearer"));
	cr_assert_null(strstr(s, "s1"));
	cr_assert_null(strstr(s, "leak?"));
	cr_assert_null(strstr(s, "\"42\""));
	cr_assert_not_null(strstr(s, "{\"name\": \"Host\", \"value\": \"h:1\"}"));
	cr_assert_not_null(strstr(s, "{\"name\": \"authorization\", \"value\": \"REDACTED\"}"));
	cr_assert_not_null(strstr(s, "{\"name\": \"Cookie\", \"value\": \"REDACTED\"}"));
	cr_assert_not_null(strstr(s, "{\"name\": \"x-secret\", \"value\": \"REDACTED\"}"));
	cr_assert_not_null(strstr(s, "{\"name\": \"X-Mine\", \"value\": \"REDACTED\"}"));
	cr_assert_not_null(strstr(s, "{\"name\": \"a\", \"value\": \"REDACTED\"}, {\"name\": \"c\", \"value\": \"REDACTED\"}"));
	cr_assert_not_null(strstr(s, "{\"name\": \"sid\", \"value\": \"REDACTED\", \"path\": \"/\""));
	cr_assert_not_null(strstr(s, "{\"name\": \"set-cookie\", \"value\": \"REDACTED\"}"));
	/* authorization, Cookie, x-secret, X-Mine, the nameless field, set-cookie. */
	cr_assert_eq(st.redacted, 6);
	free(s);
	sc_db_close(db);
}

Test(har_write, bodies_text_base64_and_cut)
{
	struct sc_db *db = mkdb(
		CAPTURE CONN(1, "client", "127.0.0.1", 5000, "127.0.0.1", 80) TX(1, 1) TX(2, 1)
		"UPDATE transactions SET content_type = 'application/octet-stream' WHERE id = 2;"
		/* "h\xc3\xa9llo" cut inside the é by the export's cap of 2 bytes. */
		"INSERT INTO bodies VALUES (1, 'response', CAST('h' || char(233) || 'llo' AS BLOB), 6, 0);"
		"INSERT INTO bodies VALUES (2, 'response', x'00ff10', 3, 0);");
	struct sc_har_opts o = dflt;
	struct sc_har_stats st;
	char *s = har(db, &o, &st);

	cr_assert_not_null(strstr(s, "\"size\": 6, "), "%s", s);
	cr_assert_not_null(strstr(s, "\"text\": \"h\xc3\xa9llo\" }"));
	cr_assert_not_null(strstr(s, "\"text\": \"AP8Q\", \"encoding\": \"base64\" }"), "%s", s);
	cr_assert_eq(st.bodies_cut, 0);
	free(s);

	o.max_body = 2;
	s = har(db, &o, &st);
	cr_assert_not_null(strstr(s, "\"text\": \"h\", \"comment\": \"cut at 1 of 6 bytes\" }"), "%s", s);
	cr_assert_not_null(strstr(s, "\"text\": \"AP8=\", \"encoding\": \"base64\", "
				     "\"comment\": \"cut at 2 of 3 bytes\" }"), "%s", s);
	cr_assert_eq(st.bodies_cut, 2);
	free(s);
	sc_db_close(db);
}
