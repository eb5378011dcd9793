"""./tools/demo: sgen-stress as wasm under node over each place the GC can take its memory
from, side by side: mwpm, mwpm with malloc on the same pool, emscripten's mmap, and the
malloc-backed backend dotnet ships (bench_defs.py: VARIANTS).

Builds the single-threaded release configurations, runs a runtime-start workload (startup) and
the whole stress run (GCBench trees, object-graph churn, large objects, fill-drop-refill both
ways) with the same seed over every variant, and prints time, what the process holds (the
linear memory's resident bytes, the peak RSS), bytes zeroed, memory.grow calls and V8's full
collections (node --trace-gc), the address space (memory.size) against the GC's peak,
collections and the verification result, with the ratios mwpm/libc and mwpm/malloc. Writes build/demo/: report.json (every run's JSON), pagemap.png (mwpm's page table
at the end of each workload of the whole run), memory traces.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import pagemap
import toolchains
from bench_defs import FULL_GC, VARIANTS, config
from build import TOP, build, build_dir

PROGRAM = 'tests/sgen-stress.js'
RUNS = [('startup', ['--workloads=startup']), ('whole run', ['--workloads=all'])]


def run(variant, words, out, args, trace):
    bdir = build_dir(config('st', variant))
    extra = []
    if trace:
        extra.append(f'--memory-trace={os.path.join(out, f"trace-{variant.name}.csv")}')
        if variant.name == 'mwpm':
            dump = os.path.join(out, 'pagemap.jsonl')
            if os.path.exists(dump):
                os.remove(dump)
            extra.append(f'--mwpm-dump={dump}')
    cmd = toolchains.node() + ['--trace-gc', os.path.join(bdir, PROGRAM), f'--mono-wasm-mmap={variant.mmap}',
                               '--json', f'--seed={args.seed}', f'--scale={args.scale}'] + words + extra
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=out)
    lines = [l for l in r.stdout.splitlines() if l.startswith('{')]
    if r.returncode != 0 or not lines:
        sys.stdout.write(r.stdout[-3000:] + r.stderr[-3000:])
        raise SystemExit(f'demo: sgen-stress {" ".join(words)} over {variant.name} failed (exit {r.returncode})')
    d = json.loads(lines[-1])
    d['v8_full_gcs'] = len(FULL_GC.findall(r.stdout))
    return d


def mib(v):
    return f'{v / 2**20:,.1f} MiB'


def rows_of(res):
    """(label, value per variant, ratios wanted): the table of one workload."""
    def held(d):
        m = d.get('mwpm') or {}
        n = m.get('pages_in_use', 0) + m.get('pages_free_zeroed', 0) + m.get('pages_free_dirty', 0)
        return m['pages_in_use'] / n if n else None
    known = lambda key: (lambda d: d[key] if d.get(key, -1) >= 0 else None)
    return [
        ('time (init + workload)', lambda d: d['run_ms'], lambda v: f'{v:,.0f} ms', True),
        ('linear memory resident, end', known('resident_linear_end'), mib, True),
        ('process peak RSS', known('process_peak_rss'), mib, True),
        ('bytes zeroed by the page layer', lambda d: d['bytes_zeroed_by_page_layer'], mib, False),
        ('memory.grow calls', known('memory_grow_calls'), str, False),
        ('V8 full collections', lambda d: d['v8_full_gcs'], str, False),
        ('address space (memory.size), final', lambda d: d['linear_memory_final'], mib, True),
        ('GC memory requested, peak', lambda d: d['os_bytes_peak'], mib, False),
        ('address space final / GC peak', lambda d: d['linear_memory_final'] / d['os_bytes_peak'], lambda v: f'{v:.3f}', True),
        ('mwpm pages in use / held (end)', held, lambda v: f'{v:.3f}', False),
        ('collections minor / major', lambda d: f'{d["collections_minor"]} / {d["collections_major"]}', str, False),
        ('verification errors', lambda d: d['verify_errors'] + d.get('checksum_errors', 0), str, False),
        ('result digest', lambda d: d.get('result_digest', '-'), str, False),
    ]


def print_table(title, res):
    names = [v.name for v in VARIANTS]
    head = ['', *names, 'mwpm/libc', 'mwpm/malloc']
    body = []
    for label, get, fmt, ratios in rows_of(res):
        vals = [get(res[n]) for n in names]
        cells = [fmt(v) if v is not None else '-' for v in vals]
        r = [f'{vals[0] / res_v:.2f}' if ratios and res_v else '' for res_v in (vals[names.index('libc')], vals[names.index('malloc')])]
        body.append([label, *cells, *r])
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
    print(f'\n{title}')
    for row in [head] + body:
        print('  '.join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))


def verified(res):
    digests = {d.get('result_digest') for d in res.values()}
    return all(d['verify_errors'] == 0 for d in res.values()) and len(digests) == 1


def main(argv=None):
    ap = argparse.ArgumentParser(prog='tools/demo', description=__doc__.split('\n')[0])
    ap.add_argument('--scale', type=int, default=1, help='work multiplier of sgen-stress (default 1)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--toolchain', default=toolchains.DEFAULT,
                    help='the emscripten to build and run with: 3.1.6 (default) or 6 (tools/lib/toolchains.py)')
    args = ap.parse_args(argv)
    if args.scale < 1:
        ap.error('--scale must be at least 1')
    tc = toolchains.get(args.toolchain)
    os.environ['MWPM_TOOLCHAIN'] = tc.name
    print(f'[demo] with {tc.about}', flush=True)
    t0 = time.monotonic()
    for cfg in sorted({config('st', v) for v in VARIANTS}):
        print(f'[demo] building {cfg} (first time: a minute or two)', flush=True)
        build(cfg, [PROGRAM])
    print(f'[demo] built in {time.monotonic() - t0:.0f} s', flush=True)
    out = os.path.join(TOP, 'build', 'demo')
    os.makedirs(out, exist_ok=True)
    report, ok = {}, True
    for title, words in RUNS:
        print(f'[demo] sgen-stress {" ".join(words)} --scale={args.scale} --seed={args.seed} over '
              + ', '.join(v.name for v in VARIANTS), flush=True)
        res = {v.name: run(v, words, out, args, title == 'whole run') for v in VARIANTS}
        print_table(f'{title}: sgen-stress {" ".join(words)}, wasm under node, single-threaded, emscripten {tc.name}, '
                    f'seed {args.seed}, scale {args.scale}', res)
        report[title] = res
        ok &= verified(res)
    with open(os.path.join(out, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1)
    dump = os.path.join(out, 'pagemap.jsonl')
    if os.path.exists(dump):
        pagemap.draw(pagemap.load(dump), os.path.join(out, 'pagemap.png'), 256,
                     'mwpm page table during sgen-stress (end of each workload)')
    print('\nvariants: ' + '; '.join(f'{v.name} = {v.about}' for v in VARIANTS))
    print('full report: build/demo/report.json; page map: build/demo/pagemap.png; memory traces: build/demo/trace-*.csv')
    print('verified: every variant ' + ('passed with identical results' if ok else 'DID NOT agree or verify'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
