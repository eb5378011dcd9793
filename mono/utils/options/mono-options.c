/*
 * mono-options.c: the option table and its parser (interface in mono-options.h).
 *
 * Parsing stages every value in a scratch copy of the values and commits only when every word
 * was accepted, so a bad option leaves the previous values untouched.
 */
#include "mono-options.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TABLES 8
#define MAX_OPTIONS 64

typedef struct {
	const MonoOptionDef *def;
	MonoOptionValue value;
	char *owned;  /* storage of a string value */
	bool set;
} Slot;

/* The table of tables and the values. Rows keep the order of registration. */
static struct {
	MonoOptionTable tables[MAX_TABLES];
	size_t ntables;
	Slot slots[MAX_OPTIONS];
	size_t nslots;
	bool defaults_loaded;
} options;

static const char *
type_name (MonoOptionType t)
{
	switch (t) {
	case MONO_OPTION_BOOL: return "on|off";
	case MONO_OPTION_INT: return "integer";
	case MONO_OPTION_SIZE: return "size (bytes, K, M or G suffix)";
	case MONO_OPTION_STRING: return "text";
	case MONO_OPTION_ENUM: return "one of the listed names";
	}
	return "?";
}

/* Room for any message of the parser; the public functions copy it to the caller's buffer. */
#define MSG_LEN 512

static int parse_value (const MonoOptionDef *def, const char *text, bool checked, MonoOptionValue *out, char *err,
			size_t errlen);

/* Appends a slot holding the row's default; a default that does not parse is a program error.
 * The row's check is not run: it judges values against the program's state, which must never
 * make a default fail (memory may already be allocated when the table is first used). */
static void
add_slot (const MonoOptionDef *def)
{
	Slot *s = &options.slots[options.nslots++];
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
	if (options.defaults_loaded)
		return;
	options.defaults_loaded = true;
	options.nslots = 0;
	for (size_t t = 0; t < options.ntables; t++) {
		for (size_t i = 0; i < options.tables[t].count && options.nslots < MAX_OPTIONS; i++)
			add_slot (&options.tables[t].defs[i]);
	}
}

static Slot *
find_slot (const char *name, size_t len)
{
	load_slots ();
	for (size_t i = 0; i < options.nslots; i++) {
		const char *n = options.slots[i].def->name;
		if (strlen (n) == len && strncmp (n, name, len) == 0)
			return &options.slots[i];
	}
	return NULL;
}

/* Is `name` a row of a registered table, or of defs[0..upto)? */
static bool
name_taken (const char *name, const MonoOptionDef *defs, size_t upto)
{
	for (size_t t = 0; t < options.ntables; t++)
		for (size_t j = 0; j < options.tables[t].count; j++)
			if (strcmp (options.tables[t].defs[j].name, name) == 0)
				return true;
	for (size_t j = 0; j < upto; j++)
		if (strcmp (defs[j].name, name) == 0)
			return true;
	return false;
}

int
mono_options_register_table (const MonoOptionTable *table)
{
	if (options.ntables == MAX_TABLES)
		return -1;
	size_t total = 0;
	for (size_t t = 0; t < options.ntables; t++)
		total += options.tables[t].count;
	if (total + table->count > MAX_OPTIONS)
		return -1;
	for (size_t i = 0; i < table->count; i++) {
		if (name_taken (table->defs[i].name, table->defs, i))
			return -1;
	}
	options.tables[options.ntables++] = *table;
	/* Keep values already set; add the new rows with their defaults. */
	if (options.defaults_loaded) {
		for (size_t i = 0; i < table->count; i++)
			add_slot (&table->defs[i]);
	}
	return 0;
}

int
mono_options_register (const MonoOptionDef *defs, size_t count)
{
	MonoOptionTable table = { .defs = defs, .count = count };
	return mono_options_register_table (&table);
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

/* A K, M or G suffix (with an optional "i" and "B": 4K, 4KB, 4KiB) at *end: the shift it means,
 * with *end moved past it, or -1 when it is not one. */
static int
size_suffix (const char **end)
{
	int shift;
	switch (toupper ((unsigned char)**end)) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	default: return -1;
	}
	(*end)++;
	if (toupper ((unsigned char)**end) == 'I')
		(*end)++;
	if (toupper ((unsigned char)**end) == 'B')
		(*end)++;
	return shift;
}

/* An INT or SIZE value: decimal, a size with an optional suffix and never negative, within
 * [min, max] when the row has a range. */
