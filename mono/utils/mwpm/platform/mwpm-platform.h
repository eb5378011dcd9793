/*
 * mwpm-platform.h: the one seam between mwpm and the memory it manages.
 *
 * The platform is a 32-bit linear memory that starts at `base` and grows at its top, with a
 * program break moved by sbrk. Implementations, one per file, chosen by meson.build:
 *   mwpm-platform-sbrk.c  wasm (emscripten, WASI): the real sbrk and memory.size;
 *   mwpm-platform-host.c  native: a simulated 4 GiB linear memory, for sanitizers and valgrind.
 * mwpm works in offsets from `base` (uint64_t, so that the end of the space, 2^32, fits), never
 * with raw pointers.
 *
 * Every function returns 0 or an errno value and states its precondition. None calls malloc.
 * What tests may see of the platform (its description, the break, the memory size, and the
 * knobs every implementation offers them) is in mwpm-test-hooks.h, which this seam builds on.
 */
#ifndef MWPM_PLATFORM_H
#define MWPM_PLATFORM_H

#include "mono-config.h"
#include "mwpm-test-hooks.h"
#include "mono-bulk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Moves the break up by `increment` bytes (0 < increment <= sbrk_max, a multiple of
 * sbrk_granule) and stores the old break's offset in *old_break. Returns 0, or ENOMEM when the
 * memory cannot grow (nothing changed). Atomic with respect to other sbrk callers. */
int mwpm_platform_sbrk (uint32_t increment, uint64_t *old_break);

/* Bulk memory operations on memory another thread may have just grown go through
 * mono_bulk_ready (mono-bulk.h, shared with the layers above mwpm). */

#endif
