"""What ./tools/bench reports (bench.py measures): the targets table, the plots and
docs/benchmarks.md, all from the result dictionary of one run."""
import csv
import os
import re

import bench_defs as defs
from build import TOP


# ---- targets ----

def _row(result, src, th, w, key):
    return result.get(src, {}).get(th, {}).get(w, {}).get(key, {})


def ratio_of(src, th, w, key, other):
    return lambda r: _row(r, src, th, w, key).get('ratios', {}).get(other, {}).get('median')


def mwpm_value(src, th, w, key):
    return lambda r: _row(r, src, th, w, key).get('values', {}).get('mwpm', {}).get('median')


def mwpm_minus(src, th, w, key, other):
    """mwpm's median minus the other's (counts: memory.grow calls, V8 collections)."""
    def get(r):
        vals = _row(r, src, th, w, key).get('values', {})
        a, b = vals.get('mwpm', {}).get('median'), vals.get(other, {}).get('median')
        return None if a is None or b is None else a - b
    return get


# The per-workload targets (docs/benchmarks.md): (column, metric key, getter maker, limit).
# A getter maker takes (src, th, w, key) and returns the measured value's getter.
PER_WORKLOAD = [
    ('time /libc <= 0.9', 'run_ms', lambda *a: ratio_of(*a, 'libc'), 0.9),
    ('time /malloc <= 1.0', 'run_ms', lambda *a: ratio_of(*a, 'malloc'), 1.0),
    # The same with page faults made free (every page touched before main): time at any fault cost.
    ('no-fault time /libc <= 0.9', 'run_ms', lambda src, *a: ratio_of('prefault', *a, 'libc'), 0.9),
    ('no-fault time /malloc <= 1.0', 'run_ms', lambda src, *a: ratio_of('prefault', *a, 'malloc'), 1.0),
    ('resident end /libc <= 0.85', 'resident_linear_end', lambda *a: ratio_of(*a, 'libc'), 0.85),
    ('resident end /malloc <= 0.9', 'resident_linear_end', lambda *a: ratio_of(*a, 'malloc'), 0.9),
    ('resident peak /libc <= 0.85', 'resident_linear_peak', lambda *a: ratio_of(*a, 'libc'), 0.85),
    ('resident peak /malloc <= 0.9', 'resident_linear_peak', lambda *a: ratio_of(*a, 'malloc'), 0.9),
    ('peak RSS /libc < 1', 'process_peak_rss', lambda *a: ratio_of(*a, 'libc'), 0.9999),
    ('peak RSS /malloc < 1', 'process_peak_rss', lambda *a: ratio_of(*a, 'malloc'), 0.9999),
    ('memory.grow calls - libc <= 0', 'memory_grow_calls', lambda *a: mwpm_minus(*a, 'libc'), 0),
    ('V8 full GCs - libc <= 1', 'v8_full_gcs', lambda *a: mwpm_minus(*a, 'libc'), 1),
    ('address space / GC peak <= 1.5', 'linear_over_gc_peak', lambda *a: mwpm_value(*a), 1.5),
]


