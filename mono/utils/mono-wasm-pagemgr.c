/*
 * mono-wasm-pagemgr.c: mwpm's page table, allocation, freeing and growth.
 *
 * Page states (one byte per page of the 32-bit space, _mwpm_state[]), and every legal change:
 *
 *                 grow: trusted zero            alloc
 *   NOT_OURS ---------------------------> FREE_ZEROED --------+
 *      |   |                                                   v
 *      |   |   grow: not trusted            alloc           IN_USE
 *      |   +---------------------------> FREE_DIRTY -------->  |
 *      |                                     ^                 |
 *      | gap: another sbrk caller's memory   +-----------------+
 *      v                                           free
 *   FOREIGN
 *
 * NOT_OURS is the zero state (a fresh table); only mwpm_reset_for_tests() takes pages back to
 * it. Every change goes through set_pages(), which checks the from-state against this table.
 * FREE_ZEROED and FREE_DIRTY pages have their bit set in the index bitmap; no other page has.
 *
 * Memory layout of the span, as sbrk hands it out (| = page boundary):
 *
 *   |  ..b[ours ][ours ][ours ][ou|rs)e..foreign..|..b'[ours][ours ][ou|rs)e'
 *      ^head fragment                 ^ gap page(s): FOREIGN     ^ pending page: joins the
 *       (unusable, or welded                                       span when the next result
 *        when b == previous e)                                     starts at e' (a weld)
 *
 * Zero trust (docs/mwpm.md): sbrk memory is marked FREE_ZEROED only when nothing can have
 * written it: always when the break is monotonic; above the memory size seen before the call
 * when it is not and no other thread can run; never otherwise. A result below a break mwpm has
 * already seen proves someone lowered it: the monotonic belief is dropped for good.
 *
 * Locking: every entry point takes _mwpm.lock; printing happens outside it, and so does memset,
 * except for the dirty runs of one request beyond the ZERO_RUNS it can record (alloc_pages).
 */
#include "mwpm-internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MWPM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define MWPM_ASAN 1
#endif
#ifdef MWPM_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(addr, size) ASAN_POISON_MEMORY_REGION ((addr), (size))
#define UNPOISON(addr, size) ASAN_UNPOISON_MEMORY_REGION ((addr), (size))
#else
#define POISON(addr, size) ((void)(addr), (void)(size))
#define UNPOISON(addr, size) ((void)(addr), (void)(size))
#endif

/* Each sbrk call asks for at most this much, so that no request reaches sbrk's 2 GiB limit;
 * larger allocations are built from several adjacent results (welded). */
#define MWPM_MAX_SBRK_BYTES (1u << 30)

Mwpm _mwpm = { .lock = MWPM_LOCK_INIT };
uint8_t _mwpm_state[MWPM_TABLE_PAGES];
static uint64_t index_bits[MWPM_LEAVES];
static MwpmSum index_sums[2 * MWPM_LEAVES];

#define ST(s) (1u << (s))
static const uint8_t legal_to[MWPM_PAGE_STATE_COUNT] = {
	[MWPM_PAGE_NOT_OURS] = ST (MWPM_PAGE_FREE_ZEROED) | ST (MWPM_PAGE_FREE_DIRTY) | ST (MWPM_PAGE_FOREIGN),
	[MWPM_PAGE_FOREIGN] = 0,
	[MWPM_PAGE_FREE_ZEROED] = ST (MWPM_PAGE_IN_USE),
	[MWPM_PAGE_FREE_DIRTY] = ST (MWPM_PAGE_IN_USE),
	[MWPM_PAGE_IN_USE] = ST (MWPM_PAGE_FREE_DIRTY),
};

static inline bool
state_is_free (unsigned s)
{
	return s == MWPM_PAGE_FREE_ZEROED || s == MWPM_PAGE_FREE_DIRTY;
}

static inline void *
page_addr (uint32_t page)
{
	return (void *)(_mwpm.platform.base + ((uintptr_t)page << MWPM_PAGE_SHIFT));
}

/* True when addr lies in the 32-bit linear memory; stores its offset. */
static inline bool
offset_of (uintptr_t addr, uint64_t *offset)
{
	if (addr < _mwpm.platform.base)
		return false;
	*offset = (uint64_t)(addr - _mwpm.platform.base);
#if UINTPTR_MAX > 0xffffffffu
	return *offset < MWPM_SPACE_BYTES;
#else
	return true;
#endif
}

