"""Configure and build the configurations of configs.py (shared by test, demo and bench)."""
import json
import os
import shutil
import subprocess
import sys

import toolchains
from configs import CONFIGS

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_dir(name):
    return os.path.join(TOP, 'build', name)


def _wanted(cfg):
    return {'cross': cfg.cross, 'options': list(cfg.options), 'env': cfg.env, 'toolchain': cfg.toolchain}


def tool(name, cmd):
    """cmd as it runs for configuration name: with its emscripten (tools/with-emscripten for a
    toolchain in a root filesystem), or as it is for native and WASI builds."""
    cfg = CONFIGS[name]
    return toolchains.wrap(cfg.toolchain, cmd) if cfg.toolchain else list(cmd)


def configure(name, quiet=True):
    """meson setup build/<name>, again from scratch when the configuration changed."""
    cfg = CONFIGS[name]
    bdir = build_dir(name)
    stamp = os.path.join(bdir, '.mwpm-config.json')
    want = _wanted(cfg)
    if os.path.exists(os.path.join(bdir, 'build.ninja')) and os.path.exists(stamp):
        with open(stamp) as f:
            if json.load(f) == want:
                return
    if os.path.exists(bdir):
        shutil.rmtree(bdir)
    cmd = ['meson', 'setup', bdir, TOP]
    if cfg.cross:
        cmd += ['--cross-file', os.path.join(TOP, 'cross', cfg.cross + '.txt')]
    cmd += list(cfg.options)
    env = dict(os.environ, **cfg.env)
    r = subprocess.run(tool(name, cmd), env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stdout.write(r.stdout[-4000:] + r.stderr[-4000:])
        raise SystemExit(f'configuring {name} failed: {" ".join(cmd)}')
    with open(stamp, 'w') as f:
        json.dump(want, f)


def build(name, targets=()):
    """configure + ninja; prints the compiler's output on failure."""
    configure(name)
    r = subprocess.run(tool(name, ['ninja', '-C', build_dir(name)] + list(targets)), capture_output=True, text=True)
    if r.returncode != 0:
        lines = (r.stdout + r.stderr).splitlines()
        errs = [l for l in lines if 'error' in l or 'FAILED' in l]
        sys.stdout.write('\n'.join((errs or lines)[-60:]) + '\n')
        raise SystemExit(f'building {name} failed (ninja -C {build_dir(name)})')
