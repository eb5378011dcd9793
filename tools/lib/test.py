"""./tools/test: build every configuration, run every suite, count individual test cases.

meson 1.0.1's own summary counts test() programs, so the cases are read from each build's
meson-logs/testlog.junit.xml (one <testcase> per TAP line), and a program that failed without
a failing case of its own (a crash, a timeout, a missing plan) counts as one failed case.
"""
import argparse
import importlib
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from build import build, build_dir
from configs import CONFIGS, SUITES
from tally import Tally


def read_meson_results(bdir):
    t = Tally()
    junit = os.path.join(bdir, 'meson-logs', 'testlog.junit.xml')
    failed_programs = set()
    cased_failures = set()
    if os.path.exists(junit):
        for suite in ET.parse(junit).getroot():
            prog = suite.get('name', '?')
            for case in suite:
                if case.tag != 'testcase':
                    continue
                kids = {k.tag for k in case}
                if 'failure' in kids or 'error' in kids:
                    t.fail(f'{prog}: {case.get("name")}')
                    cased_failures.add(prog)
                elif 'skipped' in kids:
                    t.skip()
                else:
                    t.ok()
    log = os.path.join(bdir, 'meson-logs', 'testlog.json')
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                r = json.loads(line)
                if r.get('result') in ('FAIL', 'ERROR', 'TIMEOUT', 'UNEXPECTEDPASS'):
                    failed_programs.add((r.get('name'), r.get('result')))
    project = 'mwpm.'
    for name, result in sorted(failed_programs):
        if project + name not in cased_failures and name not in cased_failures:
            t.fail(f'{name}: program {result}')
    return t


def run_config(name, test_args):
    bdir = build_dir(name)
    junit = os.path.join(bdir, 'meson-logs', 'testlog.junit.xml')
    if os.path.exists(junit):
        os.remove(junit)
    cmd = ['meson', 'test', '-C', bdir, '--print-errorlogs', '--num-processes', '2']
    if test_args:
        cmd += ['--test-args', ' '.join(test_args)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    t = read_meson_results(bdir)
    if r.returncode != 0 and t.failed == 0:
        t.fail(f'{name}: meson test exited {r.returncode}')
    if t.failed:
        sys.stdout.write(r.stdout[-12000:])
    return t


def run_suite(suite, args):
    spec = SUITES[suite]
    t = Tally()
    for cfg in spec.get('configs', []):
        start = time.monotonic()
        try:
            print(f'[{suite}] building {cfg} ({CONFIGS[cfg].about})', flush=True)
            build(cfg)
        except SystemExit as e:
            print(f'[{suite}] {e}', flush=True)
            t.fail(f'build {cfg}')
            continue
        print(f'[{suite}] testing {cfg}', flush=True)
        ct = run_config(cfg, args.test_args)
        ct.failures = [f'[{cfg}] {f}' for f in ct.failures]
        print(f'[{suite}] {cfg}: {ct.passed} passed, {ct.failed} failed, {ct.skipped} skipped '
              f'({time.monotonic() - start:.0f} s)', flush=True)
        t.add(ct)
    if spec.get('runner'):
        mod = importlib.import_module(spec['runner'])
        start = time.monotonic()
        rt = mod.run(args)
        print(f'[{suite}] {spec["runner"]}: {rt.passed} passed, {rt.failed} failed, {rt.skipped} skipped '
              f'({time.monotonic() - start:.0f} s)', flush=True)
        t.add(rt)
    return t


def main():
    ap = argparse.ArgumentParser(prog='tools/test', description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='the native suite only')
    ap.add_argument('--suite', action='append', choices=list(SUITES), help='run this suite (repeatable)')
    ap.add_argument('--long', action='store_true', help='long runs of the randomized tests')
    ap.add_argument('--list', action='store_true', help='list suites and configurations')
    args = ap.parse_args()
    if args.list:
        for s, spec in SUITES.items():
            print(f'{s}: ' + ', '.join(f'{c} ({CONFIGS[c].about})' for c in spec.get('configs', []))
                  + (f' + runner {spec["runner"]}' if spec.get('runner') else ''))
        return 0
    args.test_args = ['--long'] if args.long else []
    suites = ['native'] if args.quick else (args.suite or list(SUITES))
    start = time.monotonic()
    total = Tally()
    summary = []
    for s in suites:
        st = time.monotonic()
        t = run_suite(s, args)
        summary.append((s, t, time.monotonic() - st))
        total.add(t)
    print()
    print('Summary')
    for s, t, secs in summary:
        print(f'  {s:13s} {t.passed:5d} passed {t.failed:4d} failed {t.skipped:4d} skipped  {secs:6.0f} s')
    for f in total.failures:
        print(f'  FAILED: {f}')
    print(f'  total time {time.monotonic() - start:.0f} s')
    print(f'{total.passed} passed, {total.failed} failed')
    return 1 if total.failed else 0


if __name__ == '__main__':
    sys.exit(main())
