/* regression_driver.c - replay fuzz inputs without libFuzzer (zstd's idea).
 *
 * Linked with one fuzz target's LLVMFuzzerTestOneInput; every argument is a
 * file or a directory of files, each passed to the target once.  A crash or a
 * sanitizer report fails `make check`; the target's own return value is
 * ignored, as libFuzzer ignores it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (64u << 20)

static int run_file(const char *path, unsigned long *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *nb;

			if (ncap > REPLAY_MAX_INPUT) {
				fprintf(stderr, "%s: larger than %u bytes\n", path, REPLAY_MAX_INPUT);
				rc = 1;
				goto out;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				rc = 1;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + len, 1, cap - len, f);

		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		rc = 1;
		goto out;
	}
	/* Copy to an exact-size allocation so that ASan sees over-reads. */
	uint8_t *exact = malloc(len ? len : 1);

	if (!exact) {
		rc = 1;
		goto out;
	}
	if (len)
		memcpy(exact, buf, len);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	(*n)++;
out:
	free(buf);
	fclose(f);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, unsigned long *n)
{
	struct stat sb;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t nn = 0, cap = 0;
	int rc = 0;

	if (stat(path, &sb) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(sb.st_mode))
		return run_file(path, n);
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (nn == cap) {
			cap = cap ? cap * 2 : 64;
			char **nb = realloc(names, cap * sizeof(*names));

			if (!nb) {
				rc = 1;
				break;
			}
			names = nb;
		}
		size_t l = strlen(path) + strlen(de->d_name) + 2;

		names[nn] = malloc(l);
		if (!names[nn]) {
			rc = 1;
			break;
		}
		snprintf(names[nn++], l, "%s/%s", path, de->d_name);
	}
	closedir(d);
	if (nn)
		qsort(names, nn, sizeof(*names), cmp_str);
	for (size_t i = 0; i < nn; i++) {
		rc |= run_path(names[i], n);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		rc |= run_path(argv[i], &n);
	printf("%s: replayed %lu inputs\n", argv[0], n);
	return rc;
}
