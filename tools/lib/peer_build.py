"""What the peers suite's builds share (tools/lib/peers.py: Boehm GC and mimalloc; tools/lib/php.py:
PHP): the folders, the private apt that fetches Debian's source packages, emcc with a stamp of its
flags, the links that choose a program's mmap, the mmap/munmap counter."""
import concurrent.futures
import fcntl
import hashlib
import os
import subprocess
import threading

import toolchains
from build import TOP, build_dir
from configs import config

# The toolchain of this process (MWPM_TOOLCHAIN, toolchains.current): its builds, links and runs
# live in a folder of their own (build/peers for 3.1.6, build/peers-6 for 6.0.5); the source
# packages and the private apt folders are shared (build/peers).
TOOLCHAIN = toolchains.current()
# MWPM_PEERS_TARGET=wasm64 (./tools/bench --wasm64): every object and program built with -m64
# in a folder of its own (build/peers-6-wasm64), over the wasm64 builds' drop-ins.
WASM64 = os.environ.get('MWPM_PEERS_TARGET') == 'wasm64'
if WASM64 and toolchains.get(TOOLCHAIN).wasm64_cross is None:
    raise SystemExit(f'MWPM_PEERS_TARGET=wasm64: emscripten {TOOLCHAIN} does not build wasm64')
SHARED = os.path.join(TOP, 'build', 'peers')
ROOT = SHARED + toolchains.suffix(TOOLCHAIN) + ('-wasm64' if WASM64 else '')
DOWNLOADS = os.path.join(SHARED, 'downloads')
PEERS_SRC = os.path.join(TOP, 'tests', 'peers')
EMENV = dict(os.environ)
NODE = toolchains.node(TOOLCHAIN)
ARCHIVE = 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main'

# The --wrap counter of mmap and munmap (tests/peers/peer-count.c) and the line it prints at exit
# (peer-report.js, after smaps.js: the final linear memory and its resident bytes).
COUNT_LINK = ['-Wl,--wrap=mmap', '-Wl,--wrap=munmap', '--pre-js=' + os.path.join(TOP, 'tools', 'wasm', 'smaps.js'),
              '--pre-js=' + os.path.join(PEERS_SRC, 'peer-report.js'),
              '-sEXPORTED_FUNCTIONS=_main,_peer_count,_peer_huge_copied_bytes']
# Emscripten 3.1.6's stacks on every version (later ones give 64 KiB, which PHP's compiler
# overflows on deeply nested code: meson.build says the same for the project's programs).
if TOOLCHAIN != '3.1.6':
    COUNT_LINK += ['-sSTACK_SIZE=5MB', '-sDEFAULT_PTHREAD_STACK_SIZE=2MB']
DROPIN = 'mono/utils/mwpm/dropin/libmwpm-mmap.a'
POOL = 'mono/utils/mwpm/dropin/libmwpm-pool.a'
POOL_JS = os.path.join(TOP, 'mono', 'utils', 'mwpm', 'dropin', 'mwpm-pool.js')


class PeerError(Exception):
    pass


def apt(*args):
    """apt-get with private folders under build/peers/apt (sources list, lists, cache). apt's own
    locks are off (it runs as whoever runs the tests), so callers hold _APT_LOCK (fetch_sources)."""
    d = os.path.join(SHARED, 'apt')
    for sub in ('lists/partial', 'cache/archives/partial'):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(d, 'sources.list'), 'w') as f:
        f.write(ARCHIVE + '\n')
    opts = ['-o', f'Dir::Etc::SourceList={d}/sources.list', '-o', 'Dir::Etc::SourceParts=-',
            '-o', f'Dir::State::Lists={d}/lists', '-o', f'Dir::Cache={d}/cache', '-o', 'Debug::NoLocking=1',
            '-o', 'APT::Sandbox::User=root']
    return subprocess.run(['apt-get', '-q'] + opts + list(args), capture_output=True, text=True,
                          cwd=DOWNLOADS, timeout=600)


# The PHP build fetches in a thread beside the other peers' fetch, and two test runs may share a
# checkout: one apt at a time (a thread lock, then a file lock).
_APT_LOCK = threading.Lock()


