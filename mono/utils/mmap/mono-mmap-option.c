/*
 * mono-mmap-option.c: the mmap layer's row of the option table, --mono-wasm-mmap, and what
 * applying it does: choose the backend (mono_mmap_select_backend).
 *
 * Registered at load time (mono-mmap.c calls _mono_mmap_register_option from a constructor), so
 * that every program accepts the option in argv and MONO_ENV_OPTIONS from its first parse on
 * and --help-options lists it, before any memory is allocated.
 */
#include "mono-config.h"
#include "mono-mmap.h"
#include "mono-options.h"

#include <stdio.h>

/* Refused before the value is taken, so that the option never disagrees with the backend in
 * use. Not run on the default (mono-options.h): a default is never refused by state. */
static int
check_wasm_mmap (const MonoOptionDef *def, MonoOptionValue v, char *err, size_t errlen)
{
	(void)def;
	if (v.b && !MONO_CONFIG_WASM_MMAP) {
		snprintf (err, errlen, "--mono-wasm-mmap=on: this build has no wasm mmap (it was built with -Dwasm_mmap=disabled)");
		return -1;
	}
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

static int
apply_wasm_mmap (char *err, size_t errlen)
{
	bool on = mono_option_bool ("mono-wasm-mmap");
	return mono_mmap_select_backend (mono_mmap_backend_for_option (on), err, errlen);
}

static const MonoOptionDef rows[] = {
	{ .name = "mono-wasm-mmap", .type = MONO_OPTION_BOOL,
	  .default_value = MONO_CONFIG_WASM && MONO_CONFIG_WASM_MMAP ? "on" : "off",
	  .help = MONO_CONFIG_WASM ? "GC memory from mwpm, the wasm page manager (on) or from libc's mmap (off)"
	                           : "GC memory from mwpm over a simulated wasm linear memory (on) or from the OS's mmap (off)",
	  .check = check_wasm_mmap, .current = current_wasm_mmap },
};

void _mono_mmap_register_option (void);

void
_mono_mmap_register_option (void)
{
	static const MonoOptionTable table = { .defs = rows, .count = 1, .apply = apply_wasm_mmap, .builtin = true };
	(void)mono_options_register_table (&table);
}
