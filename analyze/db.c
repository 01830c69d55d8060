/* db.c - SQLite sink.  Rows are written with prepared statements inside one
 * SQLite transaction per run (a savepoint per capture); ids are assigned here rather than by
 * SQLite so that a connection's row can be written once, when it ends, while
 * its transactions (written as they complete) already point at it. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze/db.h"
#include "formats/sc_out.h"

enum stmt_id {
	ST_CAPTURE_INS,
	ST_CAPTURE_UPD,
	ST_PROCESS,
	ST_CONN,
	ST_TX,
	ST_HDR,
	ST_BODY,
	ST_ANOM,
	ST_MAX,
};

static const char *const stmt_sql[ST_MAX] = {
	[ST_CAPTURE_INS] = "INSERT INTO captures (id, path, format, hostname, kernel, tool, options, file_bytes, analyzer, "
			   "analyzed_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_CAPTURE_UPD] = "UPDATE captures SET start_ns = ?2, end_ns = ?3, status = ?4, bytes_captured = ?5, "
			   "bytes_lost = ?6, damage = ?7, connections = ?8, transactions = ?9, anomalies = ?10, "
			   "hostname = coalesce(hostname, ?11), kernel = coalesce(kernel, ?12), tool = coalesce(tool, ?13), "
			   "options = coalesce(options, ?14), frames = ?15, interfaces = ?16, ip_fragments = ?17, "
			   "reassembled = ?18, skipped_non_ip = ?19, skipped_non_tcp = ?20, skipped_truncated = ?21, "
			   "skipped_malformed = ?22, skipped_link_type = ?23, skipped_fragments = ?24, skipped_tcp = ?25 "
			   "WHERE id = ?1",
	[ST_PROCESS] = "INSERT OR REPLACE INTO processes (capture_id, pid, ppid, comm) VALUES (?1, ?2, ?3, ?4)",
	[ST_CONN] = "INSERT INTO connections (id, capture_id, source_id, pid, comm, fd, role, family, local_addr, "
		    "local_port, remote_addr, remote_port, unix_path, protocol, open_ns, close_ns, midstream, "
		    "client_bytes, server_bytes, client_gaps, server_gaps, client_gap_bytes, server_gap_bytes, "
		    "transactions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
		    "?18, ?19, ?20, ?21, ?22, ?23, ?24)",
	[ST_TX] = "INSERT INTO transactions (id, capture_id, connection_id, stream_id, http_version, method, scheme, "
		  "authority, path, status, reason, interim_status, req_start_ns, req_end_ns, resp_start_ns, resp_end_ns, "
		  "latency_ns, req_header_bytes, req_body_bytes, resp_header_bytes, resp_body_bytes, content_type, "
		  "content_encoding, complete, truncated, error, headers_incomplete, rst_code, promised_by, grpc_service, "
		  "grpc_method, grpc_status, grpc_message, grpc_req_msgs, grpc_resp_msgs, grpc_req_msg_bytes, "
		  "grpc_resp_msg_bytes, grpc_compressed_msgs, req_offset, resp_offset) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		  "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, "
		  "?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40)",
	[ST_HDR] = "INSERT INTO header_blocks (transaction_id, request, response) VALUES (?1, ?2, ?3)",
	[ST_BODY] = "INSERT INTO bodies (transaction_id, direction, data, length, truncated) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_ANOM] = "INSERT INTO anomalies (id, capture_id, connection_id, direction, stream_id, kind, stream_offset, "
		    "length, ts_ns, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
};

struct sc_db {
	sqlite3 *h;
	sqlite3_stmt *st[ST_MAX];
	struct sc_diag *diag; /* of the capture being loaded */
	uint64_t capture_id;
	uint64_t next_conn, next_tx, next_anom;
	uint64_t max_body;
	bool in_txn;          /* a capture's savepoint is open */
	bool run_txn;         /* the run's transaction is open (databases in files) */
	bool recovered;       /* opening rolled back an interrupted run */
	struct sc_out *out;   /* a new database's temporary file, put in place by sc_db_commit */
	const volatile sig_atomic_t *stop;
	char *json;           /* header blocks of the transaction being written */
	size_t json_len, json_cap;
};

static int db_err(struct sc_db *db, struct sc_diag *diag, const char *what)
{
	return sc_diag_set(diag, -EIO, 0, "sqlite: %s: %s", what, sqlite3_errmsg(db->h));
}

