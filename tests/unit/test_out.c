/* test_out.c - the safe-output rule (formats/sc_out.h): 0600 whatever the
 * umask, nothing at PATH until commit, never through a symbolic link, an
 * existing file replaced only with force and then by a new inode, devices
 * written into, exact messages. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/sc_out.h"

#include "sc_test.h"

static char tmpdir[] = "/tmp/sc-test-out-XXXXXX";

static void setup_tmp(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
	umask(0); /* the files must be 0600 by themselves */
}

static void teardown_tmp(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

TestSuite(out, .init = setup_tmp, .fini = teardown_tmp);

static const char *at(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
}

static char *read_text(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Entries in the test directory (hidden ones included). */
static int entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void write_str(struct sc_out *o, const char *s)
{
	cr_assert_eq(write(sc_out_fd(o), s, strlen(s)), (ssize_t)strlen(s));
}

Test(out, new_file_appears_only_at_commit_with_mode_0600)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };
	struct stat sb;

	cr_assert_eq(sc_out_open(&o, at("a.har"), 0, &d), 0, "%s", d.msg);
	cr_assert(sc_out_is_file(o));
	write_str(o, "hello");
	cr_assert_eq(lstat(at("a.har"), &sb), -1, "nothing at PATH before the commit");
	cr_assert_eq(sc_out_commit(o, &d), 0, "%s", d.msg);
	cr_assert_eq(lstat(at("a.har"), &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	cr_assert_str_eq(read_text(at("a.har")), "hello");
	cr_assert_eq(entries(), 1, "no temporary file left");
}

Test(out, stream_is_flushed_at_commit)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };

	cr_assert_eq(sc_out_open(&o, at("s.har"), 0, &d), 0);
	fputs("buffered", sc_out_stream(o));
	cr_assert_eq(sc_out_commit(o, &d), 0, "%s", d.msg);
	cr_assert_str_eq(read_text(at("s.har")), "buffered");
}

Test(out, abort_leaves_nothing)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };

	cr_assert_eq(sc_out_open(&o, at("x.pcapng"), 0, &d), 0);
	write_str(o, "half");
	sc_out_abort(o);
	cr_assert_eq(entries(), 0);
	cr_assert_eq(sc_out_open(&o, at("x.db"), SC_OUT_NAMED, &d), 0);
	write_str(o, "half");
	sc_out_abort(o);
	cr_assert_eq(entries(), 0);
	sc_out_abort(NULL);
}

Test(out, named_temporary_is_hidden_beside_the_path_and_0600)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };
	struct stat sb;
	const char *tmp;
	char want[512];

	cr_assert_eq(sc_out_open(&o, at("web.db"), SC_OUT_NAMED, &d), 0, "%s", d.msg);
	tmp = sc_out_tmp_path(o);
	cr_assert_not_null(tmp);
	snprintf(want, sizeof(want), "%s/.web.db.", tmpdir);
	cr_assert_eq(strncmp(tmp, want, strlen(want)), 0, "%s", tmp);
	cr_assert_eq(strlen(tmp), strlen(want) + 6);
	cr_assert_eq(stat(tmp, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	write_str(o, "db");
	cr_assert_eq(sc_out_commit(o, &d), 0, "%s", d.msg);
	cr_assert_str_eq(read_text(at("web.db")), "db");
	cr_assert_eq(entries(), 1);
}

Test(out, existing_file_refused_without_force)
{
	struct sc_out *o = (struct sc_out *)1;
	struct sc_diag d = { 0 };
	char want[600];

	put_file(at("old.har"), "old", 0644);
	cr_assert_eq(sc_out_open(&o, at("old.har"), 0, &d), -EEXIST);
	cr_assert_null(o);
	snprintf(want, sizeof(want), "%s exists; -f replaces it", at("old.har"));
	cr_assert_str_eq(d.msg, want);
	cr_assert_eq(sc_out_open(&o, at("old.har"), SC_OUT_INPLACE, &d), -EEXIST);
	cr_assert_str_eq(read_text(at("old.har")), "old");
}

Test(out, force_replaces_with_a_new_inode)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };
	struct stat sb;

	/* A second name for the old file: if it were truncated in place, this
	 * one would change too. */
	put_file(at("old.har"), "old", 0644);
	cr_assert_eq(link(at("old.har"), at("other-name")), 0);
	static const unsigned flags[] = { SC_OUT_FORCE, SC_OUT_FORCE | SC_OUT_NAMED };
	static const char *const text[] = { "old", "new", "named" };

	for (int i = 0; i < 2; i++) {
		cr_assert_eq(sc_out_open(&o, at("old.har"), flags[i], &d), 0, "%s", d.msg);
		write_str(o, text[i + 1]);
		cr_assert_str_eq(read_text(at("old.har")), text[i], "the old file stays until the commit");
		cr_assert_eq(sc_out_commit(o, &d), 0, "%s", d.msg);
		cr_assert_str_eq(read_text(at("old.har")), text[i + 1]);
		cr_assert_eq(stat(at("old.har"), &sb), 0);
		cr_assert_eq(sb.st_mode & 07777, 0600);
		cr_assert_str_eq(read_text(at("other-name")), "old");
	}
	cr_assert_eq(entries(), 2);
}

