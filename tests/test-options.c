/*
 * test-options.c: the option parser (mono/utils/mono-options.h): every accepted form, every
 * error, the environment against the command line, all-or-nothing application.
 */
#include "mono-config.h"
#include "mono-options.h"
#include "mono-mmap.h"
#include "tap.h"

static const MonoOptionDef extra[] = {
	{ .name = "count", .type = MONO_OPTION_INT, .default_value = "5", .help = "a number", .min = 1, .max = 100 },
	{ .name = "heap", .type = MONO_OPTION_SIZE, .default_value = "4M",
	  .help = "a size", .min = 4096, .max = (int64_t)1 << 40 },
	{ .name = "label", .type = MONO_OPTION_STRING, .default_value = "none", .help = "a text" },
	{ .name = "verbose", .type = MONO_OPTION_BOOL, .default_value = "off", .help = "a switch" },
};

static char err[512];

/* --mono-wasm-mmap names a backend; "on" is mwpm. */
static bool
mmap_on (void)
{
	return mono_option_int ("mono-wasm-mmap") == MONO_MMAP_BACKEND_MWPM;
}

static void
fresh (void)
{
	mono_options_reset_for_tests ();
	mono_options_register (extra, sizeof (extra) / sizeof (extra[0]));
	err[0] = 0;
}

/* Parses a command line given as one string (words separated by spaces). */
static int
parse_line (const char *env, const char *line, int *argc_out, char ***argv_out)
{
	static char buf[1024];
	static char *argv[64];
	snprintf (buf, sizeof (buf), "prog %s", line);
	int argc = 0;
	for (char *p = strtok (buf, " "); p && argc < 63; p = strtok (NULL, " "))
		argv[argc++] = p;
	argv[argc] = NULL;
	int rc = mono_options_parse (&argc, argv, env ? env : "", NULL, err, sizeof (err));
	if (argc_out)
		*argc_out = argc;
	if (argv_out)
		*argv_out = argv;
	return rc;
}

/* The mmap layer registers --mono-wasm-mmap itself, at load time: the option is there for the
 * first parse, in argv and MONO_ENV_OPTIONS, and in --help-options, before any memory is
 * allocated (this is the program's first case). */
static int
case_registered_before_memory (void)
{
	T_CHECK (!mono_mmap_started (), "no memory allocated yet");
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream (&text, &len);
	T_CHECK (f != NULL, "open_memstream");
	mono_options_print_help (f);
	fclose (f);
	bool listed = text && strstr (text, "--mono-wasm-mmap[=on|off|malloc], --no-mono-wasm-mmap");
	free (text);
	T_CHECK (listed, "--help-options lists --mono-wasm-mmap");
	T_CHECK (parse_line ("--no-mono-wasm-mmap", "--mono-wasm-mmap=off", NULL, NULL) == 0, "environment and argv: %s", err);
	T_CHECK (!mmap_on () && mono_option_is_set ("mono-wasm-mmap"), "taken");
	T_CHECK (!mono_mmap_started (), "parsing allocates nothing");
	return 0;
}

static int
case_defaults (void)
{
	fresh ();
	T_CHECK (parse_line (NULL, "", NULL, NULL) == 0, "%s", err);
	bool want = MONO_CONFIG_WASM && MONO_CONFIG_WASM_MMAP;
	T_CHECK (mmap_on () == want, "default for this target");
	T_CHECK (!mono_option_is_set ("mono-wasm-mmap"), "not set by the user");
	T_CHECK (mono_option_int ("count") == 5 && mono_option_int ("heap") == 4 << 20, "defaults of registered rows");
	T_CHECK (strcmp (mono_option_string ("label"), "none") == 0, "string default");
	return 0;
}

