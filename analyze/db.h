/* db.h - the SQLite sink: decoded connections and transactions into the
 * database users query (analyze/schema.sql, docs/schema.md).
 *
 * One database may hold several captures.  A capture is loaded in one SQLite
 * transaction with bulk settings, indexes are created after the load, and
 * analysing the same file again (same absolute path) replaces its rows.
 */
#ifndef SC_DB_H
#define SC_DB_H

#include <stdbool.h>
#include <sqlite3.h>
#include <stdint.h>

#include "analyze/model.h"
#include "formats/sc_err.h"

#define SC_DB_SCHEMA_VERSION 2

/* The schema, generated from analyze/schema.sql at build time. */
extern const char sc_db_schema_sql[];

struct sc_db;

/* Open or create the database at `path` and make sure it has the schema.
 * Fails (NULL, diag) when it is not an SQLite database or has another schema
 * version. */
struct sc_db *sc_db_open(const char *path, struct sc_diag *diag);

/* Open an existing sockcap database read-only (for export and diff). */
struct sc_db *sc_db_open_ro(const char *path, struct sc_diag *diag);
void sc_db_close(struct sc_db *db);

/* The SQLite handle, for queries (borrowed). */
sqlite3 *sc_db_handle(struct sc_db *db);

/* What is known about a capture before and after its analysis. */
struct sc_capture_meta {
	const char *path;     /* absolute */
	const char *format;   /* "skc", "pcap", "pcapng" */
	const char *hostname, *kernel, *tool, *options; /* may be NULL */
	uint64_t start_ns, end_ns, file_bytes;
	const char *status;   /* "complete", "unfinished", "damaged" */
	uint64_t bytes_captured, bytes_lost;
	const char *damage;   /* NULL or lines */
	uint64_t connections, transactions, anomalies;
};

/* Start loading a capture: deletes the rows of an earlier analysis of the same
 * path, begins the SQLite transaction, inserts the captures row.  Fills a sink
 * whose callbacks write rows of this capture. */
int sc_db_begin_capture(struct sc_db *db, const struct sc_capture_meta *m, uint64_t max_body, struct sc_sink *sink,
			struct sc_diag *diag);

/* Finish: update the captures row with `m`, commit, create the indexes.  On
 * error (or when `commit` is false) the capture's rows are rolled back. */
int sc_db_end_capture(struct sc_db *db, const struct sc_capture_meta *m, bool commit, struct sc_diag *diag);

#endif
