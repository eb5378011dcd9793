"""The project's build configurations and test suites: the one place that lists them.

A configuration is a meson build folder build/<name> made with a cross file (or none) and
options. A suite is what ./tools/test --suite NAME runs: meson tests of some configurations,
or a runner of its own (the browser, the pool scenario).
"""
from dataclasses import dataclass, field

import toolchains


@dataclass(frozen=True)
class Config:
    name: str
    cross: str | None = None          # file in cross/, without .txt
    options: tuple = ()               # meson -D options
    env: dict = field(default_factory=dict, hash=False, compare=False)  # CC for native builds
    about: str = ''
    toolchain: str | None = None      # emscripten configurations: toolchains.py's name


def _emscripten(toolchain):
    """The emscripten configurations of a toolchain: the 3.1.6 ones keep their plain names
    (wasm, wasm-threads, ...), the others carry the toolchain's major version (wasm-6, ...)."""
    tc = toolchains.get(toolchain)
    suffix = toolchains.suffix(tc.name)
    em = f'emscripten {tc.name}'
    rows = [
        ('wasm', (), f'{em}, single-threaded'),
        ('wasm-threads', ('-Dthreads=true',), f'{em} with pthreads'),
        ('wasm-nommap', ('-Dwasm_mmap=disabled',), f'{em}, built without mwpm'),
        ('wasm-16k', ('-Dpage_size=16384',), f'{em}, 16 KiB mwpm pages'),
        ('wasm-pool', ('-Dshared_pool=true',), f'{em}, malloc and mwpm share one page pool (docs/pool.md)'),
        ('wasm-pool-threads', ('-Dshared_pool=true', '-Dthreads=true'), f'{em} with pthreads, one page pool (the pool lock, docs/pool.md)'),
        # Release builds for ./tools/bench and ./tools/demo (no test suite runs them).
        ('wasm-release', ('--buildtype=release',), f'{em}, release (benchmarks)'),
        ('wasm-pool-release', ('--buildtype=release', '-Dshared_pool=true'), f'{em}, one page pool, release (benchmarks)'),
        ('wasm-threads-release', ('--buildtype=release', '-Dthreads=true'), f'{em} with pthreads, release (benchmarks)'),
        ('wasm-pool-threads-release', ('--buildtype=release', '-Dshared_pool=true', '-Dthreads=true'),
         f'{em} with pthreads, one page pool, release (benchmarks)'),
        ('wasm-prof', ('--buildtype=release', '-Dc_link_args=--profiling-funcs'), f'{em}, release, wasm function names kept (tools/profile)'),
    ]
    out = [Config(name + suffix, tc.cross, opts, {}, about, tc.name) for name, opts, about in rows]
    if tc.wasm64_cross:
        em64 = f'{em}, wasm64 (a 64-bit linear memory, docs/wasm64.md)'
        rows64 = [
            ('wasm64', (), f'{em64}, single-threaded'),
            ('wasm64-threads', ('-Dthreads=true',), f'{em64} with pthreads'),
            ('wasm64-pool', ('-Dshared_pool=true',), f'{em64}, malloc and mwpm share one page pool'),
            ('wasm64-pool-threads', ('-Dshared_pool=true', '-Dthreads=true'), f'{em64} with pthreads, one page pool'),
            ('wasm64-release', ('--buildtype=release',), f'{em64}, release (./tools/bench --wasm64)'),
            ('wasm64-threads-release', ('--buildtype=release', '-Dthreads=true'), f'{em64} with pthreads, release (./tools/bench --wasm64)'),
        ]
        out += [Config(name + suffix, tc.wasm64_cross, opts, {}, about, tc.name) for name, opts, about in rows64]
    return out


