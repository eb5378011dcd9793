"""The emscripten toolchains the project is built and tested with: the one place that lists them.

  3.1.6  Debian 12's package, on the host (tools/setup installs it with apt).
  6.0.5  Debian unstable's package, in a root filesystem of its own that tools/setup makes with
         debootstrap outside the checkout (ROOT below): sid's clang 21, node 24 and python can
         only run on sid's libc. Commands reach it through tools/with-emscripten, which runs them
         there in a mount namespace of their own, with the checkout, the current folder and /tmp
         seen at the same paths inside as outside (build folders keep absolute paths).

A toolchain's name is what `tools/with-emscripten NAME` and `./tools/bench --toolchain NAME`
take; '6' is an alias of '6.0.5'.
"""
import os
from dataclasses import dataclass

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass(frozen=True)
class Toolchain:
    name: str
    cross: str               # file in cross/, without .txt
    root: str | None = None  # the root filesystem, None for the host
    suite: str = ''          # Debian suite of the root filesystem
    package: str = ''        # the pinned emscripten package version
    about: str = ''
    wasm64_cross: str | None = None  # its cross file for wasm64 (memory64), where it builds wasm64


# Where root filesystems live: outside any checkout, so that every clone reuses one (and its
# emscripten library cache). MWPM_TOOLCHAINS_DIR moves it.
ROOTS = os.environ.get('MWPM_TOOLCHAINS_DIR', '/var/lib/mwpm-toolchains')

TOOLCHAINS = {
    '3.1.6': Toolchain('3.1.6', 'emscripten', about="emscripten 3.1.6 (Debian 12's package, node 20, clang 14)"),
    '6.0.5': Toolchain('6.0.5', 'emscripten-6', root=os.path.join(ROOTS, 'emscripten-6.0.5-sid'), suite='sid',
                       package='6.0.5+dfsg+~1.41.5-2', wasm64_cross='emscripten-6-wasm64',
                       about="emscripten 6.0.5 (Debian unstable's package in a root filesystem, node 24, clang 21)"),
}
ALIASES = {'6': '6.0.5', '3': '3.1.6', 'host': '3.1.6'}
DEFAULT = '3.1.6'


def current():
    """The toolchain of this process: MWPM_TOOLCHAIN, else the default."""
    return get(os.environ.get('MWPM_TOOLCHAIN', DEFAULT)).name


def suffix(name):
    """What a toolchain's configuration and folder names carry: '' for 3.1.6, '-6' for 6.0.5."""
    tc = get(name)
    return '' if tc.name == DEFAULT else '-' + tc.name.split('.')[0]


def get(name):
    """The toolchain a name or alias stands for; SystemExit naming the known ones otherwise."""
    key = ALIASES.get(name, name)
    if key not in TOOLCHAINS:
        raise SystemExit(f'unknown emscripten toolchain {name!r}: one of '
                         + ', '.join(sorted(TOOLCHAINS) + sorted(ALIASES)))
    return TOOLCHAINS[key]


# What Debian's 3.1.6 needs in the environment: its JS optimizer's modules (NODE_PATH), and
# Debian's python for emcc (EMSDK_PYTHON).
HOST_ENV = {'NODE_PATH': '/usr/share/nodejs', 'EMSDK_PYTHON': '/usr/bin/python3'}
NODE = os.path.join(TOP, 'tools', 'wasm', 'node')


def wrap(name, cmd):
    """The command line that runs cmd with that toolchain (in the current folder)."""
    tc = get(name)
    if tc.root is None:
        return ['env'] + [f'{k}={v}' for k, v in HOST_ENV.items()] + list(cmd)
    return [os.path.join(TOP, 'tools', 'with-emscripten'), tc.name] + list(cmd)


def node(name=None):
    """The command that runs a wasm program's .js with a toolchain's node (tools/wasm/node
    decides its flags)."""
    return wrap(name or current(), [NODE])
