"""PHP 8.2 (Debian's source package php8.2) built with emscripten and linked over each mmap:
emscripten's own, the mmap drop-in (libmwpm-mmap.a) and the pool drop-in (libmwpm-pool.a: malloc
and mmap from one pool).

  fetch()        the pinned source package under build/peers/downloads, through the private apt
                 folders of the peers suite (pb.apt), downloaded once
  unpack()       the upstream tarball under build/peers/src with tests/peers/php-8.2-*.patch applied
  compile_php()  emconfigure + emmake make -j2 of the CLI's objects into build/peers/php-build,
                 gathered in one archive; stamped (tarball, patches, configure flags), so a second
                 run costs seconds
  link_php()     php-<variant>.js under build/peers/php-bin: variant 'libc' (emscripten's mmap),
                 'dropin' (libmwpm-mmap.a of build/wasm, whole archive) or any other name with the
                 caller's extra link flags and dependencies (e.g. a malloc + mmap pool drop-in)

Every link carries the mmap/munmap counter of the peers (tests/peers/peer-count.c with
-Wl,--wrap; peer-report.js prints a PEER-COUNTS line when node exits), tests/peers/php-node.js
(PHP closing its STDOUT at shutdown leaves node's open, so that line can still be printed; the
variables of PHP_ENV, a JSON object, in PHP's environment) and tests/peers/php-rounds.js
(RUN-COUNTS lines on request, see there); --profiling-funcs keeps the function names in the .wasm
for the stack traces of a crash. Run the result with
tools/wasm/node php-<variant>.js -n file.php.

  python3 tools/lib/php.py [--variants libc,dropin,pool]   # builds and links, prints the paths
  python3 tools/lib/php.py leak [--rounds 50]           # tests/peers/php-leak.php over each mmap
"""
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time

import peer_build as pb
from build import TOP, build, build_dir
from configs import config

PACKAGE = 'php8.2'
VERSION = '8.2.32-1~deb12u1'        # what bookworm main serves (bookworm-security has none)
ORIG = 'php8.2_8.2.32.orig.tar.xz'
FOLDER = 'php-8.2.32'
SRC = os.path.join(pb.ROOT, 'src', FOLDER)
OBJ = os.path.join(pb.ROOT, 'php-build')
BIN = os.path.join(pb.ROOT, 'php-bin')
DOWNLOADS = pb.DOWNLOADS
ARCHIVE = os.path.join(OBJ, 'libphp-cli.a')
LIBS = os.path.join(OBJ, 'php-libs.txt')
STAMP = os.path.join(OBJ, '.php-stamp')

# The CLI with only the extensions PHP cannot be built without (Core, date, hash, json, pcre,
# random, Reflection, SPL, standard); no fiber assembly (wasm has none; the ucontext backend it
# falls back to is refused by tests/peers/php-8.2-fibers.patch), no JIT. zend_mm stays the
# allocator (USE_ZEND_ALLOC is not touched).
CONFIGURE = ['--host=wasm32-unknown-emscripten', '--disable-all', '--enable-cli', '--disable-cgi',
             '--disable-phpdbg', '--disable-fpm', '--without-pear', '--without-iconv', '--without-libxml',
             '--without-sqlite3', '--without-pdo-sqlite', '--disable-opcache', '--without-pcre-jit',
             '--disable-fiber-asm', '--disable-gcc-global-regs']
CFLAGS = '-O2'
JOBS = 2
# Linked into every variant. ALLOW_MEMORY_GROWTH: zend_mm maps as it needs; NODERAWFS: the tests
# read and write files next to them on the host's file system; EXIT_RUNTIME: stdout flushed and
# php's exit status returned. MAXIMUM_MEMORY=2GB (emscripten's default limit, said explicitly):
# PHP_INT_SIZE is 4 here, and keeping every address below 2^31 keeps an address held in a
# zend_long positive. The stack is 5 MiB of linear memory (3.1.6's default; peer_build sets it on later versions): deep C
# recursion (var_dump, serialize, compiling deeply nested code) overflows node's own stack first
# (a RangeError), so a larger TOTAL_STACK would not help those tests.
PHP_PRE_JS = ['php-node.js', 'php-rounds.js']
PHP_LINK = ['-O2', '-sALLOW_MEMORY_GROWTH=1', '-sMAXIMUM_MEMORY=2GB', '-sNODERAWFS=1', '-sEXIT_RUNTIME=1',
            '--profiling-funcs'] + [a for js in PHP_PRE_JS for a in ('--pre-js', os.path.join(pb.PEERS_SRC, js))]