static void
init_locked (void)
{
	mwpm_platform_info (&_mwpm.platform);
	mwpm_index_init (&_mwpm.index, index_bits, index_sums, MWPM_LEAVES);
	_mwpm.stats.page_size = MWPM_PAGE_SIZE;
	_mwpm.initialized = true;
}

void
_mwpm_enter (void)
{
	bool contended = mwpm_lock (&_mwpm.lock);
	if (!_mwpm.initialized)
		init_locked ();
	if (contended)
		_mwpm.stats.lock_contended++;
}

void
_mwpm_leave (void)
{
	mwpm_unlock (&_mwpm.lock);
}

/* An internal inconsistency: mwpm cannot continue safely. Called with the lock held; the
 * message is fixed text, written without stdio. */
static _Noreturn void
fatal (const char *msg)
{
	static const char prefix[] = "mwpm: fatal: ";
	if (write (2, prefix, sizeof prefix - 1) < 0 || write (2, msg, strlen (msg)) < 0 || write (2, "\n", 1) < 0)
		__builtin_trap ();
	__builtin_trap ();
}

/*
 * The one place where page states change. Pages of [first, first + count) whose state is in
 * from_mask become `to`; with `strict`, every page must be in from_mask. Keeps the counts, the
 * index bitmap and summaries, and (under ASan) the poisoning of free pages in step. Returns the
 * number of pages changed. Lock held.
 */
static uint32_t
set_pages (uint32_t first, uint32_t count, unsigned from_mask, unsigned to, bool strict)
{
	if (!count)
		return 0;
	bool to_free = state_is_free (to);
	uint32_t changed = 0, lo_word = UINT32_MAX, hi_word = 0;
	for (uint32_t p = first; p < first + count; p++) {
		unsigned from = _mwpm_state[p];
		if (!(from_mask & ST (from))) {
			if (strict)
				fatal ("page in an unexpected state");
			continue;
		}
		if (!(legal_to[from] & ST (to)))
			fatal ("illegal page state transition");
		_mwpm_state[p] = (uint8_t)to;
		_mwpm.count[from]--;
		_mwpm.count[to]++;
		changed++;
		if (state_is_free (from) != to_free) {
			uint32_t w = p / 64;
			if (to_free)
				index_bits[w] |= (uint64_t)1 << (p % 64);
			else
				index_bits[w] &= ~((uint64_t)1 << (p % 64));
			lo_word = w < lo_word ? w : lo_word;
			hi_word = w > hi_word ? w : hi_word;
			if (to_free)
				POISON (page_addr (p), MWPM_PAGE_SIZE);
			else
				UNPOISON (page_addr (p), MWPM_PAGE_SIZE);
		}
	}
	if (lo_word != UINT32_MAX)
		mwpm_index_update_words (&_mwpm.index, lo_word, hi_word);
	return changed;
}

/* ---- Growth ---- */

static uint64_t
round_up (uint64_t x, uint64_t to)
{
	return (x + to - 1) & ~(to - 1);
}

int
_mwpm_trust_level_locked (void)
{
	if (_mwpm.platform.break_monotonic && !_mwpm.trust_lost)
		return MWPM_TRUST_MONOTONIC;
	return _mwpm.platform.threads ? MWPM_TRUST_NONE : MWPM_TRUST_WITNESS;
}

/* Adds the sbrk result [b, e) to the span. `witness` is the memory size read before the call:
 * no byte at or above it existed then. Lock held. */
