"""./tools/bench: mwpm against the other places a runtime on wasm can take its GC memory from,
side by side, in one run.

The variants (docs/benchmarks.md): mwpm (the page manager), pool (the shared-pool build: malloc
takes its pages from mwpm too), libc (emscripten's mmap: memalign + memset) and malloc
(posix_memalign, zeroed unless fresh from sbrk: what dotnet ships on wasm), each in a
single-threaded and a pthreads build. Every workload runs as separate processes, the variants in
alternation (A B C D A B C D ...), so that slow phases of a noisy machine hit all of them alike.
Reported: medians, min-max, and the ratios mwpm/X of the medians with the min-max of the
per-round ratios. Writes bench-results/<date>.json (raw runs + summary), PNG plots next to it,
and regenerates docs/benchmarks.md (bench_docs.py).
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time


def _toolchain_from_argv(argv):
    """--toolchain NAME (or =NAME), read before the modules that build and run programs are
    imported: they take the process's emscripten (MWPM_TOOLCHAIN) when imported."""
    for i, a in enumerate(argv):
        if a == '--toolchain' and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith('--toolchain='):
            return a.split('=', 1)[1]
    return None


# --wasm64 likewise: the peers' builds read MWPM_PEERS_TARGET when imported (peer_build.py).
# Any value inherited from the environment is replaced: the command line decides.
os.environ['MWPM_PEERS_TARGET'] = 'wasm64' if '--wasm64' in sys.argv[1:] else ''

if _toolchain_from_argv(sys.argv[1:]):
    import toolchains as _tc
    os.environ['MWPM_TOOLCHAIN'] = _tc.get(_toolchain_from_argv(sys.argv[1:])).name

import bench_defs
import bench_docs
import configs
import toolchains
import peers
import php
from bench_defs import (BROWSER_WORKLOADS, FIRST_WRITES, FULL_GC, OTHERS, TARGET_WORKLOADS, THREADINGS, VARIANTS, WORKLOADS,
                        config, fmt, workload)
from build import TOP, build, build_dir

NODE = toolchains.node()
TOOLCHAIN = toolchains.current()
RESULTS = os.path.join(TOP, 'bench-results')


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith('{'):
            return json.loads(line)
    raise ValueError('no JSON line in the output')


# What a program reports as -1 could not be measured there (tests/usage.h).
UNKNOWN_WHEN_NEGATIVE = ('resident_linear_end', 'resident_linear_peak', 'resident_linear_final', 'process_peak_rss',
                         'memory_grow_calls')


def derive(d):
    """Adds derived metrics; mwpm stats nested under 'mwpm' are lifted to the top."""
    out = dict(d)
    m = d.get('mwpm')
    if isinstance(m, dict):
        for k, v in m.items():
            out.setdefault(k, v)
        held = m.get('pages_in_use', 0) + m.get('pages_free_zeroed', 0) + m.get('pages_free_dirty', 0)
        if held:
            out['in_use_over_controlled'] = m['pages_in_use'] / held
    if d.get('bytes_mapped'):
        out['zeroed_share'] = d.get('bytes_zeroed_by_page_layer', 0) / d['bytes_mapped']
    if d.get('os_bytes_peak'):
        out['linear_over_gc_peak'] = d['linear_memory_final'] / d['os_bytes_peak']
    for key in UNKNOWN_WHEN_NEGATIVE:
        if key in out and out[key] < 0:
            del out[key]
    return out


def args_of(w, variant, quick):
    return (w.quick_args if quick else w.args) + [f'--mono-wasm-mmap={variant.mmap}']


# Faults made free (tools/wasm/pre.js): the memory grown to this and every page touched before
# main(), so that no first write takes a page fault. Larger than any workload's peak.
PREFAULT_MIB = 640


