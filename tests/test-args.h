/*
 * test-args.h: the command-line words of the test and benchmark programs, read one way. Every
 * program reads its own arguments with these helpers; runtime options (--mono-wasm-mmap,
 * --sgen-...) are the option table's (mono_options_startup, which removes the words it knows).
 * Values come as "--name N" or "--name=N" (the browser pages pass the second form).
 * Benchmarks refuse words they do not know (test_args_check); tests accept any, because
 * ./tools/test --long passes --long to every test program.
 */
#ifndef TESTS_TEST_ARGS_H
#define TESTS_TEST_ARGS_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints "prog: message" to stderr and exits with status 2 (a usage error). */
static inline _Noreturn void __attribute__ ((format (printf, 2, 3)))
test_args_fail (const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf (stderr, "%s: ", prog);
	va_start (ap, fmt);
	vfprintf (stderr, fmt, ap);
	va_end (ap);
	fputc ('\n', stderr);
	exit (2);
}

/* The text after "--name=" or the word after "--name", or dflt. */
static inline const char *
test_arg_str (int argc, char **argv, const char *name, const char *dflt)
{
	size_t n = strlen (name);
	for (int i = 1; i < argc; i++) {
		if (!strcmp (argv[i], name) && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp (argv[i], name, n) && argv[i][n] == '=')
			return argv[i] + n + 1;
	}
	return dflt;
}

/* The number given as --name (decimal, or 0x hexadecimal), or dflt. */
static inline uint64_t
test_arg_u64 (int argc, char **argv, const char *name, uint64_t dflt)
{
	const char *v = test_arg_str (argc, argv, name, NULL);
	return v ? strtoull (v, NULL, 0) : dflt;
}

/* The number given as --name within [min, max] (decimal or 0x hexadecimal), or dflt when the
 * word is absent; anything else ends the program with a usage error naming the word. */
static inline uint64_t
test_arg_u64_in (int argc, char **argv, const char *name, uint64_t dflt, uint64_t min, uint64_t max)
{
	const char *v = test_arg_str (argc, argv, name, NULL);
	if (!v)
		return dflt;
	char *end;
	errno = 0;
	unsigned long long n = strtoull (v, &end, 0);
	if (!*v || *v == '-' || *end || errno || n < min || n > max)
		test_args_fail (argv[0], "%s takes a number from %llu to %llu, got '%s'", name, (unsigned long long)min,
				(unsigned long long)max, v);
	return n;
}

/* The fraction given as --name with lo <= F < hi, or dflt; anything else is a usage error. */
static inline double
test_arg_fraction (int argc, char **argv, const char *name, double dflt, double lo, double hi)
{
	const char *v = test_arg_str (argc, argv, name, NULL);
	if (!v)
		return dflt;
	char *end;
	errno = 0;
	double f = strtod (v, &end);
	if (!*v || *end || errno || !(f >= lo && f < hi))
		test_args_fail (argv[0], "%s takes a number F with %g <= F < %g, got '%s'", name, lo, hi, v);
	return f;
}

/* Ends the program with a usage error at the first word that is none of `known` (NULL ends
 * the list). A name ending in '=' takes a value, as "--name=V" or "--name V"; others are flags. */
static inline void
test_args_check (int argc, char **argv, const char *const *known, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		size_t wn = strcspn (w, "=");
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++) {
			size_t kn = strlen (*k);
			bool valued = kn && (*k)[kn - 1] == '=';
			if (valued && wn == kn - 1 && !strncmp (w, *k, wn)) {
				ok = true;
				if (!w[wn] && i + 1 < argc)
					i++; /* "--name V" */
			} else if (!valued && !strcmp (w, *k)) {
				ok = true;
			}
		}
		if (!ok)
			test_args_fail (argv[0], "unknown argument '%s'\nusage: %s", w, usage);
	}
}

/* True when the word --name is present. */
static inline bool
test_arg_flag (int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp (argv[i], name))
			return true;
	}
	return false;
}

#endif
