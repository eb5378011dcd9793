"""The 'peers' suite of ./tools/test: third-party programs over the drop-in mmap (docs/testing.md,
"Peers"; docs/drop-in.md, "Tested with").

Two Debian source packages, pinned, fetched once with apt-get through private apt folders under
build/peers/apt (a deb-src entry for Debian's archive; the system's apt configuration is not
touched) and cached under build/peers/src:
  - libgc 1:8.2.2-3 (Boehm GC, bdwgc): its heap comes from anonymous mmap on emscripten. Its own
    test programs, built single-threaded with -sASYNCIFY (its stack scanning needs it).
  - mimalloc 2.0.9+ds-2: test/test-stress.c in its USE_STD_MALLOC mode, over a dlmalloc of its
    own that takes all its memory from mmap (tests/peers/peer-dlmalloc-config.h), 4 threads,
    scale 200, 20 iterations, pthreads.
Small patches of ours (tests/peers/*.patch) are applied at build time, as packagers do: a
success line where a bdwgc test prints none, and test-stress checking pthread_create and
counting the blocks it checked. Every program is linked three ways: with libc's mmap, with the
mmap drop-in (libmwpm-mmap.a of the wasm / wasm-threads build), and with the pool drop-in
(libmwpm-pool.a: malloc and mmap from one pool, -sMALLOC=none), where the stress runs in its
plain malloc mode so that its blocks come from the pool; on emscripten 6.0.5 the stress is also
linked through the emscripten port (--use-port=ports/mwpm.py, and :variant=pool in plain malloc
mode); each with a --wrap counter of mmap and munmap (tests/peers/peer-count.c).

A case passes when the program did its work: a bdwgc test printed its success line and made at
least one mmap call; the stress printed that it checked its blocks and made at least 1,000 mmap
calls. Over either drop-in, anything else (a crash, corruption, a failed munmap) fails the
suite, except the pthreads memset hazard in dlmalloc's own code (docs/testing.md), which is
recorded. Over libc's mmap a failure is a recorded result.
"""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import tarfile
import time

from build import TOP, build, build_dir
import php
from peer_build import (DOWNLOADS, DROPIN, EMENV, HAS_PORTS, NODE, PEERS_SRC, POOL, ROOT, TOOLCHAIN, WASM64, COUNT_LINK,
                        PeerError, digest, dropin_config, emcc, em_root, fetch_sources,
                        mmap_link, parallel)
from tally import Tally



class Package:
    def __init__(self, name, version, orig, folder, patch):
        self.name, self.version, self.orig, self.folder, self.patch = name, version, orig, folder, patch

    def src(self):
        return os.path.join(ROOT, 'src', self.folder)


BDWGC = Package('libgc', '1:8.2.2-3', 'libgc_8.2.2.orig.tar.gz', 'gc-8.2.2', 'bdwgc-8.2.2-success-lines.patch')
MIMALLOC = Package('mimalloc', '2.0.9+ds-2', 'mimalloc_2.0.9+ds.orig.tar.xz', 'mimalloc-2.0.9+ds',
                   'mimalloc-2.0.9-test-stress.patch')

# bdwgc's test programs (tests/tests.am) and the lines that say each one did its work.
BDWGC_TESTS = [
    ('gctest', 'test.c', [r'Collector appears to work']),
    ('huge', 'huge_test.c', [r'huge_test: passed']),
    ('leak', 'leak_test.c', [r'Found \d+ leaked objects', r'leak_test: passed']),
    ('middle', 'middle.c', [r'Final heap size is \d+']),
    ('realloc', 'realloc_test.c', [r'realloc_test: passed']),
    ('smash', 'smash_test.c', [r'smash_test: passed']),
    ('disclaim', 'disclaim_test.c', [r'disclaim_test: passed']),
    ('disclaim_bench', 'disclaim_bench.c', [r'no finalization:']),
    ('weakmap', 'disclaim_weakmap_test.c', [r'\d+ added, \d+ found; \d+ removed']),
]
# bdwgc's configure defaults for this version (ENABLE_DISCLAIM, ALL_INTERIOR_POINTERS, ...).
BDWGC_CFLAGS = ['-O2', '-w', '-DALL_INTERIOR_POINTERS', '-DENABLE_DISCLAIM', '-DGC_ATOMIC_UNCOLLECTABLE',
                '-DNO_EXECUTE_PERMISSION']
BDWGC_LINK = ['-sASYNCIFY', '-sASYNCIFY_STACK_SIZE=128000', '-sALLOW_MEMORY_GROWTH=1']
STRESS_ARGS = ['4', '200', '20']   # threads, scale, iterations
STRESS_LINK = ['-pthread', '-sPTHREAD_POOL_SIZE=5', '-sINITIAL_MEMORY=32MB', '-sALLOW_MEMORY_GROWTH=1',
               '-sMAXIMUM_MEMORY=2GB', '-Wno-pthreads-mem-growth', '-sEXIT_RUNTIME=1', '--profiling-funcs']
