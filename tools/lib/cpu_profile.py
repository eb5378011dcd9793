"""./tools/profile: where the time of an sgen-stress run goes, per variant, from V8's CPU
profiles (docs/performance.md).

Builds build/wasm-prof (release, linked with --profiling-funcs so that wasm functions keep their
names), runs `node --cpu-prof --cpu-prof-interval 100` on sgen-stress over each mmap mode, the
modes in alternation, sums the self time per function over the runs and prints the functions
that take the most, in milliseconds per run. V8's own collector shows as "(garbage collector)";
page faults are charged to whatever function touched the page first.
"""
import argparse
import collections
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import toolchains
from build import build, build_dir
from configs import config

PROF = config('wasm-prof')
MODES = {'mwpm': 'on', 'libc': 'off', 'malloc': 'malloc'}


def self_times(profile_dir):
    """Self time per function name (ms), summed over the .cpuprofile files of a folder."""
    total = collections.Counter()
    for path in glob.glob(os.path.join(profile_dir, '*.cpuprofile')):
        with open(path) as f:
            p = json.load(f)
        names = {n['id']: n['callFrame']['functionName'] or '(anonymous)' for n in p['nodes']}
        for sample, dt in zip(p['samples'], p['timeDeltas']):
            total[names[sample]] += dt / 1000.0
    return total


def profile(js, words, runs, prefault_mib=0):
    dirs = {name: tempfile.mkdtemp(prefix=f'mwpm-prof-{name}-') for name in MODES}
    env = dict(os.environ, MWPM_PREFAULT_MIB=str(prefault_mib)) if prefault_mib else None
    for _ in range(runs):
        for name, mode in MODES.items():   # alternated
            subprocess.run(toolchains.node() + ['--cpu-prof', f'--cpu-prof-dir={dirs[name]}',
                            '--cpu-prof-interval', '100', js, f'--mono-wasm-mmap={mode}'] + words,
                           capture_output=True, cwd=os.path.dirname(js), check=True, env=env)
    out = {}
    for name, d in dirs.items():
        out[name] = {k: v / runs for k, v in self_times(d).items()}
        shutil.rmtree(d)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog='tools/profile', description=__doc__.split('\n')[0])
    ap.add_argument('--runs', type=int, default=5, help='runs per mode (default 5)')
    ap.add_argument('--top', type=int, default=20, help='functions to print (default 20)')
    ap.add_argument('--prefault', type=int, default=0, metavar='MIB',
                    help='grow the memory to MIB and touch every page before main (page faults made free)')
    args, words = ap.parse_known_args(argv)
    args.words = words or ['--workloads=startup']   # the rest are sgen-stress's options
    build(PROF, ['tests/sgen-stress.js'])
    res = profile(os.path.join(build_dir(PROF), 'tests', 'sgen-stress.js'), args.words, args.runs, args.prefault)
    names = sorted(set().union(*res.values()), key=lambda k: -max(r.get(k, 0) for r in res.values()))
    print(f'sgen-stress {" ".join(args.words)}: self time per run (ms), {args.runs} runs per mode, alternated'
          + (f', faults made free ({args.prefault} MiB touched before main)' if args.prefault else ''))
    print(f'{"function":44}' + ''.join(f'{m:>10}' for m in MODES))
    for k in names[:args.top]:
        print(f'{k[:44]:44}' + ''.join(f'{res[m].get(k, 0):10.1f}' for m in MODES))
    print(f'{"all samples":44}' + ''.join(f'{sum(res[m].values()):10.1f}' for m in MODES))
    return 0


if __name__ == '__main__':
    sys.exit(main())