def targets():
    """(text, getter, limit, at_least, group): the targets of docs/benchmarks.md. group names the
    row of the per-workload matrix (workload, threading), or None for the others."""
    out = []
    for th, label in defs.THREADINGS.items():
        tag = f'node, {label}'
        for w in defs.TARGET_WORKLOADS:
            for column, key, maker, limit in PER_WORKLOAD:
                out.append((f'{w}: {column} ({tag})', maker('summary', th, w, key), limit, False, (w, th, column)))
        out += [(f'startup: bytes zeroed by the page layer / bytes mapped, mwpm <= 0.01 ({tag})',
                 mwpm_value('summary', th, 'startup', 'zeroed_share'), 0.01, False, None),
                (f'page layer alone: time, mwpm/libc <= 0.35 ({tag})',
                 ratio_of('summary', th, 'pagelayer', 'elapsed_ms', 'libc'), 0.35, False, None)]
    for th, label in defs.THREADINGS.items():
        out.insert(0, (f'startup: time, mwpm/libc <= 0.8 (node, {label}; with faults made free too)',
                       lambda r, th=th: max((v for v in (ratio_of('summary', th, 'startup', 'run_ms', 'libc')(r),
                                                         ratio_of('prefault', th, 'startup', 'run_ms', 'libc')(r))
                                             if v is not None), default=None), 0.8, False, None))
    # The one-pool drop-in against emscripten's malloc + mmap (mimalloc's test-stress).
    pool = lambda key: (lambda r: (r.get('peers') or {}).get('pairs', {}).get('pool/libc-malloc', {}).get(key, {}).get('median'))
    out += [('peers: mimalloc test-stress, time, pool/libc-malloc <= 1.0', pool('seconds'), 1.0, False, None),
            ('peers: mimalloc test-stress, final linear memory, pool/libc-malloc <= 0.85', pool('memory'), 0.85, False, None),
            ('peers: mimalloc test-stress, resident memory, pool/libc-malloc <= 0.85', pool('resident'), 0.85, False, None),
            ('peers: mimalloc test-stress, time, dropin/libc no worse than before (<= 1.0)',
             lambda r: (r.get('peers') or {}).get('pairs', {}).get('dropin/libc', {}).get('seconds', {}).get('median'),
             1.0, False, None)]
    # PHP over the mmap drop-in against Playground's chunk storage (issue 27) and emscripten's mmap.
    def php(s, pair, key):
        return lambda r: (r.get('php') or {}).get(s, {}).get('pairs', {}).get(pair, {}).get(key, {}).get('median')

    def copied(s, v):
        """MiB."""
        def get(r):
            b = (r.get('php') or {}).get(s, {}).get('metrics', {}).get('huge_copied', {}).get(v, {}).get('median')
            return None if b is None else round(b / 2**20, 1)
        return get
    out += [('PHP request loop: time per request, dropin/storage <= 0.95', php('requests', 'dropin/storage', 'ms_per_request'),
             0.95, False, None),
            ('PHP request loop: resident memory, dropin/storage <= 0.8', php('requests', 'dropin/storage', 'resident'), 0.8,
             False, None),
            ('PHP request loop: huge blocks copied, dropin <= 1 MiB (storage copies every resize)',
             copied('requests', 'dropin'), 1.0, False, None)]
    for script in ('Zend/bench.php', 'leak'):
        out += [(f'PHP {script}: time, dropin/storage <= 1.0', php(script, 'dropin/storage', 'seconds'), 1.0, False, None),
                (f'PHP {script}: resident memory, dropin/storage <= 0.8', php(script, 'dropin/storage', 'resident'), 0.8,
                 False, None)]
    out += [('PHP leak script: huge blocks copied, dropin <= 1 MiB', copied('leak', 'dropin'), 1.0, False, None),
            ('PHP Zend/bench.php: time, dropin/libc <= 1.0', php('Zend/bench.php', 'dropin/libc', 'seconds'), 1.0, False, None)]
    # Reported beside node's: Chromium's rounds are fewer and noisier.
    for th, label in defs.THREADINGS.items():
        for w in defs.BROWSER_WORKLOADS:
            for other, limit in (('libc', 0.9), ('malloc', 1.0)):
                out.append((f'{w}: time, mwpm/{other} <= {limit} (Chromium, {label})',
                            ratio_of('browser', th, w, 'run_ms', other), limit, False, None))
            out.append((f'{w}: resident end, mwpm/libc <= 0.85 (Chromium, {label})',
                        ratio_of('browser', th, w, 'resident_linear_end', 'libc'), 0.85, False, None))
    return out


def check_targets(result):
    """[(text, measured text, met: True/False/None, group)]."""
    rows = []
    for text, get, limit, at_least, group in targets():
        v = get(result)
        if v is None:
            rows.append((text, 'not measured', None, group))
        else:
            shown = f'{v:g}' if isinstance(v, int) or float(v).is_integer() else f'{v:.3f}'
            rows.append((text, shown, v >= limit if at_least else v <= limit, group))
    lat = (result.get('latency') or {}).get('wasm-release')
    if lat:
        at32 = [r for r in lat['results'] if 30000 <= r['pages'] <= 34000]
        if at32:
            worst = max(r['ns_per_pair'] for r in at32)
            rows.append(('page manager: alloc/free pair at 32k pages <= 455 ns (wasm, every fragmentation)',
                         f'{worst:.0f} ns (worst level)', worst <= 455, None))
    return rows