def run_once(threading, w, variant, quick, prefault=False):
    bdir = build_dir(config(threading, variant))
    env = dict(os.environ, MWPM_PREFAULT_MIB=str(PREFAULT_MIB)) if prefault else None
    t0 = time.monotonic()
    r = subprocess.run(NODE + ['--trace-gc', os.path.join(bdir, w.program)] + args_of(w, variant, quick),
                       capture_output=True, text=True, cwd=bdir, timeout=600, env=env)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f'{w.name} {variant.name} ({threading}): exit {r.returncode}\n'
                           f'{r.stderr[-2000:]}{r.stdout[-1000:]}')
    d = derive(last_json(r.stdout))
    d['process_wall_ms'] = wall * 1000
    d['v8_full_gcs'] = len(FULL_GC.findall(r.stdout))
    if d.get('verify_errors', 0):
        raise RuntimeError(f'{w.name} {variant.name} ({threading}): verify_errors = {d["verify_errors"]}')
    return d


def stats(vals):
    return {'median': statistics.median(vals), 'min': min(vals), 'max': max(vals), 'n': len(vals)}


def summarize(rounds, metrics):
    """rounds: [{variant: result}], one per repetition. Per metric: each variant's stats and
    mwpm/X for the others (ratio of the medians, min-max of the per-round ratios)."""
    out = {}
    for key, label, unit in metrics:
        row = {'label': label, 'unit': unit, 'values': {}, 'ratios': {}}
        for v in VARIANTS:
            vals = [r[v.name][key] for r in rounds if key in r.get(v.name, {})]
            if vals:
                row['values'][v.name] = stats(vals)
        base = row['values'].get('mwpm')
        for o in OTHERS:
            other = row['values'].get(o)
            per = [r['mwpm'][key] / r[o][key] for r in rounds if key in r.get('mwpm', {}) and r.get(o, {}).get(key)]
            if base and other and other['median'] and per:
                row['ratios'][o] = {'median': base['median'] / other['median'], 'min': min(per), 'max': max(per)}
        out[key] = row
    return out


def run_rounds(threading, w, reps, quick, log, prefault=False):
    rounds = []
    for rep in range(reps):
        rounds.append({v.name: run_once(threading, w, v, quick, prefault) for v in VARIANTS})   # A B C D ...
        key, _, unit = w.metrics[0]
        log(f'  {w.name} ({threading}{", prefaulted" if prefault else ""}) {rep + 1}/{reps}: ' +
            ', '.join(f'{v.name} {fmt(rounds[-1][v.name].get(key), unit)}' for v in VARIANTS))
    return rounds


def run_latency(args, log):
    """bench-mwpm in release builds, native and wasm (its own repetitions and medians)."""
    out = {}
    for cfg, prog, runner in [('native-release', 'tests/bench/bench-mwpm', []),
                              (configs.config('wasm-release'), 'tests/bench/bench-mwpm.js', NODE)]:
        build(cfg, [prog])
        cmd = runner + [os.path.join(build_dir(cfg), prog), '--json'] + (['--quick'] if args.quick else [])
        log(f'  latency: {cfg}')
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise RuntimeError(f'bench-mwpm ({cfg}) failed: {r.stderr[-2000:]}')
        out['wasm-release' if cfg != 'native-release' else cfg] = last_json(r.stdout)
    return out


def browser_pages(threadings, reps, quick):
    """The pages of the Chromium runs, in the order they run: per repetition, per workload, per
    threading, the variants in turn."""
    pages = []
    for _ in range(reps):
        for name in BROWSER_WORKLOADS:
            w = workload(name)
            for th in threadings:
                for v in VARIANTS:
                    words = [a for a in args_of(w, v, quick) if a != '--json']
                    query = '&'.join(a[2:] for a in words) + '&json=on'
                    pages.append((name, th, v.name, f'{config(th, v)}:{w.program[:-3]}?{query}'))
    return pages


def with_renderer(page_result):
    """The program's JSON with what the driver read of the renderer (tools/browser/driver.js):
    the wasm memory's resident bytes after the run, which are also its peak (a wasm memory never
    gives pages back), and the renderer's peak RSS."""
    d = dict(page_result['finalJson'])
    r = page_result.get('renderer') or {}
    if r.get('residentLinear') is not None:
        d['resident_linear_end'] = d['resident_linear_peak'] = r['residentLinear']
    if r.get('peakRss') is not None:
        d['process_peak_rss'] = r['peakRss']
    return d