CONFIGS = {c.name: c for c in [
    Config('native', None, ('-Db_sanitize=address,undefined',), {'CC': 'gcc'},
           'gcc with AddressSanitizer + UndefinedBehaviorSanitizer'),
    Config('native-4k', None, ('-Db_sanitize=address,undefined', '-Dpage_size=4096'), {'CC': 'clang'},
           'clang, ASan+UBSan, 4 KiB mwpm pages'),
    Config('native-tsan', None, ('-Db_sanitize=thread',), {'CC': 'clang'},
           'clang with ThreadSanitizer'),
    Config('native-plain', None, (), {'CC': 'gcc'},
           'gcc, no sanitizer (the first-touch page-fault counts need real faults)'),
    Config('fuzz', None, ('-Dfuzz=true', '-Db_sanitize=address,undefined', '-Db_lundef=false'), {'CC': 'clang'},
           'clang libFuzzer targets'),
    Config('native-release', None, ('--buildtype=release',), {'CC': 'gcc'}, 'gcc, release (benchmarks)'),
    Config('wasi', 'wasi', (), {}, 'clang 14 + wasi-libc, run by node:wasi, single-threaded'),
] + [c for tc in toolchains.TOOLCHAINS for c in _emscripten(tc)]}


def config(base, toolchain=None):
    """The name of an emscripten configuration (its 3.1.6 name) for a toolchain (default: the
    process's, toolchains.current())."""
    name = base + toolchains.suffix(toolchain or toolchains.current())
    if name not in CONFIGS:
        raise SystemExit(f'no configuration {name}')
    return name


# Suites run by ./tools/test, in this order. Each maps to configurations whose meson tests it
# runs; 'runner' names a script in tools/ for suites with their own driver; 'toolchain' is the
# emscripten its wasm configurations and runner use (the runner runs in a process of its own with
# MWPM_TOOLCHAIN set); 'all_only' suites run only under ./tools/test --all.
SUITES = {
    'native': {'configs': ['native', 'native-4k', 'native-tsan', 'native-plain', 'fuzz']},
    'wasm': {'configs': ['wasm', 'wasm-nommap', 'wasm-16k'], 'toolchain': '3.1.6'},
    'wasm-threads': {'configs': ['wasm-threads'], 'toolchain': '3.1.6'},
    # The shared-pool build's tests (the one-pool scenario among them), then the same scenario
    # on the plain wasm build, whose ENOMEM is reported as the baseline (docs/pool.md).
    'pool': {'configs': ['wasm-pool', 'wasm-pool-threads'], 'runner': 'pool_baseline', 'toolchain': '3.1.6'},
    'wasi': {'configs': ['wasi']},
    # The same on emscripten 6.0.5 (docs/testing.md says what each toolchain runs).
    'wasm-6': {'configs': ['wasm-6', 'wasm-16k-6'], 'toolchain': '6.0.5'},
    'wasm-threads-6': {'configs': ['wasm-threads-6'], 'toolchain': '6.0.5'},
    'pool-6': {'configs': ['wasm-pool-6', 'wasm-pool-threads-6'], 'runner': 'pool_baseline', 'toolchain': '6.0.5'},
    # wasm64 (docs/wasm64.md): the single-threaded, pthreads and one-pool (both threadings) builds' tests.
    'wasm64-6': {'configs': ['wasm64-6', 'wasm64-threads-6', 'wasm64-pool-6', 'wasm64-pool-threads-6'], 'toolchain': '6.0.5'},
    # The emscripten port (ports/mwpm.py) as a user links it (port_suite.py).
    'port': {'configs': [], 'runner': 'port_suite', 'toolchain': '6.0.5'},
    # Third-party programs (Boehm GC's tests, mimalloc's stress, PHP) over libc's mmap and the
    # drop-ins (peers.py, docs/testing.md): on 6.0.5, what users build with; on 3.1.6 too
    # under --all.
    'peers': {'configs': [], 'runner': 'peers', 'toolchain': '6.0.5'},
    'peers-3.1.6': {'configs': [], 'runner': 'peers', 'toolchain': '3.1.6', 'all_only': True},
    # The wasm programs in headless Chromium (docs/browser.md). 'builds' are built, not tested
    # with meson (the wasm suites do that): the runner serves them to the browser. Each build on
    # its own toolchain (wasm64 needs 6.0.5); 'toolchains_label' says so in the summary.
    'browser': {'configs': [], 'builds': ['wasm', 'wasm-threads', 'wasm64-6', 'wasm64-threads-6'], 'runner': 'browser_suite',
                'toolchain': '3.1.6', 'toolchains_label': '3.1.6; wasm64 6.0.5'},
}