static int
case_bool_forms (void)
{
	static const struct { const char *line; bool value; } forms[] = {
		{ "--verbose", true }, { "--no-verbose", false },
		{ "--verbose=on", true }, { "--verbose=off", false },
		{ "--verbose=ON", true }, { "--verbose=Off", false },
		{ "--verbose=true", true }, { "--verbose=FALSE", false },
		{ "--verbose=yes", true }, { "--verbose=No", false },
		{ "--verbose=1", true }, { "--verbose=0", false },
	};
	for (size_t i = 0; i < sizeof (forms) / sizeof (forms[0]); i++) {
		fresh ();
		/* Start from the opposite value so that every form visibly changes it. */
		T_CHECK (parse_line (NULL, forms[i].value ? "--verbose=off" : "--verbose=on", NULL, NULL) == 0, "%s", err);
		T_CHECK (parse_line (NULL, forms[i].line, NULL, NULL) == 0, "%s: %s", forms[i].line, err);
		T_CHECK (mono_option_bool ("verbose") == forms[i].value, "%s", forms[i].line);
		T_CHECK (mono_option_is_set ("verbose"), "%s marks the option set", forms[i].line);
	}
	return 0;
}

static int
case_wasm_mmap_forms (void)
{
#if MONO_CONFIG_WASM_MMAP
	const char *on_forms[] = { "--mono-wasm-mmap", "--mono-wasm-mmap=on", "--mono-wasm-mmap=TRUE", "--mono-wasm-mmap=yes", "--mono-wasm-mmap=1" };
	for (size_t i = 0; i < 5; i++) {
		fresh ();
		T_CHECK (parse_line (NULL, on_forms[i], NULL, NULL) == 0, "%s: %s", on_forms[i], err);
		T_CHECK (mmap_on (), "%s", on_forms[i]);
	}
#else
	fresh ();
	T_CHECK (parse_line (NULL, "--mono-wasm-mmap=on", NULL, NULL) != 0, "on is rejected without wasm mmap");
	T_CHECK (strstr (err, "no wasm mmap") != NULL, "message says why: %s", err);
	fresh ();
	T_CHECK (parse_line (NULL, "--mono-wasm-mmap", NULL, NULL) != 0, "bare form rejected too");
#endif
	const char *off_forms[] = { "--no-mono-wasm-mmap", "--mono-wasm-mmap=off", "--mono-wasm-mmap=false", "--mono-wasm-mmap=NO",
				    "--mono-wasm-mmap=0", MONO_CONFIG_WASM ? "--mono-wasm-mmap=libc" : "--mono-wasm-mmap=posix" };
	for (size_t i = 0; i < 6; i++) {
		fresh ();
		T_CHECK (parse_line (NULL, off_forms[i], NULL, NULL) == 0, "%s: %s", off_forms[i], err);
		T_CHECK (mono_option_int ("mono-wasm-mmap") == mono_mmap_platform_backend (), "%s", off_forms[i]);
	}
	/* The third backend, malloc (posix_memalign), what dotnet ships on wasm. */
	const char *malloc_forms[] = { "--mono-wasm-mmap=malloc", "--mono-wasm-mmap=MALLOC" };
	for (size_t i = 0; i < 2; i++) {
		fresh ();
		T_CHECK (parse_line (NULL, malloc_forms[i], NULL, NULL) == 0, "%s: %s", malloc_forms[i], err);
		T_CHECK (mono_option_int ("mono-wasm-mmap") == MONO_MMAP_BACKEND_MALLOC, "%s", malloc_forms[i]);
	}
	fresh ();
	T_CHECK (parse_line (NULL, "--mono-wasm-mmap=sbrk", NULL, NULL) != 0 && strstr (err, "not one of on|off|malloc"),
		 "an unknown backend names the choices: %s", err);
	return 0;
}

/* One source of the same text: argv, MONO_ENV_OPTIONS or an option list. */
typedef enum { FROM_ARGV, FROM_ENV, FROM_LIST } Source;
static const char *const source_names[] = { "argv", "MONO_ENV_OPTIONS", "a list" };

static int
parse_from (Source src, const char *text)
{
	switch (src) {
	case FROM_ARGV: return parse_line (NULL, text, NULL, NULL);
	case FROM_ENV: return parse_line (text, "", NULL, NULL);
	case FROM_LIST: return mono_options_parse_string (text, NULL, err, sizeof (err));
	}
	return -1;
}

/* A switch written without '=' takes the next word when it is one of its values, refuses a
 * bare word that is not one, and is otherwise on; the same from every source. */
