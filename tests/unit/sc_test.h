/* sc_test.h - helpers shared by the Criterion unit tests. */
#ifndef SC_TEST_H
#define SC_TEST_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Skip a test that cannot run here (no root, no BPF, a tool missing).  Under
 * CI=true a skip is a failure: CI must run everything. */
#define SC_SKIP(...)                                                                   \
	do {                                                                           \
		const char *ci_ = getenv("CI");                                        \
		if (ci_ && strcmp(ci_, "true") == 0)                                   \
			cr_assert_fail("skipped under CI=true: " __VA_ARGS__);               \
		cr_skip_test(__VA_ARGS__);                                             \
	} while (0)

/* Directory of the source tree (set by make check), for committed fixtures. */
static inline const char *sc_test_srcdir(void)
{
	const char *d = getenv("top_srcdir");

	return d && *d ? d : ".";
}

#endif