MMAPS = ['libc', 'dropin', 'pool']
# The stress's links: over an mmap-only dlmalloc of its own (libc, dropin), and in its plain
# malloc mode (PLAIN_MALLOC) over the pool, and over emscripten's own malloc and mmap
# (libc-malloc, the one-pool baseline the bench compares the pool with).
STRESS_LINKS = ['libc', 'dropin', 'pool', 'libc-malloc'] + (['port', 'port-pool'] if HAS_PORTS else [])
PLAIN_MALLOC = ('pool', 'libc-malloc', 'port-pool')
TIMEOUT = 300


# ---- sources ----

def fetch():
    """The pinned source packages under build/peers/downloads, downloaded once."""
    fetch_sources([f'{p.name}={p.version}' for p in (BDWGC, MIMALLOC)], [p.orig for p in (BDWGC, MIMALLOC)],
                  f'{BDWGC.name} {BDWGC.version} and {MIMALLOC.name} {MIMALLOC.version}')


def unpack(pkg):
    """The package's upstream sources with our patch applied, again when the patch changed."""
    tarball = os.path.join(DOWNLOADS, pkg.orig)
    patch = os.path.join(PEERS_SRC, pkg.patch)
    stamp = os.path.join(pkg.src(), '.peers-stamp')
    want = digest(tarball, patch)
    if os.path.exists(stamp) and open(stamp).read() == want:
        return
    shutil.rmtree(pkg.src(), ignore_errors=True)
    os.makedirs(os.path.join(ROOT, 'src'), exist_ok=True)
    with tarfile.open(tarball) as t:
        t.extractall(os.path.join(ROOT, 'src'))
    r = subprocess.run(['patch', '-p1', '-i', patch], cwd=pkg.src(), capture_output=True, text=True)
    if r.returncode != 0:
        raise PeerError(f'{pkg.patch} does not apply to {pkg.folder}: {r.stdout[-500:]}{r.stderr[-500:]}')
    with open(stamp, 'w') as f:
        f.write(want)


# ---- builds ----

def build_objects():
    """The objects every program shares: bdwgc (one file, extra/gc.c), the counter, dlmalloc."""
    obj = os.path.join(ROOT, 'obj')
    os.makedirs(obj, exist_ok=True)
    g = BDWGC.src()
    count = os.path.join(PEERS_SRC, 'peer-count.c')
    cfg = os.path.join(PEERS_SRC, 'peer-dlmalloc-config.h')
    stress = os.path.join(MIMALLOC.src(), 'test', 'test-stress.c')
    # bdwgc does not build for wasm64 (8.2.2 has no wasm64 configuration): only the stress there.
    jobs = [] if WASM64 else [
        (os.path.join(obj, 'gc.o'), [os.path.join(g, 'extra', 'gc.c')], BDWGC_CFLAGS + ['-I' + g + '/include', '-c'], []),
        (os.path.join(obj, 'count-st.o'), [count], ['-O2', '-c'], []),
    ]
    jobs += [
        (os.path.join(obj, 'count-mt.o'), [count], ['-O2', '-pthread', '-c'], []),
        (os.path.join(obj, 'dlmalloc-mt.o'), [os.path.join(em_root(), 'system', 'lib', 'dlmalloc.c')],
         ['-O2', '-pthread', '-w', '-U__EMSCRIPTEN__', '-include', cfg, '-c'], [cfg]),
        (os.path.join(obj, 'test-stress-mt.o'), [stress], ['-O2', '-pthread', '-w', '-DUSE_STD_MALLOC', '-c'], []),
        (os.path.join(obj, 'test-stress-plain-mt.o'), [stress],
         ['-O2', '-pthread', '-w', '-DUSE_STD_MALLOC', '-DPEER_PLAIN_MALLOC', '-c'], []),
    ]
    parallel([lambda j=j: emcc(j[0], j[1], j[2], j[3]) for j in jobs])


class Case:
    def __init__(self, program, mmap, js, args, success, min_mmaps, threads):
        self.program, self.mmap, self.js, self.args = program, mmap, js, args
        self.success, self.min_mmaps, self.threads = success, min_mmaps, threads

    def name(self):
        return f'{self.program} ({self.mmap})'