static int
case_switch_next_word (void)
{
	for (int src = FROM_ARGV; src <= FROM_LIST; src++) {
		const char *from = source_names[src];
		fresh ();
		T_CHECK (parse_from (src, "--mono-wasm-mmap malloc") == 0, "%s: --mono-wasm-mmap malloc: %s", from, err);
		T_CHECK (mono_option_int ("mono-wasm-mmap") == MONO_MMAP_BACKEND_MALLOC, "%s: malloc selected", from);
		fresh ();
		T_CHECK (parse_from (src, "--mono-wasm-mmap off") == 0 && mono_option_int ("mono-wasm-mmap") == mono_mmap_platform_backend (),
			 "%s: --mono-wasm-mmap off: %s", from, err);
		fresh ();
		T_CHECK (parse_from (src, "--verbose=on --verbose off") == 0 && !mono_option_bool ("verbose"),
			 "%s: --verbose off: %s", from, err);
		T_CHECK (parse_from (src, "--verbose YES") == 0 && mono_option_bool ("verbose"), "%s: --verbose YES: %s", from, err);
		T_CHECK (parse_from (src, "--verbose 0 --count=6") == 0 && !mono_option_bool ("verbose") && mono_option_int ("count") == 6,
			 "%s: --verbose 0 --count=6: %s", from, err);
		/* A bare word that is no value is refused, naming the row and its values; nothing changes. */
		fresh ();
		T_CHECK (parse_from (src, "--count=9 --verbose maybe") != 0 && strstr (err, "--verbose") && strstr (err, "'maybe'") &&
			 strstr (err, "on|off"), "%s: --verbose maybe refused: %s", from, err);
		T_CHECK (mono_option_int ("count") == 5 && !mono_option_bool ("verbose"), "%s: nothing applied", from);
		T_CHECK (parse_from (src, "--mono-wasm-mmap sbrk") != 0 && strstr (err, "--mono-wasm-mmap") &&
			 strstr (err, "on|off|malloc"), "%s: --mono-wasm-mmap sbrk refused: %s", from, err);
		/* The bare form before another option, and at the end. */
		fresh ();
		T_CHECK (parse_from (src, "--verbose --count=8") == 0 && mono_option_bool ("verbose") && mono_option_int ("count") == 8,
			 "%s: --verbose --count=8: %s", from, err);
		fresh ();
		T_CHECK (parse_from (src, "--verbose") == 0 && mono_option_bool ("verbose"), "%s: --verbose at the end: %s", from, err);
		/* --no-name takes no value: the next word is not read as one. */
		fresh ();
		T_CHECK (parse_from (src, "--verbose=on --no-verbose off") != 0 || src == FROM_ARGV, "%s: --no-verbose off", from);
	}
	/* On the command line a word that is neither a value nor a bare word stays an argument. */
	fresh ();
	int argc;
	char **argv;
	T_CHECK (parse_line (NULL, "--verbose input.txt --no-verbose off", &argc, &argv) == 0 && !mono_option_bool ("verbose") &&
		 argc == 3 && !strcmp (argv[1], "input.txt") && !strcmp (argv[2], "off"), "arguments stay: %s", err);
	fresh ();
	T_CHECK (parse_line (NULL, "--verbose=on file", &argc, &argv) == 0 && argc == 2 && !strcmp (argv[1], "file"),
		 "--name=on before an argument: %s", err);
	return 0;
}

static int
case_values (void)
{
	fresh ();
	T_CHECK (parse_line (NULL, "--count=7 --heap 64K --label hello", NULL, NULL) == 0, "%s", err);
	T_CHECK (mono_option_int ("count") == 7, "--name=value");
	T_CHECK (mono_option_int ("heap") == 64 << 10, "--name value with suffix");
	T_CHECK (strcmp (mono_option_string ("label"), "hello") == 0, "string value");
	T_CHECK (parse_line (NULL, "--heap=2G --count 100", NULL, NULL) == 0, "%s", err);
	T_CHECK (mono_option_int ("heap") == (int64_t)2 << 30 && mono_option_int ("count") == 100, "G suffix, upper bound");
	T_CHECK (parse_line (NULL, "--heap=3MiB", NULL, NULL) == 0 && mono_option_int ("heap") == 3 << 20, "MiB");
	return 0;
}