# ---- plots ----

def save(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def ratio_bars(summary):
    """(label, {other: (median, min, max)}) for every time or memory metric."""
    bars = []
    for w, metrics in summary.items():
        for row in metrics.values():
            if row['unit'] in ('ms', 'B') and row['ratios']:
                bars.append((f'{w}\n{row["label"]}', {o: (r['median'], r['min'], r['max'])
                                                     for o, r in row['ratios'].items()}))
    return bars


def plot_ratios(plt, result, stem):
    ths = [th for th in defs.THREADINGS if result['summary'].get(th)]
    if not ths:
        return []
    fig, axes = plt.subplots(len(ths), 1, figsize=(12, 4.2 * len(ths)), squeeze=False)
    colors = {'pool': '#6a9f58', 'libc': '#3b6ea8', 'malloc': '#c8733a'}
    for ax, th in zip(axes[:, 0], ths):
        bars = ratio_bars(result['summary'][th])
        width = 0.8 / len(defs.OTHERS)
        for i, o in enumerate(defs.OTHERS):
            xs = [j + (i - (len(defs.OTHERS) - 1) / 2) * width for j in range(len(bars))]
            vals = [b[1].get(o, (0, 0, 0)) for b in bars]
            ax.bar(xs, [v[0] for v in vals], width, color=colors[o], label=f'mwpm / {o}')
            ax.errorbar(xs, [v[0] for v in vals], yerr=[[v[0] - v[1] for v in vals], [v[2] - v[0] for v in vals]],
                        fmt='none', ecolor='black', capsize=2, linewidth=0.7)
        ax.axhline(1.0, color='grey', linewidth=0.8, linestyle='--')
        ax.set_xticks(range(len(bars)))
        ax.set_xticklabels([b[0] for b in bars], fontsize=6.5)
        ax.set_ylabel('ratio of medians (whiskers: min-max)')
        ax.set_title(f'mwpm against the others, wasm under node, {defs.THREADINGS[th]}')
        ax.legend(fontsize=7)
    return [save(plt, fig, stem + '-ratios.png')]


def plot_latency(plt, result, stem):
    lat = result.get('latency') or {}
    if not lat:
        return []
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for cfg, data in lat.items():
        for lv in sorted({r['frag'] for r in data['results']}):
            pts = sorted((r['pages'], r['ns_per_pair'], r['ns_min'], r['ns_max']) for r in data['results'] if r['frag'] == lv)
            ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[[p[1] - p[2] for p in pts], [p[3] - p[1] for p in pts]],
                        marker='o', capsize=3, label=f'{cfg.split("-")[0]}, {lv:.0%} in use')
    ax.set_xscale('log')
    ax.set_xlabel('managed pages')
    ax.set_ylabel('ns per alloc/free pair (median)')
    ax.axhline(500, color='grey', linestyle='--', linewidth=0.8)
    ax.legend(fontsize=7)
    ax.set_title('mwpm alloc/free latency')
    return [save(plt, fig, stem + '-latency.png')]


def plot_traces(plt, result, stem):
    traces = {m: rows for m, rows in (result.get('traces') or {}).items() if rows}
    if not traces:
        return []
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for mode, rows in traces.items():
        t = [r['time_ms'] for r in rows]
        line, = ax.plot(t, [r['linear_memory'] / 2**20 for r in rows], label=f'{mode}: linear memory')
        ax.plot(t, [r['os_bytes_live'] / 2**20 for r in rows], linestyle=':', color=line.get_color(),
                label=f'{mode}: GC memory live')
    ax.set_xlabel('ms')
    ax.set_ylabel('MiB')
    ax.legend(fontsize=7, ncol=2)
    ax.set_title('fill-drop-refill, single-threaded: memory over time')
    return [save(plt, fig, stem + '-memory.png')]


