/*
 * A tiny test harness: every CHECK is one test. A test file's main() runs
 * its cases and ends with HARNESS_DONE(), which prints the summary line
 * "tests: N passed, N failed" that tests/run.sh adds up.
 */
#ifndef GUA_HARNESS_H
#define GUA_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_passed, harness_failed;

#define CHECK(cond) do {						\
	if (cond) {							\
		harness_passed++;					\
	} else {							\
		harness_failed++;					\
		fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
	}								\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (g_ == w_) {							\
		harness_passed++;					\
	} else {							\
		harness_failed++;					\
		fprintf(stderr, "%s:%d: FAILED: %s == %lld, want %lld\n", \
		    __FILE__, __LINE__, #got, g_, w_);			\
	}								\
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (g_ != NULL && strcmp(g_, w_) == 0) {			\
		harness_passed++;					\
	} else {							\
		harness_failed++;					\
		fprintf(stderr, "%s:%d: FAILED: %s == \"%s\", want \"%s\"\n", \
		    __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_);	\
	}								\
} while (0)

/* Doubles compared to within tol. */
#define CHECK_NEAR(got, want, tol) do {					\
	double g_ = (got), w_ = (want);					\
	if (g_ - w_ <= (tol) && w_ - g_ <= (tol)) {			\
		harness_passed++;					\
	} else {							\
		harness_failed++;					\
		fprintf(stderr, "%s:%d: FAILED: %s == %.6f, want %.6f\n", \
		    __FILE__, __LINE__, #got, g_, w_);			\
	}								\
} while (0)

#define HARNESS_DONE() do {						\
	printf("tests: %d passed, %d failed\n", harness_passed,		\
	    harness_failed);						\
	return harness_failed != 0;					\
} while (0)

#endif