static int exec(struct sc_db *db, const char *sql, struct sc_diag *diag)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sc_diag_set(diag, -EIO, 0, "sqlite: %s", msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static int64_t query_int(struct sc_db *db, const char *sql, int64_t dflt)
{
	sqlite3_stmt *s;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The schema text up to the index marker, or from it. */
static char *schema_part(bool indexes)
{
	const char *mark = strstr(sc_db_schema_sql, "-- @indexes");
	size_t n;
	char *s;

	if (!mark)
		return strdup(indexes ? "" : sc_db_schema_sql);
	if (indexes)
		return strdup(mark);
	n = (size_t)(mark - sc_db_schema_sql);
	s = malloc(n + 1);
	if (s) {
		memcpy(s, sc_db_schema_sql, n);
		s[n] = '\0';
	}
	return s;
}

/* configure asks for 3.38, but the library found at run time may be older:
 * the headers view needs its JSON functions and the ->> operator. */
static bool sqlite_new_enough(struct sc_diag *diag)
{
	if (sqlite3_libversion_number() >= 3038000)
		return true;
	sc_diag_set(diag, SC_EUNSUPP, 0, "SQLite %s is too old: sockcap needs 3.38 or later", sqlite3_libversion());
	return false;
}

/* A zeroed handle, once the SQLite library is known to be new enough. */
static struct sc_db *db_alloc(struct sc_diag *diag)
{
	struct sc_db *db;

	if (!sqlite_new_enough(diag))
		return NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		sc_diag_set(diag, -ENOMEM, 0, "out of memory");
	return db;
}

/* Why SQLite could not open `path`, with the system's reason when it has
 * one ("unable to open database file" alone does not say). */
static int open_error(struct sc_db *db, const char *path, struct sc_diag *diag)
{
	int e = db->h ? sqlite3_system_errno(db->h) : 0;

	if (e)
		return sc_diag_set(diag, -e, 0, "%s: %s", path, strerror(e));
	return sc_diag_set(diag, -EIO, 0, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : "cannot open");
}

/* Called by SQLite every few thousand virtual machine steps: a non-zero
 * return interrupts the statement (SQLITE_INTERRUPT), so that a signal stops
 * a long insert, delete or index build at once. */
static int stop_requested(void *ctx)
{
	struct sc_db *db = ctx;

	return db->stop && *db->stop;
}

void sc_db_set_stop(struct sc_db *db, const volatile sig_atomic_t *stop)
{
	db->stop = stop;
	sqlite3_progress_handler(db->h, stop ? 4096 : 0, stop ? stop_requested : NULL, db);
}

/* An existing database file: opened in place, never through a symbolic
 * link, and writable (SQLite would silently open a read-only file read-only
 * and fail at the first insert). */
static int open_existing(struct sc_db *db, const char *path, const struct stat *ls, struct sc_diag *diag)
{
	char *journal;
	FILE *jf;
	size_t n = strlen(path) + 16;
	int rc = 0;

	if (S_ISLNK(ls->st_mode))
		return sc_diag_set(diag, -ELOOP, 0, "%s is a symbolic link: not followed (give the database's own path)",
				   path);
	if (!S_ISREG(ls->st_mode))
		return sc_diag_set(diag, -EINVAL, 0, "%s: not a regular file", path);
	if (access(path, R_OK | W_OK) < 0)
		return sc_diag_set(diag, -errno, 0, "%s: %s", path, strerror(errno));
	/* A hot journal left beside the file by a run that was killed after
	 * it began to change the database: SQLite rolls it back on the first
	 * read below, and the user is told.  A journal is hot once its header
	 * has the magic (SQLite writes it after syncing the journal, before
	 * the first change to the database); a journal without it changed
	 * nothing and is ignored. */
	journal = malloc(n);
	if (!journal)
		return sc_diag_set(diag, -ENOMEM, 0, "out of memory");
	snprintf(journal, n, "%s-journal", path);
	jf = fopen(journal, "rb");
	if (jf) {
		static const uint8_t magic[8] = { 0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7 };
		uint8_t head[8];

		db->recovered = fread(head, 1, sizeof(head), jf) == sizeof(head) && !memcmp(head, magic, sizeof(magic));
		fclose(jf);
	}
	free(journal);
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK)
		rc = open_error(db, path, diag);
	return rc;
}

/* The settings of a run (docs/schema.md, "Interrupted runs"):
 *  - new database: the file is a temporary one that nobody else sees and
 *    that is removed if the run fails, so it needs no durability of its own:
 *    no sync (sc_out_commit fsyncs it once before the rename) and a journal
 *    in memory, which holds only the pages that existed when the run began
 *    (the empty schema), so that a failed capture can still be rolled back;
 *  - existing database: a rollback journal on disk (journal_mode DELETE),
 *    synced before the database is changed (synchronous FULL), so that
 *    Ctrl-C, kill -9, a crash or a power loss all leave the database as it
 *    was, and memory does not grow with the pages the run changes (the
 *    journal holds them, not RAM).  A database a user switched to WAL keeps
 *    it: WAL is as safe. */
static int run_settings(struct sc_db *db, bool fresh, struct sc_diag *diag)
{
	char mode[16] = "";
	sqlite3_stmt *s;

	if (fresh)
		return exec(db, "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF", diag);
	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	if (strcmp(mode, "wal") == 0)
		return exec(db, "PRAGMA synchronous = FULL", diag);
	return exec(db, "PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL", diag);
}

struct sc_db *sc_db_open(const char *path, struct sc_diag *diag)
{
	struct sc_db *db = db_alloc(diag);
	bool mem = strcmp(path, ":memory:") == 0, fresh = false;
	char *tables = NULL;
	struct stat ls;
	int64_t ver;

	if (!db)
		return NULL;
	if (mem) {
		if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
			open_error(db, path, diag);
			goto fail;
		}
	} else if (lstat(path, &ls) == 0) {
		if (open_existing(db, path, &ls, diag) < 0)
			goto fail;
	} else if (errno != ENOENT) {
		sc_diag_set(diag, -errno, 0, "%s: %s", path, strerror(errno));
		goto fail;
	} else {
		/* A new database: built beside `path`, put in place by sc_db_commit. */
		fresh = true;
		if (sc_out_open(&db->out, path, SC_OUT_NAMED, diag) < 0)
			goto fail;
		if (sqlite3_open_v2(sc_out_tmp_path(db->out), &db->h,
				    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
			open_error(db, path, diag);
			goto fail;
		}
	}
	sqlite3_extended_result_codes(db->h, 1);
	/* Another sockcap analyze writing the same database: wait for it. */
	sqlite3_busy_timeout(db->h, 30000);
	ver = query_int(db, "PRAGMA user_version", -1);
	if (ver < 0) {
		sc_diag_set(diag, -EIO, 0, "%s: not an SQLite database (%s)", path, sqlite3_errmsg(db->h));
		goto fail;
	}
	if (ver != 0 && ver != SC_DB_SCHEMA_VERSION) {
		sc_diag_set(diag, SC_EVERSION, 0,
			    "%s: schema version %" PRId64 ", this sockcap writes version %d (analyze into a new file)",
			    path, ver, SC_DB_SCHEMA_VERSION);
		goto fail;
	}
	if (ver == 0 && query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", 0) > 0 &&
	    query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'captures'", 0) == 0) {
		sc_diag_set(diag, SC_EFORMAT, 0, "%s: an SQLite database that sockcap did not create", path);
		goto fail;
	}
	/* 16 KiB pages for a new database: a load writes a few hundred MB of
	 * small rows and bodies, and 4 KiB pages cost 12% more time in page
	 * handling and write calls (measured; 32 and 64 KiB gain nothing more). */
	if (ver == 0 && exec(db, "PRAGMA page_size = 16384", diag) < 0)
		goto fail;
	if (exec(db, "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536", diag) < 0)
		goto fail;
	if (mem) {
		if (exec(db, "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF", diag) < 0)
			goto fail;
	} else {
		/* Every change of the run is one transaction; IMMEDIATE takes the
		 * write lock now, so that a second writer waits here. */
		if (run_settings(db, fresh, diag) < 0 || exec(db, "BEGIN IMMEDIATE", diag) < 0)
			goto fail;
		db->run_txn = true;
	}
	tables = schema_part(false);
	if (!tables || exec(db, tables, diag) < 0)
		goto fail;
	free(tables);
	tables = NULL;
	if (ver == 0) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SC_DB_SCHEMA_VERSION);
		if (exec(db, sql, diag) < 0)
			goto fail;
	}
	for (int i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v3(db->h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i], NULL) != SQLITE_OK) {
			db_err(db, diag, "prepare");
			goto fail;
		}
	}
	return db;