def plots(result, stem):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plot_ratios(plt, result, stem) + plot_latency(plt, result, stem) + plot_traces(plt, result, stem)


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


# ---- docs/benchmarks.md ----

def ratio_cell(r):
    return f'{r["median"]:.3f} ({r["min"]:.2f}-{r["max"]:.2f})' if r else '-'


def table(metrics):
    """Markdown: metric | each variant's median | mwpm/X (min-max of the rounds)."""
    head = ['metric'] + [v.name for v in defs.VARIANTS] + [f'mwpm/{o}' for o in defs.OTHERS]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for row in metrics.values():
        cells = [defs.fmt(row['values'].get(v.name, {}).get('median'), row['unit']) for v in defs.VARIANTS]
        cells += [ratio_cell(row['ratios'].get(o)) for o in defs.OTHERS]
        lines.append('| ' + ' | '.join([row['label']] + cells) + ' |')
    return lines


def workload_sections(summary, where):
    lines = []
    for w in defs.WORKLOADS:
        per = {th: summary[th][w.name] for th in defs.THREADINGS if w.name in summary.get(th, {})}
        if not per:
            continue
        lines += [f'### {w.name} ({where})', '', w.about + '.', '']
        for th, metrics in per.items():
            lines += [f'{defs.THREADINGS[th]}:', ''] + table(metrics) + ['']
    return lines


def header(result, rows, cmdline):
    ft = result.get('firsttouch') or {}
    fault = (f'- the first write to a fresh 4 KiB page of linear memory cost {ft["first_touch_us_per_page"]:.2f} us in this run '
             f'(bench-firsttouch, at its start; every time ratio depends on it: "no-fault" columns and the table '
             f'"Time with page faults made free" give the same ratios with the memory touched before main)') if ft else \
        '- the cost of a first write was not measured in this run'
    lines = ['# Benchmarks', '',
             f'- command: `{cmdline}`', f'- date: {result["date"]}', f'- machine: {result["machine"]}', fault,
             f'- repetitions: {result["reps"]} per variant under node' +
             (f', {1 if result.get("quick") else max(5, result["reps"] // 2)} in Chromium' if result.get('browser') else ''), '',
             '| variant | what the GC takes its memory from |', '|---|---|']
    lines += [f'| {v.name} | {v.about} |' for v in defs.VARIANTS]
    lines += ['', 'Each variant runs in a single-threaded build and in a pthreads build (`-pthread`,',
              '64 MiB initial memory: meson.build) of the same sources, release (`-O3`).', '',
              '## Targets', '']
    lines += target_matrix(rows)
    lines += ['Other targets:', '', '| target | measured | met |', '|---|---|---|']
    lines += [f'| {t} | {v} | {verdict(ok)} |' for t, v, ok, group in rows
              if group is None and (ok is not None or result.get('target') != 'wasm64')]
    return lines + ['']


def verdict(ok):
    return 'yes' if ok else ('no' if ok is False else '-')


def target_matrix(rows):
    """The per-workload targets as one table: a row per workload and build, a column per target;
    each cell the measured value and whether it is met."""
    cells = {g: (v, ok) for t, v, ok, g in rows if g}
    if not cells:
        return []
    columns = [c for c, *_ in PER_WORKLOAD]
    lines = ['Per workload, under node (each cell: the measured value, then whether the target is met):', '',
             '| workload | build | ' + ' | '.join(columns) + ' |', '|---|---|' + '---|' * len(columns)]
    for th, label in defs.THREADINGS.items():
        for w in defs.TARGET_WORKLOADS:
            vals = [cells.get((w, th, c)) for c in columns]
            lines.append(f'| {w} | {label} | ' + ' | '.join(f'{v} {verdict(ok)}' if v else '-' for v, ok in
                                                             (x or ('', None) for x in vals)) + ' |')
    met = sum(1 for *_, ok, g in rows if g and ok)
    measured = sum(1 for *_, ok, g in rows if g and ok is not None)
    return lines + ['', f'{met} of {measured} measured per-workload targets met.', '']


