# mono-bulk.S: what one thread has seen of the linear memory, for bulk memory operations
# (mono-bulk.h, mono_bulk_ready; docs/mwpm.md, "Threads"). Emscripten pthreads builds only.
#
# A wasm global, not C thread-local storage: every thread runs its own instance of the module,
# so a mutable global is per thread by construction, and it exists before the thread's TLS
# block does (emscripten allocates that block with malloc, which in the shared-pool build
# reaches mwpm). It starts at 0 in every thread, so a thread's first bulk operation refreshes.
#
# The page count is kept as an i32 on wasm32 and wasm64 alike (16 GiB is 2^18 pages).

.globaltype _mono_bulk_seen_pages_global, i32
_mono_bulk_seen_pages_global:

# The memory size, in 64 KiB pages, this thread's engine is known to see.
.globl _mono_bulk_seen_pages
_mono_bulk_seen_pages:
  .functype _mono_bulk_seen_pages () -> (i32)
  global.get _mono_bulk_seen_pages_global
  end_function

# Records the memory size, in pages, this thread has seen (mono-bulk.h, _mono_bulk_refresh, does
# the memory.grow by 0 that tells it).
.globl _mono_bulk_set_seen_pages
_mono_bulk_set_seen_pages:
  .functype _mono_bulk_set_seen_pages (i32) -> ()
  local.get 0
  global.set _mono_bulk_seen_pages_global
  end_function
