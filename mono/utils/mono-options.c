/*
 * mono-options.c: the option table and its parser (interface in mono-options.h).
 *
 * Parsing stages every value in a scratch copy of the values and commits only when every word
 * was accepted, so a bad option leaves the previous values untouched.
 */
#include "mono-config.h"
#include "mono-options.h"
#include "mono-mmap.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TABLES 8
#define MAX_OPTIONS 64

static int check_wasm_mmap (const MonoOptionDef *def, MonoOptionValue v, char *err, size_t errlen);
static MonoOptionValue current_wasm_mmap (const MonoOptionDef *def, MonoOptionValue stored);

/* The runtime's own rows. */
static const MonoOptionDef runtime_options[] = {
	{ .name = "mono-wasm-mmap", .type = MONO_OPTION_BOOL,
#if MONO_CONFIG_WASM && defined(ENABLE_WASM_MMAP)
	  .default_value = "on",
#else
	  .default_value = "off",
#endif
#if MONO_CONFIG_WASM
	  .help = "GC memory from mwpm, the wasm page manager (on) or from libc's mmap (off)",
#else
	  .help = "GC memory from mwpm over a simulated wasm linear memory (on) or from the OS's mmap (off)",
#endif
	  .check = check_wasm_mmap, .current = current_wasm_mmap },
};

typedef struct {
	const MonoOptionDef *def;
	MonoOptionValue value;
	char *owned;  /* storage of a string value */
	bool set;
} Slot;

static struct {
	const MonoOptionDef *tables[MAX_TABLES];
	size_t table_sizes[MAX_TABLES];
	size_t ntables;
	Slot slots[MAX_OPTIONS];
	size_t nslots;
	bool defaults_loaded;
} O;

static int
check_wasm_mmap (const MonoOptionDef *def, MonoOptionValue v, char *err, size_t errlen)
{
	(void)def;
#ifndef ENABLE_WASM_MMAP
	if (v.b) {
		snprintf (err, errlen, "--mono-wasm-mmap=on: this build has no wasm mmap (it was built with -Dwasm_mmap=disabled)");
		return -1;
	}
#endif
	/* Refused here, before the value is taken, so that the option never disagrees with the
	 * backend in use. */
	if (mono_mmap_started () && mono_mmap_caps ()->backend != mono_mmap_backend_for_option (v.b)) {
		snprintf (err, errlen, "--mono-wasm-mmap=%s: the memory backend cannot change once memory has been allocated through '%s'",
		          v.b ? "on" : "off", mono_mmap_caps ()->name);
		return -1;
	}
	return 0;
}

/* Once memory was allocated, the backend in use is the truth, whatever the table holds (it may
 * have been chosen by mono_mmap_select_backend, without the table). */
static MonoOptionValue
current_wasm_mmap (const MonoOptionDef *def, MonoOptionValue stored)
{
	(void)def;
	if (mono_mmap_started ())
		stored.b = mono_mmap_caps ()->backend == MONO_MMAP_BACKEND_MWPM;
	return stored;
}

static const char *
type_name (MonoOptionType t)
{
	switch (t) {
	case MONO_OPTION_BOOL: return "on|off";
	case MONO_OPTION_INT: return "integer";
	case MONO_OPTION_SIZE: return "size (bytes, K, M or G suffix)";
	case MONO_OPTION_STRING: return "text";
	}
	return "?";
}

/* Room for any message of the parser; the public functions copy it to the caller's buffer. */
#define MSG_LEN 512

static int parse_value (const MonoOptionDef *def, const char *text, bool checked, MonoOptionValue *out, char *err,
			size_t errlen);

/* The runtime's own rows are always the first table. */
static void
add_runtime_table (void)
{
	if (O.ntables == 0) {
		O.tables[0] = runtime_options;
		O.table_sizes[0] = sizeof (runtime_options) / sizeof (runtime_options[0]);
		O.ntables = 1;
	}
}

/* Appends a slot holding the row's default; a default that does not parse is a program error.
 * The row's check is not run: it judges values against the program's state, which must never
 * make a default fail (memory may already be allocated when the table is first used). */