def fetch_sources(specs, files, what):
    """apt-get source --download-only of specs ('name=version') into build/peers/downloads,
    unless every one of files is there already; PeerError naming what when any is still missing."""
    dl = DOWNLOADS
    os.makedirs(dl, exist_ok=True)
    have = lambda: all(os.path.exists(os.path.join(dl, f)) for f in files)
    if have():
        return
    with _APT_LOCK, open(os.path.join(dl, '.apt-lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if have():
            return
        r = apt('update')
        if r.returncode == 0:
            r = apt('source', '--download-only', *specs)
        if r.returncode != 0 or not have():
            raise PeerError(f'cannot fetch the source package{"s" if len(specs) > 1 else ""} {what} from '
                            f'Debian\'s archive (nothing cached in {os.path.relpath(dl, TOP)}): '
                            + (r.stderr.strip().splitlines() or ['?'])[-1])


def digest(*paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, 'rb') as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def tool(cmd):
    """cmd as it runs with this process's emscripten."""
    return toolchains.wrap(TOOLCHAIN, cmd)


def emcc(out, inputs, flags, deps=()):
    """emcc flags inputs -o out, unless out is newer than every input and was made with these
    flags."""
    stamp = out + '.flags'
    cmd = ['emcc'] + (['-m64'] if WASM64 else []) + list(flags) + list(inputs) + ['-o', out]
    key = ' '.join(cmd)
    newest = max(os.path.getmtime(p) for p in list(inputs) + list(deps) if os.path.exists(p))
    if os.path.exists(out) and os.path.exists(stamp) and open(stamp).read() == key and os.path.getmtime(out) >= newest:
        return out
    r = subprocess.run(tool(cmd), env=EMENV, capture_output=True, text=True, cwd=os.path.dirname(out))
    if r.returncode != 0:
        raise PeerError(f'emcc failed for {os.path.relpath(out, TOP)}: {r.stderr[-1500:]}')
    with open(stamp, 'w') as f:
        f.write(key)
    return out


def em_root():
    """Where emscripten's sources are, as seen by its own tools (inside the root filesystem for
    6.0.5: the path is the same under tools/with-emscripten)."""
    r = subprocess.run(tool(['em-config', 'EMSCRIPTEN_ROOT']), env=EMENV, capture_output=True, text=True)
    return r.stdout.strip()


def em_file(path):
    """A file of emscripten's tree, read from the host (6.0.5's tree lies in its root
    filesystem)."""
    root = toolchains.get(TOOLCHAIN).root or ''
    return root + os.path.join(em_root(), path)


PORT = os.path.join(TOP, 'ports', 'mwpm.py')
# Emscripten reads external port files (--use-port=path.py) from 3.1.54 on.
HAS_PORTS = TOOLCHAIN != '3.1.6'


def port_sources():
    """What a link through the port depends on: the port file and mwpm's sources."""
    out = [PORT]
    for root, _, files in os.walk(os.path.join(TOP, 'mono', 'utils')):
        out += [os.path.join(root, f) for f in files if f.endswith(('.c', '.h', '.S'))]
    return out


def dropin_config(threads):
    """The build whose drop-in archives the programs link."""
    return config(('wasm64' if WASM64 else 'wasm') + ('-threads' if threads else ''), TOOLCHAIN)


def mmap_link(mmap, threads):
    """What links the mmap of a variant: nothing for libc's, a drop-in archive whole (the pool's
    with emscripten's malloc left out, as docs/drop-in.md says), or the emscripten port
    (port: its mmap variant; port-pool: its pool)."""
    if mmap == 'libc':
        return [], []
    if mmap in ('port', 'port-pool'):
        return [f'--use-port={PORT}' + (':variant=pool' if mmap == 'port-pool' else '')], port_sources()
    lib = os.path.join(build_dir(dropin_config(threads)), POOL if mmap == 'pool' else DROPIN)
    flags = ['-Wl,--whole-archive', lib, '-Wl,--no-whole-archive']
    if mmap == 'pool':
        flags += ['-sMALLOC=none', '--js-library=' + POOL_JS]
    return flags, [lib]


def parallel(fns):
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        return [f.result() for f in [ex.submit(fn) for fn in fns]]
