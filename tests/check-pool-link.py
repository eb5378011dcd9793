"""check-pool-link.py: linking libmwpm-pool.a without -sMALLOC=none stops with a clear message
(mono/utils/mwpm/dropin/mwpm-pool.js) instead of making a program with two allocators; with it,
the same link succeeds and the program runs on the pool. Run by meson (tests/meson.build) with
the emscripten compiler, the archive and the JS library as arguments."""
import os
import subprocess
import sys
import tempfile

emcc, archive, js_library = sys.argv[1], sys.argv[2], sys.argv[3]
extra = sys.argv[4:]
env = dict(os.environ, NODE_PATH='/usr/share/nodejs', EMSDK_PYTHON='/usr/bin/python3')
# node with the flags its version needs (tools/wasm/node decides them).
NODE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools', 'wasm', 'node')
MESSAGE = 'libmwpm-pool: link with -sMALLOC=none'
PROGRAM = '#include <stdlib.h>\nint main (void) { void *p = malloc (100); free (p); return p == NULL; }\n'


def link(out, flags):
    cmd = [emcc, 'prog.c', '-Wl,--whole-archive', archive, '-Wl,--no-whole-archive',
           '--js-library=' + js_library, '-o', out] + extra + flags
    return subprocess.run(cmd, cwd=d, env=env, capture_output=True, text=True)


with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, 'prog.c'), 'w') as f:
        f.write(PROGRAM)
    print('1..2')
    r = link('without.js', [])
    ok = r.returncode != 0 and MESSAGE in r.stdout + r.stderr
    print(f'{"ok" if ok else "not ok"} 1 - without -sMALLOC=none the link stops, saying why')
    if not ok:
        print('# exit', r.returncode, (r.stdout + r.stderr)[-800:].replace('\n', '\n# '))
    r = link('with.js', ['-sMALLOC=none'])
    run = subprocess.run([NODE, os.path.join(d, 'with.js')], capture_output=True,
                         text=True) if r.returncode == 0 else None
    ok2 = r.returncode == 0 and run is not None and run.returncode == 0
    print(f'{"ok" if ok2 else "not ok"} 2 - with -sMALLOC=none it links and runs')
    if not ok2:
        print('# exit', r.returncode, (r.stdout + r.stderr)[-800:].replace('\n', '\n# '))
    sys.exit(0 if ok and ok2 else 1)