static void
add_slot (const MonoOptionDef *def)
{
	Slot *s = &O.slots[O.nslots++];
	s->def = def;
	s->set = false;
	s->owned = NULL;
	char err[MSG_LEN];
	if (parse_value (def, def->default_value, false, &s->value, err, sizeof (err)) != 0) {
		fprintf (stderr, "mono-options: bad default of --%s: %s\n", def->name, err);
		abort ();
	}
}

static void
load_slots (void)
{
	if (O.defaults_loaded)
		return;
	O.defaults_loaded = true;
	add_runtime_table ();
	O.nslots = 0;
	for (size_t t = 0; t < O.ntables; t++) {
		for (size_t i = 0; i < O.table_sizes[t] && O.nslots < MAX_OPTIONS; i++)
			add_slot (&O.tables[t][i]);
	}
}

static Slot *
find_slot (const char *name, size_t len)
{
	load_slots ();
	for (size_t i = 0; i < O.nslots; i++) {
		const char *n = O.slots[i].def->name;
		if (strlen (n) == len && strncmp (n, name, len) == 0)
			return &O.slots[i];
	}
	return NULL;
}

int
mono_options_register (const MonoOptionDef *defs, size_t count)
{
	add_runtime_table ();
	if (O.ntables == MAX_TABLES)
		return -1;
	size_t total = 0;
	for (size_t t = 0; t < O.ntables; t++)
		total += O.table_sizes[t];
	if (total + count > MAX_OPTIONS)
		return -1;
	for (size_t i = 0; i < count; i++) {
		for (size_t t = 0; t < O.ntables; t++)
			for (size_t j = 0; j < O.table_sizes[t]; j++)
				if (strcmp (O.tables[t][j].name, defs[i].name) == 0)
					return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp (defs[j].name, defs[i].name) == 0)
				return -1;
	}
	O.tables[O.ntables] = defs;
	O.table_sizes[O.ntables] = count;
	O.ntables++;
	/* Keep values already set; add the new rows with their defaults. */
	if (O.defaults_loaded) {
		for (size_t i = 0; i < count; i++)
			add_slot (&defs[i]);
	}
	return 0;
}