NODE = pb.NODE


def patches():
    return sorted(glob.glob(os.path.join(pb.PEERS_SRC, 'php-8.2-*.patch')))


def tarball():
    return os.path.join(DOWNLOADS, ORIG)


# ---- sources ----

def fetch():
    """php8.2 VERSION's source package under build/peers/downloads, fetched once."""
    pb.fetch_sources([f'{PACKAGE}={VERSION}'], [os.path.relpath(tarball(), DOWNLOADS)], f'{PACKAGE} {VERSION}')


def unpack():
    """The upstream sources under build/peers/src with our patches applied, again when the
    tarball or a patch changed."""
    stamp = os.path.join(SRC, '.php-stamp')
    want = pb.digest(tarball(), *patches())
    if os.path.exists(stamp) and open(stamp).read() == want:
        return
    shutil.rmtree(SRC, ignore_errors=True)
    os.makedirs(os.path.dirname(SRC), exist_ok=True)
    with tarfile.open(tarball()) as t:
        t.extractall(os.path.dirname(SRC))
    for p in patches():
        r = subprocess.run(['patch', '-p1', '-i', p], cwd=SRC, capture_output=True, text=True)
        if r.returncode != 0:
            raise pb.PeerError(f'{os.path.basename(p)} does not apply to {FOLDER}: {r.stdout[-500:]}{r.stderr[-500:]}')
    with open(stamp, 'w') as f:
        f.write(want)


# ---- the build ----

def build_key():
    h = hashlib.sha256()
    h.update(pb.digest(tarball(), *patches()).encode())
    h.update(json.dumps([CONFIGURE, CFLAGS]).encode())
    return h.hexdigest()[:16]


