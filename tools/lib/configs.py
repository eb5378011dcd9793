"""The project's build configurations and test suites: the one place that lists them.

A configuration is a meson build folder build/<name> made with a cross file (or none) and
options. A suite is what ./tools/test --suite NAME runs: meson tests of some configurations,
or a runner of its own (the browser, the pool scenario).
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Config:
    name: str
    cross: str | None = None          # file in cross/, without .txt
    options: tuple = ()               # meson -D options
    env: dict = field(default_factory=dict, hash=False, compare=False)  # CC for native builds
    about: str = ''


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
    Config('wasm', 'emscripten', (), {}, 'emscripten 3.1.6, single-threaded'),
    Config('wasm-threads', 'emscripten', ('-Dthreads=true',), {}, 'emscripten 3.1.6 with pthreads'),
    Config('wasm-nommap', 'emscripten', ('-Dwasm_mmap=disabled',), {}, 'emscripten, built without mwpm'),
    Config('wasm-16k', 'emscripten', ('-Dpage_size=16384',), {}, 'emscripten, 16 KiB mwpm pages'),
    Config('wasm-pool', 'emscripten', ('-Dshared_pool=true',), {},
           'emscripten, malloc and mwpm share one page pool (docs/pool.md)'),
    Config('wasm-pool-threads', 'emscripten', ('-Dshared_pool=true', '-Dthreads=true'), {},
           'emscripten with pthreads, one page pool (the pool lock, docs/pool.md)'),
    # Release builds for ./tools/bench and ./tools/demo (no test suite runs them).
    Config('wasm-release', 'emscripten', ('--buildtype=release',), {}, 'emscripten, release (benchmarks)'),
    Config('wasm-pool-release', 'emscripten', ('--buildtype=release', '-Dshared_pool=true'), {},
           'emscripten, one page pool, release (benchmarks)'),
    Config('wasm-threads-release', 'emscripten', ('--buildtype=release', '-Dthreads=true'), {},
           'emscripten with pthreads, release (benchmarks)'),
    Config('wasm-pool-threads-release', 'emscripten', ('--buildtype=release', '-Dshared_pool=true', '-Dthreads=true'),
           {}, 'emscripten with pthreads, one page pool, release (benchmarks)'),
    Config('native-release', None, ('--buildtype=release',), {'CC': 'gcc'}, 'gcc, release (benchmarks)'),
    Config('wasm-prof', 'emscripten', ('--buildtype=release', '-Dc_link_args=--profiling-funcs'), {},
           'emscripten, release, wasm function names kept (tools/profile)'),
    Config('wasi', 'wasi', (), {}, 'clang 14 + wasi-libc, run by node:wasi, single-threaded'),
]}

# Suites run by ./tools/test, in this order. Each maps to configurations whose meson tests it
# runs; 'runner' names a script in tools/ for suites with their own driver.
SUITES = {
    'native': {'configs': ['native', 'native-4k', 'native-tsan', 'native-plain', 'fuzz']},
    'wasm': {'configs': ['wasm', 'wasm-nommap', 'wasm-16k']},
    'wasm-threads': {'configs': ['wasm-threads']},
    # The shared-pool build's tests (the one-pool scenario among them), then the same scenario
    # on the plain wasm build, whose ENOMEM is reported as the baseline (docs/pool.md).
    'pool': {'configs': ['wasm-pool', 'wasm-pool-threads'], 'runner': 'pool_baseline'},
    'wasi': {'configs': ['wasi']},
    # Third-party programs (Boehm GC's tests, mimalloc's stress) over libc's mmap and over the
    # drop-in (peers.py, docs/testing.md).
    'peers': {'configs': [], 'runner': 'peers'},
    # The wasm programs in headless Chromium (docs/browser.md). 'builds' are built, not tested
    # with meson (the wasm suites do that): the runner serves them to the browser.
    'browser': {'configs': [], 'builds': ['wasm', 'wasm-threads'], 'runner': 'browser_suite'},
}