fail:
	free(tables);
	sc_db_close(db);
	return NULL;
}

bool sc_db_recovered(const struct sc_db *db)
{
	return db->recovered;
}

/* Finalize the statements and close the handle; with a transaction still
 * open, SQLite rolls it back. */
static void db_free(struct sc_db *db)
{
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(db->st[i]);
	if (db->h)
		sqlite3_progress_handler(db->h, 0, NULL, NULL); /* a rollback must not be interrupted */
	if (db->in_txn || db->run_txn)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db->h);
	free(db->json);
	free(db);
}

int sc_db_commit(struct sc_db *db, struct sc_diag *diag)
{
	struct sc_out *out = db->out;
	int rc = 0;

	if (db->in_txn) {
		rc = sc_diag_set(diag, -EINVAL, 0, "sqlite: a capture is still being loaded");
		sc_db_close(db);
		return rc;
	}
	if (db->stop && *db->stop) {
		sc_db_close(db);
		return sc_diag_set(diag, -EINTR, 0, "interrupted");
	}
	if (db->run_txn && sqlite3_get_autocommit(db->h)) {
		sc_db_close(db);
		return sc_diag_set(diag, -EIO, 0, "sqlite: an earlier error rolled back this run");
	}
	/* Once the commit has begun it is finished: a signal now would only
	 * turn a complete run into a rolled-back one. */
	sqlite3_progress_handler(db->h, 0, NULL, NULL);
	if (db->run_txn) {
		rc = exec(db, "COMMIT", diag);
		if (rc == 0)
			db->run_txn = false;
	}
	db->out = NULL;
	db_free(db);
	if (!out)
		return rc;
	if (rc < 0) {
		sc_out_abort(out);
		return rc;
	}
	return sc_out_commit(out, diag); /* fsync, rename into place, fsync the directory */
}

