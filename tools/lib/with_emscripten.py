"""tools/with-emscripten VERSION COMMAND...: runs COMMAND with that emscripten, in the current
folder (toolchains.py lists the versions).

3.1.6 is the host's: COMMAND runs as it is, with the environment Debian's emcc needs
(NODE_PATH for its JS optimizer, EMSDK_PYTHON for Debian's python). 6.0.5 runs COMMAND in the
root filesystem tools/setup made: in a mount namespace of its own (so nothing stays mounted after
it ends), with /proc, /dev, /tmp, the checkout and the current folder mounted at the same paths
inside, and the root filesystem's PATH (its emcc, node 24, meson, python). Needs root (or sudo
without a password): chroot and mounts do.
"""
import os
import shlex
import sys

import toolchains

# What the host's environment must not carry into the root filesystem (its python and node are
# others), and what Debian's 3.1.6 needs.
DROP = ('NODE_PATH', 'EMSDK_PYTHON', 'PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV', 'EM_CONFIG', 'EM_CACHE', 'LD_LIBRARY_PATH',
        'PYENV_VERSION')
HOST_ENV = {'NODE_PATH': '/usr/share/nodejs', 'EMSDK_PYTHON': '/usr/bin/python3'}
ROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'


def _binds(cwd):
    """Host folders seen at the same path inside: the checkout, /tmp, and the current folder
    when it lies in neither."""
    binds = [toolchains.TOP, '/tmp']
    real = os.path.realpath(cwd)
    if not any(real == b or real.startswith(b + '/') for b in binds) and real != '/':
        binds.append(real)
    return binds


def command_in_root(tc, cmd, cwd):
    """The host command line that runs cmd inside tc's root filesystem."""
    root = tc.root
    script = ['set -e',
              f'mount -t proc proc {shlex.quote(root + "/proc")}',
              f'mount --rbind /dev {shlex.quote(root + "/dev")}']
    for b in _binds(cwd):
        target = root + b
        script.append(f'mkdir -p {shlex.quote(target)}')
        script.append(f'mount --rbind {shlex.quote(b)} {shlex.quote(target)}')
    inner = f'cd {shlex.quote(cwd)} && exec "$@"'
    script.append(f'exec chroot {shlex.quote(root)} /bin/sh -c {shlex.quote(inner)} sh "$@"')
    run = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', '\n'.join(script), 'with-emscripten'] + list(cmd)
    if os.geteuid() != 0:
        run = ['sudo', '-n', '--preserve-env'] + run
    return run


def environment(tc):
    env = {k: v for k, v in os.environ.items() if k not in DROP}
    if tc.root is None:
        env.update(HOST_ENV)
    else:
        env['PATH'] = ROOT_PATH
        env['HOME'] = '/root'
    return env


def ready(tc):
    return tc.root is None or os.path.exists(os.path.join(tc.root, '.mwpm-ready'))


def main(argv):
    if len(argv) < 2 or argv[0] in ('-h', '--help'):
        print(__doc__.strip())
        print('versions: ' + ', '.join(f'{n} ({t.about})' for n, t in toolchains.TOOLCHAINS.items()))
        return 2
    tc = toolchains.get(argv[0])
    if not ready(tc):
        print(f'with-emscripten: emscripten {tc.name} is not installed ({tc.root}): run ./tools/setup', file=sys.stderr)
        return 2
    cwd = os.getcwd()
    cmd = argv[1:] if tc.root is None else command_in_root(tc, argv[1:], cwd)
    # exec, not a child: whoever waits for this process (and may kill it on a timeout) waits
    # for the command itself (unshare, sh and chroot exec in turn too).
    try:
        os.execvpe(cmd[0], cmd, environment(tc))
    except OSError as e:
        print(f'with-emscripten: {cmd[0]}: {e.strerror}', file=sys.stderr)
        return 127


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