def run_browser(threadings, reps, quick, log):
    """startup and steady in headless Chromium (tools/browser-test), alternated as under node."""
    pages = browser_pages(threadings, reps, quick)
    out = os.path.join(TOP, 'build', 'bench-browser.json')
    cmd = ['node', os.path.join(TOP, 'tools', 'browser-test'), '--timeout', '300', '--json', out,
           '--out', os.path.join(TOP, 'build', 'bench-browser')]
    for cfg in sorted({p[3].split(':')[0] for p in pages}):
        cmd += ['--build', f'{cfg}={build_dir(cfg)}']
    for p in pages:
        cmd += ['--run', p[3]]
    log(f'  browser: {len(pages)} pages')
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=5400)
    if r.returncode != 0:
        raise RuntimeError(f'browser runs failed: {r.stdout[-2000:]}{r.stderr[-2000:]}')
    with open(out) as f:
        results = json.load(f)['runs']
    rounds = {th: {n: [] for n in BROWSER_WORKLOADS} for th in threadings}
    for (name, th, variant, _), page in zip(pages, results):
        d = derive(with_renderer(page['result']))
        if d.get('verify_errors', 0):
            raise RuntimeError(f'browser {name} {variant} ({th}): verify_errors = {d["verify_errors"]}')
        group = rounds[th][name]
        if not group or variant in group[-1]:
            group.append({})
        group[-1][variant] = d
    summary = {th: {n: summarize(rs, workload(n).metrics) for n, rs in per.items()} for th, per in rounds.items()}
    return summary, rounds


def run_traces(args):
    """fill-drop-refill once per variant (single-threaded) with --memory-trace, for the plot."""
    traces = {}
    w = workload('fill-drop-refill')
    for v in VARIANTS:
        bdir = build_dir(config('st', v))
        path = os.path.join(bdir, f'bench-trace-{v.name}.txt')
        subprocess.run(NODE + [w.program] + args_of(w, v, args.quick) + [f'--memory-trace={os.path.basename(path)}'],
                       cwd=bdir, capture_output=True, timeout=600)
        traces[v.name] = bench_docs.read_trace(path)
    return traces


def run_firsttouch(args, log):
    ft = []
    prog = os.path.join(build_dir(configs.config('wasm-release')), 'tests/bench/bench-firsttouch.js')
    reps = max(3, args.reps)   # about a second a run: never fewer than three
    for _ in range(reps):
        r = subprocess.run(NODE + [prog], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f'bench-firsttouch failed: {r.stderr[-1000:]}')
        ft.append(last_json(r.stdout))
    keys = ['grow_ms', 'first_touch_ms', 'first_touch_us_per_page', 'memset_ms'] + [k for k, _ in FIRST_WRITES]
    out = {k: statistics.median(d[k] for d in ft) for k in keys}
    log(f'[bench] fresh memory, 64 MiB (median of {reps}): first touch {out["first_touch_ms"]:.1f} ms, '
        f'memset afterwards {out["memset_ms"]:.1f} ms; first write by ' +
        ', '.join(f'{label} {out[k]:.1f} ms' for k, label in FIRST_WRITES))
    return out


# The stress's pairs (tools/lib/peers.py, STRESS_LINKS): each drop-in against what it replaces.
PEER_PAIRS = [('dropin', 'libc'), ('pool', 'libc-malloc')]
PEER_METRICS = ('seconds', 'memory', 'resident', 'mmap', 'munmap')


def peer_pair_ratios(rounds, a, b, metrics=PEER_METRICS):
    """a/b of the medians, with the min-max of the per-run ratios, for every metric."""
    out = {}
    for key in metrics:
        va = [r[a][key] for r in rounds if a in r and r[a].get(key, -1) >= 0]
        vb = [r[b][key] for r in rounds if b in r and r[b].get(key, -1) >= 0]
        per = [r[a][key] / r[b][key] for r in rounds if a in r and b in r and r[b].get(key, 0) > 0 and r[a].get(key, -1) >= 0]
        if va and vb and statistics.median(vb) and per:
            out[key] = {'median': statistics.median(va) / statistics.median(vb), 'min': min(per), 'max': max(per)}
    return out


