# mono-bulk.S: what one thread has seen of the linear memory, for bulk memory operations
# (mono-bulk.h, mono_bulk_ready; docs/mwpm.md, "Threads"). Emscripten pthreads builds only.
#
# A wasm global, not C thread-local storage: every thread runs its own instance of the module,
# so a mutable global is per thread by construction, and it exists before the thread's TLS
# block does (emscripten allocates that block with malloc, which in the shared-pool build
# reaches mwpm). It starts at 0 in every thread, so a thread's first bulk operation refreshes.

.globaltype _mono_bulk_seen_pages_global, i32
_mono_bulk_seen_pages_global:

# The memory size, in 64 KiB pages, this thread's engine is known to see.
.globl _mono_bulk_seen_pages
_mono_bulk_seen_pages:
  .functype _mono_bulk_seen_pages () -> (i32)
  global.get _mono_bulk_seen_pages_global
  end_function

# memory.grow by 0 pages brings this thread's view of the memory up to date and returns the
# size in pages: that is what the thread has now seen.
.globl _mono_bulk_refresh
_mono_bulk_refresh:
  .functype _mono_bulk_refresh () -> ()
  i32.const 0
  memory.grow 0
  global.set _mono_bulk_seen_pages_global
  end_function
