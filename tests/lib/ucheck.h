/*
 * Checks for the user-space test programs (ipctest, schedtest, ...): each
 * failed check prints one line naming the program, the line, the
 * expression, and both values with their error texts; the program ends
 * with ucheck_summary(), which prints "NAME: N checks, N failed" (the line
 * the system tests look for) and returns the exit status.
 */
#ifndef UCHECK_H
#define UCHECK_H

#include "vrt.h"

static int ucheck_checks, ucheck_failures;

static inline void ucheck_eq(const char *prog, int line, const char *expr, long got, long want)
{
	ucheck_checks++;
	if (got == want)
		return;
	ucheck_failures++;
	printf("%s: FAIL line %d: %s = %ld (%s), want %ld (%s)\n", prog, line, expr, got,
	       got < 0 ? vr_strerror(got) : "", want, want < 0 ? vr_strerror(want) : "");
}

#define CHECK_EQ(expr, want) ucheck_eq(UCHECK_PROGRAM, __LINE__, #expr, (long)(expr), (long)(want))

/* A result that is not an error (>= 0). */
#define CHECK_OK(expr)                                                            \
	do {                                                                      \
		long ok_ = (long)(expr);                                          \
		ucheck_eq(UCHECK_PROGRAM, __LINE__, #expr, ok_ < 0 ? ok_ : 0, 0); \
	} while (0)

static inline int ucheck_summary(const char *prog)
{
	printf("%s: %d checks, %d failed\n", prog, ucheck_checks, ucheck_failures);
	return ucheck_failures ? 1 : 0;
}

#endif
