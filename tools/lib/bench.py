"""./tools/bench: mwpm against the C library's mmap, side by side, in one run.

Every workload runs as a separate process per repetition, with mwpm on and off in alternation
(A B A B ...), so that slow phases of a noisy machine hit both modes alike. Reported: medians,
min-max, and the ratio mwpm/libc of the medians with the min-max of the per-pair ratios.
Writes bench-results/<date>.json (raw runs + summary), PNG plots next to it, and regenerates
docs/benchmarks.md.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from build import TOP, build, build_dir

NODE = ['node', '--no-experimental-fetch']
MODES = [('mwpm', '--mono-wasm-mmap=on'), ('libc', '--mono-wasm-mmap=off')]
RESULTS = os.path.join(TOP, 'bench-results')


class Workload:
    """A program run in both modes; metrics are read from the last JSON line it prints."""

    def __init__(self, name, program, args, metrics, about, quick_args=None, reps=None, browser=False):
        self.name, self.program, self.args = name, program, args
        self.metrics = metrics          # [(json key, label, unit, lower_is_better)]
        self.about = about
        self.quick_args = quick_args if quick_args is not None else args
        self.reps = reps
        self.browser = browser


WORKLOADS = [
    Workload('pagelayer', 'tests/bench/bench-pagelayer.js', [],
             [('elapsed_ms', 'time', 'ms', True), ('bytes_zeroed', 'bytes zeroed', 'B', True)],
             'the page layer alone: a 4 MiB nursery + 120 batches of 512 KiB, each 16 KiB block '
             'touched once'),
    Workload('startup', 'tests/sgen-stress.js', ['--workloads=startup', '--json'],
             [('elapsed_ms', 'time', 'ms', True), ('bytes_zeroed_by_page_layer', 'bytes zeroed', 'B', True),
              ('linear_memory_final', 'linear memory', 'B', True)],
             'GC initialisation + the first 64 MiB of allocation, timed inside the process'),
    Workload('steady', 'tests/sgen-stress.js', ['--workloads=gcbench', '--scale=2', '--json'],
             [('elapsed_ms', 'time', 'ms', True), ('collections_minor', 'minor GCs', '', None),
              ('collections_major', 'major GCs', '', None),
              ('bytes_zeroed_by_page_layer', 'bytes zeroed', 'B', True)],
             'GCBench at a fixed scale', quick_args=['--workloads=gcbench', '--scale=1', '--json']),
    Workload('fill-drop-refill', 'tests/sgen-stress.js', ['--workloads=fdr,fdr-reverse', '--scale=2', '--json'],
             [('linear_memory_peak', 'linear memory peak', 'B', True),
              ('linear_memory_final', 'linear memory final', 'B', True),
              ('os_bytes_freed', 'OS bytes freed', 'B', None), ('elapsed_ms', 'time', 'ms', True)],
             'grow the heap with small objects, drop, collect, refill with large objects (and back)',
             quick_args=['--workloads=fdr,fdr-reverse', '--scale=1', '--json']),
    Workload('fragmentation', 'tests/sgen-stress.js', ['--workloads=all', '--scale=2', '--json'],
             [('in_use_over_controlled', 'pages in use / controlled', '', False),
              ('largest_free_run', 'largest free run', 'pages', None),
              ('pages_free_dirty', 'free dirty pages', '', None),
              ('pages_free_zeroed', 'free zeroed pages', '', None)],
             'mwpm page table at the end of the stress workload, after a final full collection',
             quick_args=['--workloads=all', '--scale=1', '--json']),
]


def workload(name):
    return next(w for w in WORKLOADS if w.name == name)


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith('{'):
            return json.loads(line)
    raise ValueError('no JSON line in the output')


def flatten(d):
    """Adds derived metrics; mwpm stats nested under 'mwpm' are lifted to the top."""
    out = dict(d)
    m = d.get('mwpm')
    if isinstance(m, dict):
        for k, v in m.items():
            out.setdefault(k, v)
        controlled = m.get('pages_in_use', 0) + m.get('pages_free_zeroed', 0) + m.get('pages_free_dirty', 0)
        if controlled:
            out['in_use_over_controlled'] = m['pages_in_use'] / controlled
    return out


def run_once(bdir, w, mode_arg, quick):
    prog = os.path.join(bdir, w.program)
    args = (w.quick_args if quick else w.args) + [mode_arg]
    t0 = time.monotonic()
    r = subprocess.run(NODE + [prog] + args, capture_output=True, text=True, cwd=bdir, timeout=600)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f'{w.name} {mode_arg}: exit {r.returncode}\n{r.stderr[-2000:]}{r.stdout[-1000:]}')
    d = flatten(last_json(r.stdout))
    d['process_wall_ms'] = wall * 1000
    if d.get('verify_errors', 0):
        raise RuntimeError(f'{w.name} {mode_arg}: verify_errors = {d["verify_errors"]}')
    return d


def summarize(runs, metrics):
    """runs: list of {'mwpm': d, 'libc': d} pairs."""
    out = {}
    for key, label, unit, lower in metrics:
        row = {'label': label, 'unit': unit}
        for mode, _ in MODES:
            vals = [p[mode][key] for p in runs if key in p.get(mode, {})]
            if vals:
                row[mode] = {'median': statistics.median(vals), 'min': min(vals), 'max': max(vals), 'n': len(vals)}
        ratios = [p['mwpm'][key] / p['libc'][key] for p in runs
                  if key in p.get('mwpm', {}) and key in p.get('libc', {}) and p['libc'][key]]
        if 'mwpm' in row and 'libc' in row and row['libc']['median']:
            row['ratio'] = {'median_of_medians': row['mwpm']['median'] / row['libc']['median'],
                            'min': min(ratios) if ratios else None, 'max': max(ratios) if ratios else None}
        out[key] = row
    return out


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


def run_pairs(bdir, w, reps, quick, log):
    runs = []
    for rep in range(reps):
        pair = {}
        for mode, arg in MODES:   # A B A B ...
            pair[mode] = run_once(bdir, w, arg, quick)
        runs.append(pair)
        log(f'  {w.name}: rep {rep + 1}/{reps}: ' + ', '.join(
            f'{m} {fmt(pair[m].get(w.metrics[0][0]), w.metrics[0][2])}' for m, _ in MODES))
    return runs


def run_latency(args, log):
    """bench-mwpm in release builds, native and wasm (its own repetitions and medians)."""
    out = {}
    for cfg, prog, runner in [('native-release', 'tests/bench/bench-mwpm', []),
                              ('wasm-release', 'tests/bench/bench-mwpm.js', NODE)]:
        build(cfg, [prog])
        cmd = runner + [os.path.join(build_dir(cfg), prog), '--json'] + (['--quick'] if args.quick else [])
        log(f'  latency: {cfg}')
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise RuntimeError(f'bench-mwpm ({cfg}) failed: {r.stderr[-2000:]}')
        out[cfg] = last_json(r.stdout)
    return out


TARGETS = [
    # (workload, metric, limit, text)
    ('startup', 'bytes_zeroed_by_page_layer', 0.01, 'startup: page-layer bytes zeroed, mwpm/libc <= 0.01'),
    ('startup', 'elapsed_ms', 0.5, 'startup: wall time, mwpm/libc <= 0.5 (median)'),
    ('pagelayer', 'elapsed_ms', 0.35, 'page layer alone: wall time, mwpm/libc <= 0.35'),
    ('fill-drop-refill', 'linear_memory_final', 0.9, 'fill-drop-refill: final linear memory, mwpm/libc <= 0.9'),
]


def run_browser(bdir, reps, quick, log):
    """startup and steady in headless Chromium (tools/browser-test), A B A B as under node."""
    names = ['startup', 'steady']
    runs = []
    for rep in range(reps):
        for name in names:
            w = workload(name)
            for mode, arg in MODES:
                words = [a for a in (w.quick_args if quick else w.args) if a != '--json'] + [arg]
                query = '&'.join(a[2:] for a in words) + '&json=on'
                runs.append((name, mode, f'bench:{w.program[:-3]}?{query}'))
    out = os.path.join(build_dir('wasm-release'), 'bench-browser.json')
    cmd = ['node', os.path.join(TOP, 'tools', 'browser-test'), '--build', f'bench={bdir}', '--timeout', '300',
           '--json', out, '--out', os.path.join(build_dir('wasm-release'), 'bench-browser')]
    for _, _, r in runs:
        cmd += ['--run', r]
    log(f'  browser: {len(runs)} pages')
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f'browser runs failed: {r.stdout[-2000:]}{r.stderr[-2000:]}')
    with open(out) as f:
        pages = json.load(f)['runs']
    pairs = {n: [] for n in names}
    for i in range(0, len(runs), 2):
        (name, _, _), a, b = runs[i], pages[i]['result'], pages[i + 1]['result']
        pair = {'mwpm': flatten(a['finalJson']), 'libc': flatten(b['finalJson'])}
        for m in pair:
            if pair[m].get('verify_errors', 0):
                raise RuntimeError(f'browser {name}: verify_errors in {m} mode')
        pairs[name].append(pair)
    return {n: summarize(p, workload(n).metrics) for n, p in pairs.items()}, pairs


def check_targets(summary, latency):
    rows = []
    for w, key, limit, text in TARGETS:
        row = summary.get(w, {}).get(key, {})
        ratio = row.get('ratio', {}).get('median_of_medians')
        if ratio is None:
            rows.append((text, 'not measured', None))
        else:
            rows.append((text, f'{ratio:.3f}', ratio <= limit))
    frag = summary.get('fragmentation', {}).get('in_use_over_controlled', {}).get('mwpm')
    if frag:
        rows.append(('fragmentation: pages in use / controlled >= 0.9 (median)', f'{frag["median"]:.3f}',
                     frag['median'] >= 0.9))
    lat = latency.get('wasm-release') if latency else None
    if lat:
        at32 = [r for r in lat['results'] if 30000 <= r['pages'] <= 34000]
        if at32:
            worst = max(r['ns_per_pair'] for r in at32)
            rows.append(('page manager: alloc/free pair at 32k pages <= 500 ns (wasm, every fragmentation)',
                         f'{worst:.0f} ns (worst level)', worst <= 500))
    return rows


def save(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plots(result, stem):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    files = []
    # 1. Ratios with min-max whiskers.
    bars = []
    for w, metrics in result['summary'].items():
        for key, row in metrics.items():
            r = row.get('ratio')
            if r and r.get('min') is not None and row['unit'] in ('ms', 'B'):
                bars.append((f'{w}\n{row["label"]}', r['median_of_medians'], r['min'], r['max']))
    if bars:
        fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(bars)), 4))
        xs = range(len(bars))
        meds = [b[1] for b in bars]
        ax.bar(xs, meds, color='#3b6ea8')
        ax.errorbar(xs, meds, yerr=[[m - b[2] for m, b in zip(meds, bars)], [b[3] - m for m, b in zip(meds, bars)]],
                    fmt='none', ecolor='black', capsize=4)
        ax.axhline(1.0, color='grey', linewidth=0.8, linestyle='--')
        ax.set_xticks(list(xs))
        ax.set_xticklabels([b[0] for b in bars], fontsize=7)
        ax.set_ylabel('mwpm / libc (median; whiskers: min-max of pairs)')
        ax.set_title('mwpm against libc mmap, wasm under node')
        files.append(save(plt, fig, stem + '-ratios.png'))
    # 2. Latency against managed pages.
    lat = result.get('latency') or {}
    if lat:
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for cfg, data in lat.items():
            levels = sorted({r['frag'] for r in data['results']})
            for lv in levels:
                pts = sorted((r['pages'], r['ns_per_pair'], r['ns_min'], r['ns_max']) for r in data['results'] if r['frag'] == lv)
                ax.errorbar([p[0] for p in pts], [p[1] for p in pts],
                            yerr=[[p[1] - p[2] for p in pts], [p[3] - p[1] for p in pts]],
                            marker='o', capsize=3, label=f'{cfg.split("-")[0]}, {lv:.0%} in use')
        ax.set_xscale('log')
        ax.set_xlabel('managed pages')
        ax.set_ylabel('ns per alloc/free pair (median)')
        ax.axhline(500, color='grey', linestyle='--', linewidth=0.8)
        ax.legend(fontsize=7)
        ax.set_title('mwpm alloc/free latency')
        files.append(save(plt, fig, stem + '-latency.png'))
    # 3. Memory over time for fill-drop-refill.
    traces = result.get('traces') or {}
    if traces:
        fig, ax = plt.subplots(figsize=(7, 4))
        for mode, rows in traces.items():
            if not rows:
                continue
            t = [r['time_ms'] for r in rows]
            ax.plot(t, [r['linear_memory'] / 2**20 for r in rows], label=f'{mode}: linear memory')
            ax.plot(t, [r['os_bytes_live'] / 2**20 for r in rows], linestyle=':', label=f'{mode}: GC OS bytes live')
        ax.set_xlabel('ms')
        ax.set_ylabel('MiB')
        ax.legend(fontsize=7)
        ax.set_title('fill-drop-refill: memory over time')
        files.append(save(plt, fig, stem + '-memory.png'))
    return files


def read_trace(path):
    """--memory-trace output: CSV with a header (time_ms, phase, linear_memory, ...); numbers as
    floats, other fields as text."""
    if not os.path.exists(path):
        return []
    def value(v):
        try:
            return float(v)
        except (TypeError, ValueError):
            return v
    with open(path, newline='') as f:
        return [{k.strip(): value(v) for k, v in row.items()} for row in csv.DictReader(f)]


def table_rows(metrics):
    """Markdown rows: metric | mwpm median (min - max) | libc ... | ratio (min - max of pairs)."""
    out = []
    for row in metrics.values():
        def cell(m):
            r = row.get(m)
            return f'{fmt(r["median"], row["unit"])} ({fmt(r["min"], row["unit"])} - {fmt(r["max"], row["unit"])})' if r else '-'
        ratio = row.get('ratio')
        rtxt = '-'
        if ratio:
            rtxt = f'{ratio["median_of_medians"]:.3f}'
            if ratio.get('min') is not None:
                rtxt += f' ({ratio["min"]:.3f} - {ratio["max"]:.3f})'
        out.append(f'| {row["label"]} | {cell("mwpm")} | {cell("libc")} | {rtxt} |')
    return out


def write_docs(result, files, rows, cmdline):
    s = result['summary']
    lines = ['# Benchmarks', '',
             'Generated by `./tools/bench` (tools/lib/bench.py); rerun it to refresh this page. Every',
             'number comes from one run of that command: each workload ran as separate processes with',
             'mwpm on and off in alternation (A B A B ...), and the ratios are mwpm/libc of the medians,',
             'with the min-max of the per-pair ratios.', '',
             f'- command: `{cmdline}`',
             f'- date: {result["date"]}',
             f'- machine: {result["machine"]}',
             f'- repetitions: {result["reps"]} per mode',
             '- what the numbers mean and why two targets are missed: [performance.md](performance.md)', '',
             '## Targets', '', '| target | measured | met |', '|---|---|---|']
    for text, val, ok in rows:
        lines.append(f'| {text} | {val} | {"yes" if ok else ("no" if ok is False else "-")} |')
    lines += ['', '## Workloads (wasm, node)', '']
    for w in WORKLOADS:
        if w.name not in s:
            continue
        lines += [f'### {w.name}', '', w.about, '', '| metric | mwpm (median, min-max) | libc (median, min-max) | mwpm/libc |',
                  '|---|---|---|---|']
        lines += table_rows(s[w.name])
        lines.append('')
    br = result.get('browser') or {}
    if br:
        lines += ['## In headless Chromium', '',
                  'The same programs in Debian\'s chromium driven by tools/browser-test (one fresh browser per page;',
                  f'{len(result["runs"]["browser"]["startup"])} pairs, A B A B).', '']
        for name, metrics in br.items():
            lines += [f'### {name} (browser)', '', '| metric | mwpm (median, min-max) | libc (median, min-max) | mwpm/libc |',
                      '|---|---|---|---|']
            lines += table_rows(metrics)
            lines.append('')
    ft = result.get('firsttouch')
    if ft:
        lines += ['## Fresh memory on this machine', '',
                  'tests/bench/bench-firsttouch.c, 64 MiB grown with sbrk, no page layer involved (median):', '',
                  '| grow | first write to every 4 KiB page | per page | memset of the same 64 MiB afterwards |',
                  '|---|---|---|---|',
                  f'| {ft["grow_ms"]:.1f} ms | {ft["first_touch_ms"]:.1f} ms | {ft["first_touch_us_per_page"]:.2f} us | '
                  f'{ft["memset_ms"]:.1f} ms |', '']
    lat = result.get('latency') or {}
    if lat:
        lines += ['## Page-manager latency', '',
                  'tests/bench/bench-mwpm.c (docs/mwpm.md describes the layout): ns per alloc/free pair of 1-32 pages.', '',
                  '| build | managed pages | in use | ns/pair (median) | min - max | tree visits/pair |', '|---|---|---|---|---|---|']
        for cfg, data in lat.items():
            for r in data['results']:
                lines.append(f'| {cfg} | {r["pages"]} | {r["frag"]:.0%} | {r["ns_per_pair"]:.0f} | '
                             f'{r["ns_min"]:.0f} - {r["ns_max"]:.0f} | {r["visits_per_pair"]:.1f} |')
        lines.append('')
    if files:
        lines += ['## Plots', '']
        for f in files:
            rel = os.path.relpath(f, os.path.join(TOP, 'docs'))
            lines.append(f'![{os.path.basename(f)}]({rel})')
        lines.append('')
    with open(os.path.join(TOP, 'docs', 'benchmarks.md'), 'w') as f:
        f.write('\n'.join(lines))


def machine():
    cpu = ''
    try:
        with open('/proc/cpuinfo') as f:
            for l in f:
                if l.startswith('model name'):
                    cpu = l.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    node = subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()
    return f'{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, node {node}, emscripten 3.1.6'


def parse_args(argv):
    ap = argparse.ArgumentParser(prog='tools/bench', description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='fewer repetitions and smaller scales (< 3 minutes)')
    ap.add_argument('--reps', type=int, help='repetitions per mode (default 11, quick 3)')
    ap.add_argument('--only', help='comma-separated workloads (' + ', '.join(w.name for w in WORKLOADS) + ', firsttouch, latency, browser)')
    ap.add_argument('--no-docs', action='store_true', help='do not rewrite docs/benchmarks.md')
    ap.add_argument('--no-browser', action='store_true', help='skip the headless Chromium runs')
    args = ap.parse_args(argv)
    args.reps = args.reps or (3 if args.quick else 11)
    if args.reps < 1:
        ap.error('--reps must be at least 1')
    args.only = set(args.only.split(',')) if args.only else None
    known = {w.name for w in WORKLOADS} | {'latency', 'firsttouch', 'browser'}
    if args.only and not args.only <= known:
        ap.error(f'unknown workload(s): {", ".join(sorted(args.only - known))}')
    return args


def wanted(args, name):
    return not args.only or name in args.only


def run_workloads(args, bdir, result, log):
    for w in WORKLOADS:
        if not wanted(args, w.name):
            continue
        if not os.path.exists(os.path.join(bdir, w.program)):
            log(f'[bench] {w.name}: {w.program} not built, skipped')
            continue
        log(f'[bench] {w.name}: {w.about}')
        runs = run_pairs(bdir, w, args.reps, args.quick, log)
        result['runs'][w.name] = runs
        result['summary'][w.name] = summarize(runs, w.metrics)


def run_traces(args, bdir):
    """fill-drop-refill once per mode with --memory-trace, for the memory plot."""
    traces = {}
    w = workload('fill-drop-refill')
    for mode, arg in MODES:
        path = os.path.join(bdir, f'bench-trace-{mode}.txt')
        if os.path.exists(os.path.join(bdir, w.program)):
            subprocess.run(NODE + [w.program] + (w.quick_args if args.quick else w.args) +
                           [arg, f'--memory-trace={os.path.basename(path)}'], cwd=bdir, capture_output=True,
                           timeout=600)
            traces[mode] = read_trace(path)
    return traces


def run_firsttouch(args, bdir, log):
    ft = []
    for _ in range(args.reps):
        r = subprocess.run(NODE + [os.path.join(bdir, 'tests/bench/bench-firsttouch.js')], capture_output=True,
                           text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f'bench-firsttouch failed: {r.stderr[-1000:]}')
        ft.append(last_json(r.stdout))
    out = {k: statistics.median(d[k] for d in ft)
           for k in ('grow_ms', 'first_touch_ms', 'first_touch_us_per_page', 'memset_ms')}
    log(f'[bench] fresh memory, 64 MiB (median of {args.reps}): first touch {out["first_touch_ms"]:.1f} ms, '
        f'memset afterwards {out["memset_ms"]:.1f} ms')
    return out


def report(args, argv, result, log):
    """Writes the JSON, the plots and (unless --no-docs) docs/benchmarks.md; prints the targets."""
    os.makedirs(RESULTS, exist_ok=True)
    stem = os.path.join(RESULTS, datetime.datetime.now().strftime('%Y-%m-%d-%H%M'))
    files = plots(result, stem)
    rows = check_targets(result['summary'], result.get('latency'))
    result['targets'] = [{'target': t, 'measured': v, 'met': ok} for t, v, ok in rows]
    with open(stem + '.json', 'w') as f:
        json.dump(result, f, indent=1)
    cmdline = './tools/bench' + (' ' + ' '.join(argv if argv is not None else sys.argv[1:])).rstrip()
    if not args.no_docs:
        write_docs(result, files, rows, cmdline)
    log('')
    log('Targets')
    for text, val, ok in rows:
        log(f'  {"met " if ok else ("MISS" if ok is False else "  - ")}  {text}: {val}')
    log(f'results: {os.path.relpath(stem, TOP)}.json, plots: ' + ', '.join(os.path.relpath(f, TOP) for f in files))


def main(argv=None):
    args = parse_args(argv)
    log = lambda m: print(m, flush=True)
    start = time.monotonic()
    log('[bench] building wasm-release')
    build('wasm-release')
    bdir = build_dir('wasm-release')
    result = {'date': datetime.datetime.now().strftime('%Y-%m-%d %H:%M'), 'machine': machine(), 'reps': args.reps,
              'quick': args.quick, 'runs': {}, 'summary': {}}
    run_workloads(args, bdir, result, log)
    if wanted(args, 'fill-drop-refill'):
        result['traces'] = run_traces(args, bdir)
    if wanted(args, 'firsttouch'):
        result['firsttouch'] = run_firsttouch(args, bdir, log)
    if wanted(args, 'latency'):
        log('[bench] page-manager latency (release, native and wasm)')
        result['latency'] = run_latency(args, log)
    if not args.no_browser and wanted(args, 'browser'):
        log('[bench] startup and steady in headless Chromium')
        result['browser'], result['runs']['browser'] = run_browser(bdir, max(2, args.reps // 2), args.quick, log)
    report(args, argv, result, log)
    log(f'total {time.monotonic() - start:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
