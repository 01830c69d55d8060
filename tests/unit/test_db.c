/* test_db.c - the SQLite sink's header storage (header_blocks behind the
 * `headers` view) and the queue that runs a sink on its own thread
 * (analyze/sinkq.c): exact bytes back, same rows in the same order, errors
 * passed on. */
#include "sc_test.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/db.h"
#include "analyze/sinkq.h"

static struct sc_view sv(const char *s)
{
	return (struct sc_view){ (const uint8_t *)s, strlen(s) };
}

static struct sc_view bv(const void *p, size_t n)
{
	return (struct sc_view){ p, n };
}

/* Rows of a query, one line each: columns separated by '|', NULL as "NULL",
 * bytes outside printable ASCII as \xHH. */
static char *rows(struct sc_db *db, const char *q)
{
	static char out[1 << 16];
	sqlite3_stmt *s;
	size_t o = 0;

	cr_assert_eq(sqlite3_prepare_v2(sc_db_handle(db), q, -1, &s, NULL), SQLITE_OK, "%s: %s", q,
		     sqlite3_errmsg(sc_db_handle(db)));
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(s); i++) {
			const uint8_t *p;
			int n;

			if (i)
				out[o++] = '|';
			if (sqlite3_column_type(s, i) == SQLITE_NULL) {
				o += (size_t)snprintf(out + o, sizeof(out) - o, "NULL");
				continue;
			}
			p = sqlite3_column_text(s, i);
			n = sqlite3_column_bytes(s, i);
			for (int k = 0; k < n; k++) {
				if (p[k] >= 0x20 && p[k] < 0x7f)
					out[o++] = (char)p[k];
				else
					o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", p[k]);
			}
		}
		out[o++] = '\n';
		cr_assert_lt(o, sizeof(out) - 256);
	}
	out[o] = '\0';
	sqlite3_finalize(s);
	return out;
}

static struct sc_db *open_mem(struct sc_sink *sink)
{
	struct sc_capture_meta m = { .path = "/test/capture.skc", .format = "skc", .status = "complete" };
	struct sc_diag d = { 0 };
	struct sc_db *db = sc_db_open(":memory:", &d);

	cr_assert_not_null(db, "%s", d.msg);
	cr_assert_eq(sc_db_begin_capture(db, &m, 1 << 20, sink, &d), 0, "%s", d.msg);
	return db;
}

static void close_mem(struct sc_db *db)
{
	struct sc_capture_meta m = { .path = "/test/capture.skc", .format = "skc", .status = "complete" };
	struct sc_diag d = { 0 };

	cr_assert_eq(sc_db_end_capture(db, &m, true, &d), 0, "%s", d.msg);
}

/* One transaction whose header fields hold every kind of byte JSON must
 * escape, bytes that are not UTF-8, unknown parts and every flag. */
static void tricky_tx(struct sc_tx *t, struct sc_hdr *req, struct sc_hdr *resp, uint64_t conn_id)
{
	static const uint8_t latin1[] = { 'c', 'a', 'f', 0xe9 };
	static const uint8_t ctl[] = { 'a', 0x01, 0x1f, '\t', 0x7f, 'b' };

	memset(t, 0, sizeof(*t));
	t->conn_id = conn_id;
	t->version = "HTTP/2";
	t->stream_id = 1;
	t->method = sv("GET");
	t->path = sv("/x");
	t->status = 200;
	t->grpc_status = -1;
	req[0] = (struct sc_hdr){ sv("quote\"back\\slash"), sv("\"\\\""), 0 };
	req[1] = (struct sc_hdr){ sv("x-latin1"), bv(latin1, sizeof(latin1)), 0 };
	req[2] = (struct sc_hdr){ sv("x-ctl"), bv(ctl, sizeof(ctl)), SC_HDR_NEVER_INDEXED };
	req[3] = (struct sc_hdr){ { NULL, 0 }, sv("value-of-unknown-name"), SC_HDR_NAME_UNKNOWN };
	req[4] = (struct sc_hdr){ sv("x-empty"), sv(""), 0 };
	t->req_hdrs = (struct sc_hdr_list){ req, 5, 5 };
	resp[0] = (struct sc_hdr){ sv(":status"), sv("200"), 0 };
	resp[1] = (struct sc_hdr){ sv("server"), { NULL, 0 }, SC_HDR_VALUE_UNKNOWN };
	resp[2] = (struct sc_hdr){ { NULL, 0 }, { NULL, 0 }, SC_HDR_NAME_UNKNOWN | SC_HDR_VALUE_UNKNOWN };
	resp[3] = (struct sc_hdr){ sv("grpc-status"), sv("0"), SC_HDR_TRAILER };
	t->resp_hdrs = (struct sc_hdr_list){ resp, 4, 4 };
}

