"""What ./tools/bench compares: the variants (where the GC takes its memory from), the builds
that run them, the workloads and their metrics. Shared by bench.py (measures) and bench_docs.py
(reports)."""
import configs
import re
from dataclasses import dataclass

# node --trace-gc prints a line per V8 collection; full ones are mark-compacts ("Mark-Compact",
# also "Mark-Compact (reduce)"), the minor ones scavenges.
FULL_GC = re.compile(r'^\[\d+:0x[0-9a-f]+\]\s+[\d.]+ ms: Mark-Compact', re.M)


@dataclass(frozen=True)
class Variant:
    name: str
    pool: bool      # built with -Dshared_pool=true
    mmap: str       # the --mono-wasm-mmap value
    about: str


VARIANTS = [
    Variant('mwpm', False, 'on', 'mwpm, the page manager (`--mono-wasm-mmap=on`)'),
    Variant('pool', True, 'on', 'mwpm with malloc on the same page pool (`-Dshared_pool=true`)'),
    Variant('libc', False, 'off', "emscripten's mmap: memalign + memset (`--mono-wasm-mmap=off`)"),
    Variant('malloc', False, 'malloc', 'posix_memalign, memset unless fresh from sbrk, as dotnet ships '
            '(`--mono-wasm-mmap=malloc`)'),
]
OTHERS = [v.name for v in VARIANTS if v.name != 'mwpm']
THREADINGS = {'st': 'single-threaded', 'mt': 'pthreads'}
# The wasm target the variants are built for: wasm32, or wasm64 (./tools/bench --wasm64).
TARGET = 'wasm32'


def use_target(target):
    """Builds and runs the variants for `target` from now on (once per process). On wasm64 the
    one-pool variant is left out: it has no wasm64 release build (its debug builds,
    single-threaded and pthreads, are tested in the suite wasm64-6: docs/wasm64.md); VARIANTS and
    OTHERS change in place, so that every module that imported them sees it."""
    global TARGET
    TARGET = target
    if target == 'wasm64':
        VARIANTS[:] = [v for v in VARIANTS if not v.pool]
        OTHERS[:] = [v.name for v in VARIANTS if v.name != 'mwpm']


def config(threading, variant):
    """The build configuration (configs.py) of a variant, for the process's emscripten
    (toolchains.current: MWPM_TOOLCHAIN, ./tools/bench --toolchain) and TARGET."""
    base = 'wasm64' if TARGET == 'wasm64' else 'wasm'
    return configs.config(base + ('-pool' if variant.pool else '') + ('-threads' if threading == 'mt' else '') + '-release')


def section(result):
    """The name of a run's section of docs/benchmarks.md: its emscripten, and -wasm64 on wasm64."""
    tc = result.get('toolchain', '3.1.6')
    return tc + ('-wasm64' if result.get('target') == 'wasm64' else '')


class Workload:
    """A program run for every variant; metrics are read from the last JSON line it prints."""

    def __init__(self, name, program, args, metrics, about, quick_args=None):
        self.name, self.program, self.args = name, program, args
        self.metrics = metrics          # [(json key, label, unit)]
        self.about = about
        self.quick_args = quick_args if quick_args is not None else args


TIME = ('run_ms', 'time (init + workload)', 'ms')
ZEROED = ('bytes_zeroed_by_page_layer', 'bytes zeroed', 'B')
ZEROED_SHARE = ('zeroed_share', 'bytes zeroed / bytes mapped', '')
GC_PEAK = ('os_bytes_peak', 'GC memory requested, peak', 'B')
# What the process holds (docs/benchmarks.md, "Resident memory"): the linear memory's resident
# bytes at the end of the workloads and at the most (smaps), the process's peak RSS.
RESIDENT_END = ('resident_linear_end', 'linear memory resident, end', 'B')
RESIDENT_PEAK = ('resident_linear_peak', 'linear memory resident, peak', 'B')
PEAK_RSS = ('process_peak_rss', 'process peak RSS', 'B')
# What growth costs V8: memory.grow calls (growth.js), full collections of the JS heap (--trace-gc).
GROWS = ('memory_grow_calls', 'memory.grow calls', 'n')
V8_GCS = ('v8_full_gcs', 'V8 full collections', 'n')
# Address space: memory.size, which V8 reserves but the kernel backs only where written.
ADDRESS_FINAL = ('linear_memory_final', 'address space (memory.size), final', 'B')
ADDRESS_OVER_PEAK = ('linear_over_gc_peak', 'address space final / GC peak', '')
# Every sgen-stress workload reports these.
COMMON = [TIME, RESIDENT_END, RESIDENT_PEAK, PEAK_RSS, GROWS, V8_GCS, ADDRESS_FINAL, ADDRESS_OVER_PEAK, GC_PEAK]