static int
parse_number (const MonoOptionDef *def, const char *text, int64_t *out, char *err, size_t errlen)
{
	if (!*text || isspace ((unsigned char)*text)) {
		snprintf (err, errlen, "--%s: missing value (accepted: %s)", def->name, type_name (def->type));
		return -1;
	}
	errno = 0;
	char *stop;
	long long v = strtoll (text, &stop, 10);
	const char *end = stop;
	bool bad = end == text || errno == ERANGE || (def->type == MONO_OPTION_SIZE && v < 0);
	if (!bad && def->type == MONO_OPTION_SIZE && *end) {
		int shift = size_suffix (&end);
		bad = shift < 0 || v > (INT64_MAX >> shift);
		if (!bad)
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
	*out = v;
	return 0;
}

/* The names of an ENUM row's listed (not alias) choices, as "a|b|c". */
static void
choice_names (const MonoOptionDef *def, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (const MonoOptionChoice *c = def->choices; c && c->name && used < len; c++) {
		if (c->alias)
			continue;
		int k = snprintf (buf + used, len - used, "%s%s", used ? "|" : "", c->name);
		used += k > 0 ? (size_t)k : 0;
	}
}

static int
parse_choice (const MonoOptionDef *def, const char *text, int64_t *out, char *err, size_t errlen)
{
	for (const MonoOptionChoice *c = def->choices; c && c->name; c++) {
		if (strcasecmp (c->name, text) == 0) {
			*out = c->value;
			return 0;
		}
	}
	char names[128];
	choice_names (def, names, sizeof names);
	snprintf (err, errlen, "--%s: '%s' is not one of %s", def->name, text, names);
	return -1;
}

/* Does the row take the forms --name and --no-name (an on/off switch)? */
static bool
is_switch (const MonoOptionDef *def)
{
	if (def->type == MONO_OPTION_BOOL)
		return true;
	if (def->type != MONO_OPTION_ENUM)
		return false;
	bool on = false, off = false;
	for (const MonoOptionChoice *c = def->choices; c && c->name; c++) {
		on |= strcmp (c->name, "on") == 0;
		off |= strcmp (c->name, "off") == 0;
	}
	return on && off;
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
	case MONO_OPTION_SIZE:
		if (parse_number (def, text, &out->i, err, errlen) != 0)
			return -1;
		break;
	case MONO_OPTION_STRING:
		out->s = text;
		break;
	case MONO_OPTION_ENUM:
		if (parse_choice (def, text, &out->i, err, errlen) != 0)
			return -1;
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

/* The row named by the word's name part (name, len), or by it without a "no-" prefix for an
 * on/off row (*negated then set); NULL with a message when neither is, or the form is wrong. */
static Slot *
find_named (const char *name, size_t len, bool has_value, bool *negated, char *err, size_t errlen)
{
	Slot *s = find_slot (name, len);
	*negated = false;
	if (!s && len > 3 && strncmp (name, "no-", 3) == 0) {
		s = find_slot (name + 3, len - 3);
		if (s && !is_switch (s->def)) {
			snprintf (err, errlen, "--%.*s: only on/off options have a --no- form (--%s takes a %s)", (int)len, name,
			          s->def->name, type_name (s->def->type));
			return NULL;
		}
		if (s && has_value) {
			snprintf (err, errlen, "--%.*s takes no value (write --%s=off)", (int)len, name, s->def->name);
			return NULL;
		}
		*negated = s != NULL;
	}
	if (!s)
		snprintf (err, errlen, "unknown option --%.*s (--help-options lists the options)", (int)len, name);
	return s;
}

/* Is the word one of the row's values (a boolean word, a choice's name)? */
static bool
is_value_of (const MonoOptionDef *def, const char *word)
{
	MonoOptionValue v;
	char scratch[MSG_LEN];
	return parse_value (def, word, false, &v, scratch, sizeof scratch) == 0;
}

/* Does the word look like a value rather than an argument: a bare word of letters and digits
 * ("maybe", "2"), not a path, a file name or an option? */
static bool
looks_like_value (const char *word)
{
	if (!*word)
		return false;
	for (const char *p = word; *p; p++) {
		if (!isalnum ((unsigned char)*p))
			return false;
	}
	return true;
}

/*
 * The value of a switch written without '=' (one rule for argv, MONO_ENV_OPTIONS and lists):
 * the next word when it is one of the row's values ("--sgen-verify off"); refused when it looks
 * like a value but is not one ("--sgen-verify maybe"); otherwise the bare form, on (or off for
 * --no-name, which never takes the next word), and the next word stays an argument.
 */
static const char *
switch_text (const Slot *s, bool negated, const char *next, int *used, char *err, size_t errlen)
{
	if (negated || !next)
		return negated ? "off" : "on";
	if (is_value_of (s->def, next)) {
		*used = 2;
		return next;
	}
	if (looks_like_value (next)) {
		char names[128];
		if (s->def->type == MONO_OPTION_ENUM)
			choice_names (s->def, names, sizeof names);
		else
			snprintf (names, sizeof names, "on|off, true|false, yes|no, 1|0");
		snprintf (err, errlen, "--%s: '%s' is not one of %s (an argument of that name goes after --%s=on or --)",
		          s->def->name, next, names, s->def->name);
		return NULL;
	}
	return "on";
}

/* The text of the word's value: after '=', the switch rule above, or the next word; sets
 * *used to the words taken (1 or 2). NULL with a message when it is missing or refused. */
static const char *
value_text (const Slot *s, const char *eq, bool negated, const char *next, int *used, char *err, size_t errlen)
{
	const char *text = NULL;
	*used = 1;
	if (eq) {
		text = eq + 1;
	} else if (is_switch (s->def)) {
		return switch_text (s, negated, next, used, err, errlen);
	} else if (next && strncmp (next, "--", 2) != 0) {
		text = next;
		*used = 2;
	}
	if (!text || (s->def->type != MONO_OPTION_STRING && *text == 0)) {
		snprintf (err, errlen, "--%s: missing value (accepted: %s)", s->def->name, type_name (s->def->type));
		return NULL;
	}
	return text;
}

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
	bool negated;
	Slot *s = find_named (name, len, eq != NULL, &negated, err, errlen);
	if (!s)
		return -1;
	int used;
	const char *text = value_text (s, eq, negated, next, &used, err, errlen);
	if (!text || parse_value (s->def, text, true, &st->value, err, errlen) != 0)
		return -1;
	st->slot = s;
	st->text = text;
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
	if (s && (s->def->type == MONO_OPTION_SIZE || s->def->type == MONO_OPTION_ENUM))
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

/* "--name[=a|b|c], --no-name" for a switch with choices, else "--name=<a|b|c>". */
static void
help_head_choices (const MonoOptionDef *d, char *head, size_t len)
{
	char names[128];
	choice_names (d, names, sizeof names);
	if (is_switch (d))
		snprintf (head, len, "--%s[=%s], --no-%s", d->name, names, d->name);
	else
		snprintf (head, len, "--%s=<%s>", d->name, names);
}

void
mono_options_print_help (FILE *out)
{
	load_slots ();
	fprintf (out, "Options (also read from MONO_ENV_OPTIONS, separated by spaces; the command line wins):\n");
	for (size_t i = 0; i < options.nslots; i++) {
		const MonoOptionDef *d = options.slots[i].def;
		char head[192];
		if (d->type == MONO_OPTION_BOOL)
			snprintf (head, sizeof (head), "--%s[=on|off], --no-%s", d->name, d->name);
		else if (d->type == MONO_OPTION_ENUM)
			help_head_choices (d, head, sizeof head);
		else
			snprintf (head, sizeof (head), "--%s=<%s>", d->name, d->type == MONO_OPTION_INT ? "n" : d->type == MONO_OPTION_SIZE ? "bytes" : "text");
		fprintf (out, "  %s\n      %s (default: %s", head, d->help, d->default_value);
		if ((d->type == MONO_OPTION_INT || d->type == MONO_OPTION_SIZE) && (d->min || d->max))
			fprintf (out, "; %" PRId64 " to %" PRId64, d->min, d->max);
		fprintf (out, ")\n");
	}
}

int
mono_options_apply (char *err, size_t errlen)
{
	char msg[MSG_LEN] = "";
	for (size_t t = 0; t < options.ntables; t++) {
		if (options.tables[t].apply && options.tables[t].apply (msg, sizeof msg) != 0) {
			give_message (msg, err, errlen);
			return -1;
		}
	}
	return 0;
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
	if (mono_options_apply (err, sizeof (err)) != 0) {
		fprintf (stderr, "error: %s\n", err);
		return 2;
	}
	return 0;
}

void
mono_options_reset_for_tests (void)
{
	for (size_t i = 0; i < options.nslots; i++)
		free (options.slots[i].owned);
	/* Modules' tables, registered at load time, stay: nothing would register them again. */
	size_t kept = 0;
	for (size_t t = 0; t < options.ntables; t++) {
		if (options.tables[t].builtin)
			options.tables[kept++] = options.tables[t];
	}
	memset (options.slots, 0, sizeof options.slots);
	options.nslots = 0;
	options.ntables = kept;
	options.defaults_loaded = false;
}