static const char tricky_rows[] =
	"request|0|quote\"back\\slash|\"\\\"|0|0|0\n"
	"request|1|x-latin1|caf\\xe9|0|0|0\n"
	"request|2|x-ctl|a\\x01\\x1f\\x09\\x7fb|0|1|0\n"
	"request|3|NULL|value-of-unknown-name|0|0|1\n"
	"request|4|x-empty||0|0|0\n"
	"response|0|:status|200|0|0|0\n"
	"response|1|server|NULL|0|0|1\n"
	"response|2|NULL|NULL|0|0|1\n"
	"response|3|grpc-status|0|1|0|0\n";

#define HDR_QUERY                                                                                  \
	"SELECT direction, idx, name, value, is_trailer, never_indexed, hpack_unknown FROM headers " \
	"WHERE transaction_id = 1 ORDER BY direction, idx"

Test(db, header_fields_come_back_byte_for_byte_through_the_view)
{
	struct sc_hdr req[5], resp[4];
	struct sc_sink sink;
	struct sc_db *db = open_mem(&sink);
	struct sc_conn c = { .role = SC_ROLE_CLIENT };
	struct sc_tx t;

	cr_assert_eq(sink.conn_begin(sink.ctx, &c), 0);
	tricky_tx(&t, req, resp, c.id);
	cr_assert_eq(sink.tx(sink.ctx, &t), 0);
	cr_assert_eq(sink.conn_end(sink.ctx, &c), 0);
	close_mem(db);
	cr_assert_str_eq(rows(db, HDR_QUERY), tricky_rows);
	/* The storage: one row, each message one JSON array. */
	cr_assert_str_eq(rows(db, "SELECT transaction_id, request IS NOT NULL, response IS NOT NULL FROM header_blocks"),
			 "1|1|1\n");
	cr_assert_str_eq(rows(db, "SELECT response FROM header_blocks"),
			 "[[\":status\",\"200\"],[\"server\",null,8],[null,null,12],[\"grpc-status\",\"0\",1]]\n");
	sc_db_close(db);
}

/* Every byte value but NUL, in names and values of every length up to 40,
 * fed through the sink: the view gives each field back exactly, and no
 * block is malformed JSON (one would break every query on the view). */
