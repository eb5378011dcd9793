/*
 * mono-mmap-option.c: the mmap layer's row of the option table, --mono-wasm-mmap, and what
 * applying it does: choose the backend (mono_mmap_select_backend).
 *
 * Registered at load time (a constructor here), so that every program accepts the option in
 * argv and MONO_ENV_OPTIONS from its first parse on and --help-options lists it, before any
 * memory is allocated. This file calls the layer (mono-mmap.c), never the other way; the build
 * links it whole into every program of the layer (mono/utils/mmap/meson.build), since nothing
 * refers to it by name.
 */
#include "mono-config.h"
#include "mono-mmap.h"
#include "mono-options.h"

#include <stdio.h>

#define PLATFORM (MONO_CONFIG_WASM ? MONO_MMAP_BACKEND_LIBC : MONO_MMAP_BACKEND_POSIX)

/* The values: on (mwpm), off (the platform's mmap: libc on wasm, posix natively), malloc; the
 * boolean spellings of on and off that --mono-wasm-mmap took when it was a switch stay. */
static const MonoOptionChoice choices[] = {
	{ "on", MONO_MMAP_BACKEND_MWPM, false },
	{ "off", PLATFORM, false },
	{ "malloc", MONO_MMAP_BACKEND_MALLOC, false },
	{ "mwpm", MONO_MMAP_BACKEND_MWPM, true },
	{ MONO_CONFIG_WASM ? "libc" : "posix", PLATFORM, true },
	{ "true", MONO_MMAP_BACKEND_MWPM, true }, { "yes", MONO_MMAP_BACKEND_MWPM, true },
	{ "1", MONO_MMAP_BACKEND_MWPM, true },
	{ "false", PLATFORM, true }, { "no", PLATFORM, true }, { "0", PLATFORM, true },
	{ NULL, 0, false },
};

static const char *
choice_name (int64_t backend)
{
	return backend == MONO_MMAP_BACKEND_MWPM ? "on" : backend == MONO_MMAP_BACKEND_MALLOC ? "malloc" : "off";
}

/* Refused before the value is taken, so that the option never disagrees with the backend in
 * use. Not run on the default (mono-options.h): a default is never refused by state. */
static int
check_wasm_mmap (const MonoOptionDef *def, MonoOptionValue v, char *err, size_t errlen)
{
	(void)def;
	if (v.i == MONO_MMAP_BACKEND_MWPM && !MONO_CONFIG_WASM_MMAP) {
		snprintf (err, errlen, "--mono-wasm-mmap=on: this build has no wasm mmap (it was built with -Dwasm_mmap=disabled)");
		return -1;
	}
	if (mono_mmap_started () && (int64_t)mono_mmap_caps ()->backend != v.i) {
		snprintf (err, errlen, "--mono-wasm-mmap=%s: the memory backend cannot change once memory has been allocated through '%s'",
		          choice_name (v.i), mono_mmap_caps ()->name);
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
		stored.i = mono_mmap_caps ()->backend;
	return stored;
}

static int
apply_wasm_mmap (char *err, size_t errlen)
{
	return mono_mmap_select_backend ((MonoMmapBackend)mono_option_int ("mono-wasm-mmap"), err, errlen);
}

static const MonoOptionDef rows[] = {
	{ .name = "mono-wasm-mmap", .type = MONO_OPTION_ENUM, .choices = choices,
	  .default_value = MONO_CONFIG_WASM && MONO_CONFIG_WASM_MMAP ? "on" : "off",
	  .help = MONO_CONFIG_WASM ? "GC memory from mwpm, the wasm page manager (on), from libc's mmap (off), or from "
	                             "malloc (posix_memalign, what dotnet ships on wasm)"
	                           : "GC memory from mwpm over a simulated wasm linear memory (on), from the OS's mmap "
	                             "(off), or from malloc (posix_memalign)",
	  .check = check_wasm_mmap, .current = current_wasm_mmap },
};

__attribute__ ((constructor)) static void
register_option (void)
{
	static const MonoOptionTable table = { .defs = rows, .count = 1, .apply = apply_wasm_mmap, .builtin = true };
	(void)mono_options_register_table (&table);
}
