"""The 'port' suite of ./tools/test (emscripten 6.0.5): ports/mwpm.py as a user links it.

Programs are compiled in a folder outside the checkout with nothing but
`emcc prog.c --use-port=<checkout>/ports/mwpm.py[:variant=pool]` and the usual settings, single-
threaded and with -pthread, wasm32 and wasm64 (-m64); every build of the port is emscripten's
own (in its cache):
  - tests/port/port-mmap.c over the mmap variant: mwpm serves mmap, fresh pages are not memset,
    part of a mapping can be unmapped, a hint over the hole is honoured (its TAP cases count);
  - tests/test-one-pool.c (a program that knows nothing of mwpm) over the pool variant: mmap 70 %
    of a 256 MiB memory, unmap, malloc 60 %, and the reverse, and in pthreads four threads mixing
    malloc and mmap;
  - the port's refusals: an unknown variant, and the pool with another malloc (-sMALLOC=emmalloc),
    each with its message.
mimalloc's stress over the port is in the peers suite (peers.py).
"""
import os
import subprocess
import tempfile

import toolchains
from build import TOP
from tally import Tally

PORT = os.path.join(TOP, 'ports', 'mwpm.py')
THREADS = ['-pthread', '-sPTHREAD_POOL_SIZE=8', '-sINITIAL_MEMORY=64MB', '-Wno-pthreads-mem-growth']
COMMON = ['-O2', '-sALLOW_MEMORY_GROWTH=1', '-sEXIT_RUNTIME=1']


def emcc(d, args):
    return subprocess.run(toolchains.wrap(toolchains.current(), ['emcc'] + args), cwd=d, capture_output=True, text=True)


def tap(out, t, prefix):
    """Counts the TAP lines of a program's output; returns whether any failed."""
    bad = False
    for line in out.splitlines():
        if line.startswith('ok '):
            t.ok()
        elif line.startswith('not ok'):
            t.fail(f'{prefix}: {line}')
            bad = True
    return bad


def run_program(d, js, args, t, prefix):
    p = subprocess.run(toolchains.node() + [js] + args, cwd=d, capture_output=True, text=True, timeout=300)
    bad = tap(p.stdout, t, prefix)
    if p.returncode != 0 and not bad:
        t.fail(f'{prefix}: exit {p.returncode}')
        bad = True
    status = 'FAILED' if bad else 'ok'
    print(f'[port] {prefix}: {status}' + (f'\n{p.stdout[-2000:]}{p.stderr[-2000:]}' if bad else ''), flush=True)


def link(d, t, name, src, flags, out):
    r = emcc(d, [src, '-o', out] + COMMON + flags)
    if r.returncode != 0:
        t.fail(f'port: {name}: emcc failed')
        print(f'[port] {name}: emcc failed:\n{r.stderr[-3000:]}', flush=True)
        return False
    return True


def refusal(d, t, name, flags, message):
    r = emcc(d, [os.path.join(TOP, 'tests', 'port', 'port-mmap.c'), '-o', 'refused.js'] + COMMON + flags)
    ok = r.returncode != 0 and message in r.stdout + r.stderr
    (t.ok if ok else lambda: t.fail(f'port: {name}'))()
    print(f'[port] {name}: {"ok" if ok else "FAILED: exit " + str(r.returncode) + " " + (r.stdout + r.stderr)[-800:]}', flush=True)


def run(args):
    t = Tally()
    tests = os.path.join(TOP, 'tests')
    with tempfile.TemporaryDirectory(prefix='mwpm-port-', dir='/tmp') as d:
        for target, threads in ((tg, th) for tg in ('wasm32', 'wasm64') for th in (False, True)):
            mode = ('pthreads' if threads else 'single-threaded') + (', wasm64' if target == 'wasm64' else '')
            extra = (THREADS if threads else []) + (['-m64'] if target == 'wasm64' else [])
            name = f'{"mt" if threads else "st"}{"-64" if target == "wasm64" else ""}'
            js = f'port-mmap-{name}.js'
            if link(d, t, f'port-mmap ({mode})', os.path.join(tests, 'port', 'port-mmap.c'), extra + [f'--use-port={PORT}'], js):
                run_program(d, js, [], t, f'port-mmap over the mmap variant ({mode})')
            js = f'one-pool-{name}.js'
            flags = extra + ['-I' + tests, f'--use-port={PORT}:variant=pool', '-sMAXIMUM_MEMORY=256MB']
            if link(d, t, f'one-pool ({mode})', os.path.join(tests, 'test-one-pool.c'), flags, js):
                for case in ['mmap-first', 'malloc-first'] + (['threads'] if threads else []):
                    run_program(d, js, [f'--case={case}'], t, f'test-one-pool --case={case} over the pool variant ({mode})')
        refusal(d, t, 'an unknown variant is refused, naming the variants', [f'--use-port={PORT}:variant=both'],
                'variant=both: one of mmap, pool')
        refusal(d, t, 'the pool with another malloc is refused, saying why',
                [f'--use-port={PORT}:variant=pool', '-sMALLOC=emmalloc'], 'it brings malloc')
    return t
