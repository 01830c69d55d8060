/* load.h - a capture, or a database of one, ready to query.
 *
 * `sockcap analyze` loads captures into a database file; export and diff
 * accept either a capture (analysed into a temporary in-memory database) or
 * a database that `sockcap analyze` wrote.
 */
#ifndef SC_LOAD_H
#define SC_LOAD_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "analyze/analyze.h"
#include "analyze/db.h"

/* Analyze the capture at `path` into `db` (replacing an earlier analysis of
 * the same file).  `res` gets what the analysis found.  Returns 0 or a
 * negative error with `diag` (not a capture, unreadable, database error). */
int sc_load_capture(struct sc_db *db, const char *path, const struct sc_analyze_opts *o,
		    struct sc_analyze_result *res, struct sc_diag *diag);

/* Open `path` for queries: a sockcap database as it is (read-only), or a
 * capture analysed into a new in-memory database.  `*lost` is set when the
 * analysis reported lost or unparseable data.  Free with sc_db_close(). */
struct sc_db *sc_load_input(const char *path, uint64_t max_body, bool *lost, struct sc_diag *diag);

/* Whether the file at `path` is an SQLite database. */
bool sc_load_is_db(const char *path);

#endif
