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
import tempfile
import time
import xml.etree.ElementTree as ET

import toolchains
from build import build, build_dir, tool
from configs import CONFIGS, SUITES
from tally import Tally

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
    r = subprocess.run(tool(name, cmd), capture_output=True, text=True)
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
        start = time.monotonic()
        rt = run_runner(spec, args)
        print(f'[{suite}] {spec["runner"]}: {rt.passed} passed, {rt.failed} failed, {rt.skipped} skipped '
              f'({time.monotonic() - start:.0f} s)', flush=True)
        t.add(rt)
    return t


def run_runner(spec, args):
    """A suite's own runner (a module of tools/lib with run(args) -> Tally), in a process of its
    own whose toolchain is the suite's (MWPM_TOOLCHAIN): its modules read it once, at import."""
    with tempfile.NamedTemporaryFile(suffix='.json', delete=False) as f:
        out = f.name
    env = dict(os.environ, MWPM_TOOLCHAIN=spec.get('toolchain') or toolchains.DEFAULT,
               PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
    cmd = [sys.executable, os.path.abspath(__file__), '--run-runner', spec['runner'], '--tally-file', out]
    if args.long:
        cmd.append('--long')
    r = subprocess.run(cmd, env=env)
    t = Tally()
    try:
        with open(out) as f:
            d = json.load(f)
        t.passed, t.failed, t.skipped, t.failures = d['passed'], d['failed'], d['skipped'], d['failures']
    except (OSError, ValueError, KeyError):
        t.fail(f'runner {spec["runner"]} ended without a result (exit {r.returncode})')
    finally:
        os.unlink(out)
    return t


def runner_main(args):
    """Inside run_runner's process: runs the runner and writes its tally."""
    mod = importlib.import_module(args.run_runner)
    t = mod.run(args)
    with open(args.tally_file, 'w') as f:
        json.dump({'passed': t.passed, 'failed': t.failed, 'skipped': t.skipped, 'failures': t.failures}, f)
    return 0


def suite_label(name):
    """A suite's name with the emscripten it runs on."""
    spec = SUITES[name]
    if spec.get('toolchains_label'):
        return f'{name} ({spec["toolchains_label"]})'
    tc = spec.get('toolchain')
    return f'{name} ({toolchains.get(tc).name})' if tc else name


def main():
    ap = argparse.ArgumentParser(prog='tools/test', description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='the native suite only')
    ap.add_argument('--suite', action='append', choices=list(SUITES), help='run this suite (repeatable)')
    ap.add_argument('--long', action='store_true', help='long runs of the randomized tests')
    ap.add_argument('--list', action='store_true', help='list suites and configurations')
    ap.add_argument('--all', action='store_true', help='also the suites only --all runs (the peers on emscripten 3.1.6)')
    ap.add_argument('--run-runner', help=argparse.SUPPRESS)
    ap.add_argument('--tally-file', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_runner:
        return runner_main(args)
    if args.list:
        for s, spec in SUITES.items():
            print(f'{suite_label(s)}: ' + ', '.join(f'{c} ({CONFIGS[c].about})' for c in spec.get('configs', []))
                  + (f' + runner {spec["runner"]}' if spec.get('runner') else '')
                  + (' [--all only]' if spec.get('all_only') else ''))
        return 0
    args.test_args = ['--long'] if args.long else []
    suites = ['native'] if args.quick else (args.suite or [s for s, spec in SUITES.items() if args.all or not spec.get('all_only')])
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
        print(f'  {suite_label(s):30s} {t.passed:5d} passed {t.failed:4d} failed {t.skipped:4d} skipped  {secs:6.0f} s')
    for f in total.failures:
        print(f'  FAILED: {f}')
    print(f'  total time {time.monotonic() - start:.0f} s')
    print(f'{total.passed} passed, {total.failed} failed')
    return 1 if total.failed else 0


if __name__ == '__main__':
    sys.exit(main())