Test(out, inplace_force_replaces_with_a_new_inode)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };
	struct stat sb;

	put_file(at("cap.skc"), "old", 0644);
	cr_assert_eq(link(at("cap.skc"), at("other-name")), 0);
	cr_assert_eq(sc_out_open(&o, at("cap.skc"), SC_OUT_INPLACE | SC_OUT_FORCE, &d), 0, "%s", d.msg);
	cr_assert_eq(stat(at("cap.skc"), &sb), 0, "in place: the file exists at once");
	cr_assert_eq(sb.st_mode & 07777, 0600);
	write_str(o, "new");
	cr_assert_eq(sc_out_commit(o, &d), 0, "%s", d.msg);
	cr_assert_str_eq(read_text(at("cap.skc")), "new");
	cr_assert_str_eq(read_text(at("other-name")), "old");
}

Test(out, never_writes_through_a_symlink)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };
	struct stat sb;
	char want[600];

	put_file(at("victim"), "victim", 0644);
	cr_assert_eq(symlink(at("victim"), at("link.har")), 0);
	cr_assert_eq(symlink(at("absent"), at("dangling.har")), 0);
	/* Without force a link is an existing file. */
	cr_assert_eq(sc_out_open(&o, at("link.har"), 0, &d), -EEXIST);
	snprintf(want, sizeof(want), "%s exists; -f replaces it", at("link.har"));
	cr_assert_str_eq(d.msg, want);
	cr_assert_eq(sc_out_open(&o, at("dangling.har"), 0, &d), -EEXIST);
	cr_assert_eq(sc_out_open(&o, at("dangling.har"), SC_OUT_INPLACE, &d), -EEXIST);
	cr_assert_eq(lstat(at("absent"), &sb), -1, "the target of a dangling link is never created");
	/* With force the link itself is replaced, never its target. */
	for (int inplace = 0; inplace < 2; inplace++) {
		const char *p = inplace ? at("dangling.har") : at("link.har");

		cr_assert_eq(sc_out_open(&o, p, SC_OUT_FORCE | (inplace ? SC_OUT_INPLACE : 0), &d), 0, "%s", d.msg);
		write_str(o, "mine");
		cr_assert_eq(sc_out_commit(o, &d), 0, "%s", d.msg);
		cr_assert_eq(lstat(p, &sb), 0);
		cr_assert(S_ISREG(sb.st_mode));
		cr_assert_eq(sb.st_mode & 07777, 0600);
		cr_assert_str_eq(read_text(p), "mine");
	}
	cr_assert_str_eq(read_text(at("victim")), "victim");
	cr_assert_eq(lstat(at("absent"), &sb), -1);
}

Test(out, devices_are_written_into)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };
	struct stat sb;

	cr_assert_eq(sc_out_open(&o, "/dev/null", 0, &d), 0, "%s", d.msg);
	cr_assert_not(sc_out_is_file(o));
	write_str(o, "x");
	cr_assert_eq(sc_out_commit(o, &d), 0, "%s", d.msg);
	cr_assert_eq(stat("/dev/null", &sb), 0);
	cr_assert(S_ISCHR(sb.st_mode));
	/* A link to a device that we own is followed (/dev/stdout's case). */
	cr_assert_eq(symlink("/dev/null", at("null-link")), 0);
	cr_assert_eq(sc_out_open(&o, at("null-link"), 0, &d), 0, "%s", d.msg);
	cr_assert_eq(sc_out_commit(o, &d), 0, "%s", d.msg);
	cr_assert_eq(lstat(at("null-link"), &sb), 0);
	cr_assert(S_ISLNK(sb.st_mode));
}

