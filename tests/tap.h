/*
 * tap.h: a tiny Test Anything Protocol producer. Each case is a function returning 0 (pass) or
 * non-zero (fail); T_CHECK stops a case at the first failed condition and prints where.
 *
 *   static int case_x (void) { T_CHECK (1 + 1 == 2, "arithmetic"); return 0; }
 *   int main (void) { tap_case ("x", case_x); return tap_done (); }
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-args.h"
#include "test-rng.h"

static int tap_count, tap_failures;

static inline void
tap_diag (const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	fputs ("# ", stdout);
	vfprintf (stdout, fmt, ap);
	fputc ('\n', stdout);
	va_end (ap);
	fflush (stdout);
}

static inline void
tap_report (int ok, const char *name)
{
	tap_count++;
	if (!ok)
		tap_failures++;
	printf ("%sok %d - %s\n", ok ? "" : "not ", tap_count, name);
	fflush (stdout);
}

/* Runs fn and reports it; fn NULL reports the case without running it (a skip named so). */
static inline int
tap_case (const char *name, int (*fn) (void))
{
	int failed = fn ? fn () : 0;
	tap_report (!failed, name);
	return failed;
}

static inline int
tap_done (void)
{
	printf ("1..%d\n", tap_count);
	fflush (stdout);
	return tap_failures ? 1 : 0;
}

#define T_CHECK(cond, ...)                                                              \
	do {                                                                            \
		if (!(cond)) {                                                          \
			printf ("# %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			printf (__VA_ARGS__);                                           \
			printf ("\n");                                                  \
			fflush (stdout);                                                \
			return 1;                                                       \
		}                                                                       \
	} while (0)

#endif
