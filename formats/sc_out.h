/* sc_out.h - creating the files sockcap writes captured content into.
 *
 * Captures, databases, HAR logs and pcapng exports hold payloads, and with
 * them Authorization headers and cookies.  Every such output is created
 * through here, so one rule holds for all of them:
 *
 *  - Mode 0600 whatever the umask, as `record` always did.
 *  - Never through a symbolic link.  A link at PATH is an existing file like
 *    any other: refused, or with SC_OUT_FORCE replaced (the link itself, not
 *    its target).  One exception, for /dev/stderr, /dev/fd/N and the like: a
 *    link to a character device or a FIFO is followed when root or the
 *    caller owns the link (the rule of the kernel's protected_symlinks).
 *  - An existing file is replaced only with SC_OUT_FORCE, and then by a new
 *    file renamed over it, never truncated in place: whoever owned the old
 *    file or could read it, the new one is ours and 0600.
 *  - "-" and /dev/stdout are standard output (whatever it is: a pipe, a
 *    terminal, a file the shell opened).  A character device or a FIFO named
 *    directly (/dev/null, a named pipe to tshark) is written into, with or
 *    without SC_OUT_FORCE: nothing is replaced.  Directories, block devices
 *    and sockets are refused.
 *  - Atomic by default: the bytes go to a temporary file in PATH's directory,
 *    which sc_out_commit() flushes, fsyncs and renames into place (and fsyncs
 *    the directory).  Until then PATH does not exist or is still the old
 *    file, so a failed or interrupted command leaves no half-written output.
 *    The temporary file is unnamed (O_TMPFILE) where the file system allows
 *    it, so that even kill -9 leaves nothing behind; else, and always with
 *    SC_OUT_NAMED, it is ".NAME.XXXXXX" beside PATH (removed by
 *    sc_out_abort(); kill -9 leaves it, 0600).
 *  - SC_OUT_INPLACE: the file is created at PATH at once (O_CREAT|O_EXCL,
 *    after unlinking an old one with SC_OUT_FORCE), for the recorder, whose
 *    capture must survive a crash up to its last flushed block.
 *
 * Nothing here prints.  Errors are -errno with a complete sentence in `diag`
 * that names the path ("web.har exists; -f replaces it", "cannot create
 * out/web.db: directory out does not exist").
 */
#ifndef SC_OUT_H
#define SC_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "formats/sc_err.h"

enum {
	SC_OUT_FORCE = 1u << 0,   /* replace an existing file */
	SC_OUT_INPLACE = 1u << 1, /* create PATH at once instead of renaming at commit */
	SC_OUT_NAMED = 1u << 2,   /* the temporary file needs a name (SQLite opens files by name) */
};

struct sc_out;

/* Open `path` for writing under the rule above.  `path` is copied.
 * Returns 0 and *out, or -errno with `diag`: -EEXIST (exists, no
 * SC_OUT_FORCE), -EISDIR, -EINVAL (a block device, a socket, a link that is
 * not followed), -ENOENT (the directory does not exist), -EACCES, ... */
int sc_out_open(struct sc_out **out, const char *path, unsigned flags, struct sc_diag *diag);

/* The descriptor to write to (owned by `o`: do not close it). */
int sc_out_fd(const struct sc_out *o);

/* A stdio stream on sc_out_fd(), made on the first call and owned by `o`
 * (stdout itself for "-").  NULL with errno set when fdopen fails. */
FILE *sc_out_stream(struct sc_out *o);

/* The name of the temporary file (with SC_OUT_NAMED), else NULL. */
const char *sc_out_tmp_path(const struct sc_out *o);

/* The path as given to sc_out_open(). */
const char *sc_out_path(const struct sc_out *o);

/* Whether the output is a file that sockcap created (not standard output, a
 * device or a FIFO). */
bool sc_out_is_file(const struct sc_out *o);

/* With SC_OUT_INPLACE: 0 while `path` still names the file we are writing,
 * else -ESTALE with `diag` ("web.skc was removed", "... was replaced by
 * another file"): e.g. a second recorder with -f took the name. */
int sc_out_check(const struct sc_out *o, struct sc_diag *diag);

/* Finish: flush the stream, fsync (files), rename the temporary file into
 * place (without SC_OUT_FORCE: only if `path` still does not exist), fsync
 * the directory, close.  With SC_OUT_INPLACE: flush, fsync and close (also
 * after a write error: the file up to its last whole write is kept).  Always
 * frees `o`.  Returns 0 or -errno with `diag` ("writing web.har: No space
 * left on device"); on failure of an atomic output nothing is left at `path`
 * that was not there before (the temporary file is removed). */
int sc_out_commit(struct sc_out *o, struct sc_diag *diag);

/* Give up: close, and remove what was created (the temporary file; with
 * SC_OUT_INPLACE the file at `path` if it is still ours).  Frees `o`; NULL is
 * a no-op. */
void sc_out_abort(struct sc_out *o);

#endif
