"""The 'browser' suite of ./tools/test: builds the programs tools/browser-test runs (only those,
so the suite does not depend on the rest of a build folder), runs it, and counts each page run
as one case (docs/browser.md).

Skipped, with the reason printed, only when Chromium or the driver (npm playwright-core) is
absent, i.e. when tools/setup could not install them.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

from build import TOP, build
from configs import SUITES
from tally import Tally

RUNNER = os.path.join(TOP, 'tools', 'browser-test')
CHROMIUM = '/usr/bin/chromium'
# Beyond the sum of the pages' own limits (tools/browser/runs.js, read at run time), so that
# only a runner that itself hangs meets it.
WHOLE_RUN_MARGIN = 300


def _missing_tools():
    need = {CHROMIUM: "Debian's chromium",
            os.path.join(TOP, 'node_modules', 'playwright-core'): 'npm playwright-core (npm ci)',
            '/usr/bin/node': 'nodejs'}
    return [f'{what} ({path})' for path, what in need.items() if not os.path.exists(path)]


def _run_runner(json_path, limit):
    """Runs tools/browser-test; its output goes straight to ours. Returns the exit status."""
    cmd = ['/usr/bin/node', RUNNER, '--json', json_path]
    proc = subprocess.Popen(cmd, cwd=TOP, start_new_session=True)
    try:
        return proc.wait(timeout=limit)
    except BaseException as e:
        # Timeout or Ctrl-C: SIGTERM lets the runner close the browser and server itself.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if isinstance(e, subprocess.TimeoutExpired):
            print(f'[browser] tools/browser-test ran longer than {limit} s: stopped', flush=True)
            return None
        raise


def _listed_runs(tmp):
    """The runs of tools/browser/runs.js, as tools/browser-test --list --json gives them."""
    path = os.path.join(tmp, 'runs.json')
    subprocess.run(['/usr/bin/node', RUNNER, '--list', '--json', path], cwd=TOP, check=True,
                   stdout=subprocess.DEVNULL)
    with open(path) as f:
        return json.load(f)['runs']


def _targets(cfg, runs):
    """The ninja targets of build `cfg` that the runs need (a program the build does not define
    fails the build with ninja's "unknown target")."""
    return sorted({r['program'] + '.js' for r in runs if r['build'] == cfg})


def _build_programs(runs, r):
    for cfg in SUITES['browser']['builds']:
        targets = _targets(cfg, runs)
        print(f'[browser] building {cfg}: {" ".join(targets)}', flush=True)
        try:
            build(cfg, targets)
        except SystemExit as e:
            print(f'[browser] {e}', flush=True)
            r.fail(f'build {cfg}')


def run(args):
    r = Tally()
    missing = _missing_tools()
    if missing:
        print(f'[browser] SKIPPED: no browser to run in: {", ".join(missing)} missing '
              '(tools/setup installs them)', flush=True)
        r.skip()
        return r
    with tempfile.TemporaryDirectory(prefix='mwpm-browser-') as tmp:
        runs = _listed_runs(tmp)
        _build_programs(runs, r)
    if r.failed:
        return r
    limit = sum(run_['timeout'] for run_ in runs) + WHOLE_RUN_MARGIN
    with tempfile.TemporaryDirectory(prefix='mwpm-browser-') as tmp:
        json_path = os.path.join(tmp, 'results.json')
        status = _run_runner(json_path, limit)
        results = None
        if os.path.exists(json_path):
            with open(json_path) as f:
                results = json.load(f)
    if results is None:
        r.fail(f'tools/browser-test wrote no results (exit status {status})')
        return r
    for run_ in results['runs']:
        if run_['status'] == 'pass':
            r.ok()
        else:
            r.fail(f'browser {run_["name"]}: {"; ".join(run_["problems"])[:300]}')
    if status != 0 and not r.failed:
        r.fail(f'tools/browser-test exited {status}')
    sys.stdout.flush()
    return r