Test(out, full_device_reports_enospc_at_commit)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };

	if (access("/dev/full", W_OK) != 0)
		SC_SKIP("no writable /dev/full");
	cr_assert_eq(sc_out_open(&o, "/dev/full", 0, &d), 0, "%s", d.msg);
	fputs("buffered bytes", sc_out_stream(o));
	cr_assert_eq(sc_out_commit(o, &d), -ENOSPC);
	cr_assert_str_eq(d.msg, "writing /dev/full: No space left on device");
}

Test(out, missing_directory_and_directories_are_said)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };
	char want[600];

	cr_assert_eq(sc_out_open(&o, at("nodir/web.db"), SC_OUT_NAMED, &d), -ENOENT);
	snprintf(want, sizeof(want), "cannot create %s: directory %s does not exist", at("nodir/web.db"),
		 at("nodir"));
	cr_assert_str_eq(d.msg, want);
	cr_assert_eq(sc_out_open(&o, at("nodir/web.har"), 0, &d), -ENOENT);
	snprintf(want, sizeof(want), "cannot create %s: directory %s does not exist", at("nodir/web.har"),
		 at("nodir"));
	cr_assert_str_eq(d.msg, want);
	cr_assert_eq(sc_out_open(&o, tmpdir, SC_OUT_FORCE, &d), -EISDIR);
	snprintf(want, sizeof(want), "%s: a directory, not a file name", tmpdir);
	cr_assert_str_eq(d.msg, want);
	cr_assert_eq(sc_out_open(&o, "out/", 0, &d), -EISDIR);
}

Test(out, name_taken_during_the_write_is_not_replaced)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };
	char want[600];

	for (unsigned flags = 0; flags <= SC_OUT_NAMED; flags += SC_OUT_NAMED) {
		unlink(at("race.har"));
		cr_assert_eq(sc_out_open(&o, at("race.har"), flags, &d), 0, "%s", d.msg);
		write_str(o, "late");
		put_file(at("race.har"), "first", 0600);
		cr_assert_eq(sc_out_commit(o, &d), -EEXIST);
		snprintf(want, sizeof(want), "%s exists (created while it was being written); -f replaces it",
			 at("race.har"));
		cr_assert_str_eq(d.msg, want);
		cr_assert_str_eq(read_text(at("race.har")), "first");
		cr_assert_eq(entries(), 1, "the temporary file is removed");
	}
}

Test(out, inplace_notices_its_file_taken)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };
	char want[600];

	cr_assert_eq(sc_out_open(&o, at("rec.skc"), SC_OUT_INPLACE, &d), 0, "%s", d.msg);
	cr_assert_eq(sc_out_check(o, &d), 0);
	cr_assert_eq(unlink(at("rec.skc")), 0);
	cr_assert_eq(sc_out_check(o, &d), -ESTALE);
	snprintf(want, sizeof(want), "%s was removed while being written (by another program?)", at("rec.skc"));
	cr_assert_str_eq(d.msg, want);
	put_file(at("rec.skc"), "other", 0600);
	cr_assert_eq(sc_out_check(o, &d), -ESTALE);
	snprintf(want, sizeof(want),
		 "%s was replaced by another file while being written (another sockcap with -f?)", at("rec.skc"));
	cr_assert_str_eq(d.msg, want);
	sc_out_abort(o);
	cr_assert_str_eq(read_text(at("rec.skc")), "other", "abort removes only a file of its own");
}

Test(out, stdout_is_dash)
{
	struct sc_out *o;
	struct sc_diag d = { 0 };

	cr_assert_eq(sc_out_open(&o, "-", 0, &d), 0);
	cr_assert_eq(sc_out_fd(o), STDOUT_FILENO);
	cr_assert_eq(sc_out_stream(o), stdout);
	cr_assert_not(sc_out_is_file(o));
	cr_assert_eq(sc_out_commit(o, &d), 0, "%s", d.msg);
	cr_assert_eq(fcntl(STDOUT_FILENO, F_GETFD), 0, "standard output stays open");
}
