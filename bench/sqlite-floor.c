/* The SQLite floor of an analysis: the rows sockcap writes for N small
 * HTTP/1 transactions, with nothing decoded: 1 transactions row (40
 * columns as sockcap binds them), 1 header_blocks row (10 fields as JSON),
 * 1 bodies row (a body of BODY bytes), in the schema and settings sockcap
 * uses, then the indexes and the commit. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Step and reset `s`; a failed insert would make the timing meaningless. */
static void step(sqlite3 *db, sqlite3_stmt *s)
{
	if (sqlite3_step(s) != SQLITE_DONE) {
		fprintf(stderr, "sqlite-floor: %s\n", sqlite3_errmsg(db));
		exit(2);
	}
	sqlite3_reset(s);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc(n + 1);
	if (fread(s, 1, n, f) != (size_t)n)
		exit(2);
	s[n] = 0;
	fclose(f);
	return s;
}

int main(int argc, char **argv)
{
	const char *schema_path, *db_path;
	int n, body;
	char *schema, *mark, *idx;
	static const char hdrs[] = "[[\"Server\",\"nginx/1.22.1\"],[\"Date\",\"Wed, 25 Nov 2026 02:01:34 GMT\"],"
				   "[\"Content-Type\",\"application/octet-stream\"],[\"Content-Length\",\"1024\"],"
				   "[\"Last-Modified\",\"Wed, 25 Nov 2026 02:01:32 GMT\"],[\"Connection\",\"keep-alive\"],"
				   "[\"ETag\",\"\\\"6b06417c-400\\\"\"],[\"Accept-Ranges\",\"bytes\"]]";
	static const char reqh[] = "[[\"Host\",\"127.0.0.1:18280\"],[\"user-agent\",\"h2load nghttp2/1.52.0\"]]";
	unsigned char *b;
	sqlite3_stmt *tx, *hb, *bd;
	sqlite3 *db;
	double t0, t1, t2;

	if (argc != 5) {
		fprintf(stderr, "usage: sqlite-floor SCHEMA.sql OUT.db TRANSACTIONS BODY_BYTES\n");
		return 2;
	}
	schema_path = argv[1];
	db_path = argv[2];
	n = atoi(argv[3]);
	body = atoi(argv[4]);
	b = malloc(body > 0 ? body : 1);
	schema = slurp(schema_path);
	mark = schema ? strstr(schema, "-- @indexes") : NULL;
	if (!mark) {
		fprintf(stderr, "sqlite-floor: %s: no schema with an @indexes part\n", schema_path);
		return 2;
	}
	memset(b, 'x', body > 0 ? body : 1);
	idx = strdup(mark);
	*mark = 0;
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	remove(db_path);
	if (sqlite3_open(db_path, &db) != SQLITE_OK)
		return 2;
	sqlite3_exec(db, "PRAGMA page_size = 16384", 0, 0, 0);
	if (sqlite3_exec(db, schema, 0, 0, 0) != SQLITE_OK) {
		fprintf(stderr, "%s\n", sqlite3_errmsg(db));
		return 2;
	}
	sqlite3_exec(db, "PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY; PRAGMA temp_store = MEMORY; "
			 "PRAGMA cache_size = -65536; BEGIN", 0, 0, 0);
	sqlite3_prepare_v3(db,
			   "INSERT INTO transactions (id, capture_id, connection_id, stream_id, http_version, method, "
			   "scheme, authority, path, status, reason, interim_status, req_start_ns, req_end_ns, "
			   "resp_start_ns, resp_end_ns, latency_ns, req_header_bytes, req_body_bytes, resp_header_bytes, "
			   "resp_body_bytes, content_type, content_encoding, complete, truncated, error, headers_incomplete, "
			   "rst_code, promised_by, grpc_service, grpc_method, grpc_status, grpc_message, grpc_req_msgs, "
			   "grpc_resp_msgs, grpc_req_msg_bytes, grpc_resp_msg_bytes, grpc_compressed_msgs, req_offset, "
			   "resp_offset) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
			   "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, "
			   "?36, ?37, ?38, ?39, ?40)",
			   -1, SQLITE_PREPARE_PERSISTENT, &tx, 0);
	sqlite3_prepare_v3(db, "INSERT INTO header_blocks (transaction_id, request, response) VALUES (?1, ?2, ?3)", -1,
			   SQLITE_PREPARE_PERSISTENT, &hb, 0);
	sqlite3_prepare_v3(db, "INSERT INTO bodies (transaction_id, direction, data, length, truncated) "
			       "VALUES (?1, ?2, ?3, ?4, ?5)", -1, SQLITE_PREPARE_PERSISTENT, &bd, 0);
	t0 = now();
	for (int i = 1; i <= n; i++) {
		long long ns = 1795570133348769234LL + i * 1000LL;

		sqlite3_bind_int64(tx, 1, i);
		sqlite3_bind_int64(tx, 2, 1);
		sqlite3_bind_int64(tx, 3, 1 + i / 100);
		sqlite3_bind_text(tx, 5, "HTTP/1.1", 8, SQLITE_STATIC);
		sqlite3_bind_text(tx, 6, "GET", 3, SQLITE_STATIC);
		sqlite3_bind_text(tx, 8, "127.0.0.1:18280", 15, SQLITE_STATIC);
		sqlite3_bind_text(tx, 9, "/1k", 3, SQLITE_STATIC);
		sqlite3_bind_int(tx, 10, 200);
		sqlite3_bind_text(tx, 11, "OK", 2, SQLITE_STATIC);
		for (int k = 13; k <= 17; k++)
			sqlite3_bind_int64(tx, k, ns + k);
		for (int k = 18; k <= 21; k++)
			sqlite3_bind_int64(tx, k, 100 + k);
		sqlite3_bind_text(tx, 22, "application/octet-stream", 24, SQLITE_STATIC);
		for (int k = 24; k <= 27; k++)
			sqlite3_bind_int(tx, k, k == 24);
		sqlite3_bind_int64(tx, 39, i * 120LL);
		sqlite3_bind_int64(tx, 40, i * 1300LL);
		step(db, tx);
		sqlite3_clear_bindings(tx);
		sqlite3_bind_int64(hb, 1, i);
		sqlite3_bind_text(hb, 2, reqh, sizeof(reqh) - 1, SQLITE_STATIC);
		sqlite3_bind_text(hb, 3, hdrs, sizeof(hdrs) - 1, SQLITE_STATIC);
		step(db, hb);
		if (body > 0) {
			sqlite3_bind_int64(bd, 1, i);
			sqlite3_bind_text(bd, 2, "response", 8, SQLITE_STATIC);
			sqlite3_bind_blob(bd, 3, b, body, SQLITE_STATIC);
			sqlite3_bind_int64(bd, 4, body);
			sqlite3_bind_int(bd, 5, 0);
			step(db, bd);
		}
	}
	t1 = now();
	if (sqlite3_exec(db, idx, 0, 0, 0) != SQLITE_OK || sqlite3_exec(db, "COMMIT", 0, 0, 0) != SQLITE_OK) {
		fprintf(stderr, "sqlite-floor: %s\n", sqlite3_errmsg(db));
		return 2;
	}
	t2 = now();
	printf("%d transactions, body %d B: rows %.3f s, indexes+commit %.3f s, total %.3f s\n", n, body, t1 - t0,
	       t2 - t1, t2 - t0);
	sqlite3_finalize(tx);
	sqlite3_finalize(hb);
	sqlite3_finalize(bd);
	sqlite3_close(db);
	return 0;
}
