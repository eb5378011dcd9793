#!/usr/bin/python3
"""Runs bench-malloc of two emscripten builds alternately and prints them side by side.

    tests/bench/compare-malloc.py --plain BUILD_DIR --pool BUILD_DIR [--rounds N] [--reps N]

Each build folder must hold tests/bench/bench-malloc.js (release builds: see docs/pool.md).
Rounds alternate plain, pool, plain, pool, ... so that a busy period of the machine hurts both.
Times: the median over rounds of each run's median, and the minimum over all runs (the steadier
figure on a shared machine). Overhead figures are deterministic and printed once.
"""
import argparse
import os
import statistics
import subprocess
import sys


def run_once(build, reps):
    prog = os.path.join(build, 'tests', 'bench', 'bench-malloc.js')
    out = subprocess.run(['node', '--no-experimental-fetch', prog, f'--reps={reps}'],
                         capture_output=True, text=True, check=True).stdout
    values = {}
    for line in out.splitlines():
        name, value, _unit = line.split()
        values[name] = float(value)
    return values


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--plain', required=True, help='build folder of the plain (default malloc) build')
    ap.add_argument('--pool', required=True, help='build folder of the shared-pool build')
    ap.add_argument('--rounds', type=int, default=4, help='runs of each build (default 4)')
    ap.add_argument('--reps', type=int, default=5, help='repetitions inside each run (default 5)')
    args = ap.parse_args()
    builds = {'plain': args.plain, 'pool': args.pool}
    for name, b in builds.items():
        if not os.path.exists(os.path.join(b, 'tests', 'bench', 'bench-malloc.js')):
            sys.exit(f'compare-malloc: {b}/tests/bench/bench-malloc.js not found (--{name})')
    if not 1 <= args.rounds <= 50 or not 1 <= args.reps <= 100:
        sys.exit('compare-malloc: --rounds must be 1..50 and --reps 1..100')
    runs = {name: [] for name in builds}
    for i in range(args.rounds):
        for name, b in builds.items():
            runs[name].append(run_once(b, args.reps))
            print(f'round {i + 1}/{args.rounds}: {name} done', file=sys.stderr, flush=True)
    print(f'{"measure":30s} {"plain":>12s} {"pool":>12s} {"pool/plain":>10s}')
    for key in runs['plain'][0]:
        a = [r[key] for r in runs['plain']]
        b = [r[key] for r in runs['pool']]
        pick = min if key.endswith('_min') else statistics.median
        pa, pb = pick(a), pick(b)
        print(f'{key:30s} {pa:12.4f} {pb:12.4f} {pb / pa:10.3f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
