/*
 * test-args.h: the command-line words of the test and benchmark programs. Every program reads
 * its own arguments with these three; runtime options (--mono-wasm-mmap, --sgen-...) go through
 * mono_options_startup first, which removes the words it knows.
 * Values come as "--name N" or "--name=N" (the browser pages pass the second form).
 */
#ifndef TESTS_TEST_ARGS_H
#define TESTS_TEST_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
