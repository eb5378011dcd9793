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

static inline int
tap_case (const char *name, int (*fn) (void))
{
	int failed = fn ();
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

/* Value of "--name N" or "--name=N" in argv (the browser pages pass the second form), or dflt. */
static inline uint64_t
test_arg_u64 (int argc, char **argv, const char *name, uint64_t dflt)
{
	size_t n = strlen (name);
	for (int i = 1; i < argc; i++) {
		if (!strcmp (argv[i], name) && i + 1 < argc)
			return strtoull (argv[i + 1], NULL, 0);
		if (!strncmp (argv[i], name, n) && argv[i][n] == '=')
			return strtoull (argv[i] + n + 1, NULL, 0);
	}
	return dflt;
}

#endif
