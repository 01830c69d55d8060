/* sc_out.c - safe creation of output files (sc_out.h).
 *
 * Why a temporary file and rename() rather than O_TRUNC: truncating in place
 * keeps the old inode with its owner and mode (a 0644 file stays readable by
 * all), writes through a symbolic link planted at the name, and leaves a
 * half-written file when the command fails.  A new 0600 inode renamed over
 * the name has none of these problems, and rename(2) is atomic: readers see
 * the old file or the new one, never a mix.
 */
#include "formats/sc_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum out_kind {
	K_STDOUT,  /* "-" */
	K_DEVICE,  /* a character device or FIFO, written into */
	K_TMPFILE, /* unnamed O_TMPFILE in PATH's directory, linked at commit */
	K_NAMED,   /* ".NAME.XXXXXX" beside PATH, renamed at commit */
	K_INPLACE, /* PATH itself, created with O_EXCL */
};

struct sc_out {
	enum out_kind kind;
	unsigned flags;
	int fd;
	FILE *f;      /* owns fd once made (except stdout) */
	char *path;   /* as given */
	char *dir;    /* PATH's directory ("." when it has no slash) */
	char *base;   /* PATH's last component (points into path) */
	char *tmp;    /* K_NAMED: the temporary file */
	dev_t dev;    /* of the file written (K_INPLACE: to notice it being replaced) */
	ino_t ino;
};

/* Why a file could not be created in `dir`, said plainly. */
static int create_error(struct sc_out *o, int err, struct sc_diag *diag)
{
	switch (err) {
	case -ENOENT:
		return sc_diag_set(diag, err, 0, "cannot create %s: directory %s does not exist", o->path, o->dir);
	case -ENOTDIR:
		return sc_diag_set(diag, err, 0, "cannot create %s: %s is not a directory", o->path, o->dir);
	case -EACCES:
	case -EPERM:
	case -EROFS:
		return sc_diag_set(diag, err, 0, "cannot create %s: %s (directory %s)", o->path, strerror(-err),
				   o->dir);
	default:
		return sc_diag_set(diag, err, 0, "cannot create %s: %s", o->path, strerror(-err));
	}
}

static int split_path(struct sc_out *o, const char *path)
{
	char *slash;

	o->path = strdup(path);
	if (!o->path)
		return -ENOMEM;
	slash = strrchr(o->path, '/');
	if (!slash) {
		o->dir = strdup(".");
		o->base = o->path;
	} else {
		size_t n = slash == o->path ? 1 : (size_t)(slash - o->path);

		o->dir = strndup(o->path, n);
		o->base = slash + 1;
	}
	return o->dir ? 0 : -ENOMEM;
}

static void out_free(struct sc_out *o)
{
	free(o->path);
	free(o->dir);
	free(o->tmp);
	free(o);
}

/* Close what `o` holds; returns close()'s error (a late write error of some
 * file systems, e.g. NFS, shows up only here). */
static int out_close(struct sc_out *o)
{
	int rc = 0;

	if (o->kind == K_STDOUT)
		return 0;
	if (o->f) {
		if (fclose(o->f) != 0)
			rc = -errno;
	} else if (o->fd >= 0 && close(o->fd) < 0) {
		rc = -errno;
	}
	o->f = NULL;
	o->fd = -1;
	return rc;
}

static int open_device(struct sc_out *o, bool follow, struct sc_diag *diag)
{
	struct stat sb;

	o->fd = open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (o->fd < 0)
		return sc_diag_set(diag, -errno, 0, "%s: %s", o->path, strerror(errno));
	/* Checked again on the descriptor: the name may have changed since lstat. */
	if (fstat(o->fd, &sb) < 0 || !(S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode))) {
		close(o->fd);
		o->fd = -1;
		return sc_diag_set(diag, -EINVAL, 0, "%s: changed while being opened; not written", o->path);
	}
	o->kind = K_DEVICE;
	return 0;
}

static int open_inplace(struct sc_out *o, struct sc_diag *diag)
{
	struct stat sb;

	/* Replace by unlink + O_EXCL rather than O_TRUNC: see the top. */
	if ((o->flags & SC_OUT_FORCE) && unlink(o->path) < 0 && errno != ENOENT)
		return sc_diag_set(diag, -errno, 0, "cannot replace %s: %s", o->path, strerror(errno));
	o->fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (o->fd < 0) {
		if (errno == EEXIST)
			return sc_diag_set(diag, -EEXIST, 0, "%s exists; -f replaces it", o->path);
		return create_error(o, -errno, diag);
	}
	o->kind = K_INPLACE;
	(void)fchmod(o->fd, 0600); /* the umask can only have removed bits; be explicit */
	if (fstat(o->fd, &sb) == 0) {
		o->dev = sb.st_dev;
		o->ino = sb.st_ino;
	}
	return 0;
}

