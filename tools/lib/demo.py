"""./tools/demo: sgen-stress as wasm under node, mwpm on then off, one table side by side.

Builds the release wasm configuration, runs the stress workload (GCBench trees, object-graph
churn, large objects, fill-drop-refill both ways) with the same seed in both modes, and prints
time, bytes zeroed, linear memory, fragmentation, collections and the verification result.
Writes build/demo/: report.json (both runs' JSON), pagemap.png (mwpm's page table at the end
of each workload), memory traces.
"""
import argparse
import json
import os
import subprocess
import sys
import time

from build import TOP, build, build_dir
import pagemap

PROGRAM = 'tests/sgen-stress.js'


def run(bdir, out, mode, args):
    flag = '--mono-wasm-mmap=on' if mode == 'mwpm' else '--mono-wasm-mmap=off'
    extra = [f'--memory-trace={os.path.join(out, f"trace-{mode}.csv")}']
    if mode == 'mwpm':
        dump = os.path.join(out, 'pagemap.jsonl')
        if os.path.exists(dump):
            os.remove(dump)
        extra.append(f'--mwpm-dump={dump}')
    cmd = ['node', '--no-experimental-fetch', os.path.join(bdir, PROGRAM), flag, '--json',
           f'--seed={args.seed}', f'--scale={args.scale}'] + extra
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=out)
    wall = time.monotonic() - t0
    lines = [l for l in r.stdout.splitlines() if l.startswith('{')]
    if r.returncode != 0 or not lines:
        sys.stdout.write(r.stdout[-3000:] + r.stderr[-3000:])
        raise SystemExit(f'demo: sgen-stress with {flag} failed (exit {r.returncode})')
    d = json.loads(lines[-1])
    d['process_wall_s'] = wall
    return d


def mib(v):
    return f'{v / 2**20:,.1f} MiB'


def ratio(a, b):
    return f'{a / b:.2f}' if b else '-'


def main(argv=None):
    ap = argparse.ArgumentParser(prog='tools/demo', description=__doc__.split('\n')[0])
    ap.add_argument('--scale', type=int, default=1, help='work multiplier of sgen-stress (default 1)')
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args(argv)
    if args.scale < 1:
        ap.error('--scale must be at least 1')
    print('[demo] building the release wasm configuration (first time: a minute or two)', flush=True)
    t0 = time.monotonic()
    build('wasm-release', [PROGRAM])
    print(f'[demo] built in {time.monotonic() - t0:.0f} s', flush=True)
    bdir = build_dir('wasm-release')
    out = os.path.join(TOP, 'build', 'demo')
    os.makedirs(out, exist_ok=True)
    res = {}
    for mode in ('mwpm', 'libc'):
        print(f'[demo] sgen-stress --scale={args.scale} --seed={args.seed} with {mode} ...', flush=True)
        res[mode] = run(bdir, out, mode, args)
    m, l = res['mwpm'], res['libc']
    mw = m.get('mwpm', {})
    controlled = mw.get('pages_in_use', 0) + mw.get('pages_free_zeroed', 0) + mw.get('pages_free_dirty', 0)
    rows = [
        ('time inside the process', f'{m["elapsed_ms"]:,.0f} ms', f'{l["elapsed_ms"]:,.0f} ms', ratio(m['elapsed_ms'], l['elapsed_ms'])),
        ('bytes zeroed by the page layer', mib(m['bytes_zeroed_by_page_layer']), mib(l['bytes_zeroed_by_page_layer']),
         ratio(m['bytes_zeroed_by_page_layer'], l['bytes_zeroed_by_page_layer'])),
        ('linear memory, peak', mib(m['linear_memory_peak']), mib(l['linear_memory_peak']), ratio(m['linear_memory_peak'], l['linear_memory_peak'])),
        ('linear memory, final', mib(m['linear_memory_final']), mib(l['linear_memory_final']), ratio(m['linear_memory_final'], l['linear_memory_final'])),
        ('GC memory returned to the page layer', mib(m['os_bytes_freed']), mib(l['os_bytes_freed']), ''),
        ('GC memory requested, peak', mib(m['os_bytes_peak']), mib(l['os_bytes_peak']), ''),
        ('pages in use / pages held (end)', f'{mw["pages_in_use"] / controlled:.3f}' if controlled else '-', 'n/a', ''),
        ('largest free run (end)', f'{mw.get("largest_free_run", 0)} pages', 'n/a', ''),
        ('collections minor / major', f'{m["collections_minor"]} / {m["collections_major"]}',
         f'{l["collections_minor"]} / {l["collections_major"]}', ''),
        ('verification errors', str(m['verify_errors'] + m.get('checksum_errors', 0)),
         str(l['verify_errors'] + l.get('checksum_errors', 0)), ''),
        ('result digest', m.get('result_digest', '-'), l.get('result_digest', '-'),
         'same' if m.get('result_digest') == l.get('result_digest') else 'DIFFERENT'),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows + [('', 'mwpm', '', '')])
    w2 = max(len(r[2]) for r in rows + [('', '', 'libc mmap', '')])
    print()
    print(f'sgen-stress, wasm under node, seed {args.seed}, scale {args.scale}, workloads: {m.get("workloads", "all")}')
    print(f'{"":{w0}}  {"mwpm":>{w1}}  {"libc mmap":>{w2}}  mwpm/libc')
    for name, a, b, r in rows:
        print(f'{name:{w0}}  {a:>{w1}}  {b:>{w2}}  {r}')
    report = os.path.join(out, 'report.json')
    with open(report, 'w') as f:
        json.dump(res, f, indent=1)
    print()
    dump = os.path.join(out, 'pagemap.jsonl')
    if os.path.exists(dump):
        png = os.path.join(out, 'pagemap.png')
        pagemap.draw(pagemap.load(dump), png, 256, 'mwpm page table during sgen-stress (end of each workload)')
        print(f'page map: {os.path.relpath(png, TOP)}')
    print(f'full report: {os.path.relpath(report, TOP)}; memory traces: build/demo/trace-*.csv')
    ok = m['verify_errors'] == 0 and l['verify_errors'] == 0 and m.get('result_digest') == l.get('result_digest')
    print('verified: both modes ' + ('passed with identical results' if ok else 'DID NOT agree or verify'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
