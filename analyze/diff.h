/* diff.h - compare the HTTP transactions of two sockcap databases.
 *
 * Captures become regression fixtures: record once, record again later, and
 * ask what changed.  sc_diff_run() reads two databases that `sockcap analyze`
 * wrote (or that sc_load_input() built in memory from captures) and returns
 * the differences as data; it never prints (cli/cmd_diff.c does).
 *
 * Which transactions.  A socket-level capture of a connection whose two ends
 * are on the recorded host holds it twice: role 'client' and role 'server',
 * with mirrored endpoints (docs/schema.md).  Each exchange is used once: a
 * 'server' connection is left out when a 'client' connection of the same
 * capture mirrors it (same family; local address and port of one equal the
 * remote address and port of the other; for Unix-domain sockets, the same
 * socket path).  Everything else is kept: the client side of local traffic,
 * the server side of traffic whose clients were not recorded, 'network'
 * connections of pcaps, 'unknown' ones.  Only connections with at least one
 * transaction take part.  Connections are ordered by open time (then
 * capture, source id, row id); transactions within a connection by request
 * start (the response start when the request was not seen), then HTTP/2
 * stream id, then row id.
 *
 * Matching.  A transaction's key is (method, authority, path), compared byte
 * for byte, NULL only equal to NULL; (method, path) with opts->ignore_authority.
 *   1. Connections are aligned by their whole key sequences (Myers' diff
 *      over the two connection lists, equal when the sequences are equal),
 *      so that an added or removed connection does not shift the others.
 *   2. Between two such anchors, the connections left over on each side are
 *      paired greedily by similarity: the Dice coefficient 2*C/(n_a+n_b),
 *      C the keys they share (as multisets), best first, ties to the higher
 *      C, then to the earlier connections; pairs with nothing in common are
 *      not made.  A large gap scores only pairs near the same relative
 *      position in open order, and scoring has a budget per run.
 *   3. Within each pair of connections, transactions are aligned by key with
 *      Myers' diff (an inserted request is one "added", not a shift).
 *   4. Transactions still unmatched on both sides are aligned once more, all
 *      of them in capture order, so that a request that moved to another
 *      connection (a closed keep-alive connection, a reordered parallel one)
 *      is still compared rather than reported removed and added.
 *   5. Order across connections says little (a replay runs the recorded
 *      connections at once, and they interleave differently): what is still
 *      unmatched is paired with the earliest unmatched transaction of the
 *      same key on the other side, except within two connections aligned
 *      against each other in step 3, where order counted.  Two
 *      transactions of connections already paired with each other are not
 *      matched here: within a connection, order counts (a swapped pair of
 *      requests is one removed and one added).
 * Whatever is left is "removed" (only in A) or "added" (only in B).  Every
 * alignment is bounded in edit distance and work; past the bound it falls
 * back to a windowed greedy match and `approximate` is set in the result.
 *
 * Comparison of a matched pair: HTTP version; final status; header fields of
 * request and response (names lower-cased, trailers apart, the volatile ones
 * and opts->ignore left out), grouped by name: the order of fields with
 * different names carries no meaning (RFC 9110 §5.3), the order of values of
 * one name does, and is aligned; bodies: full length and the stored bytes
 * (bodies cut at --max-body are compared as far as both were stored, and the
 * comparison is counted as limited); for textual bodies no longer than
 * opts->text_cap, a unified line diff.
 */
#ifndef SC_DIFF_H
#define SC_DIFF_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/sha256.h"
#include "formats/sc_err.h"

#define SC_DIFF_TEXT_CAP (64u * 1024)      /* default: bodies diffed line by line up to this size each */
#define SC_DIFF_LINES_BUDGET (16u << 20)   /* default: bytes of diff lines kept in one result */
#define SC_DIFF_CONTEXT 3                  /* lines of context in a hunk */

/* Header names ignored by default (lower case, NULL-terminated): values that
 * differ on every run of the same traffic (clocks, trace and request ids). */
extern const char *const sc_diff_volatile_headers[];

struct sc_diff_opts {
	const char *const *ignore; /* more header names to ignore, any case; borrowed */
	size_t n_ignore;
	bool no_default_ignore;    /* compare sc_diff_volatile_headers too */
	bool ignore_authority;     /* match by (method, path) and leave Host / :authority out: the same
				    * traffic sent to another host or port (a staging server, a replay) */
	size_t text_cap;           /* 0: SC_DIFF_TEXT_CAP */
	size_t lines_budget;       /* 0: SC_DIFF_LINES_BUDGET */
};