static void
add_chunk (uint64_t b, uint64_t e, uint64_t witness)
{
	const uint64_t P = MWPM_PAGE_SIZE;
	_mwpm.stats.sbrk_calls++;
	_mwpm.stats.bytes_from_sbrk += e - b;

	if (b < _mwpm.break_high) {
		/* Someone lowered the break below what mwpm saw: the monotonic belief was wrong. */
		_mwpm.stats.break_lowered_seen++;
		_mwpm.trust_lost = true;
	}
	uint64_t trusted_from;
	switch (_mwpm_trust_level_locked ()) {
	case MWPM_TRUST_MONOTONIC:
		trusted_from = b;
		break;
	case MWPM_TRUST_WITNESS:
		trusted_from = witness > b ? witness : b;
		break;
	default:
		trusted_from = e;
		break;
	}
	/* Memory below a break already seen may have been written, whatever the level. */
	if (trusted_from < _mwpm.break_high)
		trusted_from = _mwpm.break_high < e ? _mwpm.break_high : e;
	_mwpm.stats.bytes_from_sbrk_untrusted += (trusted_from < e ? trusted_from : e) - b;
	if (e > _mwpm.break_high)
		_mwpm.break_high = e;
	if (_mwpm.chunk_end && e <= _mwpm.chunk_end) {
		/* The break was lowered so far into mwpm's own memory that the whole result lies in
		 * it: nothing is new, and chunk_end must not go down (the pending page and the weld
		 * rule depend on it). */
		return;
	}

	uint32_t first_full;
	if (_mwpm.chunk_end == 0) {
		/* The first chunk: the span starts at its first whole page. */
		first_full = (uint32_t)(round_up (b, P) / P);
		_mwpm.stats.bytes_unusable += round_up (b, P) - b;
		_mwpm.span_first = _mwpm.span_end = first_full;
	} else if (b <= _mwpm.chunk_end) {
		/* Adjacent to our previous result: weld. (b < chunk_end means the break went below our
		 * own memory; only [chunk_end, e) is new.) */
		if (b < _mwpm.chunk_end)
			b = _mwpm.chunk_end;
		_mwpm.stats.welds++;
		first_full = (uint32_t)(round_up (b, P) / P);
		if (b % P) {
			/* The pending page is whole now (grow() always asks for more than a page). */
			uint32_t pending = (uint32_t)(b / P);
			bool zero = _mwpm.pending_trusted && b >= trusted_from;
			mwpm_index_cover (&_mwpm.index, pending + 1);
			set_pages (pending, 1, ST (MWPM_PAGE_NOT_OURS), zero ? MWPM_PAGE_FREE_ZEROED : MWPM_PAGE_FREE_DIRTY, true);
			_mwpm.span_end = pending + 1;
		}
	} else {
		/* Another caller took [chunk_end, b): the pages there, and the partial pages at both
		 * ends, are foreign. */
		uint32_t gap_first = (uint32_t)(_mwpm.chunk_end / P);
		first_full = (uint32_t)(round_up (b, P) / P);
		_mwpm.stats.bytes_unusable += (_mwpm.chunk_end % P ? _mwpm.chunk_end % P : 0) + (round_up (b, P) - b);
		mwpm_index_cover (&_mwpm.index, first_full);
		set_pages (gap_first, first_full - gap_first, ST (MWPM_PAGE_NOT_OURS), MWPM_PAGE_FOREIGN, true);
		_mwpm.span_end = first_full;
	}

	uint32_t end_full = (uint32_t)(e / P);
	if (end_full > first_full) {
		uint32_t zero_first = (uint32_t)(round_up (trusted_from, P) / P);
		if (zero_first < first_full)
			zero_first = first_full;
		if (zero_first > end_full)
			zero_first = end_full;
		mwpm_index_cover (&_mwpm.index, end_full);
		set_pages (first_full, zero_first - first_full, ST (MWPM_PAGE_NOT_OURS), MWPM_PAGE_FREE_DIRTY, true);
		set_pages (zero_first, end_full - zero_first, ST (MWPM_PAGE_NOT_OURS), MWPM_PAGE_FREE_ZEROED, true);
		_mwpm.span_end = end_full;
	}
	if (e % P) {
		/* Our part of the pending page: [end_full * P, e). */
		_mwpm.pending_trusted = (uint64_t)end_full * P >= trusted_from;
	}
	_mwpm.chunk_end = e;
}

/* Calls sbrk for `bytes` (a multiple of the granule, <= MWPM_MAX_SBRK_BYTES). Lock held. */
static int
grow_once (uint64_t bytes)
{
	uint64_t witness = mwpm_platform_memory_bytes ();
	uint64_t b;
	int err = mwpm_platform_sbrk ((uint32_t)bytes, &b);
	if (err) {
		_mwpm.stats.sbrk_failures++;
		return err;
	}
	add_chunk (b, b + bytes, witness);
	return 0;
}

/* First fit for n pages aligned to `align` pages (a power of two). Lock held. */
static uint32_t
find_fit (uint32_t n, uint32_t align)
{
	return mwpm_index_find_aligned (&_mwpm.index, n, align);
}