Test(db, random_header_bytes_come_back_exactly)
{
	enum { NTX = 50, NF = 40 };
	static uint8_t bytes[NTX][NF][2][40];
	static size_t lens[NTX][NF][2];
	struct sc_sink sink;
	struct sc_db *db = open_mem(&sink);
	struct sc_conn c = { .role = SC_ROLE_CLIENT };
	uint32_t seed = 12345;
	sqlite3_stmt *s;
	size_t seen = 0;

	cr_assert_eq(sink.conn_begin(sink.ctx, &c), 0);
	for (int t = 0; t < NTX; t++) {
		struct sc_hdr h[NF];
		struct sc_tx tx = { .conn_id = c.id, .version = "HTTP/2", .stream_id = 1, .grpc_status = -1 };

		for (int f = 0; f < NF; f++) {
			for (int k = 0; k < 2; k++) {
				seed = seed * 1103515245u + 12345u;
				lens[t][f][k] = (seed >> 16) % 41;
				for (size_t i = 0; i < lens[t][f][k]; i++) {
					seed = seed * 1103515245u + 12345u;
					bytes[t][f][k][i] = (uint8_t)(1 + (seed >> 16) % 255);
				}
			}
			h[f] = (struct sc_hdr){ bv(bytes[t][f][0], lens[t][f][0]), bv(bytes[t][f][1], lens[t][f][1]),
						0 };
		}
		tx.resp_hdrs = (struct sc_hdr_list){ h, NF, NF };
		cr_assert_eq(sink.tx(sink.ctx, &tx), 0);
	}
	close_mem(db);
	cr_assert_str_eq(rows(db, "SELECT count(*) FROM header_blocks WHERE NOT json_valid(response)"), "0\n");
	cr_assert_eq(sqlite3_prepare_v2(sc_db_handle(db),
					"SELECT transaction_id, idx, name, value FROM headers ORDER BY transaction_id, idx",
					-1, &s, NULL),
		     SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int t = sqlite3_column_int(s, 0) - 1, f = sqlite3_column_int(s, 1);

		cr_assert(t >= 0 && t < NTX && f >= 0 && f < NF);
		for (int k = 0; k < 2; k++) {
			const void *p = sqlite3_column_text(s, 2 + k);

			cr_assert_eq((size_t)sqlite3_column_bytes(s, 2 + k), lens[t][f][k], "tx %d field %d part %d", t, f, k);
			cr_assert_eq(memcmp(p, bytes[t][f][k], lens[t][f][k]), 0, "tx %d field %d part %d", t, f, k);
		}
		seen++;
	}
	sqlite3_finalize(s);
	cr_assert_eq(seen, (size_t)NTX * NF);
	sc_db_close(db);
}

Test(db, a_transaction_without_fields_has_no_header_row)
{
	struct sc_sink sink;
	struct sc_db *db = open_mem(&sink);
	struct sc_conn c = { .role = SC_ROLE_CLIENT };
	struct sc_tx t = { .version = "HTTP/1.1", .method = sv("GET"), .path = sv("/"), .grpc_status = -1 };

	cr_assert_eq(sink.conn_begin(sink.ctx, &c), 0);
	t.conn_id = c.id;
	cr_assert_eq(sink.tx(sink.ctx, &t), 0);
	close_mem(db);
	cr_assert_str_eq(rows(db, "SELECT count(*) FROM header_blocks"), "0\n");
	cr_assert_str_eq(rows(db, "SELECT count(*) FROM headers"), "0\n");
	sc_db_close(db);
}

