/*
 * mono-options.h: the runtime's options, one table for every source (command line,
 * MONO_ENV_OPTIONS, the browser page's query string).
 *
 * Forms: --name, --no-name (booleans, and choices with "on" and "off"), --name=value,
 * --name value. Booleans accept on/off, true/false, yes/no, 1/0 in any case. Sizes accept a K,
 * M or G suffix. Choices accept the names their row lists.
 * A switch (a boolean, or choices with "on" and "off") written without '=' takes the next word
 * as its value when that word is one of its values (--sgen-verify off, --mono-wasm-mmap malloc),
 * refuses a next word that looks like a value and is not one (a bare word of letters and
 * digits: --sgen-verify maybe), and otherwise means on, leaving the next word an argument.
 * --no-name never takes a value. The rule is the same for every source.
 * The environment is read first, the command line after it, so the command line wins.
 * Parsing is all-or-nothing: on any error nothing is applied.
 */
#ifndef MONO_UTILS_MONO_OPTIONS_H
#define MONO_UTILS_MONO_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
	MONO_OPTION_BOOL,
	MONO_OPTION_INT,     /* signed 64-bit, within [min, max] */
	MONO_OPTION_SIZE,    /* bytes, with optional K/M/G suffix, within [min, max] */
	MONO_OPTION_STRING,
	MONO_OPTION_ENUM,    /* one of the row's choices; the value is the choice's number */
} MonoOptionType;

/* A value an ENUM row accepts: its name (matched in any case) and the number it stands for.
 * Several names may stand for one number; `alias` ones are accepted but not listed in the help.
 * A row with choices named "on" and "off" also takes the forms --name (on) and --no-name (off). */
typedef struct {
	const char *name;
	int64_t value;
	bool alias;
} MonoOptionChoice;

typedef union {
	bool b;
	int64_t i;
	const char *s;
} MonoOptionValue;

typedef struct MonoOptionDef MonoOptionDef;
/* Extra check of a value given by the environment, the command line or a list; returns 0, or
 * -1 with a message in err. Never run on the default, which is checked for syntax only: a
 * default must not be refused by the program's state. */
typedef int (*MonoOptionCheck) (const MonoOptionDef *def, MonoOptionValue value, char *err, size_t errlen);
/* The value in force, for rows whose truth lives elsewhere (the mmap backend once memory was
 * allocated): given the value the table holds, returns the one to report. */
typedef MonoOptionValue (*MonoOptionCurrent) (const MonoOptionDef *def, MonoOptionValue stored);

struct MonoOptionDef {
	const char *name;          /* without the leading -- */
	MonoOptionType type;
	const char *default_value; /* in the same text form as on the command line */
	const char *help;
	int64_t min, max;          /* INT and SIZE; both 0: no limit */
	MonoOptionCheck check;     /* may be NULL */
	MonoOptionCurrent current; /* may be NULL: the table's value is the value in force */
	const MonoOptionChoice *choices; /* ENUM: the accepted names, ended by a NULL name */
};

/* Rows registered together: a module's (the mmap layer's --mono-wasm-mmap, sgen's) or a
 * program's. apply (may be NULL) puts the rows' values into effect when mono_options_apply runs,
 * after parsing: 0, or -1 with a message in err. builtin: rows a module registers at load time
 * (from a constructor), so that every program accepts them from its first parse on; they stay
 * through mono_options_reset_for_tests. */
typedef struct {
	const MonoOptionDef *defs;
	size_t count;
	int (*apply) (char *err, size_t errlen);
	bool builtin;
} MonoOptionTable;

/* Adds a table (the pointers must stay valid; the struct is copied). -1 when a name is already
 * registered or the table is full (8 tables, 64 rows). Safe to call before main. */
int mono_options_register_table (const MonoOptionTable *table);
/* A table without apply. */
int mono_options_register (const MonoOptionDef *defs, size_t count);

/* Parses MONO_ENV_OPTIONS (env may be NULL: read from getenv) then argv[1..argc).
 * Recognised options are removed from argv and *argc adjusted; other arguments stay in order.
 * On error: returns -1 with a message naming the option and the accepted values in err (at
 * most errlen bytes; errlen 0 is allowed), and nothing is applied. `--help-options` sets
 * *help_requested; with help_requested NULL the table is printed to stdout instead, so that the
 * request is never dropped. */
int mono_options_parse (int *argc, char **argv, const char *env, bool *help_requested,
                        char *err, size_t errlen);
/* Parses a single "--name=value" style list separated by spaces, e.g. from a URL query; errors
 * and --help-options as mono_options_parse. */
int mono_options_parse_string (const char *text, bool *help_requested, char *err, size_t errlen);

bool mono_option_bool (const char *name);
/* INT, SIZE and ENUM rows (an ENUM row's value is its choice's number). */
int64_t mono_option_int (const char *name);
const char *mono_option_string (const char *name);
/* True when set by the environment or the command line (not the default). */
bool mono_option_is_set (const char *name);

void mono_options_print_help (FILE *out);

/* The usual start of a program: parses, prints the help or an error (exit status 2), and
 * applies the tables' values (mono_options_apply). Returns 0 to go on, 1 when --help-options
 * was printed (exit 0), 2 on error. */
int mono_options_startup (int *argc, char **argv);
/* Runs every table's apply, in order of registration; stops at the first refusal: -1 with err. */
int mono_options_apply (char *err, size_t errlen);

/* Tests only: back to defaults, every table but the builtin ones forgotten. */
void mono_options_reset_for_tests (void);

#endif