def peers_section(peers):
    """mimalloc's test-stress over the drop-ins (the peers suite's programs, docs/drop-in.md)."""
    if not peers or 'pairs' not in peers:
        return []
    labels = {'seconds': ('time', 's'), 'memory': ('final linear memory (memory.size)', 'B'),
              'resident': ('linear memory resident, final', 'B'), 'mmap': ('mmap calls', 'n'),
              'munmap': ('munmap calls', 'n')}
    links = [m for m in ('libc', 'dropin', 'libc-malloc', 'pool') if any(m in v for v in peers['metrics'].values())]
    lines = ['## A third-party program: mimalloc\'s test-stress on the drop-ins', '',
             'mimalloc 2.0.9 test/test-stress.c (4 threads, scale 200, 20 iterations, pthreads), linked four ways',
             '(tools/lib/peers.py): over an mmap-only dlmalloc of its own with libc\'s mmap (libc) and with',
             'libmwpm-mmap.a (dropin); in its plain malloc mode over emscripten\'s own malloc and mmap',
             '(libc-malloc) and over libmwpm-pool.a, malloc and mmap from one pool (pool).',
             f'{peers["reps"]} runs each in alternation; medians, and each drop-in over what it replaces with the',
             'per-run min-max.', '',
             '| metric | ' + ' | '.join(links) + ' | dropin/libc | pool/libc-malloc |', '|---|' + '---|' * (len(links) + 2)]
    for key, (label, unit) in labels.items():
        m = peers['metrics'].get(key, {})
        val = lambda v: '-' if v is None else (f'{v:.2f} s' if unit == 's' else defs.fmt(v, unit))
        cells = [val(m.get(l, {}).get('median')) for l in links]
        cells += [ratio_cell(peers['pairs'].get(p, {}).get(key)) for p in ('dropin/libc', 'pool/libc-malloc')]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    hz = ', '.join(f'{l} {peers["hazards"].get(l, 0)}' for l in links)
    fl = ', '.join(f'{l} {peers["failures"].get(l, 0)}' for l in links)
    lines += ['', f'Runs that trapped with the pthreads memset hazard (docs/testing.md): {hz}; other failures: {fl}.', '']
    return lines


PHP_VARIANTS = ('libc', 'dropin', 'pool', 'storage')
PHP_RATIOS = ('dropin/storage', 'pool/storage', 'dropin/libc', 'pool/libc')


def php_section(php):
    """PHP over the drop-ins, emscripten's mmap and Playground's chunk storage (tools/lib/php.py
    builds PHP): its own benchmarks, the leak script, the request loop."""
    if not php:
        return []
    lines = ["## A real runtime: PHP 8.2", '',
             "PHP 8.2.32 (Debian's php8.2, tools/lib/php.py: the CLI, zend_mm on), one build linked four ways:",
             "emscripten's mmap (libc), libmwpm-mmap.a (dropin), libmwpm-pool.a (pool), and zend_mm's chunk storage",
             'as WordPress Playground ships it (storage: posix_memalign + memset per chunk and huge block, free, no',
             'truncate or extend; tests/peers/php-storage.c). Zend/bench.php and micro_bench.php (their own totals),',
             'tests/peers/php-leak.php and tests/peers/php-requests.php (a request loop: time per request); the final',
             'linear memory and its resident bytes, the bytes zend_mm copied to reallocate huge blocks; medians of',
             'alternated runs, ratios with the per-run min-max.', '',
             '| workload | runs | metric | ' + ' | '.join(PHP_VARIANTS) + ' | ' + ' | '.join(PHP_RATIOS) + ' |',
             '|---|---|---|' + '---|' * (len(PHP_VARIANTS) + len(PHP_RATIOS))]
    labels = {'seconds': ('time', 's'), 'ms_per_request': ('time per request', 'ms'), 'memory': ('final linear memory', 'B'),
              'resident': ('linear memory resident', 'B'), 'huge_copied': ('huge blocks copied', 'B'),
              'mmap': ('mmap calls', 'n'), 'munmap_failed': ('failed munmap calls', 'n')}
    names = {'leak': f'php-leak.php ({php.get("leak", {}).get("rounds_of_script", "?")} rounds)',
             'requests': f'php-requests.php ({php.get("requests", {}).get("requests", "?")} requests)'}
    for script, r in php.items():
        for key, (label, unit) in labels.items():
            m = r['metrics'].get(key, {})
            if not m:
                continue
            val = lambda v: '-' if v is None else (f'{v:.3f} s' if unit == 's' else f'{v:.2f} ms' if unit == 'ms'
                                                   else defs.fmt(v, unit))
            cells = [val(m.get(v, {}).get('median')) for v in PHP_VARIANTS]
            cells += [ratio_cell(r['pairs'].get(p, {}).get(key)) for p in PHP_RATIOS]
            lines.append(f'| {names.get(script, script)} | {r["reps"]} | {label} | ' + ' | '.join(cells) + ' |')
    lines.append('')
    if 'leak' in php:
        lines += ["Over emscripten's mmap (libc) the leak script runs out of memory (munmap of part of a mapping",
                  'fails, so nothing zend_mm gives back is freed): it is not timed there.', '']
    out = (php.get('requests') or {}).get('libc_outcome')
    if out and not out.get('completed'):
        reached = out.get('checkpoints_reached') or []
        lines += [f"Over emscripten's mmap the request loop stops "
                  + (f'after request {reached[-1]}' if reached else 'in its first request')
                  + f' (exit {out.get("rc")}: "{out.get("error", "")}"): a huge block that grows or is cut short needs a',
                  'partial munmap or a mapping at a hint, which that mmap refuses. It is not timed there.', '']
    return lines