struct sc_db *sc_db_open_ro(const char *path, struct sc_diag *diag)
{
	struct sc_db *db = db_alloc(diag);
	int64_t ver;

	if (!db)
		return NULL;
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		open_error(db, path, diag);
		sc_db_close(db);
		return NULL;
	}
	ver = query_int(db, "PRAGMA user_version", -1);
	if (ver != SC_DB_SCHEMA_VERSION || query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'transactions'", 0) != 1) {
		sc_diag_set(diag, SC_EFORMAT, 0,
			    "%s: not a sockcap database of this version (schema version %lld, want %d; analyze the capture "
			    "again)", path, (long long)ver, SC_DB_SCHEMA_VERSION);
		sc_db_close(db);
		return NULL;
	}
	return db;
}

sqlite3 *sc_db_handle(struct sc_db *db)
{
	return db->h;
}

void sc_db_close(struct sc_db *db)
{
	struct sc_out *out;

	if (!db)
		return;
	out = db->out;
	db_free(db);
	sc_out_abort(out); /* a new database that was never committed is removed */
}

/* ---- binding helpers: views bound SQLITE_STATIC, since every statement is
 * stepped and reset before the callback that owns the bytes returns. ------ */

static void bind_text(sqlite3_stmt *s, int i, const char *p, size_t n)
{
	if (p)
		sqlite3_bind_text64(s, i, p, n, SQLITE_STATIC, SQLITE_UTF8);
	else
		sqlite3_bind_null(s, i);
}

static void bind_view(sqlite3_stmt *s, int i, struct sc_view v)
{
	bind_text(s, i, (const char *)v.p, v.len);
}

static void bind_str(sqlite3_stmt *s, int i, const char *p)
{
	bind_text(s, i, p, p ? strlen(p) : 0);
}

static void bind_u64(sqlite3_stmt *s, int i, uint64_t v)
{
	sqlite3_bind_int64(s, i, (sqlite3_int64)v);
}