def link_cases():
    """Links every program with each mmap; returns the cases in running order."""
    obj = os.path.join(ROOT, 'obj')
    out = os.path.join(ROOT, 'bin')
    os.makedirs(out, exist_ok=True)
    cases, jobs = [], []
    # On wasm64 only the stress (./tools/bench --wasm64; build_objects).
    for mmap in ([] if WASM64 else MMAPS):
        extra, deps = mmap_link(mmap, False)
        for name, src, success in BDWGC_TESTS:
            js = os.path.join(out, f'bdwgc-{name}-{mmap}.js')
            inputs = [os.path.join(BDWGC.src(), 'tests', src), os.path.join(obj, 'gc.o'), os.path.join(obj, 'count-st.o')]
            flags = ['-O2', '-w', '-I' + BDWGC.src() + '/include'] + extra + COUNT_LINK + BDWGC_LINK
            jobs.append(lambda js=js, inputs=inputs, flags=flags, deps=deps: emcc(js, inputs, flags, deps))
            cases.append(Case(f'bdwgc {name}', mmap, js, [], success, 1, False))
    for mmap in STRESS_LINKS:
        extra, deps = mmap_link('libc' if mmap == 'libc-malloc' else mmap, True)
        js = os.path.join(out, f'mimalloc-stress-{mmap}.js')
        plain = mmap in PLAIN_MALLOC
        objs = ('test-stress-plain-mt.o',) if plain else ('test-stress-mt.o', 'dlmalloc-mt.o')
        inputs = [os.path.join(obj, n) for n in objs + ('count-mt.o',)]
        flags = ['-O2', '-pthread'] + extra + COUNT_LINK + STRESS_LINK
        jobs.append(lambda js=js, inputs=inputs, flags=flags, deps=deps: emcc(js, inputs, flags, deps))
        # Over an mmap-only dlmalloc every block's memory comes through mmap: a thousand calls
        # show the work was done. In plain malloc mode no block does.
        cases.append(Case('mimalloc test-stress', mmap, js, STRESS_ARGS, [r'test-stress: [1-9]\d* blocks checked'],
                          0 if plain else 1000, True))
    trap = os.path.join(out, 'peer-trap.js')
    jobs.append(lambda: emcc(trap, [os.path.join(PEERS_SRC, 'peer-trap.c')], ['-O2', '-pthread'] + STRESS_LINK))
    parallel(jobs)
    return cases


def prepare():
    """Sources, the drop-in libraries, objects and programs: the cases to run."""
    fetch()
    unpack(BDWGC)
    unpack(MIMALLOC)
    build(dropin_config(False), [DROPIN, POOL])
    build(dropin_config(True), [DROPIN, POOL])
    build_objects()
    return link_cases()


# ---- runs ----

COUNTS = re.compile(r'^PEER-COUNTS (\{.*\})$', re.M)
OOB = 'memory access out of bounds'
# The trap's first frames: a bulk memory operation called from dlmalloc (the pthreads hazard).
# (node 20 names a frame "memset", node 24 with emscripten 6 "prog.wasm.__memset".)
HAZARD = re.compile(r'RuntimeError: memory access out of bounds\s+at (?:\S+\.)?(?:__)?(?:memset|memcpy|memmove)\b[^\n]*\n'
                    r'\s+at (?:\S+\.)?dl\w+')