static bool
parse_bool (const char *t, bool *out)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp (t, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp (t, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Parses text as a value of the row; with `checked`, the row's check judges it too. */
static int
parse_value (const MonoOptionDef *def, const char *text, bool checked, MonoOptionValue *out, char *err, size_t errlen)
{
	switch (def->type) {
	case MONO_OPTION_BOOL:
		if (!parse_bool (text, &out->b)) {
			snprintf (err, errlen, "--%s: '%s' is not a boolean (accepted: on/off, true/false, yes/no, 1/0)", def->name, text);
			return -1;
		}
		break;
	case MONO_OPTION_INT:
	case MONO_OPTION_SIZE: {
		const char *p = text;
		if (!*p || isspace ((unsigned char)*p)) {
			snprintf (err, errlen, "--%s: missing value (accepted: %s)", def->name, type_name (def->type));
			return -1;
		}
		errno = 0;
		char *end;
		long long v = strtoll (p, &end, 10);
		/* A size is never negative, with or without a suffix and whatever its range. */
		bool bad = end == p || errno == ERANGE || (def->type == MONO_OPTION_SIZE && v < 0);
		if (!bad && def->type == MONO_OPTION_SIZE && *end) {
			int shift = 0;
			switch (toupper ((unsigned char)*end)) {
			case 'K': shift = 10; break;
			case 'M': shift = 20; break;
			case 'G': shift = 30; break;
			default: bad = true;
			}
			end++;
			if (!bad && (toupper ((unsigned char)*end) == 'B' || toupper ((unsigned char)*end) == 'I')) {
				if (toupper ((unsigned char)*end) == 'I')
					end++;
				if (toupper ((unsigned char)*end) == 'B')
					end++;
			}
			if (!bad && (v < 0 || v > (INT64_MAX >> shift)))
				bad = true;
			else
				v <<= shift;
		}
		if (bad || *end) {
			snprintf (err, errlen, "--%s: '%s' is not a valid %s", def->name, text, type_name (def->type));
			return -1;
		}
		if ((def->min || def->max) && (v < def->min || v > def->max)) {
			snprintf (err, errlen, "--%s: %s is out of range (accepted: %" PRId64 " to %" PRId64 ")", def->name, text,
			          def->min, def->max);
			return -1;
		}
		out->i = v;
		break;
	}
	case MONO_OPTION_STRING:
		out->s = text;
		break;
	}
	if (checked && def->check && def->check (def, *out, err, errlen) != 0)
		return -1;
	return 0;
}

typedef struct {
	Slot *slot;
	MonoOptionValue value;
	const char *text;
} Staged;

/* Parses one word (and maybe the next, for "--name value"). Returns how many words it used
 * (1 or 2), 0 when the word is not an option, -1 on error. */
static int
parse_word (const char *w, const char *next, Staged *st, bool *help, char *err, size_t errlen)
{
	if (strncmp (w, "--", 2) != 0 || w[2] == 0)
		return 0;
	const char *name = w + 2;
	if (strcmp (name, "help-options") == 0) {
		*help = true;
		st->slot = NULL;
		return 1;
	}
	const char *eq = strchr (name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen (name);
	Slot *s = find_slot (name, len);
	bool negated = false;
	if (!s && len > 3 && strncmp (name, "no-", 3) == 0) {
		s = find_slot (name + 3, len - 3);
		negated = s != NULL;
		if (s && s->def->type != MONO_OPTION_BOOL) {
			snprintf (err, errlen, "--%.*s: only on/off options have a --no- form (--%s takes a %s)", (int)len, name,
			          s->def->name, type_name (s->def->type));
			return -1;
		}
		if (negated && eq) {
			snprintf (err, errlen, "--%.*s takes no value (write --%s=off)", (int)len, name, s->def->name);
			return -1;
		}
	}
	if (!s) {
		snprintf (err, errlen, "unknown option --%.*s (--help-options lists the options)", (int)len, name);
		return -1;
	}
	st->slot = s;
	int used = 1;
	const char *text;
	if (eq) {
		text = eq + 1;
	} else if (s->def->type == MONO_OPTION_BOOL) {
		text = negated ? "off" : "on";
	} else if (next && strncmp (next, "--", 2) != 0) {
		text = next;
		used = 2;
	} else {
		snprintf (err, errlen, "--%s: missing value (accepted: %s)", s->def->name, type_name (s->def->type));
		return -1;
	}
	if (s->def->type != MONO_OPTION_STRING && *text == 0) {
		snprintf (err, errlen, "--%s: missing value (accepted: %s)", s->def->name, type_name (s->def->type));
		return -1;
	}
	st->text = text;
	if (parse_value (s->def, text, true, &st->value, err, errlen) != 0)
		return -1;
	return used;
}

static void
commit (Staged *staged, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		Slot *s = staged[i].slot;
		if (!s)
			continue;
		s->value = staged[i].value;
		if (s->def->type == MONO_OPTION_STRING) {
			free (s->owned);
			s->owned = strdup (staged[i].text);
			s->value.s = s->owned ? s->owned : "";
		}
		s->set = true;
	}
}

/* Splits text at spaces into words (modifies a copy). Returns the count, or max + 1 when the
 * text holds more than max words (the caller refuses it rather than drop the rest). */
static size_t
split_words (char *copy, char **words, size_t max)
{
	size_t n = 0;
	char *p = copy;
	for (;;) {
		while (isspace ((unsigned char)*p))
			p++;
		if (!*p)
			return n;
		if (n == max)
			return max + 1;
		words[n++] = p;
		while (*p && !isspace ((unsigned char)*p))
			p++;
		if (*p)
			*p++ = 0;
	}
}

#define MAX_WORDS 256

/* Stages the words of a list, all of which must be options. */
static int
stage_list (char **words, size_t n, Staged *staged, size_t *nstaged, bool *help, const char *source, char *err, size_t errlen)
{
	if (n > MAX_WORDS) {
		snprintf (err, errlen, "%s: more than %d words", source, MAX_WORDS);
		return -1;
	}
	for (size_t i = 0; i < n;) {
		int used = parse_word (words[i], i + 1 < n ? words[i + 1] : NULL, &staged[*nstaged], help, err, errlen);
		if (used == 0) {
			snprintf (err, errlen, "%s: '%s' is not an option (options start with --)", source, words[i]);
			return -1;
		}
		if (used < 0) {
			size_t l = strlen (err);
			if (l + 4 + strlen (source) < errlen)
				snprintf (err + l, errlen - l, " (%s)", source);
			return -1;
		}
		(*nstaged)++;
		i += (size_t)used;
	}
	return 0;
}

/* Stages the options among argv[1..argc); marks the words used in consumed. */
static int
stage_argv (int argc, char **argv, unsigned char *consumed, Staged *staged, size_t *nstaged, bool *help, char *err, size_t errlen)
{
	for (int i = 1; i < argc;) {
		if (strcmp (argv[i], "--") == 0) {
			consumed[i] = 1;
			break;
		}
		if (*nstaged >= 2 * MAX_WORDS) {
			snprintf (err, errlen, "too many options on the command line");
			return -1;
		}
		int used = parse_word (argv[i], i + 1 < argc ? argv[i + 1] : NULL, &staged[*nstaged], help, err, errlen);
		if (used < 0)
			return -1;
		if (used == 0) {
			i++;
			continue;
		}
		for (int k = 0; k < used; k++)
			consumed[i + k] = 1;
		(*nstaged)++;
		i += used;
	}
	return 0;
}

/* Copies the parser's message to the caller's buffer, which may be empty (errlen 0). */
static void
give_message (const char *msg, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf (err, errlen, "%s", msg);
}

/* The caller is told of --help-options, or when it cannot be, the table is printed. */
static void
give_help (bool help, bool *help_requested)
{
	if (help_requested)
		*help_requested = help;
	else if (help)
		mono_options_print_help (stdout);
}

static int
parse_all (int *argc, char **argv, const char *env, bool *help_requested, char *err, size_t errlen)
{
	load_slots ();
	static Staged staged[3 * MAX_WORDS];
	size_t nstaged = 0;
	bool help = false;
	int n = argc ? *argc : 0;
	unsigned char *consumed = calloc ((size_t)n + 1, 1);
	char *copy = NULL;
	int rc = -1;
	if (!consumed) {
		snprintf (err, errlen, "out of memory parsing options");
		return -1;
	}
	if (!env)
		env = getenv ("MONO_ENV_OPTIONS");
	if (env && *env) {
		copy = strdup (env);
		if (!copy) {
			snprintf (err, errlen, "out of memory reading MONO_ENV_OPTIONS");
			goto out;
		}
		char *words[MAX_WORDS];
		size_t nw = split_words (copy, words, MAX_WORDS);
		if (stage_list (words, nw, staged, &nstaged, &help, "in MONO_ENV_OPTIONS", err, errlen) != 0)
			goto out;
	}
	/* The command line after the environment: later values win. */
	if (stage_argv (n, argv, consumed, staged, &nstaged, &help, err, errlen) != 0)
		goto out;
	commit (staged, nstaged);
	if (argc && n > 0) {
		int w = 1;
		for (int i = 1; i < n; i++)
			if (!consumed[i]) /* other words, and every word after "--" */
				argv[w++] = argv[i];
		argv[w] = NULL;
		*argc = w;
	}
	give_help (help, help_requested);
	rc = 0;
out:
	free (copy);
	free (consumed);
	return rc;
}

int
mono_options_parse (int *argc, char **argv, const char *env, bool *help_requested, char *err, size_t errlen)
{
	char msg[MSG_LEN] = "";
	int rc = parse_all (argc, argv, env, help_requested, msg, sizeof msg);
	if (rc)
		give_message (msg, err, errlen);
	return rc;
}

static int
parse_list (const char *text, bool *help_requested, char *err, size_t errlen)
{
	load_slots ();
	static Staged staged[MAX_WORDS];
	size_t nstaged = 0;
	bool help = false;
	char *copy = strdup (text ? text : "");
	if (!copy) {
		snprintf (err, errlen, "out of memory parsing options");
		return -1;
	}
	char *words[MAX_WORDS];
	size_t nw = split_words (copy, words, MAX_WORDS);
	int rc = stage_list (words, nw, staged, &nstaged, &help, "in the option list", err, errlen);
	if (rc == 0) {
		commit (staged, nstaged);
		give_help (help, help_requested);
	}
	free (copy);
	return rc;
}

int
mono_options_parse_string (const char *text, bool *help_requested, char *err, size_t errlen)
{
	char msg[MSG_LEN] = "";
	int rc = parse_list (text, help_requested, msg, sizeof msg);
	if (rc)
		give_message (msg, err, errlen);
	return rc;
}

static Slot *
slot_or_die (const char *name, MonoOptionType type)
{
	Slot *s = find_slot (name, strlen (name));
	if (!s || s->def->type != type) {
		fprintf (stderr, "mono-options: no option --%s of type %s (a program error)\n", name, type_name (type));
		abort ();
	}
	return s;
}

/* The value in force: the table's, unless the row knows better. */
static MonoOptionValue
value_of (const Slot *s)
{
	return s->def->current ? s->def->current (s->def, s->value) : s->value;
}

bool
mono_option_bool (const char *name)
{
	return value_of (slot_or_die (name, MONO_OPTION_BOOL)).b;
}

int64_t
mono_option_int (const char *name)
{
	Slot *s = find_slot (name, strlen (name));
	if (s && s->def->type == MONO_OPTION_SIZE)
		return value_of (s).i;
	return value_of (slot_or_die (name, MONO_OPTION_INT)).i;
}

const char *
mono_option_string (const char *name)
{
	return value_of (slot_or_die (name, MONO_OPTION_STRING)).s;
}

bool
mono_option_is_set (const char *name)
{
	Slot *s = find_slot (name, strlen (name));
	return s && s->set;
}

void
mono_options_print_help (FILE *out)
{
	load_slots ();
	fprintf (out, "Options (also read from MONO_ENV_OPTIONS, separated by spaces; the command line wins):\n");
	for (size_t i = 0; i < O.nslots; i++) {
		const MonoOptionDef *d = O.slots[i].def;
		char head[96];
		if (d->type == MONO_OPTION_BOOL)
			snprintf (head, sizeof (head), "--%s[=on|off], --no-%s", d->name, d->name);
		else
			snprintf (head, sizeof (head), "--%s=<%s>", d->name, d->type == MONO_OPTION_INT ? "n" : d->type == MONO_OPTION_SIZE ? "bytes" : "text");
		fprintf (out, "  %s\n      %s (default: %s", head, d->help, d->default_value);
		if ((d->type == MONO_OPTION_INT || d->type == MONO_OPTION_SIZE) && (d->min || d->max))
			fprintf (out, "; %" PRId64 " to %" PRId64, d->min, d->max);
		fprintf (out, ")\n");
	}
}

int
mono_options_apply_runtime (char *err, size_t errlen)
{
	char msg[MSG_LEN] = "";
	bool on = mono_option_bool ("mono-wasm-mmap");
	int rc = mono_mmap_select_backend (mono_mmap_backend_for_option (on), msg, sizeof msg);
	if (rc)
		give_message (msg, err, errlen);
	return rc;
}

int
mono_options_startup (int *argc, char **argv)
{
	char err[MSG_LEN];
	bool help = false;
	if (mono_options_parse (argc, argv, NULL, &help, err, sizeof (err)) != 0) {
		fprintf (stderr, "error: %s\n", err);
		return 2;
	}
	if (help) {
		mono_options_print_help (stdout);
		return 1;
	}
	if (mono_options_apply_runtime (err, sizeof (err)) != 0) {
		fprintf (stderr, "error: %s\n", err);
		return 2;
	}
	return 0;
}

void
mono_options_reset_for_tests (void)
{
	for (size_t i = 0; i < O.nslots; i++)
		free (O.slots[i].owned);
	memset (&O, 0, sizeof (O));
}