/* Each bad line fails, names the option, and changes nothing. */
static int
case_errors (void)
{
	static const struct { const char *line; const char *must_say; } bad[] = {
		{ "--bogus", "unknown option --bogus" },
		{ "--count=8 --bogus=1", "unknown option --bogus" },
		{ "--verbose=maybe", "on/off" },
		{ "--mono-wasm-mmap=maybe", "--mono-wasm-mmap" },
		{ "--mono-wasm-mmap=", "--mono-wasm-mmap" },
		{ "--no-mono-wasm-mmap=on", "takes no value" },
		{ "--no-count", "--no-" },
		{ "--count", "missing value" },
		{ "--count --verbose", "missing value" },
		{ "--count=", "missing value" },
		{ "--count=abc", "not a valid integer" },
		{ "--count=12x", "not a valid integer" },
		{ "--count=0", "out of range" },
		{ "--count=101", "out of range" },
		{ "--count=99999999999999999999999", "not a valid" },
		{ "--heap=12Q", "not a valid size" },
		{ "--heap=-4K", "not a valid size" },
		{ "--heap=99999999999G", "not a valid size" },
		{ "--heap=1K", "out of range" },
	};
	for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
		fresh ();
		T_CHECK (parse_line (NULL, "--count=9", NULL, NULL) == 0, "%s", err);
		T_CHECK (parse_line (NULL, bad[i].line, NULL, NULL) != 0, "'%s' must fail", bad[i].line);
		T_CHECK (strstr (err, bad[i].must_say) != NULL, "'%s': message '%s' lacks '%s'", bad[i].line, err, bad[i].must_say);
		T_CHECK (mono_option_int ("count") == 9, "'%s' changed --count", bad[i].line);
	}
	return 0;
}

static int
case_env_and_command_line (void)
{
	fresh ();
	T_CHECK (parse_line ("--count=3 --label=env", "", NULL, NULL) == 0, "%s", err);
	T_CHECK (mono_option_int ("count") == 3 && strcmp (mono_option_string ("label"), "env") == 0, "environment applied");
	fresh ();
	T_CHECK (parse_line ("--count=3   --verbose", "--count=4", NULL, NULL) == 0, "%s", err);
	T_CHECK (mono_option_int ("count") == 4, "command line wins");
	T_CHECK (mono_option_bool ("verbose"), "environment-only option kept");
	fresh ();
	T_CHECK (parse_line ("--count=3 --oops", "--count=4", NULL, NULL) != 0, "bad environment fails");
	T_CHECK (strstr (err, "MONO_ENV_OPTIONS") != NULL, "message names the environment: %s", err);
	T_CHECK (mono_option_int ("count") == 5, "nothing applied");
	fresh ();
	T_CHECK (parse_line ("--count=3", "--count=400", NULL, NULL) != 0, "bad command line fails");
	T_CHECK (mono_option_int ("count") == 5, "environment not applied either");
	fresh ();
	T_CHECK (parse_line ("plain", "", NULL, NULL) != 0 && strstr (err, "not an option"), "non-option in the environment");
	return 0;
}

static int
case_argv_left_over (void)
{
	fresh ();
	int argc;
	char **argv;
	T_CHECK (parse_line (NULL, "a --count 6 b --verbose -- --label=x c", &argc, &argv) == 0, "%s", err);
	T_CHECK (argc == 5, "argc %d", argc);
	T_CHECK (!strcmp (argv[1], "a") && !strcmp (argv[2], "b") && !strcmp (argv[3], "--label=x") && !strcmp (argv[4], "c"),
	         "left-over words in order");
	T_CHECK (argv[5] == NULL, "argv terminated");
	T_CHECK (strcmp (mono_option_string ("label"), "none") == 0, "nothing after -- is an option");
	return 0;
}

static int
case_string_list (void)
{
	fresh ();
	bool help = true;
	T_CHECK (mono_options_parse_string ("--count=11 --no-verbose --label=page", &help, err, sizeof (err)) == 0, "%s", err);
	T_CHECK (mono_option_int ("count") == 11 && !mono_option_bool ("verbose"), "list applied");
	T_CHECK (!help, "no help asked");
	T_CHECK (mono_options_parse_string ("--count=12 --nope", NULL, err, sizeof (err)) != 0, "bad list fails");
	T_CHECK (mono_option_int ("count") == 11, "nothing applied");
	/* --help-options in a list is what it is on the command line. */
	T_CHECK (mono_options_parse_string ("--help-options", &help, err, sizeof (err)) == 0 && help,
		 "--help-options in a list tells the caller");
	return 0;
}