def run_case(case):
    """Runs one program; returns its result record."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(NODE + [case.js] + case.args, capture_output=True, text=True, timeout=TIMEOUT,
                           cwd=os.path.dirname(case.js))
        out, rc = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:   # its stdout is bytes even with text=True
        out = e.stdout.decode(errors='replace') if isinstance(e.stdout, bytes) else (e.stdout or '')
        rc = 'timeout'
    secs = time.monotonic() - t0
    m = COUNTS.search(out)
    counts = json.loads(m.group(1)) if m else {}
    missing = [s for s in case.success if not re.search(s, out)]
    problems = []
    if rc != 0:
        problems.append(f'exit {rc}')
    if missing:
        problems.append('no line ' + ', '.join(repr(s) for s in missing))
    if counts.get('mmap', 0) < case.min_mmaps:
        problems.append(f'{counts.get("mmap", 0)} mmap calls (at least {case.min_mmaps} expected)')
    if counts.get('munmap_failed', 0):
        problems.append(f'{counts["munmap_failed"]} failed munmap calls')
    if 'corruption' in out:
        problems.append('memory corruption reported')
    hazard = bool(problems) and case.threads and HAZARD.search(out) is not None
    return {'program': case.program, 'mmap': case.mmap, 'ok': not problems, 'problems': problems,
            'hazard': hazard, 'oob': OOB in out, 'seconds': secs, 'counts': counts, 'tail': out[-1500:] if problems else ''}


def describe(r):
    c = r['counts']
    mib = lambda k: f'{c[k] / 2**20:.1f} MiB' if c.get(k, -1) >= 0 else '?'
    return (f'{r["seconds"]:.1f} s, mmap {c.get("mmap", "?")} ({c.get("mmap_failed", "?")} failed), '
            f'munmap {c.get("munmap", "?")} ({c.get("munmap_failed", "?")} failed), memory {mib("memory")}, '
            f'resident {mib("resident")}')


def judge(r, t):
    """Counts one result: over a drop-in a failure fails (the memset hazard in dlmalloc is
    recorded); over libc's mmap (and emscripten's malloc) every outcome is recorded."""
    name = f'{r["program"]} ({r["mmap"]})'
    if r['ok']:
        print(f'ok   {name}: {describe(r)}', flush=True)
        t.ok()
    elif r['mmap'].startswith('libc') or r['hazard']:
        why = 'the pthreads memset hazard in dlmalloc' if r['hazard'] else 'recorded, libc\'s mmap'
        print(f'ok   {name}: {why}: {"; ".join(r["problems"])}: {describe(r)}', flush=True)
        t.ok()
    else:
        print(f'FAIL {name}: {"; ".join(r["problems"])}: {describe(r)}\n{r["tail"]}', flush=True)
        t.fail(f'peers: {name}: {"; ".join(r["problems"])}')


def run(args):
    """The suite: PHP is fetched and compiled in the background (its configure and make take
    minutes) while Boehm GC's and mimalloc's programs are linked and run; then PHP's part
    (tools/lib/php.py, suite)."""
    t = Tally()
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as background:
        php_ready = background.submit(php.prepare)
        print('[peers] sources, drop-in builds and links (PHP compiles meanwhile)', flush=True)
        try:
            cases = prepare()
        except (PeerError, SystemExit) as e:
            print(f'[peers] {e}', flush=True)
            t.fail(f'peers: {e}')
            cases = []
        if cases:
            print(f'[peers] {len(cases)} programs linked ({time.monotonic() - start:.0f} s)', flush=True)
            run_cases(cases, t)
            check_the_checks(cases, t)
        php.suite(php_ready, t)
    return t


def run_cases(cases, t):
    results = []
    for case in cases:
        r = run_case(case)
        results.append(r)
        judge(r, t)
    with open(os.path.join(ROOT, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)


def check_the_checks(cases, t):
    """The judgements can go both ways: the stress over the drop-in at scale 1 for one iteration
    makes far fewer than 1,000 mmap calls and must be judged as not having done its work; a
    thread's memset trapping inside a dl* function (tests/peers/peer-trap.c) must be classified
    as the hazard, and the same trap from another function must not."""
    stress = next(c for c in cases if c.threads and c.mmap == 'dropin')
    trap = os.path.join(ROOT, 'bin', 'peer-trap.js')
    checks = [
        ('the criteria reject a stress run that did too little',
         Case(stress.program, 'dropin', stress.js, ['4', '1', '1'], stress.success, stress.min_mmaps, True),
         lambda r: not r['ok']),
        ("a memset trap inside dlmalloc's code is classified as the threads hazard",
         Case('peer-trap', 'dropin', trap, ['dl'], [], 0, True), lambda r: not r['ok'] and r['hazard']),
        ("a memset trap in the program's own code is not",
         Case('peer-trap', 'dropin', trap, ['other'], [], 0, True), lambda r: not r['ok'] and r['oob'] and not r['hazard']),
    ]
    for name, case, good in checks:
        r = run_case(case)
        if good(r):
            print(f'ok   {name}: {"; ".join(r["problems"])}', flush=True)
            t.ok()
        else:
            print(f'FAIL {name}: ok={r["ok"]}, hazard={r["hazard"]}: {describe(r)}\n{r["tail"]}', flush=True)
            t.fail(f'peers: {name}')


def repeat_stress(n):
    """The stress's links n times, alternated: how often each one's runs pass, trap with the
    pthreads memset hazard, or fail otherwise (docs/testing.md, "Peers")."""
    cases = {c.mmap: c for c in prepare() if c.threads}
    outcomes = {m: {'ok': 0, 'hazard': 0, 'other out-of-bounds trap': 0, 'failed': 0} for m in STRESS_LINKS}
    for i in range(n):
        for m in STRESS_LINKS:
            r = run_case(cases[m])
            kind = 'ok' if r['ok'] else 'hazard' if r['hazard'] else 'other out-of-bounds trap' if r['oob'] else 'failed'
            outcomes[m][kind] += 1
            if kind != 'ok':
                print(f'run {i + 1} ({m}): {kind}: {"; ".join(r["problems"])}\n{r["tail"][-800:]}', flush=True)
        print(f'{i + 1}/{n}: ' + ', '.join(f'{m} {outcomes[m]}' for m in STRESS_LINKS), flush=True)
    return outcomes


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser(description='mimalloc test-stress over both mmaps, repeated (the threads hazard)')
    ap.add_argument('--repeat', type=int, default=40, help='runs per mmap (default 40)')
    print(json.dumps(repeat_stress(ap.parse_args().repeat)))
