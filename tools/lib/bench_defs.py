"""What ./tools/bench compares: the variants (where the GC takes its memory from), the builds
that run them, the workloads and their metrics. Shared by bench.py (measures) and bench_docs.py
(reports)."""
from dataclasses import dataclass


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


def config(threading, variant):
    """The build configuration (configs.py) of a variant."""
    return 'wasm' + ('-pool' if variant.pool else '') + ('-threads' if threading == 'mt' else '') + '-release'


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
LINEAR_FINAL = ('linear_memory_final', 'linear memory, final', 'B')
GC_PEAK = ('os_bytes_peak', 'GC memory requested, peak', 'B')

WORKLOADS = [
    Workload('startup', 'tests/sgen-stress.js', ['--workloads=startup', '--json'],
             [TIME, ZEROED, ZEROED_SHARE, LINEAR_FINAL, GC_PEAK, ('process_wall_ms', 'process wall time', 'ms')],
             "a runtime's start: GC init, 32 MiB allocated (a sixth survives the nursery), about 7 MiB "
             "live at the end, six large 'assemblies'"),
    Workload('startup-heavy', 'tests/sgen-stress.js', ['--workloads=startup-heavy', '--json'],
             [TIME, ZEROED, LINEAR_FINAL, GC_PEAK],
             'the worst case for first touch: 64 MiB of 1-8 KB objects, all kept alive'),
    Workload('steady', 'tests/sgen-stress.js', ['--workloads=gcbench', '--scale=2', '--json'],
             [TIME, ('collections_minor', 'minor GCs', ''), ('collections_major', 'major GCs', ''), ZEROED],
             'GCBench (binary trees) at a fixed scale', quick_args=['--workloads=gcbench', '--scale=1', '--json']),
    Workload('fill-drop-refill', 'tests/sgen-stress.js', ['--workloads=fdr,fdr-reverse', '--scale=2', '--json'],
             [('linear_memory_peak', 'linear memory, peak', 'B'), LINEAR_FINAL,
              ('os_bytes_freed', 'GC memory given back', 'B'), TIME],
             'grow the heap with small objects, drop, collect, refill with large objects (and back)',
             quick_args=['--workloads=fdr,fdr-reverse', '--scale=1', '--json']),
    Workload('whole-run', 'tests/sgen-stress.js', ['--workloads=all', '--scale=2', '--json'],
             [('linear_over_gc_peak', 'final linear memory / peak GC memory', ''), LINEAR_FINAL, GC_PEAK,
              ('in_use_over_controlled', 'mwpm pages in use / held', ''),
              ('largest_free_run', 'mwpm largest free run', 'pages'), TIME],
             'every sgen-stress workload but the startups, then a final full collection',
             quick_args=['--workloads=all', '--scale=1', '--json']),
    Workload('pagelayer', 'tests/bench/bench-pagelayer.js', [],
             [('elapsed_ms', 'time', 'ms'), ('bytes_zeroed', 'bytes zeroed', 'B')],
             "the page layer alone, mapping what sgen maps at a start: card table, nursery, 256 major blocks"),
]
BROWSER_WORKLOADS = ['startup', 'steady']


def workload(name):
    return next(w for w in WORKLOADS if w.name == name)


def fmt(v, unit):
    if v is None:
        return '-'
    if unit == 'B':
        return f'{v / 2**20:.1f} MiB'
    if unit == 'ms':
        return f'{v:.1f} ms'
    if isinstance(v, float):
        return f'{v:.3f}'
    return str(v)