static int
case_help (void)
{
	fresh ();
	bool help = false;
	char *argv[] = { "prog", "--help-options", NULL };
	int argc = 2;
	T_CHECK (mono_options_parse (&argc, argv, "", &help, err, sizeof (err)) == 0 && help, "help requested");
	/* A memory stream, not tmpfile(): WASI has no temporary files. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream (&text, &len);
	T_CHECK (f != NULL, "open_memstream");
	mono_options_print_help (f);
	fclose (f);
	bool ok = text && strstr (text, "--mono-wasm-mmap[=on|off|malloc]") && strstr (text, "--count=<n>") && strstr (text, "default: 4M");
	if (!ok)
		tap_diag ("help printed:\n%s", text ? text : "(nothing)");
	free (text);
	T_CHECK (ok, "table printed with defaults");
	T_CHECK (mono_options_register (extra, 1) != 0, "a name cannot be registered twice");
	return 0;
}

static int
case_backend_after_start (void)
{
	fresh ();
	mono_mmap_reset_for_tests ();
	T_CHECK (parse_line (NULL, "--mono-wasm-mmap=off", NULL, NULL) == 0, "%s", err);
	T_CHECK (mono_options_apply (err, sizeof (err)) == 0, "%s", err);
	void *p = mono_valloc (NULL, 1, 0, MONO_MEM_ACCOUNT_OTHER);
	T_CHECK (p != NULL, "allocation");
#if MONO_CONFIG_WASM_MMAP
	T_CHECK (parse_line (NULL, "--mono-wasm-mmap=on", NULL, NULL) != 0, "switching after start is refused");
	T_CHECK (strstr (err, "cannot change") != NULL, "clear message: %s", err);
	T_CHECK (!mmap_on (), "the option keeps agreeing with the backend");
	T_CHECK (strcmp (mono_mmap_caps ()->name, "mwpm") != 0, "backend unchanged");
	char msg[256];
	T_CHECK (mono_mmap_select_backend (MONO_MMAP_BACKEND_MWPM, msg, sizeof (msg)) != 0 && strstr (msg, "cannot change"),
	         "the layer refuses too: %s", msg);
#endif
	T_CHECK (parse_line (NULL, "--mono-wasm-mmap=off", NULL, NULL) == 0, "%s", err);
	T_CHECK (mono_options_apply (err, sizeof (err)) == 0, "the same backend again is fine: %s", err);
	T_CHECK (mono_vfree (p, 1, MONO_MEM_ACCOUNT_OTHER) == 0, "free");
	mono_mmap_reset_for_tests ();
	return 0;
}

/* A parser error with no room for the message (errlen 0) is still an error, and writes nothing. */
static int
case_no_room_for_message (void)
{
	fresh ();
	char none[1] = { 'x' };
	T_CHECK (mono_options_parse_string ("--nope", NULL, none, 0) != 0, "unknown option refused");
	T_CHECK (mono_options_parse_string ("--count=12 --count", NULL, none, 0) != 0, "missing value refused");
	T_CHECK (none[0] == 'x', "nothing written into a buffer of length 0");
	T_CHECK (mono_options_parse_string ("--nope", NULL, NULL, 0) != 0, "no buffer at all");
	T_CHECK (mono_option_int ("count") == 5, "nothing applied");
	return 0;
}

/* A size is never negative, whether its row has a range or not. */
static int
case_negative_size (void)
{
	static const MonoOptionDef unranged[] = {
		{ .name = "any-size", .type = MONO_OPTION_SIZE, .default_value = "0", .help = "a size without a range" },
	};
	fresh ();
	T_CHECK (mono_options_register (unranged, 1) == 0, "register");
	const char *bad[] = { "--any-size=-4096", "--any-size=-4K", "--any-size=-1", "--heap=-4096" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_CHECK (parse_line (NULL, bad[i], NULL, NULL) != 0, "%s accepted", bad[i]);
		T_CHECK (strstr (err, "not a valid size") != NULL, "%s: %s", bad[i], err);
	}
	T_CHECK (mono_option_int ("any-size") == 0, "unchanged");
	T_CHECK (parse_line (NULL, "--any-size=4096", NULL, NULL) == 0 && mono_option_int ("any-size") == 4096, "4096: %s", err);
	return 0;
}

/*
 * Memory allocated before the table is first used, through a backend other than the default:
 * the first use must not abort (the default is checked for syntax only), and the option reads
 * the backend in use.
 */
static int
case_first_use_after_allocation (void)
{
	mono_options_reset_for_tests ();
	mono_mmap_reset_for_tests ();
	/* The backend that is not the default of this build. */
	bool default_on = MONO_CONFIG_WASM && mono_mmap_caps ()->backend == MONO_MMAP_BACKEND_MWPM;
	MonoMmapBackend other = default_on ? mono_mmap_platform_backend () : MONO_MMAP_BACKEND_MWPM;
	char msg[256];
	if (mono_mmap_select_backend (other, msg, sizeof msg) != 0) {
		tap_diag ("only one backend in this build: %s", msg);
		return 0;
	}
	void *p = mono_valloc (NULL, 1, 0, MONO_MEM_ACCOUNT_OTHER);
	T_CHECK (p != NULL, "allocation through the other backend");
	T_CHECK (mmap_on () == !default_on, "the option reads the backend in use (%s)",
		 mono_mmap_caps ()->name);
	mono_options_register (extra, sizeof (extra) / sizeof (extra[0]));
	T_CHECK (parse_line (NULL, !default_on ? "--mono-wasm-mmap=on" : "--mono-wasm-mmap=off", NULL, NULL) == 0,
		 "the backend in use, named again: %s", err);
	T_CHECK (parse_line (NULL, default_on ? "--mono-wasm-mmap=on" : "--mono-wasm-mmap=off", NULL, NULL) != 0 &&
		 strstr (err, "cannot change"), "the other one is refused: %s", err);
	T_CHECK (mono_vfree (p, 1, MONO_MEM_ACCOUNT_OTHER) == 0, "free");
	mono_mmap_reset_for_tests ();
	return 0;
}

/* What programs return from main: 2 on a bad option (--help-options: case_help). */
static int
case_startup (void)
{
	fresh ();
	mono_mmap_reset_for_tests ();
	setenv ("MONO_ENV_OPTIONS", "", 1);
	char *bad[] = { "prog", "--mono-wasm-mmap=sometimes", NULL };
	int argc = 2;
	T_CHECK (mono_options_startup (&argc, bad) == 2, "bad option: status 2");
	char *good[] = { "prog", "--no-mono-wasm-mmap", "file", NULL };
	argc = 3;
	T_CHECK (mono_options_startup (&argc, good) == 0 && argc == 2 && !strcmp (good[1], "file"), "good line");
	T_CHECK (strcmp (mono_mmap_caps ()->name, MONO_CONFIG_WASM ? "libc" : "posix") == 0, "backend applied: %s", mono_mmap_caps ()->name);
	setenv ("MONO_ENV_OPTIONS", "--mono-wasm-mmap=perhaps", 1);
	char *plain[] = { "prog", NULL };
	argc = 1;
	T_CHECK (mono_options_startup (&argc, plain) == 2, "bad environment: status 2");
	unsetenv ("MONO_ENV_OPTIONS");
	mono_mmap_reset_for_tests ();
	return 0;
}

int
main (void)
{
	tap_case ("--mono-wasm-mmap is registered before any memory is allocated", case_registered_before_memory);
	tap_case ("defaults", case_defaults);
	tap_case ("boolean forms", case_bool_forms);
	tap_case ("--mono-wasm-mmap forms", case_wasm_mmap_forms);
	tap_case ("switches take the next word when it is one of their values, from every source", case_switch_next_word);
	tap_case ("values: --name=value and --name value, suffixes", case_values);
	tap_case ("errors name the option and change nothing", case_errors);
	tap_case ("MONO_ENV_OPTIONS and the command line", case_env_and_command_line);
	tap_case ("non-option words stay in argv", case_argv_left_over);
	tap_case ("option list from a string (browser query)", case_string_list);
	tap_case ("--help-options", case_help);
	tap_case ("backend cannot change after memory is allocated", case_backend_after_start);
	tap_case ("mono_options_startup: status for programs", case_startup);
	tap_case ("an error with no room for its message", case_no_room_for_message);
	tap_case ("sizes are never negative, with or without a range", case_negative_size);
	tap_case ("first use of the table after memory was allocated elsewhere", case_first_use_after_allocation);
	return tap_done ();
}
