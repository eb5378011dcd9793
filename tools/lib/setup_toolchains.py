"""tools/setup's second part: every toolchain of toolchains.py that lives in a root filesystem
(emscripten 6.0.5 from Debian's unstable suite), installed once outside the checkout and reused
by every clone.

For each, unless its stamp says it is complete (a second run only reads the stamp):
  1. debootstrap --variant=minbase SUITE into ROOT.partial, renamed to ROOT when complete;
  2. inside it only, apt reads the archive's Release file past its Valid-Until date and installs
     no recommends (the host's own apt configuration is not touched);
  3. the pinned emscripten package must be in the archive, else setup stops naming it;
  4. emscripten at that version, and what the project's builds need there (meson, ninja,
     python3, pkg-config, node, make for PHP's build);
  5. emscripten's system libraries for every configuration the project links (single-threaded,
     pthreads): it builds them on first use, so once here rather than inside a test's timeout;
  6. the stamp: the package version and the list above.
Prints what it does; stops with a message naming the step that failed and its log.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import toolchains
import with_emscripten

MIRROR = 'http://deb.debian.org/debian'
PACKAGES = ['meson', 'ninja-build', 'python3', 'pkg-config', 'nodejs', 'make', 'file']
APT_CONF = ('// tools/setup: inside this root filesystem only. The archive\'s Release file may be past\n'
            '// its Valid-Until date; recommends are not needed.\n'
            'Acquire::Check-Valid-Until "false";\n'
            'APT::Install-Recommends "false";\n')
# What warms emscripten's library cache: one program per configuration the project links.
WARM = [('single-threaded', []), ('pthreads', ['-pthread']),
        ('wasm64', ['-m64']), ('wasm64-pthreads', ['-m64', '-pthread'])]
PROGRAM = '#include <stdio.h>\n#include <stdlib.h>\nint main (void) { free (malloc (10)); puts ("ok"); return 0; }\n'


def stamp_text(tc):
    return f'emscripten={tc.package}\n' + ''.join(f'{p}\n' for p in PACKAGES) + ''.join(f'warm={w}\n' for w, _ in WARM)


def say(msg):
    print(f'setup: {msg}', flush=True)


def fail(msg, log=None):
    if log and os.path.exists(log):
        with open(log, errors='replace') as f:
            sys.stderr.write(''.join(f.readlines()[-20:]))
    sys.stderr.write(f'setup: {msg}' + (f' (log: {log})' if log else '') + '\n')
    sys.exit(1)


def in_root(tc, cmd, log, cwd='/tmp'):
    """Runs cmd inside the root filesystem (mounts as tools/with-emscripten makes them),
    appending its output to log; returns the exit status."""
    run = with_emscripten.command_in_root(tc, cmd, cwd)
    env = with_emscripten.environment(tc)
    env['DEBIAN_FRONTEND'] = 'noninteractive'
    with open(log, 'a') as f:
        return subprocess.run(run, env=env, stdout=f, stderr=subprocess.STDOUT, cwd=cwd).returncode


def bootstrap(tc, log):
    partial = tc.root + '.partial'
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(os.path.dirname(tc.root), exist_ok=True)
    say(f'making a root filesystem of Debian {tc.suite} for emscripten {tc.name} in {tc.root} (debootstrap, about a minute)')
    t0 = time.monotonic()
    with open(log, 'a') as f:
        r = subprocess.run(['debootstrap', '--variant=minbase', tc.suite, partial, MIRROR], stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        fail(f'debootstrap of Debian {tc.suite} failed', log)
    os.rename(partial, tc.root)
    say(f'root filesystem made ({time.monotonic() - t0:.0f} s)')


def install(tc, log):
    with open(os.path.join(tc.root, 'etc', 'apt', 'apt.conf.d', '99mwpm'), 'w') as f:
        f.write(APT_CONF)
    t0 = time.monotonic()
    say(f'installing emscripten {tc.package} and {", ".join(PACKAGES)} in it (apt, a few minutes)')
    if in_root(tc, ['apt-get', 'update', '-q'], log) != 0:
        fail(f'apt-get update in the {tc.suite} root filesystem failed', log)
    r = subprocess.run(with_emscripten.command_in_root(tc, ['apt-cache', 'madison', 'emscripten'], '/tmp'),
                       env=with_emscripten.environment(tc), capture_output=True, text=True, cwd='/tmp')
    have = [line.split('|')[1].strip() for line in r.stdout.splitlines() if line.count('|') >= 2]
    if tc.package not in have:
        fail(f'Debian {tc.suite} does not have the pinned package emscripten {tc.package} '
             f'(it has: {", ".join(have) or "none"}); update the pin in tools/lib/toolchains.py')
    if in_root(tc, ['apt-get', 'install', '-y', '-q', '--no-install-recommends', f'emscripten={tc.package}'] + PACKAGES, log) != 0:
        fail(f'installing emscripten {tc.package} in the {tc.suite} root filesystem failed', log)
    in_root(tc, ['apt-get', 'clean'], log)
    say(f'installed ({time.monotonic() - t0:.0f} s)')


def warm_cache(tc, log):
    say(f'building emscripten {tc.name}\'s system libraries for ' + ', '.join(w for w, _ in WARM)
        + ' (once, about a minute and a half each)')
    with tempfile.TemporaryDirectory(dir='/tmp') as d:
        with open(os.path.join(d, 'warm.c'), 'w') as f:
            f.write(PROGRAM)
        for what, flags in WARM:
            t0 = time.monotonic()
            if in_root(tc, ['emcc', '-O2', 'warm.c', '-o', 'warm.js'] + flags, log, cwd=d) != 0:
                fail(f'emcc {" ".join(flags)} failed in the {tc.suite} root filesystem', log)
            say(f'  {what}: {time.monotonic() - t0:.0f} s')


def ensure(tc):
    stamp = os.path.join(tc.root, '.mwpm-ready')
    if os.path.exists(stamp) and open(stamp).read() == stamp_text(tc):
        return
    if os.geteuid() != 0:
        fail(f'emscripten {tc.name} needs a root filesystem ({tc.root}), which only root can make: run ./tools/setup as root')
    log = f'/tmp/mwpm-setup-{tc.name}.log'
    open(log, 'w').close()
    if not os.path.exists(os.path.join(tc.root, 'usr', 'bin', 'apt-get')):
        shutil.rmtree(tc.root, ignore_errors=True)
        bootstrap(tc, log)
    install(tc, log)
    warm_cache(tc, log)
    with open(stamp, 'w') as f:
        f.write(stamp_text(tc))
    say(f'emscripten {tc.name} ready ({tc.root})')


def main():
    for tc in toolchains.TOOLCHAINS.values():
        if tc.root:
            ensure(tc)
    return 0


if __name__ == '__main__':
    sys.exit(main())