def run_peers(args, log):
    """mimalloc's test-stress over libc's mmap and the mmap drop-in (an mmap-only dlmalloc), and
    in its plain malloc mode over the pool drop-in and over emscripten's own malloc and mmap (the
    peers suite's programs), alternated; a run that traps with the pthreads memset hazard is
    counted, not measured."""
    links = peers.STRESS_LINKS
    cases = {c.mmap: c for c in peers.prepare() if c.threads}
    rounds, hazards, failures = [], {m: 0 for m in links}, {m: 0 for m in links}
    reps = args.reps if args.quick else max(args.reps, 7)   # >= 7 alternated rounds: one round spreads 0.6-1.2
    for rep in range(reps):
        rnd = {}
        for m in links:
            r = peers.run_case(cases[m])
            if r['ok']:
                rnd[m] = {'seconds': r['seconds'], **{k: r['counts'].get(k, -1) for k in PEER_METRICS if k != 'seconds'}}
            elif r['hazard']:
                hazards[m] += 1
            else:
                failures[m] += 1
                log(f'  peers stress ({m}) failed: {"; ".join(r["problems"])}')
        rounds.append(rnd)
        log(f'  peers stress {rep + 1}/{reps}: ' + ', '.join(
            f'{m} {rnd[m]["seconds"]:.2f} s' if m in rnd else f'{m} -' for m in links))
    out = {'runs': rounds, 'hazards': hazards, 'failures': failures, 'reps': reps, 'metrics': {}, 'pairs': {}}
    for key in PEER_METRICS:
        vals = {m: [r[m][key] for r in rounds if m in r and r[m].get(key, -1) >= 0] for m in links}
        out['metrics'][key] = {m: stats(v) for m, v in vals.items() if v}
    for a, b in PEER_PAIRS:
        out['pairs'][f'{a}/{b}'] = peer_pair_ratios(rounds, a, b)
    return out


# PHP's own benchmarks, the leak script and the request loop (tools/lib/php.py links them): each
# drop-in against emscripten's mmap and against Playground's chunk storage (what a PHP on wasm
# ships instead).
PHP_BENCH_VARIANTS = ['libc', 'dropin', 'pool', 'storage']
PHP_PAIRS = [('dropin', 'libc'), ('pool', 'libc'), ('dropin', 'storage'), ('pool', 'storage')]
PHP_BENCH_SCRIPTS = ['Zend/bench.php', 'Zend/micro_bench.php']
PHP_TOTAL = re.compile(r'^Total\s+([\d.]+)\s*$', re.M)


def php_bench_once(js, script):
    """One run: the script's own total (s), the final linear memory and its resident bytes."""
    rc, out, err, secs = php.run_php(js, ['-n', '-d', 'memory_limit=-1', os.path.join(php.SRC, script)])
    m = PHP_TOTAL.search(out)
    if rc != 0 or not m:
        raise RuntimeError(f'{script} over {js}: exit {rc}: {(out + err)[-800:]}')
    c = php.final_counts(out)
    return {'seconds': float(m.group(1)), 'memory': c.get('memory', -1), 'resident': c.get('resident', -1),
            'mmap': c.get('mmap', -1), 'munmap_failed': c.get('munmap_failed', -1), 'huge_copied': c.get('huge_copied', -1)}


def php_leak_once(js, rounds):
    """The leak script: its time, the final linear memory, resident bytes and huge-block copies."""
    r = php.leak(js, rounds)
    if r['rc'] != 0 or len(r['rounds']) < rounds:
        return None
    last = r['rounds'][-1]
    return {'seconds': r['seconds'], 'memory': last['memory'], 'resident': last['resident'],
            'huge_copied': last.get('huge_copied', -1), 'munmap_failed': last['munmap_failed']}


def php_requests_once(js, n):
    """The request loop: time per request, memory after the last request, huge-block copies."""
    r = php.requests(js, n)
    if r['rc'] != 0 or r['requests'] != n or not r['checkpoints']:
        raise RuntimeError(f'php-requests over {js}: exit {r["rc"]} after {r["requests"]} requests: {r["tail"]}')
    last = r['checkpoints'][-1]
    return {'ms_per_request': r['ms_per_request'], 'memory': last['memory'], 'resident': last['resident'],
            'resident_after': [c['resident'] for c in r['checkpoints']],
            'huge_copied': last.get('huge_copied', -1), 'munmap_failed': last['munmap_failed']}