/* The first page of a run that sbrk memory starting at `brk` would give: the free pages at
 * the top of the span when the new memory joins them (brk at or below where mwpm's last result
 * ended: add_chunk welds it), else the first whole page at or above brk. Lock held. */
static uint64_t
run_start_for_break (uint64_t brk)
{
	if (_mwpm.chunk_end && brk <= _mwpm.chunk_end)
		return _mwpm.span_end - mwpm_index_run_ending_at (&_mwpm.index, _mwpm.span_end);
	return round_up (brk, MWPM_PAGE_SIZE) >> MWPM_PAGE_SHIFT;
}

/* Bytes sbrk must add to a break at `brk` for a run of n pages aligned to `align` pages to
 * exist. Only called when no such run exists, so the run ends above the span. Lock held. */
static uint64_t
bytes_missing (uint64_t brk, uint32_t n, uint32_t align)
{
	uint64_t start = round_up (run_start_for_break (brk), align);
	uint64_t end = (start + n) << MWPM_PAGE_SHIFT;
	return round_up (end - brk, _mwpm.platform.sbrk_granule);
}

/* Asks sbrk for `chunk` bytes (at least `want`, what the request needs), in pieces of at most
 * MWPM_MAX_SBRK_BYTES that weld when nobody moves the break in between. A piece that fails
 * while more than `want` is still asked for is asked again as just what is needed. Lock held. */
static int
grow_pieces (uint64_t chunk, uint64_t want)
{
	while (want > 0) {
		uint64_t ask = chunk < MWPM_MAX_SBRK_BYTES ? chunk : MWPM_MAX_SBRK_BYTES;
		int err = grow_once (ask);
		if (err && ask > want)
			err = grow_once (ask = want);
		if (err)
			return err;
		want = want > ask ? want - ask : 0;
		chunk = chunk > ask ? chunk - ask : 0;
	}
	return 0;
}

/*
 * Grows the span until a run of n pages aligned to `align` pages is free, taking what is
 * missing given where the break is now (docs/mwpm.md, "Growth"): a result that joins the free
 * top of the span only adds what that run lacks, one after another caller's memory the whole
 * run. Fails with ENOMEM, before sbrk and changing nothing, when the run cannot fit below the
 * maximum from the current break. Another thread may move the break between the reading and
 * the sbrk call; the result then lies elsewhere, and the next round asks again from there
 * (GROW_ROUNDS bounds this; each round takes memory, so it cannot go on for long). Lock held.
 */
#define GROW_ROUNDS 4

static int
grow (uint32_t n, uint32_t align)
{
	/* Re-read what may change (the host platform lets tests change break_monotonic and the
	 * maximum). The base never changes and is read without the lock: it is not written here. */
	MwpmPlatformInfo now;
	mwpm_platform_info (&now);
	_mwpm.platform.break_monotonic = now.break_monotonic;
	_mwpm.platform.memory_max = now.memory_max;
	_mwpm.platform.threads = now.threads;
	uint64_t limit = now.memory_max < MWPM_SPACE_BYTES ? now.memory_max : MWPM_SPACE_BYTES;
	uint64_t min_chunk = round_up (MWPM_MIN_CHUNK_BYTES, now.sbrk_granule);
	for (int round = 0; round < GROW_ROUNDS; round++) {
		uint64_t brk;
		int err = mwpm_platform_break (&brk);
		if (err)
			return err;
		uint64_t want = bytes_missing (brk, n, align);
		if (brk > limit || want > limit - brk)
			return ENOMEM;
		/* A minimum chunk when it fits, else just what is needed. */
		uint64_t chunk = want < min_chunk && min_chunk <= limit - brk ? min_chunk : want;
		if ((err = grow_pieces (chunk, want)) != 0)
			return err;
		if (find_fit (n, align) != MWPM_INDEX_NONE)
			return 0;
	}
	return ENOMEM;
}

/* ---- Allocation ---- */

typedef struct {
	uint32_t first, count;
} PageRun;

#define ZERO_RUNS 16