def run_logged(cmd, log, cwd):
    """Runs cmd in cwd with emscripten's environment, its output in log; PeerError with the log's
    tail when it fails."""
    with open(log, 'w') as f:
        r = subprocess.run(pb.tool(cmd), cwd=cwd, env=dict(pb.EMENV, CFLAGS=CFLAGS), stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tail = open(log, errors='replace').read()[-3000:]
        raise pb.PeerError(f'{" ".join(cmd[:3])} failed in {os.path.relpath(cwd, TOP)} '
                              f'(log: {os.path.relpath(log, TOP)}):\n{tail}')


# Appended to PHP's Makefile: a target for the CLI's objects without the link, and the lists the
# link needs.
EXTRA_MAKEFILE = '''
php-cli-objs: $(PHP_GLOBAL_OBJS) $(PHP_BINARY_OBJS) $(PHP_CLI_OBJS)
php-cli-list:
\t@echo OBJS $(PHP_GLOBAL_OBJS:.lo=.o) $(PHP_BINARY_OBJS:.lo=.o) $(PHP_CLI_OBJS:.lo=.o)
\t@echo LIBS $(EXTRA_LIBS) $(ZEND_EXTRA_LIBS)
'''


def compile_php():
    """PHP's CLI compiled once into build/peers/php-build/libphp-cli.a (+ php-libs.txt, the
    libraries of its link), unless the stamp says it is up to date."""
    key = build_key()
    if os.path.exists(STAMP) and open(STAMP).read() == key and os.path.exists(ARCHIVE):
        return
    shutil.rmtree(OBJ, ignore_errors=True)
    os.makedirs(OBJ)
    t0 = time.monotonic()
    run_logged(['emconfigure', os.path.join(SRC, 'configure')] + CONFIGURE, os.path.join(OBJ, 'configure.log'), OBJ)
    extra = os.path.join(OBJ, 'php-cli.mk')
    with open(extra, 'w') as f:
        f.write(EXTRA_MAKEFILE)
    make = ['emmake', 'make', '-f', 'Makefile', '-f', extra]
    run_logged(make + [f'-j{JOBS}', 'php-cli-objs'], os.path.join(OBJ, 'make.log'), OBJ)
    r = subprocess.run(pb.tool(make + ['-s', 'php-cli-list']), cwd=OBJ, env=pb.EMENV, capture_output=True, text=True)
    lists = dict(l.split(' ', 1) for l in r.stdout.splitlines() if l.startswith(('OBJS ', 'LIBS ')))
    objs = lists['OBJS'].split()
    run_logged(['emar', 'rcs', ARCHIVE] + objs, os.path.join(OBJ, 'emar.log'), OBJ)
    with open(LIBS, 'w') as f:
        f.write(lists.get('LIBS', '').strip() + '\n')
    with open(STAMP, 'w') as f:
        f.write(key)
    print(f'[php] {PACKAGE} {VERSION}: configured and compiled in {time.monotonic() - t0:.0f} s', flush=True)


def prepare():
    fetch()
    unpack()
    compile_php()


# ---- links ----

def count_object():
    """peer-count.c compiled single-threaded, as the peers' single-threaded programs have it."""
    os.makedirs(BIN, exist_ok=True)
    return pb.emcc(os.path.join(BIN, 'count-st.o'), [os.path.join(pb.PEERS_SRC, 'peer-count.c')], ['-O2', '-c'])


def drop_in_archives(tries=5):
    """libmwpm-mmap.a and libmwpm-pool.a of build/wasm, built if needed; tried again 20 s later
    when the build fails, in case another build of the same folder was running."""
    for i in range(tries):
        try:
            build(config('wasm', pb.TOOLCHAIN), [pb.DROPIN, pb.POOL])
            return
        except SystemExit:
            if i == tries - 1:
                raise
            time.sleep(20)


STORAGE_SRC = os.path.join(pb.PEERS_SRC, 'php-storage.c')


def storage_object():
    """tests/peers/php-storage.c (Playground's chunk storage, written here) compiled against
    this PHP build's headers."""
    os.makedirs(BIN, exist_ok=True)
    incs = [os.path.join(OBJ, 'main'), OBJ, os.path.join(OBJ, 'Zend'), os.path.join(OBJ, 'TSRM'),
            os.path.join(SRC, 'main'), SRC, os.path.join(SRC, 'Zend'), os.path.join(SRC, 'TSRM')]
    return pb.emcc(os.path.join(BIN, 'php-storage.o'), [STORAGE_SRC], ['-O2', '-c', '-w'] + ['-I' + i for i in incs],
                   [ARCHIVE])


def mmap_flags(variant, extra_flags, deps):
    """The link flags and dependencies that choose the mmap of a variant: libc, dropin, pool (the
    peers' mmap_link), storage (libc's mmap for the heap's first chunk, every other chunk from
    php-storage.c: posix_memalign + memset, as Playground ships), or any other name with only
    the caller's flags."""
    if variant in ('dropin', 'pool'):
        drop_in_archives()
    flags, libs = pb.mmap_link(variant, False) if variant in ('libc', 'dropin', 'pool') else ([], [])
    if variant == 'storage':
        flags, libs = [storage_object()], [STORAGE_SRC]
    return flags + list(extra_flags), libs + list(deps)


def link_php(variant, extra_flags=(), deps=()):
    """build/peers/php-bin/php-<variant>.js: the compiled PHP linked with the variant's mmap, the
    counter and PHP_LINK; relinked when an input, a dependency or the flags changed."""
    prepare()
    flags, deps = mmap_flags(variant, extra_flags, deps)
    libs = open(LIBS).read().split()
    out = os.path.join(BIN, f'php-{variant}.js')
    inputs = ['-Wl,--whole-archive', ARCHIVE, '-Wl,--no-whole-archive', count_object()]
    files = [ARCHIVE, os.path.join(BIN, 'count-st.o')] + [os.path.join(pb.PEERS_SRC, n)
                                                         for n in ['peer-report.js'] + PHP_PRE_JS]
    return pb.emcc(out, inputs, flags + libs + pb.COUNT_LINK + PHP_LINK, files + deps)


# ---- runs ----

COUNTS = re.compile(r'^PEER-COUNTS (\{.*\})$', re.M)
ROUND = re.compile(r'^RUN-COUNTS (\{.*\})$', re.M)


def run_php(js, args, cwd=None, timeout=600, env=None):
    """node php.js args; returns (exit status, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    p = subprocess.run(NODE + [js] + list(args), capture_output=True, text=True, errors='replace',
                       cwd=cwd or os.path.dirname(js), timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def final_counts(out):
    m = COUNTS.search(out)
    return json.loads(m.group(1)) if m else {}


def leak(js, rounds):
    """tests/peers/php-leak.php over js: the RUN-COUNTS record of each round (php-rounds.js) and
    the PEER-COUNTS record at exit."""
    script = os.path.join(pb.PEERS_SRC, 'php-leak.php')
    env = dict(os.environ, PHP_ROUNDS='1')
    rc, out, err, secs = run_php(js, ['-n', '-d', 'memory_limit=-1', script, str(rounds)], env=env)
    records = [json.loads(m.group(1)) for m in ROUND.finditer(out)]
    fatal = [l for l in out.splitlines() if l.startswith(('Fatal error', 'PHP Fatal error'))]
    return {'rc': rc, 'seconds': secs, 'rounds': records, 'final': final_counts(out),
            'stderr_lines': len(err.splitlines()), 'tail': '\n'.join(fatal) or err[-300:] if rc else ''}


def mib(n):
    return f'{n / 2**20:.1f}' if isinstance(n, (int, float)) and n >= 0 else '?'


def leak_table(results):
    """Round 2 and the last round of each variant: linear memory, its resident part, the mmap and
    munmap calls so far and the failed munmaps; then how the run ended."""
    lines = [f'{"variant":8} {"round":>5} {"memory MiB":>10} {"resident MiB":>12} {"mmap":>6} {"munmap":>6} '
             f'{"failed munmap":>13}']
    for variant, r in results.items():
        rs = r['rounds']
        for i in sorted({min(1, len(rs) - 1), len(rs) - 1}) if rs else []:
            x = rs[i]
            lines.append(f'{variant:8} {i + 1:>5} {mib(x["memory"]):>10} {mib(x["resident"]):>12} {x["mmap"]:>6} '
                         f'{x["munmap"]:>6} {x["munmap_failed"]:>13}')
        ratio = rs[-1]['memory'] / rs[1]['memory'] if len(rs) > 1 else 0
        lines.append(f'{variant:8} {len(rs)} rounds, exit {r["rc"]}, {r["seconds"]:.1f} s; memory last/round 2: '
                     f'{ratio:.2f}' + (f'; {r["tail"].strip().splitlines()[0][:100]}' if r['rc'] else ''))
    return '\n'.join(lines)


# ---- in the peers suite (tools/lib/peers.py, run) ----

SET = os.path.join(pb.PEERS_SRC, 'php-phpt-set.txt')
VARIANTS = ['libc', 'dropin', 'pool', 'storage']
# Over the drop-ins every file of the set must pass and the leak must stay away; over
# emscripten's own mmap, what happens is recorded.
DROP_INS = ('dropin', 'pool')
# What must pass the .phpt set: the drop-ins, and Playground's storage (what a PHP on wasm ships
# instead). The leak and the request loop must keep the drop-ins flat; Playground's storage must
# only run them to the end (its growth, and the failed munmaps of the heap's first chunk, which
# libc's mmap makes before the storage is set, are recorded). Over libc's mmap every outcome is
# recorded.
MUST_PASS = DROP_INS + ('storage',)
BASELINES = ('storage',)
REQUESTS = 300
REQUEST_GROWTH = 1.1   # resident memory after the last request at most this times after request 10
LEAK_ROUNDS = 50
LEAK_GROWTH = 1.1      # round 50's memory at most this times round 2's


def judge_set(variant, js, t):
    """The .phpt set (tests/peers/php-phpt-set.txt) over one variant, as one case."""
    import phpt
    files = phpt.read_set(SET)
    t0 = time.monotonic()
    results = phpt.run_all(phpt.Runner(js, SRC), files, 2, quiet=True)
    bad = [r for r in results if r['outcome'] != 'pass']
    calls = {k: sum(r.get('counts', {}).get(k, 0) for r in results) for k in ('mmap', 'munmap', 'munmap_failed')}
    line = (f'PHP .phpt set ({variant}): {len(results) - len(bad)} of {len(results)} pass, '
            f'{time.monotonic() - t0:.0f} s; mmap {calls["mmap"]}, munmap {calls["munmap"]} '
            f'({calls["munmap_failed"]} failed)')
    if bad and variant in MUST_PASS:
        print(f'FAIL {line}: ' + '; '.join(f'{r["file"]}: {r["reason"]}' for r in bad[:10]), flush=True)
        t.fail(f'peers: PHP .phpt set ({variant}): {len(bad)} files fail')
    else:
        print(f'ok   {line}' + (' (recorded, emscripten\'s mmap)' if bad else ''), flush=True)
        t.ok()
    return results


def leak_verdict(r):
    """What is wrong with a leak run over a drop-in, or None."""
    rs = r['rounds']
    if r['rc'] != 0 or len(rs) < LEAK_ROUNDS:
        return f'exit {r["rc"]} after {len(rs)} rounds'
    growth = rs[-1]['memory'] / rs[1]['memory']
    if growth > LEAK_GROWTH:
        return f'round {LEAK_ROUNDS}\'s memory is {growth:.2f} times round 2\'s'
    if rs[-1]['munmap_failed']:
        return f'{rs[-1]["munmap_failed"]} munmap calls failed'
    return None


def judge_leak(variant, js, t):
    """tests/peers/php-leak.php over one variant, LEAK_ROUNDS rounds, as one case."""
    r = leak(js, LEAK_ROUNDS)
    rs = r['rounds']
    last = rs[-1] if rs else {}
    line = (f'PHP leak ({variant}): {len(rs)} rounds, exit {r["rc"]}, memory {mib(rs[1]["memory"]) if len(rs) > 1 else "?"} '
            f'-> {mib(last.get("memory", -1))} MiB (resident {mib(last.get("resident", -1))} MiB), '
            f'munmap {last.get("munmap", "?")} ({last.get("munmap_failed", "?")} failed), {r["seconds"]:.1f} s')
    judge('leak', variant, line, leak_verdict(r), r['rc'] == 0 and len(rs) == LEAK_ROUNDS, t)
    return r


def judge(what, variant, line, problem, completed, t):
    """One case's verdict: a problem is a failure over the links that must pass (MUST_PASS), a
    recorded result over the baselines: Playground's storage when it ran to the end (BASELINES),
    emscripten's mmap always."""
    if problem and variant in BASELINES and completed:
        print(f'ok   {line} (recorded, Playground\'s storage: {problem})', flush=True)
        t.ok()
    elif problem and variant in MUST_PASS:
        print(f'FAIL {line}: {problem}', flush=True)
        t.fail(f'peers: PHP {what} ({variant}): {problem}')
    else:
        print(f'ok   {line}' + (f' (recorded, emscripten\'s mmap: {problem})' if problem else ''), flush=True)
        t.ok()


def requests(js, n=REQUESTS):
    """tests/peers/php-requests.php over js: the readings after requests 1, 10, 100 and the last
    (RUN-COUNTS records), the time per request, the PEER-COUNTS record at exit."""
    script = os.path.join(pb.PEERS_SRC, 'php-requests.php')
    env = dict(os.environ, PHP_ROUNDS='1')
    rc, out, err, secs = run_php(js, ['-n', '-d', 'memory_limit=-1', script, str(n)], env=env)
    records = [json.loads(m.group(1)) for m in ROUND.finditer(out)]
    m = re.search(r'^php-requests: (\d+) requests in ([\d.]+) ms, ([\d.]+) ms per request', out, re.M)
    return {'rc': rc, 'seconds': secs, 'checkpoints': records, 'final': final_counts(out),
            'ms_per_request': float(m.group(3)) if m else -1, 'requests': int(m.group(1)) if m else 0,
            'tail': err[-300:] if rc else ''}


def requests_verdict(r):
    """What is wrong with a request loop run, or None: it must serve every request, and its
    resident memory after the last request stay within REQUEST_GROWTH of that after request 10."""
    cps = r['checkpoints']
    if r['rc'] != 0 or r['requests'] != REQUESTS or len(cps) < 4:
        return f'exit {r["rc"]} after {r["requests"]} requests'
    growth = cps[-1]['resident'] / cps[1]['resident'] if cps[1]['resident'] > 0 else 0
    if growth > REQUEST_GROWTH:
        return f'resident memory after request {REQUESTS} is {growth:.2f} times that after request 10'
    return None


def judge_requests(variant, js, t):
    """tests/peers/php-requests.php over one variant, as one case."""
    r = requests(js)
    cps = r['checkpoints']
    res = ', '.join(f'{mib(c["resident"])}' for c in cps)
    last = cps[-1] if cps else {}
    line = (f'PHP requests ({variant}): {r["requests"]} requests, {r["ms_per_request"]:.1f} ms each; resident after 1/10/100/'
            f'{REQUESTS}: {res} MiB; memory {mib(last.get("memory", -1))} MiB; huge blocks copied '
            f'{mib(last.get("huge_copied", -1))} MiB; munmap {last.get("munmap", "?")} ({last.get("munmap_failed", "?")} failed)')
    judge('requests', variant, line, requests_verdict(r), r['rc'] == 0 and r['requests'] == REQUESTS, t)
    return r


def suite(ready, t):
    """PHP's part of the peers suite, once `ready` (php.prepare, run in the background) is done:
    the four links, the .phpt set, the leak and the request loop over each. Results in
    build/peers<suffix>/php-results.json."""
    try:
        ready.result()
        paths = dict(zip(VARIANTS, pb.parallel([lambda v=v: link_php(v) for v in VARIANTS])))
    except (pb.PeerError, SystemExit) as e:
        print(f'[peers] PHP: {e}', flush=True)
        t.fail(f'peers: PHP: {e}')
        return
    print(f'[peers] PHP {VERSION} linked {len(VARIANTS)} ways: ' + ', '.join(VARIANTS), flush=True)
    out = {'sets': {}, 'leaks': {}, 'requests': {}}
    for v in VARIANTS:
        out['sets'][v] = judge_set(v, paths[v], t)
    for v in VARIANTS:
        out['leaks'][v] = judge_leak(v, paths[v], t)
    for v in VARIANTS:
        out['requests'][v] = judge_requests(v, paths[v], t)
    with open(os.path.join(pb.ROOT, 'php-results.json'), 'w') as f:
        json.dump(out, f, indent=1)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description='PHP 8.2 over each mmap (issue 22)')
    ap.add_argument('what', nargs='?', default='link', choices=['link', 'leak', 'requests'])
    ap.add_argument('--variants', default=','.join(VARIANTS))
    ap.add_argument('--rounds', type=int, default=50)
    ap.add_argument('--json', help='leak: write every round of every variant to this file')
    a = ap.parse_args(argv)
    try:
        paths = {v: link_php(v) for v in a.variants.split(',')}
    except pb.PeerError as e:
        raise SystemExit(f'[php] {e}')
    if a.what == 'link':
        for v, p in paths.items():
            print(f'{v}: {os.path.relpath(p, TOP)}')
        return
    if a.what == 'requests':
        for v, p in paths.items():
            r = requests(p, a.rounds if a.rounds != 50 else REQUESTS)
            print(v, json.dumps({k: r[k] for k in ('rc', 'requests', 'ms_per_request', 'checkpoints')}))
        return
    results = {v: leak(p, a.rounds) for v, p in paths.items()}
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(results, f, indent=1)
    print(leak_table(results))


if __name__ == '__main__':
    main(sys.argv[1:])
