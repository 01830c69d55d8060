/* test_diff.c - sc_diff_run() on small databases built with SQL inserts
 * (analyze/schema.sql), and SHA-256 against the NIST vectors.  Results are
 * rendered to a compact transcript and compared exactly. */
#include "sc_test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/db.h"
#include "analyze/diff.h"
#include "analyze/sha256.h"

/* ---- SHA-256 (FIPS 180-4; vectors from NIST's "Example Algorithms") ---------------- */

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void expect_sha(const void *p, size_t len, const char *want)
{
	uint8_t d[SC_SHA256_LEN];
	char got[2 * SC_SHA256_LEN + 1];

	sc_sha256_digest(p, len, d);
	hex(d, sizeof(d), got);
	cr_assert_str_eq(got, want);
	/* Fed in two pieces split at every offset: the same digest. */
	for (size_t cut = 0; cut <= len; cut++) {
		struct sc_sha256 s;

		sc_sha256_init(&s);
		sc_sha256_update(&s, p, cut);
		sc_sha256_update(&s, (const uint8_t *)p + cut, len - cut);
		sc_sha256_final(&s, d);
		hex(d, sizeof(d), got);
		cr_assert_str_eq(got, want, "split at %zu", cut);
	}
}

Test(sha256, nist_vectors)
{
	static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char m896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
				   "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	expect_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect_sha(m448, sizeof(m448) - 1, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	expect_sha(m896, sizeof(m896) - 1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

Test(sha256, one_million_a_in_odd_pieces)
{
	static uint8_t a[1000];
	struct sc_sha256 s;
	uint8_t d[SC_SHA256_LEN];
	char got[2 * SC_SHA256_LEN + 1];
	size_t left = 1000000, piece = 1;

	memset(a, 'a', sizeof(a));
	sc_sha256_init(&s);
	while (left) {
		size_t n = piece < left ? piece : left;

		sc_sha256_update(&s, a, n);
		left -= n;
		piece = piece % 983 + 13; /* 13..995 bytes: pieces that straddle blocks */
	}
	sc_sha256_final(&s, d);
	hex(d, sizeof(d), got);
	cr_assert_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(sha256, padding_edges)
{
	/* 55, 56, 63, 64 and 65 bytes: one or two padding blocks (Python's
	 * hashlib gave the expected values). */
	static const char *const want[] = {
		"9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
		"b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
		"7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
		"ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
		"635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
	};
	static const size_t lens[] = { 55, 56, 63, 64, 65 };
	char buf[65];

	memset(buf, 'a', sizeof(buf));
	for (size_t i = 0; i < 5; i++)
		expect_sha(buf, lens[i], want[i]);
}

/* ---- Databases --------------------------------------------------------------------------- */

static struct sc_db *db_new(void)
{
	struct sc_diag diag = { 0 };
	struct sc_db *db = sc_db_open(":memory:", &diag);

	cr_assert_not_null(db, "%s", diag.msg);
	return db;
}

static void sql(struct sc_db *db, const char *fmt, ...)
{
	va_list ap;
	char *q, *err = NULL;

	va_start(ap, fmt);
	q = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	cr_assert_not_null(q);
	cr_assert_eq(sqlite3_exec(sc_db_handle(db), q, NULL, NULL, &err), SQLITE_OK, "%s: %s", q, err ? err : "");
	sqlite3_free(q);
}

/* A connection on 127.0.0.1 (pcap role 'network' leaves lport/rport as the
 * client's and the server's). */
static void conn(struct sc_db *db, int id, const char *role, int lport, int rport, long long open_ns)
{
	sql(db,
	    "INSERT INTO connections (id, capture_id, source_id, role, family, local_addr, local_port, remote_addr, "
	    "remote_port, protocol, open_ns, midstream, client_bytes, server_bytes, client_gaps, server_gaps, "
	    "client_gap_bytes, server_gap_bytes, transactions) VALUES (%d, 1, %d, %Q, 'ipv4', '127.0.0.1', %d, "
	    "'127.0.0.1', %d, 'http/1', %lld, 0, 0, 0, 0, 0, 0, 0, 0)",
	    id, id, role, lport, rport, open_ns);
}

/* stream < 0 and status < 0 are NULL. */
static void tx(struct sc_db *db, int id, int conn_id, int stream, const char *method, const char *path, int status,
	       long long start_ns)
{
	char st[16] = "NULL", sid[16] = "NULL";

	if (status >= 0)
		snprintf(st, sizeof(st), "%d", status);
	if (stream >= 0)
		snprintf(sid, sizeof(sid), "%d", stream);
	sql(db,
	    "INSERT INTO transactions (id, capture_id, connection_id, stream_id, http_version, method, authority, path, "
	    "status, req_start_ns, complete, truncated, error, headers_incomplete) VALUES (%d, 1, %d, %s, %Q, %Q, "
	    "'h', %Q, %s, %lld, 1, 0, 0, 0)",
	    id, conn_id, sid, stream >= 0 ? "HTTP/2" : "HTTP/1.1", method, path, st, start_ns);
}

static void hdr(struct sc_db *db, int txid, const char *dir, int idx, const char *name, const char *value, int trailer)
{
	sql(db,
	    "INSERT INTO headers (transaction_id, direction, idx, name, value, is_trailer, never_indexed, hpack_unknown) "
	    "VALUES (%d, %Q, %d, %Q, %Q, %d, 0, 0)",
	    txid, dir, idx, name, value, trailer);
}

/* `stored` bytes of `data` kept of a body of `length` bytes. */
static void body(struct sc_db *db, int txid, const char *dir, const char *data, size_t stored, long long length)
{
	sqlite3_stmt *st;

	sql(db, "DELETE FROM bodies WHERE transaction_id = %d AND direction = %Q", txid, dir);
	cr_assert_eq(sqlite3_prepare_v2(sc_db_handle(db),
					"INSERT INTO bodies (transaction_id, direction, data, length, truncated) "
					"VALUES (?1, ?2, ?3, ?4, ?5)",
					-1, &st, NULL),
		     SQLITE_OK);
	sqlite3_bind_int(st, 1, txid);
	sqlite3_bind_text(st, 2, dir, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, data, (int)stored, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, length);
	sqlite3_bind_int(st, 5, (long long)stored < length);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void text_body(struct sc_db *db, int txid, const char *text)
{
	body(db, txid, "response", text, strlen(text), (long long)strlen(text));
	sql(db, "UPDATE headers SET value = '%d' WHERE transaction_id = %d AND name = 'Content-Length'",
	    (int)strlen(text), txid);
}

/* A complete transaction with the usual headers and a small text body. */
static void full_tx(struct sc_db *db, int id, int conn_id, const char *method, const char *path, long long start_ns,
		    const char *day)
{
	char b[64];

	tx(db, id, conn_id, -1, method, path, 200, start_ns);
	hdr(db, id, "request", 0, "Host", "h", 0);
	hdr(db, id, "request", 1, "User-Agent", "test/1", 0);
	hdr(db, id, "response", 0, "Server", "srv/1", 0);
	hdr(db, id, "response", 1, "Date", day, 0);
	hdr(db, id, "response", 2, "Content-Type", "text/plain", 0);
	hdr(db, id, "response", 3, "Content-Length", "0", 0);
	snprintf(b, sizeof(b), "body of %s\n", path);
	text_body(db, id, b);
}

/* The reference traffic: three client connections, and the server side of
 * the first one (a mirror that must not count: its content differs between
 * A and B on purpose).
 *   connection 1: GET /a, GET /b, GET /c
 *   connection 3: GET /d, POST /e
 *   connection 4: GET /f */
static struct sc_db *base(const char *day)
{
	struct sc_db *db = db_new();

	sql(db, "INSERT INTO captures (id, path, format) VALUES (1, %Q, 'skc')", day);
	conn(db, 1, "client", 40000, 8000, 100);
	conn(db, 2, "server", 8000, 40000, 101);
	conn(db, 3, "client", 40001, 8000, 200);
	conn(db, 4, "client", 40002, 8000, 300);
	full_tx(db, 1, 1, "GET", "/a", 110, day);
	full_tx(db, 2, 1, "GET", "/b", 120, day);
	full_tx(db, 3, 1, "GET", "/c", 130, day);
	tx(db, 4, 2, -1, "GET", day, 500, 111); /* server side: path differs per run */
	full_tx(db, 5, 3, "GET", "/d", 210, day);
	full_tx(db, 6, 3, "POST", "/e", 220, day);
	full_tx(db, 7, 4, "GET", "/f", 310, day);
	return db;
}

/* ---- Transcripts ------------------------------------------------------------------------- */

struct out {
	char *s;
	size_t len;
	FILE *f;
};

static void put(FILE *f, const struct sc_diff_str *s)
{
	if (s->known)
		fwrite(s->p, 1, s->len, f);
	else
		fputs("?", f);
}

static const char *const dirs[] = { "request", "response" };
static const char *const texts[] = { "none", "lines", "too_big", "too_many" };

/* One line per entry, indented lines for its details, and a summary. */
static char *render(const struct sc_diff_result *r)
{
	struct out o = { 0 };

	o.f = open_memstream(&o.s, &o.len);
	cr_assert_not_null(o.f);
	for (size_t i = 0; i < r->n_entries; i++) {
		const struct sc_diff_entry *e = &r->entries[i];

		fputs(e->kind == SC_DIFF_CHANGED ? "changed " : e->kind == SC_DIFF_ADDED ? "added " : "removed ", o.f);
		put(o.f, &e->method);
		fputc(' ', o.f);
		put(o.f, &e->path);
		if (e->kind != SC_DIFF_ADDED)
			fprintf(o.f, " A%lld#%u", (long long)e->a.conn_id, e->a.index);
		if (e->kind != SC_DIFF_REMOVED)
			fprintf(o.f, " B%lld#%u", (long long)e->b.conn_id, e->b.index);
		if (e->status_changed)
			fprintf(o.f, " status %d -> %d", e->status_a, e->status_b);
		fputc('\n', o.f);
		for (size_t k = 0; k < e->n_fields; k++) {
			const struct sc_diff_field *f = &e->fields[k];

			fprintf(o.f, "  %s%s ", dirs[f->dir], f->trailer ? " trailer" : "");
			put(o.f, &f->name);
			if (f->op == SC_DIFF_OP_CHANGED) {
				fputs(": ", o.f);
				put(o.f, &f->a);
				fputs(" -> ", o.f);
				put(o.f, &f->b);
			} else if (f->op == SC_DIFF_OP_ADDED) {
				fputs(" added: ", o.f);
				put(o.f, &f->b);
			} else {
				fputs(" removed: ", o.f);
				put(o.f, &f->a);
			}
			fputc('\n', o.f);
		}
		for (size_t k = 0; k < e->n_bodies; k++) {
			const struct sc_diff_body *b = &e->bodies[k];

			fprintf(o.f, "  %s body %llu/%llu -> %llu/%llu%s %s\n", dirs[b->dir],
				(unsigned long long)b->a.stored, (unsigned long long)b->a.length,
				(unsigned long long)b->b.stored, (unsigned long long)b->b.length,
				b->limited ? " limited" : "", texts[b->text]);
			for (size_t l = 0; l < b->n_lines; l++) {
				fputs("    ", o.f);
				put(o.f, &b->lines[l]);
				fputc('\n', o.f);
			}
		}
	}
	fprintf(o.f, "%llu equal, %llu changed, %llu added, %llu removed, %llu limited%s\n",
		(unsigned long long)r->equal, (unsigned long long)r->changed, (unsigned long long)r->added,
		(unsigned long long)r->removed, (unsigned long long)r->limited, r->approximate ? ", approximate" : "");
	cr_assert_eq(fclose(o.f), 0);
	return o.s;
}

/* Diff a and b (then free both) and compare the transcript. */
static void expect_diff_opts(struct sc_db *a, struct sc_db *b, const struct sc_diff_opts *o, const char *want)
{
	struct sc_diff_result r;
	struct sc_diag diag = { 0 };
	char *got;

	cr_assert_eq(sc_diff_run(sc_db_handle(a), sc_db_handle(b), o, &r, &diag), 0, "%s", diag.msg);
	got = render(&r);
	cr_assert_str_eq(got, want);
	free(got);
	sc_diff_result_fini(&r);
	sc_db_close(a);
	sc_db_close(b);
}

static void expect_diff(struct sc_db *a, struct sc_db *b, const char *want)
{
	expect_diff_opts(a, b, NULL, want);
}

/* ---- Matching ----------------------------------------------------------------------------- */

Test(diff, equal_runs_differ_only_in_date_and_the_mirrored_side)
{
	expect_diff(base("Mon"), base("Tue"), "6 equal, 0 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, a_database_against_itself)
{
	struct sc_db *a = base("Mon");
	struct sc_diff_result r;
	struct sc_diag diag = { 0 };

	cr_assert_eq(sc_diff_run(sc_db_handle(a), sc_db_handle(a), NULL, &r, &diag), 0, "%s", diag.msg);
	cr_assert_eq(r.n_entries, 0);
	cr_assert_eq(r.equal, 6);
	cr_assert_eq(r.conns_a, 3, "the mirrored server connection is left out");
	cr_assert_eq(r.tx_a, 6);
	sc_diff_result_fini(&r);
	sc_db_close(a);
}

Test(diff, changed_status)
{
	struct sc_db *b = base("Tue");

	sql(b, "UPDATE transactions SET status = 404 WHERE id = 2");
	expect_diff(base("Mon"), b,
		    "changed GET /b A1#2 B1#2 status 200 -> 404\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, header_added_removed_changed)
{
	struct sc_db *b = base("Tue");

	sql(b, "UPDATE headers SET value = 'text/html' WHERE transaction_id = 3 AND name = 'Content-Type'");
	sql(b, "DELETE FROM headers WHERE transaction_id = 3 AND name = 'Server'");
	hdr(b, 3, "response", 9, "X-New", "1", 0);
	hdr(b, 3, "request", 9, "accept", "*/*", 0);
	/* Names compare in any case; the order of different names is free. */
	sql(b, "DELETE FROM headers WHERE transaction_id = 3 AND name = 'User-Agent'");
	hdr(b, 3, "request", 10, "user-agent", "test/1", 0);
	expect_diff(base("Mon"), b,
		    "changed GET /c A1#3 B1#3\n"
		    "  request accept added: */*\n"
		    "  response server removed: srv/1\n"
		    "  response content-type: text/plain -> text/html\n"
		    "  response x-new added: 1\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

/* B is the same traffic sent to another port: every authority and Host
 * differs.  By default nothing matches; --ignore-authority matches by method
 * and path and leaves Host out, so only the real change is left. */
Test(diff, another_authority_matches_with_ignore_authority)
{
	struct sc_diff_opts o = { .ignore_authority = true };
	struct sc_db *b = base("Tue");

	sql(b, "UPDATE transactions SET authority = 'h:8081'");
	expect_diff(base("Mon"), b,
		    "removed GET /a A1#1\n"
		    "removed GET /b A1#2\n"
		    "removed GET /c A1#3\n"
		    "removed GET /d A3#1\n"
		    "removed POST /e A3#2\n"
		    "removed GET /f A4#1\n"
		    "added GET /a B1#1\n"
		    "added GET /b B1#2\n"
		    "added GET /c B1#3\n"
		    "added GET /d B3#1\n"
		    "added POST /e B3#2\n"
		    "added GET /f B4#1\n"
		    "0 equal, 0 changed, 6 added, 6 removed, 0 limited\n");
	b = base("Tue");
	sql(b, "UPDATE transactions SET authority = 'h:8081'");
	sql(b, "UPDATE headers SET value = 'h:8081' WHERE name = 'Host'");
	sql(b, "UPDATE transactions SET status = 404 WHERE id = 7");
	expect_diff_opts(base("Mon"), b, &o,
			 "changed GET /f A4#1 B4#1 status 200 -> 404\n"
			 "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, ignore_authority_leaves_out_host_and_the_authority_pseudo_header)
{
	struct sc_diff_opts o = { .ignore_authority = true }, plain = { 0 };

	cr_assert(sc_diff_header_ignored(&o, "Host", 4));
	cr_assert(sc_diff_header_ignored(&o, ":authority", 10));
	cr_assert_not(sc_diff_header_ignored(&o, "host-name", 9));
	cr_assert_not(sc_diff_header_ignored(&plain, "host", 4));
	cr_assert_not(sc_diff_header_ignored(&plain, ":authority", 10));
}

Test(diff, volatile_header_ignored_unless_asked)
{
	struct sc_diff_opts o = { .no_default_ignore = true };

	expect_diff(base("Mon"), base("Tue"), "6 equal, 0 changed, 0 added, 0 removed, 0 limited\n");
	{
		struct sc_db *a = base("Mon"), *b = base("Tue");

		sql(a, "DELETE FROM transactions WHERE id <> 1");
		sql(b, "DELETE FROM transactions WHERE id <> 1");
		expect_diff_opts(a, b, &o,
				 "changed GET /a A1#1 B1#1\n"
				 "  response date: Mon -> Tue\n"
				 "0 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
	}
}

Test(diff, ignore_header_option_is_case_insensitive)
{
	static const char *const ign[] = { "CONTENT-type", "x-trace" };
	struct sc_diff_opts o = { .ignore = ign, .n_ignore = 2 };
	struct sc_db *b = base("Tue");

	sql(b, "UPDATE headers SET value = 'text/html' WHERE name = 'Content-Type'");
	hdr(b, 7, "response", 8, "X-Trace", "abc", 0);
	expect_diff_opts(base("Mon"), b, &o, "6 equal, 0 changed, 0 added, 0 removed, 0 limited\n");
	cr_assert(sc_diff_header_ignored(NULL, "Date", 4));
	cr_assert(sc_diff_header_ignored(NULL, "TRACEPARENT", 11));
	cr_assert(!sc_diff_header_ignored(NULL, "set-cookie", 10));
	cr_assert(!sc_diff_header_ignored(NULL, "dat", 3));
	cr_assert(sc_diff_header_ignored(&o, "x-TRACE", 7));
}

Test(diff, inserted_request_does_not_shift_the_rest)
{
	struct sc_db *b = base("Tue");

	full_tx(b, 100, 1, "GET", "/x", 115, "Tue");
	expect_diff(base("Mon"), b,
		    "added GET /x B1#2\n"
		    "6 equal, 0 changed, 1 added, 0 removed, 0 limited\n");
}

Test(diff, removed_request_in_the_middle)
{
	struct sc_db *b = base("Tue");

	sql(b, "DELETE FROM transactions WHERE id = 2");
	expect_diff(base("Mon"), b,
		    "removed GET /b A1#2\n"
		    "5 equal, 0 changed, 0 added, 1 removed, 0 limited\n");
}

Test(diff, removed_connection)
{
	struct sc_db *b = base("Tue");

	sql(b, "DELETE FROM transactions WHERE connection_id = 3");
	sql(b, "DELETE FROM connections WHERE id = 3");
	expect_diff(base("Mon"), b,
		    "removed GET /d A3#1\n"
		    "removed POST /e A3#2\n"
		    "4 equal, 0 changed, 0 added, 2 removed, 0 limited\n");
}

Test(diff, added_connection_and_a_changed_one_in_the_same_gap)
{
	struct sc_db *b = base("Tue");

	/* Connection 3 gains a request; a new connection 9 opens before it. */
	conn(b, 9, "client", 40009, 8000, 150);
	full_tx(b, 90, 9, "GET", "/new", 160, "Tue");
	full_tx(b, 91, 3, "GET", "/d2", 215, "Tue");
	expect_diff(base("Mon"), b,
		    "added GET /new B9#1\n"
		    "added GET /d2 B3#2\n"
		    "6 equal, 0 changed, 2 added, 0 removed, 0 limited\n");
}

Test(diff, requests_that_moved_to_another_connection_are_matched)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");

	/* B's server closed connection 1 after /b: /c went on a new one. */
	conn(b, 8, "client", 40008, 8000, 140);
	sql(b, "UPDATE transactions SET connection_id = 8, req_start_ns = 141 WHERE id = 3");
	sql(b, "UPDATE transactions SET status = 201 WHERE id = 3");
	expect_diff(a, b,
		    "changed GET /c A1#3 B8#1 status 200 -> 201\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, parallel_connections_opened_in_the_other_order)
{
	struct sc_db *b = base("Tue");

	sql(b, "UPDATE connections SET open_ns = 400 WHERE id = 3");
	expect_diff(base("Mon"), b, "6 equal, 0 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, one_request_connections_run_concurrently_match_in_any_order)
{
	struct sc_db *a = db_new(), *b = db_new();
	static const char *const pa[] = { "/index", "/b", "/a", "/c", "/gone", "/post" };
	static const char *const pb[] = { "/a", "/c", "/b", "/index", "/post", "/gone" };

	/* A replay of six HTTP/1.0 connections: opened at once, in another
	 * order.  Myers over the connections keeps only an ordered subset;
	 * the rest must still find their partners. */
	sql(a, "INSERT INTO captures (id, path, format) VALUES (1, 'a', 'pcap')");
	sql(b, "INSERT INTO captures (id, path, format) VALUES (1, 'b', 'pcap')");
	for (int i = 0; i < 6; i++) {
		conn(a, i + 1, "network", 40000 + i, 80, 10 + i);
		conn(b, i + 1, "network", 41000 + i, 80, 10 + i);
		tx(a, i + 1, i + 1, -1, "GET", pa[i], 200, 11 + i);
		tx(b, i + 1, i + 1, -1, "GET", pb[i], strcmp(pb[i], "/gone") ? 200 : 404, 11 + i);
	}
	expect_diff(a, b,
		    "changed GET /gone A5#1 B6#1 status 200 -> 404\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, server_side_counts_when_no_client_mirrors_it)
{
	struct sc_db *a = db_new(), *b = db_new();

	/* A server recorded alone: its accepted connections are the traffic. */
	sql(a, "INSERT INTO captures (id, path, format) VALUES (1, 'a', 'skc')");
	sql(b, "INSERT INTO captures (id, path, format) VALUES (1, 'b', 'skc')");
	conn(a, 1, "server", 8000, 50000, 10);
	conn(b, 1, "server", 8000, 50007, 10);
	tx(a, 1, 1, -1, "GET", "/s", 200, 11);
	tx(b, 1, 1, -1, "GET", "/s", 503, 11);
	expect_diff(a, b,
		    "changed GET /s A1#1 B1#1 status 200 -> 503\n"
		    "0 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, http2_streams_in_request_order_then_stream_id)
{
	struct sc_db *a = db_new(), *b = db_new();

	sql(a, "INSERT INTO captures (id, path, format) VALUES (1, 'a', 'pcap')");
	sql(b, "INSERT INTO captures (id, path, format) VALUES (1, 'b', 'pcap')");
	conn(a, 1, "network", 40000, 443, 10);
	conn(b, 1, "network", 40000, 443, 10);
	/* One read carried streams 1, 3 and 5: same start, rows in another order. */
	tx(a, 1, 1, 5, "GET", "/s5", 200, 20);
	tx(a, 2, 1, 1, "GET", "/s1", 200, 20);
	tx(a, 3, 1, 3, "GET", "/s3", 200, 20);
	tx(b, 1, 1, 1, "GET", "/s1", 200, 20);
	tx(b, 2, 1, 5, "GET", "/s5", 200, 20);
	expect_diff(a, b,
		    "removed GET /s3 A1#2\n"
		    "2 equal, 0 changed, 0 added, 1 removed, 0 limited\n");
}

Test(diff, repeated_header_values_are_aligned_and_trailers_apart)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");

	hdr(a, 7, "response", 10, "Set-Cookie", "a=1", 0);
	hdr(a, 7, "response", 11, "Set-Cookie", "b=2", 0);
	hdr(a, 7, "response", 12, "grpc-status", "0", 1);
	hdr(b, 7, "response", 10, "Set-Cookie", "a=1", 0);
	hdr(b, 7, "response", 11, "Set-Cookie", "c=3", 0);
	hdr(b, 7, "response", 12, "Set-Cookie", "b=2", 0);
	hdr(b, 7, "response", 13, "grpc-status", "2", 1);
	hdr(b, 7, "response", 14, "grpc-message", "boom", 1);
	expect_diff(a, b,
		    "changed GET /f A4#1 B4#1\n"
		    "  response set-cookie added: c=3\n"
		    "  response trailer grpc-status: 0 -> 2\n"
		    "  response trailer grpc-message added: boom\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, unknown_values_compare_only_to_unknown)
{
	struct sc_db *b = base("Tue");

	sql(b, "UPDATE headers SET value = NULL, hpack_unknown = 1 WHERE transaction_id = 1 AND name = 'Server'");
	expect_diff(base("Mon"), b,
		    "changed GET /a A1#1 B1#1\n"
		    "  response server: srv/1 -> ?\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

/* ---- Bodies ------------------------------------------------------------------------------- */

static const char ten[] = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n";

Test(diff, body_change_gives_exact_unified_lines)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");
	struct sc_diff_result r;
	struct sc_diag diag = { 0 };
	uint8_t want[SC_SHA256_LEN];
	static const char changed[] = "l1\nl2\nl3\nl4\nL5\nl6\nl7\nl8\nl9\nl10\nl11\n";

	text_body(a, 5, ten);
	text_body(b, 5, changed);
	cr_assert_eq(sc_diff_run(sc_db_handle(a), sc_db_handle(b), NULL, &r, &diag), 0, "%s", diag.msg);
	cr_assert_eq(r.n_entries, 1);
	cr_assert_eq(r.entries[0].n_bodies, 1);
	sc_sha256_digest(changed, strlen(changed), want);
	cr_assert_arr_eq(r.entries[0].bodies[0].b.sha256, want, sizeof(want));
	sc_sha256_digest(ten, strlen(ten), want);
	cr_assert_arr_eq(r.entries[0].bodies[0].a.sha256, want, sizeof(want));
	sc_diff_result_fini(&r);
	/* Same as `diff -u` (and Python's difflib.unified_diff): one hunk, as
	 * the changes are 5 unchanged lines apart. */
	expect_diff(a, b,
		    "changed GET /d A3#1 B3#1\n"
		    "  response content-length: 31 -> 35\n"
		    "  response body 31/31 -> 35/35 lines\n"
		    "    @@ -2,9 +2,10 @@\n"
		    "     l2\n"
		    "     l3\n"
		    "     l4\n"
		    "    -l5\n"
		    "    +L5\n"
		    "     l6\n"
		    "     l7\n"
		    "     l8\n"
		    "     l9\n"
		    "     l10\n"
		    "    +l11\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, far_apart_changes_make_two_hunks_and_no_newline_is_marked)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");
	struct sc_diff_opts o = { .ignore = (const char *const[]){ "content-length" }, .n_ignore = 1 };

	text_body(a, 5, "x\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nlast");
	text_body(b, 5, "y\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nLAST");
	expect_diff_opts(a, b, &o,
			 "changed GET /d A3#1 B3#1\n"
			 "  response body 30/30 -> 30/30 lines\n"
			 "    @@ -1,4 +1,4 @@\n"
			 "    -x\n"
			 "    +y\n"
			 "     l2\n"
			 "     l3\n"
			 "     l4\n"
			 "    @@ -7,4 +7,4 @@\n"
			 "     l7\n"
			 "     l8\n"
			 "     l9\n"
			 "    -last\n"
			 "    \\ No newline at end of file\n"
			 "    +LAST\n"
			 "    \\ No newline at end of file\n"
			 "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, empty_side_hunk_ranges)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");
	struct sc_diff_opts o = { .ignore = (const char *const[]){ "content-length" }, .n_ignore = 1 };

	sql(a, "DELETE FROM bodies WHERE transaction_id = 5");
	text_body(b, 5, "only\n");
	expect_diff_opts(a, b, &o,
			 "changed GET /d A3#1 B3#1\n"
			 "  response body 0/0 -> 5/5 lines\n"
			 "    @@ -0,0 +1 @@\n"
			 "    +only\n"
			 "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, binary_bodies_compare_by_hash_only)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");

	sql(a, "UPDATE headers SET value = 'application/octet-stream' WHERE transaction_id = 5 AND name = 'Content-Type'");
	sql(b, "UPDATE headers SET value = 'application/octet-stream' WHERE transaction_id = 5 AND name = 'Content-Type'");
	body(a, 5, "response", "\x00\x01\x02", 3, 3);
	body(b, 5, "response", "\x00\x01\x03", 3, 3);
	expect_diff(a, b,
		    "changed GET /d A3#1 B3#1\n"
		    "  response body 3/3 -> 3/3 none\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, content_encoded_text_is_not_line_diffed)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");

	hdr(a, 5, "response", 7, "Content-Encoding", "gzip", 0);
	hdr(b, 5, "response", 7, "Content-Encoding", "gzip", 0);
	text_body(b, 5, "body of /D\n");
	expect_diff(a, b,
		    "changed GET /d A3#1 B3#1\n"
		    "  response body 11/11 -> 11/11 none\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, truncated_bodies_compare_what_was_stored)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");

	/* Same length, same stored prefix: equal, but the comparison is limited. */
	body(a, 5, "response", "0123456789", 10, 100);
	body(b, 5, "response", "0123456789", 10, 100);
	/* Another length: different, and limited. */
	body(a, 6, "response", "abcdefghij", 10, 100);
	body(b, 6, "response", "abcdefghij", 10, 200);
	expect_diff(a, b,
		    "changed POST /e A3#2 B3#2\n"
		    "  response body 10/100 -> 10/200 limited too_big\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 2 limited\n");
}

Test(diff, text_over_the_cap_is_not_line_diffed)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");
	struct sc_diff_opts o = { .text_cap = 8 };

	expect_diff_opts(a, b, &o, "6 equal, 0 changed, 0 added, 0 removed, 0 limited\n");
	a = base("Mon");
	b = base("Tue");
	text_body(b, 1, "body of /A\n");
	expect_diff_opts(a, b, &o,
			 "changed GET /a A1#1 B1#1\n"
			 "  response body 11/11 -> 11/11 too_big\n"
			 "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

Test(diff, request_bodies_are_compared_too)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");

	hdr(a, 6, "request", 5, "Content-Type", "application/x-www-form-urlencoded", 0);
	hdr(b, 6, "request", 5, "Content-Type", "application/x-www-form-urlencoded", 0);
	body(a, 6, "request", "q=1", 3, 3);
	body(b, 6, "request", "q=2", 3, 3);
	expect_diff(a, b,
		    "changed POST /e A3#2 B3#2\n"
		    "  request body 3/3 -> 3/3 lines\n"
		    "    @@ -1 +1 @@\n"
		    "    -q=1\n"
		    "    \\ No newline at end of file\n"
		    "    +q=2\n"
		    "    \\ No newline at end of file\n"
		    "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}

/* ---- The line alignment is minimal and its hunks rebuild B ----------------------------------- */

static size_t lcs(const char *a, size_t n, const char *b, size_t m)
{
	size_t *dp = calloc((n + 1) * (m + 1), sizeof(*dp)), r;

	cr_assert_not_null(dp);
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			dp[i * (m + 1) + j] = a[i] == b[j] ? dp[(i + 1) * (m + 1) + j + 1] + 1
				: dp[(i + 1) * (m + 1) + j] > dp[i * (m + 1) + j + 1] ? dp[(i + 1) * (m + 1) + j]
				: dp[i * (m + 1) + j + 1];
	r = dp[0];
	free(dp);
	return r;
}

/* Lines of one character each: "abc" is "a\nb\nc\n". */
static char *as_lines(const char *s, size_t n)
{
	char *t = malloc(2 * n + 1);

	cr_assert_not_null(t);
	for (size_t i = 0; i < n; i++) {
		t[2 * i] = s[i];
		t[2 * i + 1] = '\n';
	}
	t[2 * n] = '\0';
	return t;
}

Test(diff, random_line_diffs_are_minimal_and_apply)
{
	unsigned seed = 12345;

	for (int round = 0; round < 200; round++) {
		char sa[40], sb[40], rebuilt[40];
		size_t n, m, minus = 0, plus = 0, ai = 0, nb = 0, l;
		struct sc_db *a = base("Mon"), *b = base("Tue");
		struct sc_diff_opts o = { .ignore = (const char *const[]){ "content-length" }, .n_ignore = 1 };
		struct sc_diff_result r;
		struct sc_diag diag = { 0 };
		char *ta, *tb;

		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % 30;
		seed = seed * 1103515245 + 12345;
		m = (seed >> 16) % 30;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			sa[i] = (char)('a' + (seed >> 16) % 4);
		}
		/* B: A with random edits, or unrelated. */
		for (size_t i = 0; i < m; i++) {
			seed = seed * 1103515245 + 12345;
			sb[i] = i < n && (seed >> 16) % 3 ? sa[i] : (char)('a' + (seed >> 20) % 4);
		}
		ta = as_lines(sa, n);
		tb = as_lines(sb, m);
		text_body(a, 7, ta);
		text_body(b, 7, tb);
		cr_assert_eq(sc_diff_run(sc_db_handle(a), sc_db_handle(b), &o, &r, &diag), 0, "%s", diag.msg);
		if (n == m && memcmp(sa, sb, n) == 0) {
			cr_assert_eq(r.n_entries, 0);
		} else {
			const struct sc_diff_body *bd;

			cr_assert_eq(r.n_entries, 1);
			cr_assert_eq(r.entries[0].n_bodies, 1);
			bd = &r.entries[0].bodies[0];
			cr_assert_eq(bd->text, SC_DIFF_TEXT_LINES);
			/* Apply the hunks to A. */
			for (l = 0; l < bd->n_lines; l++) {
				const struct sc_diff_str *s = &bd->lines[l];

				if (s->p[0] == '@') {
					size_t start;

					cr_assert_eq(sscanf(s->p, "@@ -%zu", &start), 1);
					/* An empty A range names the line before it. */
					if (strncmp(s->p + 4 + strspn(s->p + 4, "0123456789"), ",0 ", 3) == 0)
						start++;
					while (ai + 1 < start)
						rebuilt[nb++] = sa[ai++];
				} else if (s->p[0] == ' ') {
					cr_assert_eq(s->p[1], sa[ai]);
					rebuilt[nb++] = sa[ai++];
				} else if (s->p[0] == '-') {
					cr_assert_eq(s->p[1], sa[ai]);
					ai++;
					minus++;
				} else if (s->p[0] == '+') {
					rebuilt[nb++] = s->p[1];
					plus++;
				}
			}
			while (ai < n)
				rebuilt[nb++] = sa[ai++];
			cr_assert_eq(nb, m, "round %d", round);
			cr_assert(memcmp(rebuilt, sb, m) == 0, "round %d: the hunks do not rebuild B", round);
			cr_assert_eq(minus, n - lcs(sa, n, sb, m), "round %d: not minimal", round);
			cr_assert_eq(plus, m - lcs(sa, n, sb, m), "round %d: not minimal", round);
		}
		sc_diff_result_fini(&r);
		free(ta);
		free(tb);
		sc_db_close(a);
		sc_db_close(b);
	}
}

Test(diff, transaction_alignment_is_minimal_on_random_sequences)
{
	unsigned seed = 777;

	for (int round = 0; round < 60; round++) {
		struct sc_db *a = db_new(), *b = db_new();
		char sa[60], sb[60];
		size_t n, m, common;
		struct sc_diff_result r;
		struct sc_diag diag = { 0 };

		sql(a, "INSERT INTO captures (id, path, format) VALUES (1, 'a', 'pcap')");
		sql(b, "INSERT INTO captures (id, path, format) VALUES (1, 'b', 'pcap')");
		conn(a, 1, "network", 1, 2, 1);
		conn(b, 1, "network", 1, 2, 1);
		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % 60;
		seed = seed * 1103515245 + 12345;
		m = (seed >> 16) % 60;
		for (size_t i = 0; i < n; i++) {
			char p[3] = { '/', 0, 0 };

			seed = seed * 1103515245 + 12345;
			sa[i] = (char)('a' + (seed >> 16) % 5);
			p[1] = sa[i];
			tx(a, (int)i + 1, 1, -1, "GET", p, 200, (long long)i + 10);
		}
		for (size_t i = 0; i < m; i++) {
			char p[3] = { '/', 0, 0 };

			seed = seed * 1103515245 + 12345;
			sb[i] = i < n && (seed >> 16) % 4 ? sa[i] : (char)('a' + (seed >> 20) % 5);
			p[1] = sb[i];
			tx(b, (int)i + 1, 1, -1, "GET", p, 200, (long long)i + 10);
		}
		common = lcs(sa, n, sb, m);
		cr_assert_eq(sc_diff_run(sc_db_handle(a), sc_db_handle(b), NULL, &r, &diag), 0, "%s", diag.msg);
		cr_assert_eq(r.equal, common, "round %d: %zu equal, lcs %zu, n %zu m %zu %.*s %.*s", round, (size_t)r.equal, common, n, m, (int)n, sa, (int)m, sb);
		cr_assert_eq(r.removed, n - common, "round %d", round);
		cr_assert_eq(r.added, m - common, "round %d", round);
		sc_diff_result_fini(&r);
		sc_db_close(a);
		sc_db_close(b);
	}
}

Test(diff, not_a_sockcap_database_is_an_error)
{
	sqlite3 *h;
	struct sc_db *b = base("Tue");
	struct sc_diff_result r;
	struct sc_diag diag = { 0 };

	cr_assert_eq(sqlite3_open(":memory:", &h), SQLITE_OK);
	cr_assert_lt(sc_diff_run(h, sc_db_handle(b), NULL, &r, &diag), 0);
	cr_assert_str_eq(diag.msg, "A: sqlite: reading connections: no such table: connections");
	cr_assert_eq(r.n_entries, 0);
	sqlite3_close(h);
	sc_db_close(b);
}

Test(diff, swapped_requests_within_a_connection_are_one_removed_one_added)
{
	struct sc_db *b = base("Tue");

	/* Order within a connection counts: /c now comes before /b. */
	sql(b, "UPDATE transactions SET req_start_ns = 125 WHERE id = 3");
	sql(b, "UPDATE transactions SET req_start_ns = 130 WHERE id = 2");
	expect_diff(base("Mon"), b,
		    "removed GET /b A1#2\n"
		    "added GET /b B1#3\n"
		    "5 equal, 0 changed, 1 added, 1 removed, 0 limited\n");
}

Test(diff, past_the_edit_bound_the_alignment_is_greedy_and_says_so)
{
	struct sc_db *a = db_new(), *b = db_new();
	struct sc_diff_result r;
	struct sc_diag diag = { 0 };

	/* A: 1500 x then 1500 y; B: the other way round.  The LCS is 1500 but
	 * the edit distance 3000 is over the bound (2048). */
	sql(a, "INSERT INTO captures (id, path, format) VALUES (1, 'a', 'pcap')");
	sql(b, "INSERT INTO captures (id, path, format) VALUES (1, 'b', 'pcap')");
	conn(a, 1, "network", 1, 2, 1);
	conn(b, 1, "network", 1, 2, 1);
	sql(a, "BEGIN");
	sql(b, "BEGIN");
	for (int i = 0; i < 3000; i++) {
		tx(a, i + 1, 1, -1, "GET", i < 1500 ? "/x" : "/y", 200, i + 10);
		tx(b, i + 1, 1, -1, "GET", i < 1500 ? "/y" : "/x", 200, i + 10);
	}
	sql(a, "COMMIT");
	sql(b, "COMMIT");
	cr_assert_eq(sc_diff_run(sc_db_handle(a), sc_db_handle(b), NULL, &r, &diag), 0, "%s", diag.msg);
	cr_assert(r.approximate);
	cr_assert_leq(r.equal, 1500);
	cr_assert_eq(r.equal + r.removed, 3000);
	cr_assert_eq(r.equal + r.added, 3000);
	sc_diff_result_fini(&r);
	sc_db_close(a);
	sc_db_close(b);
}

Test(diff, lines_budget_turns_a_line_diff_into_a_note)
{
	struct sc_db *a = base("Mon"), *b = base("Tue");
	struct sc_diff_opts o = { .lines_budget = 10 };

	text_body(b, 1, "body of /A\n");
	expect_diff_opts(a, b, &o,
			 "changed GET /a A1#1 B1#1\n"
			 "  response body 11/11 -> 11/11 too_many\n"
			 "5 equal, 1 changed, 0 added, 0 removed, 0 limited\n");
}
