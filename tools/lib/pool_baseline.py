"""The 'pool' suite's second half: the one-pool scenario where its outcome is recorded (docs/pool.md).

The suite's first half is the meson tests of the shared-pool build (configs.py: wasm-pool),
where the scenario must succeed in both directions with mwpm serving the GC. Here the same
program runs where running out of memory is a result, not a failure: the plain 'wasm' build
with --mono-wasm-mmap=on (the original problem) and =off (libc's mmap), and the shared-pool
build with =off. Each run counts as one case and fails only when the program fails for another
reason (damaged memory, an error other than ENOMEM, a crash that is not the GC running out of
memory); the outcome of every phase is printed.
"""
import re
import subprocess

import toolchains
from build import build, build_dir
from configs import config
from tally import Tally

TARGET = 'tests/test-pool-scenario.js'
# Configurations by their 3.1.6 names; the process's toolchain picks its own (configs.config).
RUNS = [(c, d, m) for c, modes in (('wasm', ('on', 'off')), ('wasm-pool', ('off',)))
        for d in ('gc-first', 'malloc-first') for m in modes]
# sgen stops the program when a collection cannot get memory to promote into (it cannot return
# NULL there): with libc's overhead that is how the GC side runs out.
GC_OUT_OF_MEMORY = re.compile(r'sgen: fatal: .*out of memory')
RESULT = re.compile(r'^# result: (.*)$')
TIMEOUT = 300


def _describe(lines):
    """The result lines of the phases, as 'phase: got/asked MiB ok|ENOMEM'."""
    out = []
    for line in lines:
        fields = dict(kv.split('=', 1) for kv in line.split() if '=' in kv)
        got = re.search(r'got=(\d+)', line)
        asked = re.search(r'asked=(\d+)', line)
        state = 'ok' if ' ok ' in line else 'ENOMEM' if 'error=' in line else '?'
        out.append(f'{fields.get("phase", "?")}: {got.group(1) if got else "?"}/'
                   f'{asked.group(1) if asked else "?"} MiB {state}')
    return out


def run(args):
    r = Tally()
    for cfg in (config('wasm'), config('wasm-pool')):
        try:
            print(f'[pool] building {TARGET} in {cfg}', flush=True)
            build(cfg, [TARGET])
        except SystemExit as e:
            print(f'[pool] {e}', flush=True)
            r.fail(f'build {cfg} {TARGET}')
            return r
    print('[pool] recorded outcomes (running out of memory here is a result, not a failure):', flush=True)
    for base, direction, mmap in RUNS:
        cfg = config(base)
        cmd = toolchains.node() + [f'{build_dir(cfg)}/{TARGET}', f'--direction={direction}', f'--mono-wasm-mmap={mmap}',
                                   '--sgen-verify']
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
            out, err, rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired:
            out, err, rc = '', '', 'timeout'
        results = [m.group(1) for m in map(RESULT.match, out.splitlines()) if m]
        name = f'{cfg} {direction} --mono-wasm-mmap={mmap}'
        if rc == 0 and results:
            r.ok()
            print(f'[pool] {name}: ' + '; '.join(_describe(results)), flush=True)
        elif rc != 0 and GC_OUT_OF_MEMORY.search(err):
            r.ok()
            line = GC_OUT_OF_MEMORY.search(err).group(0)
            done = _describe(results)
            oom = f'{"then " if done else ""}the GC side ran out of memory ({line})'
            print(f'[pool] {name}: ' + '; '.join(done + [oom]), flush=True)
        else:
            r.fail(f'{name}: exit {rc}')
            print(f'[pool] {name}: FAILED (exit {rc})\n{out[-3000:]}{err[-2000:]}', flush=True)
    return r