static void *
alloc_pages (size_t size, size_t alignment, int flags)
{
	if (size == 0 || (flags & ~MWPM_ZEROED) || (alignment & (alignment - 1)) || alignment == 0) {
		_mwpm_enter ();
		_mwpm.stats.alloc_failures++;
		_mwpm_leave ();
		errno = EINVAL;
		return NULL;
	}
	uint64_t n64 = ((uint64_t)size >> MWPM_PAGE_SHIFT) + ((size & (MWPM_PAGE_SIZE - 1)) != 0);
	uint64_t align64 = alignment > MWPM_PAGE_SIZE ? alignment >> MWPM_PAGE_SHIFT : 1;
	PageRun zero[ZERO_RUNS];
	unsigned nzero = 0;
	uint32_t p = MWPM_INDEX_NONE;

	_mwpm_enter ();
	uint64_t visits0 = _mwpm.index.visits;
	if (n64 > MWPM_TABLE_PAGES || align64 > MWPM_TABLE_PAGES)
		goto out;
	uint32_t n = (uint32_t)n64, align = (uint32_t)align64;
	p = find_fit (n, align);
	if (p == MWPM_INDEX_NONE && _mwpm.grow_hook) {
		/* Let the runtime free memory (a collection) before the linear memory grows. */
		MwpmGrowHook hook = _mwpm.grow_hook;
		void *ctx = _mwpm.grow_hook_ctx;
		_mwpm_leave ();
		/* n64 pages may be 4 GiB, which a 32-bit size_t cannot hold. */
		hook (n64 > (SIZE_MAX >> MWPM_PAGE_SHIFT) ? SIZE_MAX : (size_t)n64 << MWPM_PAGE_SHIFT, ctx);
		_mwpm_enter ();
		/* Search again whatever the hook says: other threads may have freed or grown while
		 * the lock was released. */
		p = find_fit (n, align);
	}
	if (p == MWPM_INDEX_NONE && grow (n, align) == 0)
		p = find_fit (n, align);
	if (p == MWPM_INDEX_NONE)
		goto out;
	/* The range, and mwpm's zeroing of it below, are bulk-safe in this thread (the memory may
	 * have been grown by another one). */
	mwpm_platform_bulk_ready ((uint64_t)(p + n) << MWPM_PAGE_SHIFT);

	/* The dirty pages of the range are zeroed after the lock is released, as up to ZERO_RUNS
	 * runs; a range more fragmented than that has its further dirty pages zeroed here. Either
	 * way exactly the dirty pages are memset, and counted. */
	if (flags & MWPM_ZEROED) {
		for (uint32_t q = p; q < p + n; q++) {
			if (_mwpm_state[q] != MWPM_PAGE_FREE_DIRTY)
				continue;
			_mwpm.stats.bytes_zeroed += MWPM_PAGE_SIZE;
			if (nzero && zero[nzero - 1].first + zero[nzero - 1].count == q) {
				zero[nzero - 1].count++;
			} else if (nzero < ZERO_RUNS) {
				zero[nzero++] = (PageRun){ q, 1 };
			} else {
				UNPOISON (page_addr (q), MWPM_PAGE_SIZE);
				memset (page_addr (q), 0, MWPM_PAGE_SIZE);
			}
		}
	}
	set_pages (p, n, ST (MWPM_PAGE_FREE_ZEROED) | ST (MWPM_PAGE_FREE_DIRTY), MWPM_PAGE_IN_USE, true);
	_mwpm.stats.alloc_calls++;
	if (_mwpm.count[MWPM_PAGE_IN_USE] > _mwpm.stats.pages_in_use_peak)
		_mwpm.stats.pages_in_use_peak = _mwpm.count[MWPM_PAGE_IN_USE];
out:
	if (p == MWPM_INDEX_NONE)
		_mwpm.stats.alloc_failures++;
	_mwpm.last_op_visits = _mwpm.index.visits - visits0;
	_mwpm_leave ();

	if (p == MWPM_INDEX_NONE) {
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned i = 0; i < nzero; i++)
		memset (page_addr (zero[i].first), 0, (size_t)zero[i].count << MWPM_PAGE_SHIFT);
	return page_addr (p);
}

void *
mwpm_alloc_range (size_t size, int flags)
{
	return alloc_pages (size, MWPM_PAGE_SIZE, flags);
}

void *
mwpm_alloc_aligned (size_t size, size_t alignment, int flags)
{
	return alloc_pages (size, alignment, flags);
}

/* ---- Freeing ---- */

