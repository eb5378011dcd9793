# ports/mwpm.py: mwpm as an emscripten port (docs/drop-in.md), for emscripten 3.1.54 and later:
#
#   emcc prog.c --use-port=path/to/ports/mwpm.py                 mwpm's mmap, munmap, madvise,
#                                                                 mprotect (libmwpm-mmap.a)
#   emcc prog.c --use-port=path/to/ports/mwpm.py:variant=pool    malloc and mmap from one mwpm
#                                                                 pool (libmwpm-pool.a); sets
#                                                                 -sMALLOC=none itself
#
# The libraries are built from this checkout for the program's settings (-pthread or not,
# wasm32 or wasm64) on first use and kept in emscripten's cache as its own ports are; a change
# of the sources makes a new one (their digest is in the name). They are linked whole (one
# relocatable object), so that their mmap wins over libc's even where only libc calls it. The
# headers (mwpm/mono-wasm-pagemgr.h: mwpm's stats; mwpm/mwpm-mmap.h: the drop-in's) are on the
# include path.
import hashlib
import os
import subprocess

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

URL = 'https://github.com/'  # the project's home; the port builds from the checkout it lies in
DESCRIPTION = 'mwpm: a wasm page manager as mmap (and malloc) for emscripten programs'
LICENSE = 'MIT license'

OPTIONS = {
  'variant': 'mmap (default): mwpm serves mmap beside emscripten\'s malloc; '
             'pool: malloc and mmap from one mwpm pool (-sMALLOC=none)',
}
VARIANTS = ('mmap', 'pool')

opts = {'variant': 'mmap'}

MWPM = 'mono/utils/mwpm'
CORE = [f'{MWPM}/src/mwpm-pages.c', f'{MWPM}/src/mwpm-grow.c', f'{MWPM}/src/mwpm-alloc.c', f'{MWPM}/src/mwpm-index.c',
        f'{MWPM}/src/mwpm-inspect.c', f'{MWPM}/src/mwpm-dump.c', f'{MWPM}/platform/mwpm-platform-sbrk.c',
        f'{MWPM}/dropin/mwpm-mmap.c', f'{MWPM}/dropin/mwpm-mmap-posix.c']
POOL = [f'{MWPM}/pool/pool-malloc.c']
BULK = 'mono/utils/base/mono-bulk.S'
HEADERS = [f'{MWPM}/include/mono-wasm-pagemgr.h', f'{MWPM}/include/mwpm-mmap.h']
INCLUDES = [f'{MWPM}/include', f'{MWPM}/src', f'{MWPM}/platform', f'{MWPM}/pool', 'mono/utils/base']
PAGE_SIZE = 65536


def handle_options(options, error_handler):
  variant = options.get('variant', 'mmap')
  if variant not in VARIANTS:
    error_handler(f'variant={variant}: one of {", ".join(VARIANTS)}')
  opts['variant'] = variant


def linker_setup(ports, settings):
  if opts['variant'] != 'pool':
    return
  # The pool brings malloc: emscripten's own must not be linked too.
  if settings.MALLOC not in ('dlmalloc', 'none'):
    from tools import utils
    utils.exit_with_error(f'mwpm port, variant=pool: it brings malloc, so it cannot link with -sMALLOC={settings.MALLOC}; '
                          'use -sMALLOC=none (or leave MALLOC alone: the port sets it)')
  settings.MALLOC = 'none'


def _config_header(threads):
  """The project's mono-config.h (meson generates it) for one build of the port."""
  return ''.join(f'#define {k} {v}\n' for k, v in [
    ('MONO_CONFIG_MWPM_PAGE_SIZE', PAGE_SIZE), ('MONO_CONFIG_THREADS', int(threads)), ('MONO_CONFIG_SHARED_POOL', 0),
    ('MONO_CONFIG_WASM', 1), ('MONO_CONFIG_EMSCRIPTEN', 1), ('MONO_CONFIG_WASI', 0), ('MONO_CONFIG_WASM_MMAP', 1),
    ('MONO_CONFIG_CHECK_LEVEL', 0)])


def _digest():
  h = hashlib.sha256()
  for root, _, files in os.walk(os.path.join(TOP, MWPM)):
    for f in sorted(files):
      if f.endswith(('.c', '.h', '.S')):
        with open(os.path.join(root, f), 'rb') as fh:
          h.update(f.encode() + fh.read())
  for f in ('mono/utils/base/mono-bulk.h', 'mono/utils/base/mono-break.h', 'mono/utils/base/mono-spin-lock.h',
            'mono/utils/base/mono-sanitizers.h', 'mono/utils/base/mono-problem-log.h', BULK, __file__):
    with open(os.path.join(TOP, f), 'rb') as fh:
      h.update(fh.read())
  return h.hexdigest()[:10]