def prefault_section(result):
    """Each time ratio as it comes and with page faults made free, side by side."""
    pre = result.get('prefault') or {}
    if not pre:
        return []
    ft = (result.get('firsttouch') or {}).get('first_touch_us_per_page')
    lines = ['## Time with page faults made free', '',
             f'The same workloads with the linear memory grown to {result.get("prefault_mib", "?")} MiB and every page '
             'touched before main() (tools/wasm/pre.js, MWPM_PREFAULT_MIB), so that no first write faults: the time '
             'ratios at a fault cost of zero, beside the ones measured as the memory comes'
             + (f' ({ft:.2f} us per first write in this run)' if ft else '') + '. Medians of each mode\'s own rounds.', '',
             '| workload | build | mwpm/libc as it comes | mwpm/libc no faults | mwpm/malloc as it comes | mwpm/malloc no faults |',
             '|---|---|---|---|---|---|']
    for th, label in defs.THREADINGS.items():
        for w in defs.TARGET_WORKLOADS:
            cells = []
            for other in ('libc', 'malloc'):
                for src in ('summary', 'prefault'):
                    r = _row(result, src, th, w, 'run_ms').get('ratios', {}).get(other)
                    cells.append(ratio_cell(r) if r else '-')
            if any(c != '-' for c in cells):
                lines.append(f'| {w} | {label} | ' + ' | '.join([cells[0], cells[1], cells[2], cells[3]]) + ' |')
    return lines + ['']


def extra_sections(result):
    lines = prefault_section(result) + php_section(result.get('php'))
    ft = result.get('firsttouch')
    if ft:
        lines += ['## Fresh memory on this machine', '',
                  'tests/bench/bench-firsttouch.c, 64 MiB grown with sbrk, no page layer involved (median):', '',
                  '| grow | first write to every 4 KiB page | per page | memset of the same 64 MiB afterwards |',
                  '|---|---|---|---|',
                  f'| {ft["grow_ms"]:.1f} ms | {ft["first_touch_ms"]:.1f} ms | {ft["first_touch_us_per_page"]:.2f} us | '
                  f'{ft["memset_ms"]:.1f} ms |', '']
        if 'first_memset_ms' in ft:
            lines += ['The first write to 64 MiB of fresh memory, made in different ways (each on its own fresh '
                      'region; the memset above is of memory already written):', '',
                      '| ' + ' | '.join(label for _, label in defs.FIRST_WRITES) + ' |',
                      '|' + '---|' * len(defs.FIRST_WRITES),
                      '| ' + ' | '.join(f'{ft[k]:.1f} ms' for k, _ in defs.FIRST_WRITES) + ' |', '']
    lines += peers_section(result.get('peers'))
    lat = result.get('latency') or {}
    if lat:
        lines += ['## Page-manager latency', '',
                  'tests/bench/bench-mwpm.c (docs/mwpm.md describes the layout): ns per alloc/free pair of 1-32 pages.', '',
                  '| build | managed pages | in use | ns/pair (median) | min - max | tree visits/pair |', '|---|---|---|---|---|---|']
        for cfg, data in lat.items():
            lines += [f'| {cfg} | {r["pages"]} | {r["frag"]:.0%} | {r["ns_per_pair"]:.0f} | '
                      f'{r["ns_min"]:.0f} - {r["ns_max"]:.0f} | {r["visits_per_pair"]:.1f} |' for r in data['results']]
        lines.append('')
    return lines