Test(db, the_view_takes_inserts_updates_and_deletes)
{
	struct sc_sink sink;
	struct sc_db *db = open_mem(&sink);
	sqlite3 *h = sc_db_handle(db);

	close_mem(db);
	cr_assert_eq(sqlite3_exec(h,
				  "INSERT INTO headers (transaction_id, direction, idx, name, value, is_trailer, never_indexed, "
				  "hpack_unknown) VALUES (7, 'request', 0, 'a', '1', 0, 0, 0), (7, 'request', 1, 'b', '2', 0, 1, 0), "
				  "(7, 'request', 2, 'c', '3', 0, 0, 0), (7, 'response', 0, NULL, 'v', 0, 0, 1);"
				  "UPDATE headers SET value = 'two', is_trailer = 1 WHERE name = 'b';"
				  "DELETE FROM headers WHERE transaction_id = 7 AND direction = 'request' AND name != 'b';",
				  NULL, NULL, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(h));
	/* Deleted fields leave their places: b keeps idx 1. */
	cr_assert_str_eq(rows(db, "SELECT direction, idx, name, value, is_trailer, never_indexed, hpack_unknown "
				  "FROM headers ORDER BY direction, idx"),
			 "request|1|b|two|1|1|0\n"
			 "response|0|NULL|v|0|0|1\n");
	cr_assert_neq(sqlite3_exec(h, "UPDATE headers SET idx = 5 WHERE name = 'b'", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_str_eq(sqlite3_errmsg(h),
			 "headers: transaction_id, direction and idx cannot be updated (delete and insert instead)");
	sc_db_close(db);
}

/* ---- the queue ------------------------------------------------------------------------ */

/* A sink that writes what it is called with as text. */
struct rec_sink {
	char log[1 << 16];
	size_t n;
	uint64_t next_id;
	int fail_at; /* the n-th call (1-based) of tx fails with -EIO; 0 never */
	int tx_calls;
};

static void logf_(struct rec_sink *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct rec_sink *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r->n += (size_t)vsnprintf(r->log + r->n, sizeof(r->log) - r->n, fmt, ap);
	va_end(ap);
	cr_assert_lt(r->n, sizeof(r->log) - 1);
}

static void log_view(struct rec_sink *r, struct sc_view v)
{
	if (!v.p) {
		logf_(r, "NULL");
		return;
	}
	logf_(r, "'");
	for (size_t i = 0; i < v.len; i++)
		logf_(r, v.p[i] >= 0x20 && v.p[i] < 0x7f ? "%c" : "\\x%02x", v.p[i]);
	logf_(r, "'");
}

static uint32_t fnv(struct sc_view v)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < v.len; i++)
		h = (h ^ v.p[i]) * 16777619u;
	return h;
}

static int r_conn_begin(void *ctx, struct sc_conn *c)
{
	struct rec_sink *r = ctx;

	c->id = ++r->next_id;
	return 0;
}

static int r_conn_end(void *ctx, const struct sc_conn *c)
{
	logf_(ctx, "conn_end %llu pid %u comm %s bytes %llu/%llu\n", (unsigned long long)c->id, c->pid, c->comm,
	      (unsigned long long)c->bytes[0], (unsigned long long)c->bytes[1]);
	return 0;
}

static int r_tx(void *ctx, const struct sc_tx *t)
{
	struct rec_sink *r = ctx;
	const struct sc_hdr_list *l[2] = { &t->req_hdrs, &t->resp_hdrs };

	if (++r->tx_calls == r->fail_at)
		return -EIO;
	logf_(r, "tx conn %llu %s ", (unsigned long long)t->conn_id, t->version);
	log_view(r, t->method);
	log_view(r, t->path);
	log_view(r, t->reason);
	logf_(r, " status %d body %llu kept %zu fnv %08x", t->status, (unsigned long long)t->resp_body_bytes,
	      t->resp_body.len, fnv(t->resp_body));
	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < l[d]->n; i++) {
			logf_(r, " [%d:", d);
			log_view(r, l[d]->v[i].name);
			log_view(r, l[d]->v[i].value);
			logf_(r, ":%u]", l[d]->v[i].flags);
		}
	logf_(r, "\n");
	return 0;
}

static int r_anomaly(void *ctx, const struct sc_anomaly *a)
{
	logf_(ctx, "anomaly conn %llu kind %d off %llu %s\n", (unsigned long long)a->conn_id, a->kind,
	      (unsigned long long)a->offset, a->msg ? a->msg : "(none)");
	return 0;
}

static int r_process(void *ctx, const struct sc_process *p)
{
	logf_(ctx, "process %u %u %s\n", p->pid, p->ppid, p->comm ? p->comm : "(none)");
	return 0;
}

/* The same calls on `s`: a mix of every callback, bodies from empty to
 * larger than a chunk. */
static int drive(const struct sc_sink *s, int n)
{
	static uint8_t big[SC_SINKQ_CHUNK + 4096];
	struct sc_hdr req[5], resp[4];
	struct sc_process p = { 42, 1, "nginx" };
	int rc;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	if ((rc = s->process(s->ctx, &p)) < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		struct sc_conn c = { .pid = (uint32_t)i, .comm = "curl", .bytes = { (uint64_t)i, 2 * (uint64_t)i } };
		struct sc_anomaly a = { .kind = SC_ANOM_GAP, .offset = (uint64_t)i, .msg = "a gap" };
		char why[32];
		struct sc_tx t;

		if ((rc = s->conn_begin(s->ctx, &c)) < 0)
			return rc;
		tricky_tx(&t, req, resp, c.id);
		snprintf(why, sizeof(why), "reason %d", i);
		t.reason = sv(why);
		t.resp_body = bv(big, i % 5 == 4 ? sizeof(big) : i % 3 ? 100 * (size_t)i : 0);
		t.resp_body_bytes = t.resp_body.len;
		a.conn_id = c.id;
		if ((rc = s->tx(s->ctx, &t)) < 0 || (rc = s->anomaly(s->ctx, &a)) < 0 ||
		    (rc = s->conn_end(s->ctx, &c)) < 0)
			return rc;
		/* The caller's buffers are reused at once: the queue must have copied. */
		memset(why, 'X', sizeof(why));
	}
	return 0;
}