/* Bytes from the database; `known` is false for SQL NULL ("not seen"). */
struct sc_diff_str {
	char *p; /* owned by the result; NUL-terminated for convenience, may hold NULs */
	size_t len;
	bool known;
};

/* Where a transaction is in its database. */
struct sc_diff_txref {
	int64_t tx_id;     /* transactions.id */
	int64_t conn_id;   /* connections.id */
	uint32_t index;    /* 1-based position in its connection, in request order */
	int64_t stream_id; /* HTTP/2 stream id, -1 for HTTP/1 */
};

enum sc_diff_kind { SC_DIFF_CHANGED, SC_DIFF_ADDED, SC_DIFF_REMOVED };
enum sc_diff_dir { SC_DIFF_REQUEST = 0, SC_DIFF_RESPONSE = 1 };
enum sc_diff_op { SC_DIFF_OP_CHANGED, SC_DIFF_OP_ADDED, SC_DIFF_OP_REMOVED };

/* One header field that differs. */
struct sc_diff_field {
	enum sc_diff_dir dir;
	bool trailer;
	enum sc_diff_op op;
	struct sc_diff_str name; /* lower-cased */
	struct sc_diff_str a, b; /* values; `a` unset for ADDED, `b` for REMOVED */
};

struct sc_diff_body_side {
	uint64_t length;  /* full decoded length; 0 when there was no body */
	uint64_t stored;  /* bytes stored in the database */
	uint8_t sha256[SC_SHA256_LEN]; /* of the stored bytes */
};

enum sc_diff_text {
	SC_DIFF_TEXT_NONE,     /* not textual (or content-encoded): hashes only */
	SC_DIFF_TEXT_LINES,    /* `lines` holds a unified diff */
	SC_DIFF_TEXT_TOO_BIG,  /* textual, but over text_cap or cut at --max-body */
	SC_DIFF_TEXT_TOO_MANY, /* textual, but the line alignment or the lines budget gave up */
};

/* A body that differs. */
struct sc_diff_body {
	enum sc_diff_dir dir;
	struct sc_diff_body_side a, b;
	bool limited;            /* a body was cut at --max-body: only stored bytes were compared */
	enum sc_diff_text text;
	struct sc_diff_str *lines; /* "@@ -1,3 +1,3 @@", " ctx", "-old", "+new", "\\ No newline at end of file" */
	size_t n_lines;
};

/* A transaction that differs, or exists on one side only. */
struct sc_diff_entry {
	enum sc_diff_kind kind;
	struct sc_diff_str method, authority, path; /* the key (equal on both sides when matched) */
	struct sc_diff_txref a, b;  /* `a` unset for ADDED, `b` for REMOVED */
	/* CHANGED only: */
	int status_a, status_b;     /* -1: no response seen */
	struct sc_diff_str version_a, version_b;
	bool status_changed, version_changed;
	struct sc_diff_field *fields;
	size_t n_fields;
	struct sc_diff_body *bodies; /* request body before response body */
	size_t n_bodies;
};

struct sc_diff_result {
	struct sc_diff_entry *entries; /* differences in a diff-like order: A's order, additions near their B neighbours */
	size_t n_entries;
	uint64_t equal, changed, added, removed; /* transactions */
	uint64_t limited;     /* matched pairs where some body comparison was limited by truncation */
	uint64_t conns_a, conns_b; /* connections taken part (after the mirror rule) */
	uint64_t tx_a, tx_b;  /* transactions taken part */
	bool approximate;     /* an alignment hit its bound and fell back to a greedy match */
};

/* Compare databases `a` and `b` (borrowed; read only).  On success returns 0
 * and fills `res`, which the caller frees with sc_diff_result_fini().  Returns
 * a negative error with `diag` on a query failure (-EIO), a database that is
 * not a sockcap database, or out of memory (-ENOMEM); `res` is then empty. */
int sc_diff_run(sqlite3 *a, sqlite3 *b, const struct sc_diff_opts *o, struct sc_diff_result *res,
		struct sc_diag *diag);

void sc_diff_result_fini(struct sc_diff_result *res);

/* Free what an entry owns (entries of a result are freed by
 * sc_diff_result_fini). */
void sc_diff_entry_fini(struct sc_diff_entry *e);

/* Whether header `name` (any case) is ignored under `o` (NULL: the defaults). */
bool sc_diff_header_ignored(const struct sc_diff_opts *o, const char *name, size_t len);

#endif