INTRO = ['# Benchmarks', '',
         'Generated by `./tools/bench` (tools/lib/bench.py, bench_docs.py), one section per emscripten',
         'and target (`./tools/bench --toolchain 6` refreshes the 6.0.5 section, `--toolchain 6 --wasm64`',
         'the wasm64 one, and each leaves the others as they are).',
         'Every number of a section comes from one run of that command: each workload ran as separate',
         'processes, the variants in alternation (A B C D A B C D ...); values are medians, ratios are mwpm/X',
         'of the medians with the min-max of the per-round ratios in parentheses. What the numbers mean,',
         'with profiles, and what differs between the toolchains: [performance.md](performance.md).', '']
# One section per toolchain, between these markers, in this order.
BEGIN, END = '<!-- bench section: {} -->', '<!-- end of bench section: {} -->'


def section_lines(result, files, rows, cmdline):
    """A toolchain's section: header, workloads, extras, plots; headings one level down."""
    lines = header(result, rows, cmdline)
    lines += ['## Workloads under node', ''] + workload_sections(result['summary'], 'node')
    if result.get('browser'):
        lines += ['## In headless Chromium', '',
                  "The same programs in Debian's chromium driven by tools/browser-test, one fresh browser per page.", '']
        lines += workload_sections(result['browser'], 'Chromium')
    lines += extra_sections(result)
    if files:
        lines += ['## Plots', ''] + [f'![{os.path.basename(f)}]({os.path.relpath(f, os.path.join(TOP, "docs"))})'
                                     for f in files] + ['']
    lines = [('#' + l) if l.startswith('#') else l for l in lines[2:]]   # without '# Benchmarks'
    tc = result.get('toolchain', '3.1.6')
    key = defs.section(result)
    title = f'## Emscripten {tc}' + (', wasm64' if result.get('target') == 'wasm64' else '')
    return [BEGIN.format(key), title, ''] + lines + [END.format(key)]


def read_sections(text):
    """The sections of the page by toolchain. A page from before sections (no markers) is the
    3.1.6 section, its headings moved one level down."""
    out = {}
    if BEGIN.format('') .split(':')[0] not in text:
        body = text.split('\n')
        if body and body[0].startswith('# Benchmarks'):
            body = body[2:]
        body = [('#' + l) if l.startswith('#') else l for l in body]
        out['3.1.6'] = [BEGIN.format('3.1.6'), '## Emscripten 3.1.6', ''] + body + [END.format('3.1.6')]
        return out
    for tc in re.findall(r'<!-- bench section: (\S+) -->', text):
        a = text.index(BEGIN.format(tc))
        b = text.index(END.format(tc)) + len(END.format(tc))
        out[tc] = text[a:b].split('\n')
    return out


def write_docs(result, files, rows, cmdline):
    path = os.path.join(TOP, 'docs', 'benchmarks.md')
    sections = read_sections(open(path).read()) if os.path.exists(path) else {}
    sections[defs.section(result)] = section_lines(result, files, rows, cmdline)
    order = sorted(sections, key=lambda t: [int(x) for x in re.findall(r'\d+', t)])
    lines = list(INTRO)
    for tc in order:
        lines += sections[tc] + ['']
    with open(path, 'w') as f:
        f.write('\n'.join(lines))
