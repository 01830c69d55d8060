/* db.h - the SQLite sink: decoded connections and transactions into the
 * database users query (analyze/schema.sql, docs/schema.md).
 *
 * One database may hold several captures.  A run (sc_db_open .. sc_db_commit)
 * is one SQLite transaction and each capture a savepoint in it, indexes are
 * created after a capture's load, and analysing the same file again (same
 * absolute path) replaces its rows.
 */
#ifndef SC_DB_H
#define SC_DB_H

#include <signal.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdint.h>

#include "analyze/model.h"
#include "formats/sc_pcap.h"
#include "formats/sc_err.h"

#define SC_DB_SCHEMA_VERSION 3

/* The schema, generated from analyze/schema.sql at build time. */
extern const char sc_db_schema_sql[];

struct sc_db;

/* Open or create the database at `path` for a run of `sockcap analyze`,
 * and make sure it has the schema (docs/schema.md, "Interrupted runs"):
 *  - a new database is built in a temporary file beside `path` (0600,
 *    formats/sc_out.h) that sc_db_commit() puts in place: until then, and
 *    for good when the run fails, `path` does not exist;
 *  - an existing one is opened in place, never through a symbolic link, and
 *    every change of the run is one transaction with its rollback journal on
 *    disk: a failed, interrupted or killed run leaves it exactly as it was;
 *  - ":memory:" is an in-memory database (export, diff, tests) in which each
 *    capture is committed when it ends.
 * Fails (NULL, diag) when it is not an SQLite database, has another schema
 * version, or cannot be created or written (the path and the reason). */
struct sc_db *sc_db_open(const char *path, struct sc_diag *diag);

/* Whether sc_db_open() rolled back a run that was killed before it could
 * commit (its journal was left beside the database). */
bool sc_db_recovered(const struct sc_db *db);

/* Interrupt every statement soon after *stop becomes non-zero (a flag set by
 * a signal handler; borrowed until sc_db_commit or sc_db_close): a load in
 * progress then fails and the run is rolled back.  NULL: never. */
void sc_db_set_stop(struct sc_db *db, const volatile sig_atomic_t *stop);

/* End the run: commit its transaction and, for a new database, fsync the
 * temporary file and rename it into place.  Always frees `db`.  Returns 0,
 * or an error with `diag` (-EINTR when *stop was set), and then the database
 * is as it was before the run (a new one does not exist). */
int sc_db_commit(struct sc_db *db, struct sc_diag *diag);

/* Open an existing sockcap database read-only (for export and diff). */
struct sc_db *sc_db_open_ro(const char *path, struct sc_diag *diag);

/* Close.  A run that was not committed is rolled back (a new database is
 * removed).  NULL is a no-op. */
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
	const struct sc_pcap_stats *pcap; /* NULL for .skc */
	const char *interfaces;           /* NULL or lines */
};

/* Start loading a capture: opens a savepoint, deletes the rows of an earlier
 * analysis of the same path, inserts the captures row.  Fills a sink
 * whose callbacks write rows of this capture. */
int sc_db_begin_capture(struct sc_db *db, const struct sc_capture_meta *m, uint64_t max_body, struct sc_sink *sink,
			struct sc_diag *diag);

/* Finish: update the captures row with `m`, create the indexes, release the
 * savepoint (a database in a file: the rows are committed with the run, by
 * sc_db_commit).  On error (or when `commit` is false) the capture's rows
 * are rolled back. */
int sc_db_end_capture(struct sc_db *db, const struct sc_capture_meta *m, bool commit, struct sc_diag *diag);

#endif