/* The pages [*first, *last) of the 32-bit memory that [addr, addr + size) touches, clipped to
 * it; false when it touches none. A range that starts below the memory's base (only possible
 * on the host, where the base is not 0) still reaches the pages above it. No sum can wrap. */
static bool
pages_touched (uintptr_t addr, size_t size, uint64_t *first, uint64_t *last)
{
	uintptr_t base = _mwpm.platform.base;
	uint64_t lo, hi;
	if (addr < base) {
		if (size <= base - addr)
			return false;
		lo = 0;
		hi = size - (base - addr);
	} else {
		if ((uint64_t)(addr - base) >= MWPM_SPACE_BYTES)
			return false;
		lo = addr - base;
		hi = size > MWPM_SPACE_BYTES - lo ? MWPM_SPACE_BYTES : lo + size;
	}
	if (hi > MWPM_SPACE_BYTES)
		hi = MWPM_SPACE_BYTES;
	*first = lo >> MWPM_PAGE_SHIFT;
	*last = round_up (hi, MWPM_PAGE_SIZE) >> MWPM_PAGE_SHIFT;
	return true;
}

int
mwpm_free_range (void *base, size_t size)
{
	_mwpm_enter ();
	uintptr_t addr = (uintptr_t)base;
	if (size == 0 || (addr & (MWPM_PAGE_SIZE - 1))) {
		_mwpm.stats.free_rejected++;
		_mwpm_leave ();
		errno = EINVAL;
		return -1;
	}
	uint64_t visits0 = _mwpm.index.visits;
	uint64_t touched = ((uint64_t)size >> MWPM_PAGE_SHIFT) + ((size & (MWPM_PAGE_SIZE - 1)) != 0);
	uint64_t changed = 0, first, last;
	if (pages_touched (addr, size, &first, &last)) {
		/* Only the span can hold pages in use. */
		uint64_t lo = first > _mwpm.span_first ? first : _mwpm.span_first;
		uint64_t hi = last < _mwpm.span_end ? last : _mwpm.span_end;
		if (lo < hi)
			changed = set_pages ((uint32_t)lo, (uint32_t)(hi - lo), ST (MWPM_PAGE_IN_USE), MWPM_PAGE_FREE_DIRTY, false);
	}
	_mwpm.stats.free_calls++;
	_mwpm.stats.free_pages_ignored += touched - changed;
	if (!changed)
		_mwpm.stats.free_noop_calls++;
	_mwpm.last_op_visits = _mwpm.index.visits - visits0;
	_mwpm_leave ();
	return 0;
}

int
mwpm_owns (const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	_mwpm_enter ();
	int owned = 0;
	uint64_t off;
	if (offset_of (a, &off)) {
		unsigned s = _mwpm_state[off >> MWPM_PAGE_SHIFT];
		owned = state_is_free (s) || s == MWPM_PAGE_IN_USE;
	}
	_mwpm_leave ();
	return owned;
}

void
mwpm_set_grow_hook (MwpmGrowHook hook, void *ctx)
{
	_mwpm_enter ();
	_mwpm.grow_hook = hook;
	_mwpm.grow_hook_ctx = ctx;
	_mwpm_leave ();
}

uint64_t
mwpm_last_op_index_visits (void)
{
	_mwpm_enter ();
	uint64_t v = _mwpm.last_op_visits;
	_mwpm_leave ();
	return v;
}

void
mwpm_reset_for_tests (void)
{
	_mwpm_enter ();
	if (_mwpm.span_end > _mwpm.span_first)
		UNPOISON (page_addr (_mwpm.span_first), (size_t)(_mwpm.span_end - _mwpm.span_first) << MWPM_PAGE_SHIFT);
	memset (_mwpm_state, 0, sizeof _mwpm_state);
	memset (index_bits, 0, sizeof index_bits);
	memset (index_sums, 0, sizeof index_sums);
	MwpmLock lock = _mwpm.lock;
	memset (&_mwpm, 0, sizeof _mwpm);
	_mwpm.lock = lock;
	init_locked ();
	_mwpm_leave ();
}

size_t
mwpm_table_pages (void)
{
	return MWPM_TABLE_PAGES;
}

size_t
mwpm_page_of (const void *addr)
{
	_mwpm_enter ();
	uintptr_t base = _mwpm.platform.base;
	_mwpm_leave ();
	return (size_t)(((uintptr_t)addr - base) >> MWPM_PAGE_SHIFT);
}