def php_rounds(name, reps, once, variants, log, metrics, key):
    """reps rounds of once(variant) over every variant in turn; runs, pairs and metrics."""
    rounds = []
    for rep in range(reps):
        rnd = {}
        for v in variants:
            d = once(v)
            if d is not None:
                rnd[v] = d
        rounds.append(rnd)
        log(f'  {name} {rep + 1}/{reps}: ' + ', '.join(f'{v} {rnd[v][key]:.2f}' if v in rnd else f'{v} -' for v in variants))
    pairs = {f'{a}/{b}': peer_pair_ratios(rounds, a, b, metrics) for a, b in PHP_PAIRS}
    vals = {k: {v: stats([r[v][k] for r in rounds if v in r and r[v][k] >= 0]) for v in variants
                if any(v in r and r[v][k] >= 0 for r in rounds)} for k in metrics + ('huge_copied', 'munmap_failed')}
    return {'runs': rounds, 'reps': reps, 'pairs': pairs, 'metrics': vals}


def run_php_bench(args, log):
    """bench.php and micro_bench.php, the leak script and the request loop over each variant, the
    variants in alternation."""
    paths = {v: php.link_php(v) for v in PHP_BENCH_VARIANTS}
    scripts = PHP_BENCH_SCRIPTS[:1] if args.quick else PHP_BENCH_SCRIPTS
    reps = args.reps if args.quick else max(5, args.reps // 2)
    out = {}
    for script in scripts:
        rounds = []
        for rep in range(reps):
            rounds.append({v: php_bench_once(paths[v], script) for v in PHP_BENCH_VARIANTS})
            log(f'  {script} {rep + 1}/{reps}: ' + ', '.join(f'{v} {rounds[-1][v]["seconds"]:.2f} s'
                                                          for v in PHP_BENCH_VARIANTS))
        pairs = {f'{a}/{b}': peer_pair_ratios(rounds, a, b, ('seconds', 'memory', 'resident')) for a, b in PHP_PAIRS}
        out[script] = {'runs': rounds, 'reps': reps, 'pairs': pairs,
                       'metrics': {k: {v: stats([r[v][k] for r in rounds if r[v][k] >= 0]) for v in PHP_BENCH_VARIANTS}
                                   for k in ('seconds', 'memory', 'resident', 'mmap', 'munmap_failed', 'huge_copied')}}
    # The leak script (over libc's mmap it runs out of memory: not measured there) and the
    # request loop, the variants alternated.
    leak_rounds = 10 if args.quick else php.LEAK_ROUNDS
    out['leak'] = php_rounds(f'php-leak.php ({leak_rounds} rounds)', reps, lambda v: php_leak_once(paths[v], leak_rounds),
                             [v for v in PHP_BENCH_VARIANTS if v != 'libc'], log, ('seconds', 'memory', 'resident'),
                             'seconds')
    out['leak']['rounds_of_script'] = leak_rounds
    # Over libc's mmap the loop stops at its first upload (a huge block that cannot be extended
    # or cut short): tried once, where it stopped is reported.
    n = 60 if args.quick else php.REQUESTS
    out['requests'] = php_rounds(f'php-requests.php ({n} requests)', reps, lambda v: php_requests_once(paths[v], n),
                                 [v for v in PHP_BENCH_VARIANTS if v != 'libc'], log,
                                 ('ms_per_request', 'memory', 'resident'), 'ms_per_request')
    out['requests']['requests'] = n
    r = php.requests(paths['libc'], n)
    reached = [1, 10, 100, n][:len(r['checkpoints'])]
    out['requests']['libc_outcome'] = {'rc': r['rc'], 'completed': r['requests'] == n,
                                       'checkpoints_reached': reached,
                                       'error': next((l.strip() for l in r['tail'].splitlines() if l.strip()), '')}
    log(f'  php-requests.php over libc: exit {r["rc"]}, ' +
        (f'{n} requests served' if r['requests'] == n else f'stopped before request {([1, 10, 100, n] + [n])[len(reached)]} '
         f'(it printed no reading after it): {out["requests"]["libc_outcome"]["error"]}'))
    return out


def machine():
    cpu = ''
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next((l.split(':', 1)[1].strip() for l in f if l.startswith('model name')), '')
    except OSError:
        pass
    node = subprocess.run(toolchains.wrap(TOOLCHAIN, ['node', '--version']), capture_output=True, text=True).stdout.strip()
    return f'{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, node {node}, emscripten {TOOLCHAIN}'


def parse_args(argv):
    ap = argparse.ArgumentParser(prog='tools/bench', description=__doc__.split('\n')[0], allow_abbrev=False)
    ap.add_argument('--quick', action='store_true', help='fewer repetitions and smaller scales')
    ap.add_argument('--reps', type=int, help='repetitions per variant (default 11, quick 1)')
    ap.add_argument('--only', help='comma-separated workloads (' + ', '.join(w.name for w in WORKLOADS) +
                    ', firsttouch, latency, browser, peers, php)')
    ap.add_argument('--threading', default='st,mt', help='st, mt or st,mt (default): which builds')
    ap.add_argument('--no-docs', action='store_true', help='do not rewrite docs/benchmarks.md')
    ap.add_argument('--no-browser', action='store_true', help='skip the headless Chromium runs')
    ap.add_argument('--no-prefault', action='store_true', help='skip the runs with page faults made free')
    ap.add_argument('--toolchain', default=toolchains.DEFAULT,
                    help='the emscripten to build and run with: 3.1.6 (default) or 6 (tools/lib/toolchains.py)')
    ap.add_argument('--wasm64', action='store_true',
                    help='build and run the workloads for wasm64 (emscripten 6: --toolchain 6): the sgen workloads, '
                         'firsttouch and peers (mimalloc\'s stress) only')
    args = ap.parse_args(argv)
    if args.wasm64:
        if toolchains.get(args.toolchain).wasm64_cross is None:
            ap.error(f'--wasm64 needs an emscripten that builds wasm64 (--toolchain 6), not {args.toolchain}')
        # The page-manager latency, PHP and the browser runs are wasm32's (their builds are);
        # firsttouch measures the machine; mimalloc's stress is built for wasm64 (peer_build.py).
        unsupported = {'latency', 'php', 'browser'}
        if args.only and set(args.only.split(',')) & unsupported:
            ap.error('--wasm64 runs the sgen workloads, firsttouch and peers only')
        args.only = args.only or ','.join(w.name for w in WORKLOADS) + ',firsttouch,peers'
        args.no_browser = True
    args.reps = args.reps or (1 if args.quick else 11)
    if args.reps < 1:
        ap.error('--reps must be at least 1')
    args.only = set(args.only.split(',')) if args.only else None
    known = {w.name for w in WORKLOADS} | {'latency', 'firsttouch', 'browser', 'peers', 'php'}
    if args.only and not args.only <= known:
        ap.error(f'unknown workload(s): {", ".join(sorted(args.only - known))}')
    args.threading = [t for t in args.threading.split(',') if t]
    if not args.threading or not set(args.threading) <= set(THREADINGS):
        ap.error('--threading takes st, mt or st,mt')
    return args


def browser_reps(args):
    """Chromium's rounds: at least 5 (fresh browsers spread widely); one in a quick run."""
    return 1 if args.quick else max(5, args.reps // 2)


def wanted(args, name):
    return not args.only or name in args.only


def build_all(args, log):
    names = sorted({config(th, v) for th in args.threading for v in VARIANTS} | {configs.config('wasm-release')})
    for cfg in names:
        log(f'[bench] building {cfg}')
        build(cfg)


def prefault_reps(args):
    """Rounds of the fault-free runs: fewer than the main ones (their figure is time only)."""
    return args.reps if args.quick else max(5, args.reps // 2)


# A quick run makes faults free for one workload per threading only: enough to show the section.
QUICK_PREFAULT_WORKLOADS = ['whole-run']


def prefaulted(args, w):
    if args.no_prefault or w.name not in TARGET_WORKLOADS:
        return False
    return not args.quick or w.name in QUICK_PREFAULT_WORKLOADS


def run_node(args, result, log):
    for th in args.threading:
        for w in WORKLOADS:
            if not wanted(args, w.name):
                continue
            log(f'[bench] {w.name} ({THREADINGS[th]}): {w.about}')
            rounds = run_rounds(th, w, args.reps, args.quick, log)
            result['runs'].setdefault(th, {})[w.name] = rounds
            result['summary'].setdefault(th, {})[w.name] = summarize(rounds, w.metrics)
            if not prefaulted(args, w):
                continue
            # The same with faults made free: how the time ratios move with the fault cost.
            rounds = run_rounds(th, w, prefault_reps(args), args.quick, log, prefault=True)
            result['prefault_runs'].setdefault(th, {})[w.name] = rounds
            result['prefault'].setdefault(th, {})[w.name] = summarize(rounds, [w.metrics[0]])


def report(args, argv, result, log):
    """Writes the JSON, the plots and (unless --no-docs) docs/benchmarks.md; prints the targets."""
    os.makedirs(RESULTS, exist_ok=True)
    stem = os.path.join(RESULTS, datetime.datetime.now().strftime('%Y-%m-%d-%H%M') + toolchains.suffix(TOOLCHAIN) +
                        ('-wasm64' if bench_defs.TARGET == 'wasm64' else ''))
    files = bench_docs.plots(result, stem)
    rows = bench_docs.check_targets(result)
    result['targets'] = [{'target': t, 'measured': v, 'met': ok} for t, v, ok, _ in rows]
    with open(stem + '.json', 'w') as f:
        json.dump(result, f, indent=1)
    cmdline = './tools/bench' + (' ' + ' '.join(argv if argv is not None else sys.argv[1:])).rstrip()
    if not args.no_docs:
        bench_docs.write_docs(result, files, rows, cmdline)
    log('')
    log('Targets')
    for text, val, ok, _ in rows:
        log(f'  {"met " if ok else ("MISS" if ok is False else "  - ")}  {text}: {val}')
    log(f'results: {os.path.relpath(stem, TOP)}.json, plots: ' + ', '.join(os.path.relpath(f, TOP) for f in files))


def main(argv=None):
    args = parse_args(argv)
    if args.wasm64 != peers.WASM64:
        # The peers' builds took their target when imported (MWPM_PEERS_TARGET, set above from
        # sys.argv): a main() called with other arguments must agree with it.
        raise SystemExit('--wasm64 must be given on the command line (it sets MWPM_PEERS_TARGET before the imports)')
    if args.wasm64:
        bench_defs.use_target('wasm64')
    start = time.monotonic()
    log = lambda m: print(f'{m}  [{time.monotonic() - start:.0f} s]' if m.startswith('[bench]') else m, flush=True)
    build_all(args, log)
    result = {'date': datetime.datetime.now().strftime('%Y-%m-%d %H:%M'), 'machine': machine(), 'toolchain': TOOLCHAIN,
              'target': bench_defs.TARGET,
              'reps': args.reps,
              'quick': args.quick, 'threading': args.threading, 'runs': {}, 'summary': {}, 'prefault': {},
              'prefault_runs': {}, 'prefault_mib': PREFAULT_MIB}
    # The cost of a first write on this machine today, which every time ratio depends on: first.
    result['firsttouch'] = run_firsttouch(args, log)
    run_node(args, result, log)
    if wanted(args, 'fill-drop-refill') and 'st' in args.threading:
        result['traces'] = run_traces(args)
    if wanted(args, 'latency'):
        log('[bench] page-manager latency (release, native and wasm)')
        result['latency'] = run_latency(args, log)
    if wanted(args, 'peers'):
        log("[bench] mimalloc's test-stress over libc's mmap and the drop-ins")
        result['peers'] = run_peers(args, log)
    if wanted(args, 'php'):
        log("[bench] PHP's Zend/bench.php and micro_bench.php over libc's mmap and the drop-ins")
        result['php'] = run_php_bench(args, log)
    if not args.no_browser and wanted(args, 'browser'):
        log('[bench] startup and steady in headless Chromium')
        result['browser'], result['runs']['browser'] = run_browser(args.threading, browser_reps(args),
                                                                   args.quick, log)
    report(args, argv, result, log)
    log(f'total {time.monotonic() - start:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