static void bind_u64_or_null(sqlite3_stmt *s, int i, uint64_t v)
{
	if (v)
		bind_u64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static int step(struct sc_db *db, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return db_err(db, db->diag, what);
	return 0;
}

/* ---- sink callbacks -------------------------------------------------------------- */

static int on_conn_begin(void *ctx, struct sc_conn *c)
{
	struct sc_db *db = ctx;

	c->id = ++db->next_conn;
	c->capture_id = db->capture_id;
	return 0;
}

static int on_conn_end(void *ctx, const struct sc_conn *c)
{
	struct sc_db *db = ctx;
	sqlite3_stmt *s = db->st[ST_CONN];
	char la[SC_ADDR_STRLEN], ra[SC_ADDR_STRLEN];
	bool ip = c->family == SC_AF_INET || c->family == SC_AF_INET6;

	bind_u64(s, 1, c->id);
	bind_u64(s, 2, db->capture_id);
	bind_u64(s, 3, c->src_id);
	if (c->pid)
		bind_u64(s, 4, c->pid);
	bind_str(s, 5, c->comm[0] ? c->comm : NULL);
	if (c->fd_plus1)
		bind_u64(s, 6, c->fd_plus1 - 1);
	bind_str(s, 7, sc_role_name(c->role));
	bind_str(s, 8, c->family ? sc_family_name(c->family) : NULL);
	if (ip) {
		bind_str(s, 9, sc_addr_fmt(la, sizeof(la), c->family, c->local.addr));
		bind_u64(s, 10, c->local.port);
		bind_str(s, 11, sc_addr_fmt(ra, sizeof(ra), c->family, c->remote.addr));
		bind_u64(s, 12, c->remote.port);
	}
	bind_str(s, 13, c->family == SC_AF_UNIX ? c->unix_path : NULL);
	bind_str(s, 14, sc_proto_name(c->proto));
	bind_u64_or_null(s, 15, c->open_ns);
	bind_u64_or_null(s, 16, c->close_ns);
	sqlite3_bind_int(s, 17, c->midstream);
	bind_u64(s, 18, c->bytes[SC_FROM_CLIENT]);
	bind_u64(s, 19, c->bytes[SC_FROM_SERVER]);
	bind_u64(s, 20, c->gaps[SC_FROM_CLIENT]);
	bind_u64(s, 21, c->gaps[SC_FROM_SERVER]);
	bind_u64(s, 22, c->gap_bytes[SC_FROM_CLIENT]);
	bind_u64(s, 23, c->gap_bytes[SC_FROM_SERVER]);
	bind_u64(s, 24, c->transactions);
	return step(db, s, "insert connection");
}

static int json_reserve(struct sc_db *db, size_t more)
{
	size_t cap = db->json_cap ? db->json_cap : 4096;
	char *p;

	if (more <= db->json_cap - db->json_len)
		return 0;
	if (more > SIZE_MAX / 2 - db->json_len)
		return -ENOMEM;
	while (cap - db->json_len < more)
		cap *= 2;
	p = realloc(db->json, cap);
	if (!p)
		return -ENOMEM;
	db->json = p;
	db->json_cap = cap;
	return 0;
}

/* A JSON string holding the bytes of `v`: quote, backslash and control
 * characters escaped, every other byte as is (SQLite's JSON functions give
 * back bytes that are not UTF-8 unchanged). */
static void json_str(struct sc_db *db, struct sc_view v)
{
	static const char hex[] = "0123456789abcdef";
	char *o = db->json + db->json_len;

	*o++ = '"';
	for (size_t i = 0; i < v.len; i++) {
		uint8_t c = v.p[i];

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	db->json_len = (size_t)(o - db->json);
}

/* Append the JSON array of one message's fields to db->json. */
static int json_headers(struct sc_db *db, const struct sc_hdr_list *l)
{
	int rc = json_reserve(db, 1);

	if (rc < 0)
		return rc;
	db->json[db->json_len++] = '[';
	for (size_t i = 0; i < l->n; i++) {
		const struct sc_hdr *h = &l->v[i];

		/* Worst case: every byte escaped to 6, plus punctuation and flags. */
		if (h->name.len > SIZE_MAX / 8 || h->value.len > SIZE_MAX / 8)
			return -ENOMEM;
		rc = json_reserve(db, 6 * (h->name.len + h->value.len) + 32);
		if (rc < 0)
			return rc;
		if (i)
			db->json[db->json_len++] = ',';
		db->json[db->json_len++] = '[';
		if (h->flags & SC_HDR_NAME_UNKNOWN) {
			memcpy(db->json + db->json_len, "null", 4);
			db->json_len += 4;
		} else {
			json_str(db, h->name);
		}
		db->json[db->json_len++] = ',';
		if (h->flags & SC_HDR_VALUE_UNKNOWN) {
			memcpy(db->json + db->json_len, "null", 4);
			db->json_len += 4;
		} else {
			json_str(db, h->value);
		}
		if (h->flags)
			db->json_len += (size_t)sprintf(db->json + db->json_len, ",%u", (unsigned)h->flags);
		db->json[db->json_len++] = ']';
	}
	rc = json_reserve(db, 1);
	if (rc < 0)
		return rc;
	db->json[db->json_len++] = ']';
	return 0;
}

/* Both messages' fields in one header_blocks row (see schema.sql). */
static int insert_headers(struct sc_db *db, uint64_t txid, const struct sc_hdr_list *req,
			  const struct sc_hdr_list *resp)
{
	sqlite3_stmt *s = db->st[ST_HDR];
	size_t req_len = 0;
	int rc = 0;

	if (!req->n && !resp->n)
		return 0;
	db->json_len = 0;
	if (req->n) {
		rc = json_headers(db, req);
		req_len = db->json_len;
	}
	if (!rc && resp->n)
		rc = json_headers(db, resp);
	if (rc < 0) {
		sc_diag_set(db->diag, rc, 0, "header fields of transaction %" PRIu64 ": out of memory", txid);
		return rc;
	}
	/* Bound only now: the buffer may have moved while the response was added. */
	bind_u64(s, 1, txid);
	bind_text(s, 2, req->n ? db->json : NULL, req_len);
	bind_text(s, 3, resp->n ? db->json + req_len : NULL, db->json_len - req_len);
	return step(db, s, "insert header fields");
}

static int insert_body(struct sc_db *db, uint64_t txid, const char *dir, struct sc_view b, uint64_t len, bool cut)
{
	sqlite3_stmt *s = db->st[ST_BODY];

	if (len == 0)
		return 0;
	bind_u64(s, 1, txid);
	bind_str(s, 2, dir);
	if (b.p && db->max_body)
		sqlite3_bind_blob64(s, 3, b.p, b.len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	bind_u64(s, 4, len);
	sqlite3_bind_int(s, 5, cut || b.len < len);
	return step(db, s, "insert body");
}

static int on_tx(void *ctx, const struct sc_tx *t)
{
	struct sc_db *db = ctx;
	sqlite3_stmt *s = db->st[ST_TX];
	uint64_t id = ++db->next_tx;
	int rc;

	bind_u64(s, 1, id);
	bind_u64(s, 2, db->capture_id);
	bind_u64(s, 3, t->conn_id);
	if (t->stream_id)
		bind_u64(s, 4, t->stream_id);
	bind_str(s, 5, t->version);
	bind_view(s, 6, t->method);
	bind_view(s, 7, t->scheme);
	bind_view(s, 8, t->authority);
	bind_view(s, 9, t->path);
	if (t->status)
		sqlite3_bind_int(s, 10, t->status);
	bind_view(s, 11, t->reason);
	if (t->interim_status)
		sqlite3_bind_int(s, 12, t->interim_status);
	bind_u64_or_null(s, 13, t->req_start_ns);
	bind_u64_or_null(s, 14, t->req_end_ns);
	bind_u64_or_null(s, 15, t->resp_start_ns);
	bind_u64_or_null(s, 16, t->resp_end_ns);
	if (t->req_start_ns && t->resp_end_ns && t->resp_end_ns >= t->req_start_ns)
		bind_u64(s, 17, t->resp_end_ns - t->req_start_ns);
	if (t->method.p) {
		bind_u64(s, 18, t->req_header_bytes);
		bind_u64(s, 19, t->req_body_bytes);
	}
	if (t->status) {
		bind_u64(s, 20, t->resp_header_bytes);
		bind_u64(s, 21, t->resp_body_bytes);
	}
	bind_view(s, 22, t->content_type);
	bind_view(s, 23, t->content_encoding);
	sqlite3_bind_int(s, 24, t->complete);
	sqlite3_bind_int(s, 25, t->truncated);
	sqlite3_bind_int(s, 26, t->error);
	sqlite3_bind_int(s, 27, t->headers_incomplete);
	if (t->rst)
		bind_u64(s, 28, t->rst_code);
	if (t->promised_by)
		bind_u64(s, 29, t->promised_by);
	if (t->grpc) {
		/* gRPC paths are /package.Service/Method. */
		const char *p = (const char *)t->path.p;
		const char *slash = p && t->path.len > 1 ? memchr(p + 1, '/', t->path.len - 1) : NULL;

		if (slash) {
			bind_text(s, 30, p + 1, (size_t)(slash - p - 1));
			bind_text(s, 31, slash + 1, t->path.len - (size_t)(slash - p) - 1);
		}
		if (t->grpc_status >= 0)
			sqlite3_bind_int(s, 32, t->grpc_status);
		bind_view(s, 33, t->grpc_message);
		bind_u64(s, 34, t->grpc_req_msgs);
		bind_u64(s, 35, t->grpc_resp_msgs);
		bind_u64(s, 36, t->grpc_req_msg_bytes);
		bind_u64(s, 37, t->grpc_resp_msg_bytes);
		bind_u64(s, 38, t->grpc_compressed_msgs);
	}
	if (t->method.p)
		bind_u64(s, 39, t->req_offset);
	if (t->status)
		bind_u64(s, 40, t->resp_offset);
	rc = step(db, s, "insert transaction");
	if (!rc)
		rc = insert_headers(db, id, &t->req_hdrs, &t->resp_hdrs);
	if (!rc)
		rc = insert_body(db, id, "request", t->req_body, t->req_body_bytes, t->req_body_cut);
	if (!rc)
		rc = insert_body(db, id, "response", t->resp_body, t->resp_body_bytes, t->resp_body_cut);
	return rc;
}

static int on_anomaly(void *ctx, const struct sc_anomaly *a)
{
	struct sc_db *db = ctx;
	sqlite3_stmt *s = db->st[ST_ANOM];

	bind_u64(s, 1, ++db->next_anom);
	bind_u64(s, 2, db->capture_id);
	bind_u64_or_null(s, 3, a->conn_id);
	if (a->side == SC_FROM_CLIENT || a->side == SC_FROM_SERVER)
		bind_str(s, 4, a->side == SC_FROM_CLIENT ? "client" : "server");
	if (a->stream_id)
		bind_u64(s, 5, a->stream_id);
	bind_str(s, 6, sc_anomaly_kind_name(a->kind));
	bind_u64(s, 7, a->offset);
	if (a->len)
		bind_u64(s, 8, a->len);
	bind_u64_or_null(s, 9, a->ts_ns);
	bind_str(s, 10, a->msg ? a->msg : "");
	return step(db, s, "insert anomaly");
}

static int on_process(void *ctx, const struct sc_process *p)
{
	struct sc_db *db = ctx;
	sqlite3_stmt *s = db->st[ST_PROCESS];

	bind_u64(s, 1, db->capture_id);
	bind_u64(s, 2, p->pid);
	if (p->ppid)
		bind_u64(s, 3, p->ppid);
	bind_str(s, 4, p->comm);
	return step(db, s, "insert process");
}

/* ---- captures ----------------------------------------------------------------------- */

static int delete_capture(struct sc_db *db, int64_t id, struct sc_diag *diag)
{
	static const char *const del[] = {
		"DELETE FROM header_blocks WHERE transaction_id IN (SELECT id FROM transactions WHERE capture_id = ?1)",
		"DELETE FROM bodies WHERE transaction_id IN (SELECT id FROM transactions WHERE capture_id = ?1)",
		"DELETE FROM transactions WHERE capture_id = ?1",
		"DELETE FROM anomalies WHERE capture_id = ?1",
		"DELETE FROM connections WHERE capture_id = ?1",
		"DELETE FROM processes WHERE capture_id = ?1",
		"DELETE FROM captures WHERE id = ?1",
	};

	for (size_t i = 0; i < sizeof(del) / sizeof(del[0]); i++) {
		sqlite3_stmt *s;
		int rc;

		if (sqlite3_prepare_v2(db->h, del[i], -1, &s, NULL) != SQLITE_OK)
			return db_err(db, diag, "prepare delete");
		sqlite3_bind_int64(s, 1, id);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return db_err(db, diag, "delete an earlier analysis");
	}
	return 0;
}

/* Undo the capture's savepoint.  SQLite may already have rolled back the
 * whole transaction itself (after SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM or
 * an interrupted statement): then there is nothing left to undo. */
static int rollback_capture(struct sc_db *db, struct sc_diag *diag)
{
	int rc = 0;

	db->in_txn = false;
	/* Even when a signal stopped the load: the rollback must run. */
	sqlite3_progress_handler(db->h, 0, NULL, NULL);
	if (!sqlite3_get_autocommit(db->h))
		rc = exec(db, "ROLLBACK TO capture; RELEASE capture", diag);
	sc_db_set_stop(db, db->stop);
	return rc;
}

static int begin_capture(struct sc_db *db, const struct sc_capture_meta *m, struct sc_diag *diag)
{
	sqlite3_stmt *s;
	struct timespec now;
	int64_t old = -1;
	int rc;

	if (sqlite3_prepare_v2(db->h, "SELECT id FROM captures WHERE path = ?1", -1, &s, NULL) != SQLITE_OK)
		return db_err(db, diag, "prepare");
	bind_str(s, 1, m->path);
	if (sqlite3_step(s) == SQLITE_ROW)
		old = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (old >= 0) {
		rc = delete_capture(db, old, diag);
		if (rc < 0)
			return rc;
	}
	db->capture_id = (uint64_t)query_int(db, "SELECT max(id) FROM captures", 0) + 1;
	db->next_conn = (uint64_t)query_int(db, "SELECT max(id) FROM connections", 0);
	db->next_tx = (uint64_t)query_int(db, "SELECT max(id) FROM transactions", 0);
	db->next_anom = (uint64_t)query_int(db, "SELECT max(id) FROM anomalies", 0);
	clock_gettime(CLOCK_REALTIME, &now);

	s = db->st[ST_CAPTURE_INS];
	bind_u64(s, 1, db->capture_id);
	bind_str(s, 2, m->path);
	bind_str(s, 3, m->format);
	bind_str(s, 4, m->hostname);
	bind_str(s, 5, m->kernel);
	bind_str(s, 6, m->tool);
	bind_str(s, 7, m->options);
	bind_u64(s, 8, m->file_bytes);
	bind_str(s, 9, "sockcap " PACKAGE_VERSION);
	bind_u64(s, 10, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
	return step(db, s, "insert capture");
}

int sc_db_begin_capture(struct sc_db *db, const struct sc_capture_meta *m, uint64_t max_body, struct sc_sink *sink,
			struct sc_diag *diag)
{
	int rc;

	if (db->in_txn)
		return sc_diag_set(diag, -EINVAL, 0, "sqlite: a capture is still being loaded");
	/* An error earlier in the run made SQLite roll the run back: going on
	 * would commit the rest without it. */
	if (db->run_txn && sqlite3_get_autocommit(db->h))
		return sc_diag_set(diag, -EIO, 0, "sqlite: an earlier error rolled back this run");
	/* A savepoint: inside the run's transaction (a database in a file),
	 * or a transaction of its own (":memory:"). */
	rc = exec(db, "SAVEPOINT capture", diag);
	if (rc < 0)
		return rc;
	db->in_txn = true;
	db->max_body = max_body;
	db->diag = diag;
	rc = begin_capture(db, m, diag);
	if (rc < 0) {
		struct sc_diag d2 = { 0 };

		rollback_capture(db, &d2);
		return rc;
	}
	sink->ctx = db;
	sink->conn_begin = on_conn_begin;
	sink->conn_end = on_conn_end;
	sink->tx = on_tx;
	sink->anomaly = on_anomaly;
	sink->process = on_process;
	return 0;
}

static int end_capture(struct sc_db *db, const struct sc_capture_meta *m, struct sc_diag *diag)
{
	sqlite3_stmt *s = db->st[ST_CAPTURE_UPD];
	char *idx;
	int rc;

	bind_u64(s, 1, db->capture_id);
	bind_u64_or_null(s, 2, m->start_ns);
	bind_u64_or_null(s, 3, m->end_ns);
	bind_str(s, 4, m->status);
	bind_u64(s, 5, m->bytes_captured);
	bind_u64(s, 6, m->bytes_lost);
	bind_str(s, 7, m->damage);
	bind_u64(s, 8, m->connections);
	bind_u64(s, 9, m->transactions);
	bind_u64(s, 10, m->anomalies);
	bind_str(s, 11, m->hostname);
	bind_str(s, 12, m->kernel);
	bind_str(s, 13, m->tool);
	bind_str(s, 14, m->options);
	if (m->pcap) {
		const struct sc_pcap_stats *st = m->pcap;
		const uint64_t v[] = { st->frames, 0, st->ip_fragments, st->reassembled, st->skipped_non_ip,
				       st->skipped_non_tcp, st->skipped_truncated, st->skipped_malformed,
				       st->skipped_link_type, st->skipped_fragments, st->skipped_tcp };

		for (int i = 0; i < (int)(sizeof(v) / sizeof(v[0])); i++)
			bind_u64(s, 15 + i, v[i]);
		bind_str(s, 16, m->interfaces);
	} else {
		for (int i = 15; i <= 25; i++)
			sqlite3_bind_null(s, i);
	}
	db->diag = diag;
	rc = step(db, s, "update capture");
	if (rc < 0)
		return rc;
	idx = schema_part(true);
	if (!idx)
		return sc_diag_set(diag, -ENOMEM, 0, "out of memory");
	rc = exec(db, idx, diag);
	free(idx);
	return rc;
}

int sc_db_end_capture(struct sc_db *db, const struct sc_capture_meta *m, bool commit, struct sc_diag *diag)
{
	struct sc_diag d2 = { 0 };
	int rc;

	if (!db->in_txn)
		return 0;
	if (!commit)
		return rollback_capture(db, diag);
	rc = end_capture(db, m, diag);
	if (rc == 0)
		rc = exec(db, "RELEASE capture", diag);
	if (rc < 0) {
		rollback_capture(db, &d2);
		return rc;
	}
	db->in_txn = false;
	return 0;
}