static struct sc_sink rec_sink_of(struct rec_sink *r)
{
	return (struct sc_sink){ r, r_conn_begin, r_conn_end, r_tx, r_anomaly, r_process };
}

Test(sinkq, the_target_sees_exactly_the_direct_calls_in_order)
{
	struct rec_sink *direct = calloc(1, sizeof(*direct)), *queued = calloc(1, sizeof(*queued));
	struct sc_sink ds = rec_sink_of(direct), qs = rec_sink_of(queued), front;
	struct sc_sinkq *q;

	cr_assert_eq(drive(&ds, 40), 0);
	cr_assert_eq(sc_sinkq_start(&q, &qs, &front), 0);
	cr_assert_eq(drive(&front, 40), 0);
	cr_assert_eq(sc_sinkq_finish(q), 0);
	cr_assert_gt(direct->n, 1000);
	cr_assert_str_eq(queued->log, direct->log);
	free(direct);
	free(queued);
}

Test(sinkq, a_target_error_stops_the_producer_and_is_returned)
{
	struct rec_sink *r = calloc(1, sizeof(*r));
	struct sc_sink qs = rec_sink_of(r), front;
	struct sc_sinkq *q;
	int rc;

	r->fail_at = 3;
	cr_assert_eq(sc_sinkq_start(&q, &qs, &front), 0);
	/* Every fifth transaction fills a chunk of its own, so the worker runs
	 * while the producer goes on: the producer must see the error. */
	rc = drive(&front, 400);
	cr_assert_eq(rc, -EIO);
	cr_assert_eq(sc_sinkq_finish(q), -EIO);
	/* Nothing after the failed call reached the target. */
	cr_assert_eq(r->tx_calls, 3);
	free(r);
}

Test(sinkq, the_database_through_the_queue_equals_the_database_direct)
{
	struct sc_sink direct_sink, db_sink, front;
	struct sc_db *a = open_mem(&direct_sink), *b = open_mem(&db_sink);
	struct sc_sinkq *q;
	char *ra;

	cr_assert_eq(drive(&direct_sink, 12), 0);
	close_mem(a);
	cr_assert_eq(sc_sinkq_start(&q, &db_sink, &front), 0);
	cr_assert_eq(drive(&front, 12), 0);
	cr_assert_eq(sc_sinkq_finish(q), 0);
	close_mem(b);
#define DUMP                                                                                        \
	"SELECT 'tx', id, connection_id, method, path, reason, status, resp_body_bytes FROM transactions " \
	"UNION ALL SELECT 'h', transaction_id, idx, direction, name, value, never_indexed, hpack_unknown FROM headers " \
	"UNION ALL SELECT 'b', transaction_id, direction, length(data), hex(substr(data, 1, 8)), length, truncated, 0 " \
	"FROM bodies UNION ALL SELECT 'a', id, connection_id, kind, stream_offset, message, 0, 0 FROM anomalies "     \
	"UNION ALL SELECT 'c', id, pid, comm, client_bytes, server_bytes, 0, 0 FROM connections "                     \
	"UNION ALL SELECT 'p', pid, ppid, comm, 0, 0, 0, 0 FROM processes ORDER BY 1, 2, 3, 4"
	ra = strdup(rows(a, DUMP));
	cr_assert_gt(strlen(ra), 2000);
	cr_assert_str_eq(rows(b, DUMP), ra);
	free(ra);
	sc_db_close(a);
	sc_db_close(b);
}

/* ---- versions ------------------------------------------------------------------------- */