/* An O_TMPFILE file is given its name through /proc/self/fd (linkat with
 * AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH): without /proc, a named one. */
static void proc_fd_path(char *buf, size_t cap, int fd)
{
	snprintf(buf, cap, "/proc/self/fd/%d", fd);
}

static int open_tmp(struct sc_out *o, struct sc_diag *diag)
{
	size_t n;

	if (!(o->flags & SC_OUT_NAMED)) {
		o->fd = open(o->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
		if (o->fd >= 0) {
			char proc[64];

			proc_fd_path(proc, sizeof(proc), o->fd);
			if (access(proc, F_OK) == 0) {
				o->kind = K_TMPFILE;
				(void)fchmod(o->fd, 0600);
				return 0;
			}
			close(o->fd);
			o->fd = -1;
		} else if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
			return create_error(o, -errno, diag);
		}
	}
	/* ".NAME.XXXXXX": hidden, and in the same directory (and so the same
	 * file system) for rename(2). */
	n = strlen(o->dir) + strlen(o->base) + 16;
	o->tmp = malloc(n);
	if (!o->tmp)
		return sc_diag_set(diag, -ENOMEM, 0, "out of memory");
	snprintf(o->tmp, n, "%s/.%s.XXXXXX", o->dir, o->base);
	o->fd = mkostemp(o->tmp, O_CLOEXEC); /* O_EXCL, mode 0600 */
	if (o->fd < 0) {
		int err = -errno;

		free(o->tmp);
		o->tmp = NULL;
		return create_error(o, err, diag);
	}
	o->kind = K_NAMED;
	(void)fchmod(o->fd, 0600);
	return 0;
}

int sc_out_open(struct sc_out **out, const char *path, unsigned flags, struct sc_diag *diag)
{
	struct sc_out *o;
	struct stat ls, ts;
	int rc;

	*out = NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return sc_diag_set(diag, -ENOMEM, 0, "out of memory");
	o->fd = -1;
	o->flags = flags;
	rc = split_path(o, path);
	if (rc < 0) {
		sc_diag_set(diag, rc, 0, "out of memory");
		goto fail;
	}
	/* /dev/stdout is a link to /proc/self/fd/1, which may be a regular
	 * file (`> out`): it is standard output by name, not a link followed. */
	if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0) {
		o->kind = K_STDOUT;
		o->fd = STDOUT_FILENO;
		*out = o;
		return 0;
	}
	if (!*o->base) {
		rc = sc_diag_set(diag, -EISDIR, 0, "%s: a directory, not a file name", path);
		goto fail;
	}
	if (lstat(path, &ls) == 0) {
		bool follow = false;

		if (S_ISLNK(ls.st_mode) && stat(path, &ts) == 0 && (S_ISCHR(ts.st_mode) || S_ISFIFO(ts.st_mode))) {
			/* /dev/stdout and friends; a link someone else planted is
			 * never followed (protected_symlinks' rule). */
			if (ls.st_uid != 0 && ls.st_uid != geteuid()) {
				rc = sc_diag_set(diag, -EINVAL, 0,
						 "%s: a symbolic link owned by another user; not followed ('-' is standard "
						 "output)", path);
				goto fail;
			}
			follow = true;
			ls = ts;
		}
		if (S_ISCHR(ls.st_mode) || S_ISFIFO(ls.st_mode)) {
			rc = open_device(o, follow, diag);
			if (rc < 0)
				goto fail;
			*out = o;
			return 0;
		}
		if (S_ISDIR(ls.st_mode)) {
			rc = sc_diag_set(diag, -EISDIR, 0, "%s: a directory, not a file name", path);
			goto fail;
		}
		if (!S_ISREG(ls.st_mode) && !S_ISLNK(ls.st_mode)) {
			rc = sc_diag_set(diag, -EINVAL, 0, "%s: not a regular file, character device or FIFO", path);
			goto fail;
		}
		if (!(flags & SC_OUT_FORCE)) {
			rc = sc_diag_set(diag, -EEXIST, 0, "%s exists; -f replaces it", path);
			goto fail;
		}
	} else if (errno != ENOENT) {
		rc = sc_diag_set(diag, -errno, 0, "%s: %s", path, strerror(errno));
		goto fail;
	}
	rc = flags & SC_OUT_INPLACE ? open_inplace(o, diag) : open_tmp(o, diag);
	if (rc < 0)
		goto fail;
	*out = o;
	return 0;
fail:
	out_free(o);
	return rc;
}

int sc_out_fd(const struct sc_out *o)
{
	return o->fd;
}

FILE *sc_out_stream(struct sc_out *o)
{
	if (o->kind == K_STDOUT)
		return stdout;
	if (!o->f)
		o->f = fdopen(o->fd, "w");
	return o->f;
}