WORKLOADS = [
    Workload('startup', 'tests/sgen-stress.js', ['--workloads=startup', '--json'],
             COMMON + [ZEROED, ZEROED_SHARE, ('process_wall_ms', 'process wall time', 'ms')],
             "a runtime's start: GC init, 32 MiB allocated (a sixth survives the nursery), about 7 MiB "
             "live at the end, six large 'assemblies'"),
    Workload('startup-heavy', 'tests/sgen-stress.js', ['--workloads=startup-heavy', '--json'],
             COMMON + [ZEROED],
             'the worst case for first touch: 64 MiB of 1-8 KB objects, all kept alive'),
    Workload('steady', 'tests/sgen-stress.js', ['--workloads=gcbench', '--scale=2', '--json'],
             COMMON + [('collections_minor', 'minor GCs', ''), ('collections_major', 'major GCs', ''), ZEROED],
             'GCBench (binary trees) at a fixed scale', quick_args=['--workloads=gcbench', '--scale=1', '--json']),
    Workload('fill-drop-refill', 'tests/sgen-stress.js', ['--workloads=fdr,fdr-reverse', '--scale=2', '--json'],
             COMMON + [('linear_memory_peak', 'address space (memory.size), peak', 'B'),
                       ('os_bytes_freed', 'GC memory given back', 'B')],
             'grow the heap with small objects, drop, collect, refill with large objects (and back)',
             quick_args=['--workloads=fdr,fdr-reverse', '--scale=1', '--json']),
    Workload('growth-heavy', 'tests/sgen-stress.js', ['--workloads=growth-heavy', '--json'],
             COMMON + [('collections_major', 'major GCs', ''), ZEROED],
             'the heap grown to about 290 MiB in major blocks and 64 KiB-2 MiB large objects, seven eighths '
             'dropped (scattered survivors keep most blocks partly live), refilled with large objects, twice'),
    Workload('whole-run', 'tests/sgen-stress.js', ['--workloads=all', '--scale=2', '--json'],
             COMMON + [('in_use_over_controlled', 'mwpm pages in use / held', ''),
                       ('largest_free_run', 'mwpm largest free run', 'pages')],
             'every sgen-stress workload but the startups and growth-heavy, then a final full collection',
             quick_args=['--workloads=all', '--scale=1', '--json']),
    Workload('pagelayer', 'tests/bench/bench-pagelayer.js', [],
             [('elapsed_ms', 'time', 'ms'), ('bytes_zeroed', 'bytes zeroed', 'B')],
             "the page layer alone, mapping what sgen maps at a start: card table, nursery, 256 major blocks"),
]
# Workloads whose time and resident-memory targets apply (docs/benchmarks.md, "Targets").
TARGET_WORKLOADS = ['startup', 'startup-heavy', 'steady', 'fill-drop-refill', 'growth-heavy', 'whole-run']
BROWSER_WORKLOADS = ['startup', 'steady']


# bench-firsttouch's ways of writing fresh memory first (tests/bench/bench-firsttouch.c): the JSON
# key and the column's heading.
FIRST_WRITES = [('first_byte_ms', 'one byte per page'), ('first_memset_ms', 'memset'),
                ('first_copy_ms', '64 KiB memcpy blocks, in order'), ('first_scatter_ms', 'the same, shuffled'),
                ('first_words_ms', '8-byte stores')]


def workload(name):
    return next(w for w in WORKLOADS if w.name == name)


def fmt(v, unit):
    if v is None:
        return '-'
    if unit == 'B':
        return f'{v / 2**20:.1f} MiB'
    if unit == 'ms':
        return f'{v:.1f} ms'
    if unit == 'n':
        return f'{v:g}'
    if isinstance(v, float):
        return f'{v:.3f}'
    return str(v)
