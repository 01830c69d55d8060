/* sc_err.h - error codes and diagnostics shared by every sockcap module.
 *
 * Convention (STYLE.md §3): functions return 0 or a count on success and a
 * negative value on failure.  Negative values above SC_ERR_BASE are -errno
 * from the system (fatal: I/O, memory); values at or below it are sockcap's own
 * data and protocol errors (the input is bad, the run goes on).
 */
#ifndef SC_ERR_H
#define SC_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define SC_ERR_BASE (-1000)

enum sc_err {
	SC_OK = 0,
	SC_EAGAIN = SC_ERR_BASE - 1,   /* need more input (incremental parsers) */
	SC_ETRUNC = SC_ERR_BASE - 2,   /* input ended inside a structure */
	SC_ECORRUPT = SC_ERR_BASE - 3, /* a structure is inconsistent */
	SC_EFORMAT = SC_ERR_BASE - 4,  /* not a file format we know */
	SC_EVERSION = SC_ERR_BASE - 5, /* a format version we do not know */
	SC_ETOOBIG = SC_ERR_BASE - 6,  /* a declared length or count is over its cap */
	SC_ECHECKSUM = SC_ERR_BASE - 7,
	SC_EPROTO = SC_ERR_BASE - 8,   /* protocol violation in decoded traffic */
	SC_EUNSUPP = SC_ERR_BASE - 9,  /* valid, but not something we handle */
	SC_ECOMPRESS = SC_ERR_BASE - 10, /* zstd reported an error */
	SC_ELIMIT = SC_ERR_BASE - 11,  /* an internal limit was reached */
	SC_ELAST = SC_ERR_BASE - 12,
};

/* A short description of `err` (an SC_E* value or -errno).  Never NULL; the
 * string is static. */
const char *sc_strerror(int err);

/* Whether `err` should stop a run (-errno from the system) rather than be
 * reported as bad input and skipped. */
int sc_err_is_fatal(int err);

/* Context for an error: where in the input it was found and what was
 * expected.  Library code fills it; only programs print it. */
struct sc_diag {
	int err;         /* SC_E* or -errno; 0 when nothing was reported */
	uint64_t offset; /* file or stream offset the message refers to */
	char msg[256];   /* complete sentence without trailing newline */
};

/* Record `err` at `offset` with a printf-style message.  Returns `err` so that
 * callers can write `return sc_diag_set(d, ...)`.  `d` may be NULL. */
int sc_diag_set(struct sc_diag *d, int err, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