def _lib_name(settings, part=''):
  threads = '-mt' if settings.PTHREADS else ''
  return f'libmwpm-{opts["variant"]}{threads}-{_digest()}' + (f'-{part}.a' if part else '.o')


def _memory64_flags(settings):
  """The program's wasm64 for the port's own compiles: -m64 where emcc takes it as -sMEMORY64
  (6.0.0 and later; 6.0.1 marks the setting deprecated), the setting before."""
  if not settings.MEMORY64:
    return []
  from tools import utils
  version = tuple(int(x) for x in utils.EMSCRIPTEN_VERSION.split('-')[0].split('.')[:3])
  return ['-m64'] if settings.MEMORY64 == 1 and version >= (6, 0, 0) else [f'-sMEMORY64={settings.MEMORY64}']


def get(ports, settings, shared):
  threads = bool(settings.PTHREADS)
  pool = opts['variant'] == 'pool'

  def create(final):
    build = os.path.join(ports.get_build_dir(), 'mwpm', os.path.basename(final)[:-2])
    os.makedirs(build, exist_ok=True)
    with open(os.path.join(build, 'mono-config.h'), 'w') as f:
      f.write(_config_header(threads))
    flags = ['-O2', '-std=gnu11', '-fno-strict-aliasing', '-I' + build] + ['-I' + os.path.join(TOP, i) for i in INCLUDES]
    if threads:
      flags.append('-pthread')
    flags += _memory64_flags(settings)
    srcs = CORE + (POOL if pool else [])
    objects = []
    # Parts built as emscripten builds its ports (into its cache's library folder), then joined.
    core = shared.cache.get_lib_name(_lib_name(settings, 'core'), absolute=True)
    ports.build_port(TOP, core, 'mwpm', flags=flags + (['-DMONO_BREAK_OWN_MALLOC=1'] if pool else []), srcs=srcs)
    objects.append(core)
    if threads:
      # The per-thread view of the memory (mono-bulk.S), assembled without debug info: the
      # wasm assembler refuses its global's section with it.
      bulk = shared.cache.get_lib_name(_lib_name(settings, 'bulk'), absolute=True)
      ports.build_port(TOP, bulk, 'mwpm', flags=flags + ['-g0'], srcs=[BULK])
      objects.append(bulk)
    if pool:
      # emscripten's own dlmalloc with the pool's configuration (pool-dlmalloc-config.h: every
      # segment from mwpm), and its sbrk, which -sMALLOC=none removes with malloc.
      em = shared.path_from_root('system', 'lib')
      sbrk = os.path.join(em, 'libc', 'sbrk.c')
      if not os.path.exists(sbrk):
        sbrk = os.path.join(em, 'sbrk.c')
      dl = os.path.join(build, 'pool-dlmalloc.c')
      with open(dl, 'w') as f:
        f.write(f'#include "pool-dlmalloc-config.h"\n#include "{os.path.join(em, "dlmalloc.c")}"\n')
      third = shared.cache.get_lib_name(_lib_name(settings, 'dlmalloc'), absolute=True)
      ports.build_port(build, third, 'mwpm', flags=flags + ['-U__EMSCRIPTEN__', f'-DPOOL_GRANULARITY={PAGE_SIZE}', '-w'],
                       srcs=['pool-dlmalloc.c'])
      sbrk_lib = shared.cache.get_lib_name(_lib_name(settings, 'sbrk'), absolute=True)
      ports.build_port(os.path.dirname(sbrk), sbrk_lib, 'mwpm', flags=flags + ['-w'], srcs=[os.path.basename(sbrk)])
      objects += [third, sbrk_lib]
    # One relocatable object of all of it: linked whole, its mmap (and malloc) win.
    cmd = [shared.EMCC, '-r', '-o', final] + (['-pthread'] if threads else []) + \
          _memory64_flags(settings) + \
          ['-Wl,--whole-archive'] + objects + ['-Wl,--no-whole-archive']
    subprocess.check_call(cmd)
    ports.install_headers(os.path.join(TOP, MWPM, 'include'), pattern='mono-wasm-pagemgr.h', target='mwpm')
    ports.install_headers(os.path.join(TOP, MWPM, 'include'), pattern='mwpm-mmap.h', target='mwpm')
    # What the public header needs of the configuration: the page size.
    with open(os.path.join(ports.get_include_dir('mwpm'), 'mono-config.h'), 'w') as f:
      f.write(f'#define MONO_CONFIG_MWPM_PAGE_SIZE {PAGE_SIZE}\n')

  return [shared.cache.get_lib(_lib_name(settings), create, what='port')]


def clear(ports, settings, shared):
  shared.cache.erase_lib(_lib_name(settings))


def process_args(ports):
  return ['-I' + ports.get_include_dir('mwpm')]


def show():
  return 'mwpm (--use-port=ports/mwpm.py[:variant=pool]; MIT license)'