Test(db, a_database_of_another_schema_version_is_refused_with_what_to_do)
{
	char path[] = "/tmp/sc-test-db-XXXXXX";
	int fd = mkstemp(path);
	struct sc_diag d = { 0 };
	sqlite3 *h;
	char want[512];

	cr_assert_geq(fd, 0);
	close(fd);
	unlink(path);
	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "CREATE TABLE captures (id INTEGER); CREATE TABLE transactions (id INTEGER); "
				     "PRAGMA user_version = 1",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(h);
	cr_assert_null(sc_db_open(path, &d));
	snprintf(want, sizeof(want), "%s: schema version 1, this sockcap writes version %d (analyze into a new file)",
		 path, SC_DB_SCHEMA_VERSION);
	cr_assert_str_eq(d.msg, want);
	cr_assert_null(sc_db_open_ro(path, &d));
	snprintf(want, sizeof(want),
		 "%s: not a sockcap database of this version (schema version 1, want %d; analyze the capture again)", path,
		 SC_DB_SCHEMA_VERSION);
	cr_assert_str_eq(d.msg, want);
	unlink(path);
}

/* ---- runs: one transaction; a new database appears only at the commit ------------------ */

static void load_one(struct sc_db *db, const char *path, bool commit)
{
	struct sc_capture_meta m = { .path = path, .format = "skc", .status = "complete" };
	struct sc_diag d = { 0 };
	struct sc_sink sink;

	cr_assert_eq(sc_db_begin_capture(db, &m, 1 << 20, &sink, &d), 0, "%s", d.msg);
	cr_assert_eq(sc_db_end_capture(db, &m, commit, &d), 0, "%s", d.msg);
}

static int64_t captures_in(const char *path)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int64_t n = -1;

	cr_assert_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(h, "SELECT count(*) FROM captures", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return n;
}

Test(db, a_new_database_appears_only_when_the_run_commits)
{
	char dir[] = "/tmp/sc-test-db-run-XXXXXX", path[64];
	struct sc_diag d = { 0 };
	struct sc_db *db;
	struct stat sb;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/n.db", dir);
	/* Closed without a commit: nothing at the path, no temporary file. */
	db = sc_db_open(path, &d);
	cr_assert_not_null(db, "%s", d.msg);
	load_one(db, "/a.skc", true);
	cr_assert_eq(stat(path, &sb), -1);
	sc_db_close(db);
	cr_assert_eq(stat(path, &sb), -1);
	cr_assert_eq(rmdir(dir), 0, "the temporary file is gone");
	cr_assert_not_null(mkdtemp(strcpy(dir, "/tmp/sc-test-db-run-XXXXXX")));
	snprintf(path, sizeof(path), "%s/n.db", dir);
	db = sc_db_open(path, &d);
	cr_assert_not_null(db, "%s", d.msg);
	load_one(db, "/a.skc", true);
	load_one(db, "/b.skc", false); /* a failed capture: only it is rolled back */
	cr_assert_eq(sc_db_commit(db, &d), 0, "%s", d.msg);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	cr_assert_eq(captures_in(path), 1);
	/* An existing database: a run closed without a commit changes nothing. */
	db = sc_db_open(path, &d);
	cr_assert_not_null(db, "%s", d.msg);
	load_one(db, "/c.skc", true);
	load_one(db, "/a.skc", true); /* replaces a's rows */
	sc_db_close(db);
	cr_assert_eq(captures_in(path), 1);
	db = sc_db_open(path, &d);
	cr_assert_not_null(db, "%s", d.msg);
	load_one(db, "/c.skc", true);
	cr_assert_eq(sc_db_commit(db, &d), 0, "%s", d.msg);
	cr_assert_eq(captures_in(path), 2);
	unlink(path);
	cr_assert_eq(rmdir(dir), 0, "no journal or temporary file is left");
}

Test(db, a_stop_flag_interrupts_the_run)
{
	char dir[] = "/tmp/sc-test-db-stop-XXXXXX", path[64];
	volatile sig_atomic_t stop = 0;
	struct sc_diag d = { 0 };
	struct sc_db *db;
	struct stat sb;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.db", dir);
	db = sc_db_open(path, &d);
	cr_assert_not_null(db, "%s", d.msg);
	sc_db_set_stop(db, &stop);
	load_one(db, "/a.skc", true);
	stop = SIGINT;
	cr_assert_eq(sc_db_commit(db, &d), -EINTR);
	cr_assert_str_eq(d.msg, "interrupted");
	cr_assert_eq(stat(path, &sb), -1);
	cr_assert_eq(rmdir(dir), 0);
}