const char *sc_out_tmp_path(const struct sc_out *o)
{
	return o->tmp;
}

const char *sc_out_path(const struct sc_out *o)
{
	return o->path;
}

bool sc_out_is_file(const struct sc_out *o)
{
	return o->kind == K_TMPFILE || o->kind == K_NAMED || o->kind == K_INPLACE;
}

int sc_out_check(const struct sc_out *o, struct sc_diag *diag)
{
	struct stat sb;

	if (o->kind != K_INPLACE)
		return 0;
	if (lstat(o->path, &sb) < 0)
		return sc_diag_set(diag, -ESTALE, 0, "%s was removed while being written (by another program?)", o->path);
	if (sb.st_dev != o->dev || sb.st_ino != o->ino)
		return sc_diag_set(diag, -ESTALE, 0,
				   "%s was replaced by another file while being written (another sockcap with -f?)",
				   o->path);
	return 0;
}

/* Make the rename durable.  Best effort: the file is in place whatever
 * happens here, and there is nothing left to undo. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Give the unnamed file its name.  Without force, linkat(2) fails with
 * EEXIST when the name appeared meanwhile; with force, link it under a
 * temporary name and rename that over the old file. */
static int publish_tmpfile(struct sc_out *o)
{
	char proc[64], *tmp;
	size_t n = strlen(o->dir) + strlen(o->base) + 32;
	int rc = 0;

	proc_fd_path(proc, sizeof(proc), o->fd);
	if (!(o->flags & SC_OUT_FORCE))
		return linkat(AT_FDCWD, proc, AT_FDCWD, o->path, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
	tmp = malloc(n);
	if (!tmp)
		return -ENOMEM;
	for (unsigned i = 0;; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(tmp, n, "%s/.%s.%ld%u", o->dir, o->base, (long)(ts.tv_nsec ^ getpid()), i);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0)
			break;
		if (errno != EEXIST || i == 100) {
			rc = -errno;
			free(tmp);
			return rc;
		}
	}
	if (rename(tmp, o->path) < 0) {
		rc = -errno;
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

static int publish_named(struct sc_out *o)
{
	if (o->flags & SC_OUT_FORCE)
		return rename(o->tmp, o->path) < 0 ? -errno : 0;
	if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -errno;
	/* A file system without RENAME_NOREPLACE: link(2) never replaces. */
	if (link(o->tmp, o->path) < 0)
		return -errno;
	unlink(o->tmp);
	return 0;
}

int sc_out_commit(struct sc_out *o, struct sc_diag *diag)
{
	FILE *f = o->kind == K_STDOUT ? stdout : o->f;
	struct stat sb;
	int rc = 0;

	errno = 0;
	if (f && (fflush(f) != 0 || ferror(f)))
		rc = errno ? -errno : -EIO;
	/* Devices and pipes cannot be synced (EINVAL); standard output
	 * redirected to a file can. */
	if (rc == 0 && o->fd >= 0 && fstat(o->fd, &sb) == 0 && S_ISREG(sb.st_mode) && fsync(o->fd) < 0 &&
	    errno != EINVAL && errno != EROFS)
		rc = -errno;
	if (rc < 0) {
		sc_diag_set(diag, rc, 0, "writing %s: %s", o->kind == K_STDOUT ? "standard output" : o->path,
			    strerror(-rc));
		if (o->kind == K_INPLACE) {
			(void)out_close(o);
			out_free(o);
			return rc;
		}
		sc_out_abort(o);
		return rc;
	}
	if (o->kind == K_TMPFILE || o->kind == K_NAMED) {
		rc = o->kind == K_TMPFILE ? publish_tmpfile(o) : publish_named(o);
		if (rc == -EEXIST)
			sc_diag_set(diag, rc, 0, "%s exists (created while it was being written); -f replaces it",
				    o->path);
		else if (rc < 0)
			sc_diag_set(diag, rc, 0, "cannot create %s: %s", o->path, strerror(-rc));
		if (rc < 0) {
			sc_out_abort(o);
			return rc;
		}
		if (o->kind == K_NAMED) {
			free(o->tmp);
			o->tmp = NULL;
		}
		sync_dir(o->dir);
	}
	rc = out_close(o);
	if (rc < 0)
		sc_diag_set(diag, rc, 0, "writing %s: %s", o->path, strerror(-rc));
	out_free(o);
	return rc;
}

void sc_out_abort(struct sc_out *o)
{
	struct stat sb;

	if (!o)
		return;
	(void)out_close(o);
	if (o->tmp)
		unlink(o->tmp);
	if (o->kind == K_INPLACE && lstat(o->path, &sb) == 0 && sb.st_dev == o->dev && sb.st_ino == o->ino)
		unlink(o->path);
	out_free(o);
}
