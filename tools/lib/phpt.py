"""Runs PHP's .phpt tests with a PHP built for wasm (tools/phpt; tools/lib/php.py; issue 22).

PHP's own run-tests.php cannot drive the wasm PHP (it spawns processes), so this runner does the
part of its work that these tests need: it parses a .phpt file's sections, writes --FILE-- next
to the test as <name>.php (tests read files beside them through __DIR__), runs
    tools/wasm/node php.js -n -d <defaults> -d <--INI--> <name>.php <--ARGS-->
and compares the program's stdout with --EXPECT--, --EXPECTF-- or --EXPECTREGEX--, both with
line ends normalised and surrounding whitespace trimmed. stderr is kept apart: over emscripten's
mmap zend_mm prints "munmap() failed" there. --SKIPIF-- is run first (an output beginning with
"skip" sets the test aside), --CLEAN-- after.

The environment PHP sees (through tests/peers/php-node.js) is USE_ZEND_ALLOC=1, as run-tests.php
gives it, plus the --ENV-- section. A file is set aside, with the reason, when it has a section
this runner does not support (CGI requests, captured stdio, external files), needs an extension
the build lacks, calls a function that spawns processes or uses the network, is marked XFAIL or
FLAKY, or its SKIPIF says skip.
"""
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import time

import toolchains

NODE = toolchains.node()
SECTION = re.compile(r'^--([A-Z_]+)--\s*$')
SUPPORTED = {'TEST', 'DESCRIPTION', 'CREDITS', 'FILE', 'FILEEOF', 'EXPECT', 'EXPECTF', 'EXPECTREGEX', 'SKIPIF',
             'INI', 'ARGS', 'ENV', 'CLEAN', 'CONFLICTS', 'EXTENSIONS', 'STDIN', 'WHITESPACE_SENSITIVE'}
MARKED = {'XFAIL': 'marked XFAIL (expected to fail)', 'FLAKY': 'marked FLAKY'}
EXPECTS = ('EXPECT', 'EXPECTF', 'EXPECTREGEX')
# What run-tests.php's defaults amount to for these tests (PHP's documented test settings): errors
# shown on stdout, all of them, no html; the precisions and limits PHP's tests are written for.
DEFAULT_INI = ['output_handler=', 'open_basedir=', 'disable_functions=', 'output_buffering=0',
               'error_reporting=32767', 'display_errors=1', 'display_startup_errors=1', 'log_errors=0',
               'html_errors=0', 'report_memleaks=1', 'report_zend_debug=0', 'docref_root=', 'docref_ext=.html',
               'error_prepend_string=', 'error_append_string=', 'auto_prepend_file=', 'auto_append_file=',
               'ignore_repeated_errors=0', 'precision=14', 'serialize_precision=-1', 'memory_limit=128M',
               'short_open_tag=0', 'zend.assertions=1', 'session.auto_start=0', 'max_execution_time=0',
               'allow_url_fopen=1']
# The environment of every test, as run-tests.php gives it (zend_mm on), plus its --ENV-- section;
# tests/peers/php-node.js hands PHP_ENV to the program's getenv.
BASE_ENV = {'USE_ZEND_ALLOC': '1'}
# Calls that need what the wasm PHP has not: other processes, the network (a call of the function,
# not a method of the same name).
CALL = r'(?<![\w$>:\\])(?<!function )(?:{})\s*\('
NEEDS = [
    (re.compile(CALL.format(r'proc_open|shell_exec|exec|system|passthru|popen|pcntl_\w+|posix_kill|mail')),
     'spawns processes'),
    (re.compile(r'TEST_PHP_EXECUTABLE|PHP_BINARY|TEST_PHP_CGI_EXECUTABLE|PHP_CLI_SERVER'), 'runs another php'),
    (re.compile(CALL.format(r'fsockopen|pfsockopen|stream_socket_\w+|socket_\w+|gethostbyname\w*|dns_\w+|'
                            r'getmxrr|checkdnsrr')), 'uses the network'),
]
COUNTS_AT_END = re.compile(r'PEER-COUNTS (\{[^\n]*\})\n?\Z')


# ---- parsing ----

def parse(path):
    """The sections of a .phpt file: {name: text}; a section's text keeps its final newline."""
    sections, name = {}, None
    with open(path, encoding='utf-8', errors='surrogateescape', newline='') as f:
        for line in f.read().splitlines(keepends=True):
            m = SECTION.match(line)
            if m:
                name = m.group(1)
                sections[name] = ''
            elif name is not None:
                sections[name] += line
    if 'FILEEOF' in sections:
        sections['FILE'] = sections.pop('FILEEOF').rstrip('\r\n')
    return sections


def aside_reason(sections, extensions):
    """Why a test cannot run here, or None."""
    for name in sections:
        if name in MARKED:
            return MARKED[name]
        if name not in SUPPORTED:
            return f'section --{name}-- not supported'
    if 'FILE' not in sections or not any(e in sections for e in EXPECTS):
        return 'no --FILE-- or no expected output'
    missing = [e for e in sections.get('EXTENSIONS', '').split() if e.lower() not in extensions]
    if missing:
        return 'needs extension ' + ', '.join(missing)
    for pattern, why in NEEDS:
        if pattern.search(sections['FILE']):
            return why
    return None


# ---- expected output ----

def normalise(text):
    """Line ends as \\n; whitespace around the whole text trimmed (as PHP's trim())."""
    return text.replace('\r\n', '\n').strip(' \t\n\r\0\x0b')


EXPECTF_CODES = {
    'e': re.escape(os.sep),            # the directory separator
    's': r'[^\r\n]+',                  # one or more characters, not an end of line
    'S': r'[^\r\n]*',                  # zero or more of them
    'a': r'.+',                        # one or more characters, ends of line too
    'A': r'.*',                        # zero or more of them
    'w': r'\s*',                       # optional whitespace
    'i': r'[+-]?\d+',                  # a signed integer
    'd': r'\d+',                       # an unsigned integer
    'x': r'[0-9a-fA-F]+',              # hexadecimal digits
    'f': r'[+-]?(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?',   # a floating point number
    'c': r'.',                         # any one character
    '0': r'\x00',
}


def expectf_regex(expected):
    """The regular expression of an --EXPECTF-- text: %x codes as above; %r...%r a regular
    expression as written (the codes work inside it too); everything else literal."""
    out = []
    parts = expected.split('%r')
    for i, part in enumerate(parts):
        if i % 2 == 1 and i < len(parts) - 1:
            out.append('(?:' + with_codes(part, str) + ')')
        else:
            out.append(with_codes(part if i % 2 == 0 else '%r' + part, re.escape))
    return ''.join(out)


def with_codes(text, plain):
    """text with each %x code replaced by its pattern and every other character by plain(c)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '%' and i + 1 < len(text) and text[i + 1] in EXPECTF_CODES:
            out.append(EXPECTF_CODES[text[i + 1]])
            i += 2
        else:
            out.append(plain(c))
            i += 1
    return ''.join(out)


def matches(sections, output):
    """(ok, what was expected) for a program's stdout."""
    got = normalise(output)
    if 'EXPECT' in sections:
        want = normalise(sections['EXPECT'])
        return got == want, want
    if 'EXPECTF' in sections:
        want = normalise(sections['EXPECTF'])
        pattern = expectf_regex(want)
    else:
        want = pattern = normalise(sections['EXPECTREGEX'])
    try:
        return re.fullmatch(pattern, got, re.S) is not None, want
    except re.error as e:
        return False, f'(bad expected pattern: {e}) {want}'


# ---- running ----

class Runner:
    def __init__(self, js, root, timeout=120):
        self.js, self.root, self.timeout = js, root, timeout
        self.extensions = self.loaded_extensions()

    def php(self, script, ini, args=(), stdin='', cwd=None, env=None):
        """(exit status, stdout, stderr, counts) of php.js running script: status 'timeout' when it
        ran too long; stdout without the PEER-COUNTS line, which gives counts (mmap/munmap calls
        and the final linear memory, {} if none)."""
        cmd = NODE + [self.js, '-n'] + [f'-d{s}' for s in DEFAULT_INI + ini] + [script] + list(args)
        try:
            p = subprocess.run(cmd, input=stdin.encode('utf-8', 'surrogateescape'), capture_output=True,
                               cwd=cwd or os.path.dirname(script), timeout=self.timeout,
                               env=dict(os.environ, PHP_ENV=json.dumps(dict(BASE_ENV, **(env or {})))))
        except subprocess.TimeoutExpired as e:
            return 'timeout', (e.stdout or b'').decode('utf-8', 'replace'), '', {}
        out = p.stdout.decode('utf-8', 'surrogateescape')
        m = COUNTS_AT_END.search(out)
        counts = json.loads(m.group(1)) if m else {}
        return p.returncode, out[:m.start()] if m else out, p.stderr.decode('utf-8', 'replace'), counts

    def loaded_extensions(self):
        probe = os.path.join(self.root, f'.phpt-extensions-{os.getpid()}.php')
        with open(probe, 'w') as f:
            f.write('<?php echo implode("\\n", get_loaded_extensions()), "\\n";\n')
        try:
            rc, out, err, _ = self.php(probe, [])
        finally:
            os.unlink(probe)
        if rc != 0:
            raise SystemExit(f'phpt: {self.js} does not run: exit {rc}: {err[-500:]}')
        return {l.strip().lower() for l in out.splitlines() if l.strip()}

    def ini(self, sections, folder):
        """The --INI-- settings as name=value, spaces around the '=' dropped."""
        settings = []
        for line in sections.get('INI', '').splitlines():
            name, eq, value = line.partition('=')
            if name.strip() and not name.strip().startswith(';'):
                value = value.strip().replace('{PWD}', folder).replace('{TMP}', '/tmp')
                settings.append(f'{name.strip()}={value}' if eq else name.strip())
        return settings

    def env(self, sections, folder):
        """The --ENV-- variables: NAME=value lines."""
        pairs = (l.partition('=') for l in sections.get('ENV', '').splitlines())
        return {k.strip(): v.replace('{PWD}', folder) for k, eq, v in pairs if eq and k.strip()}

    def run(self, rel):
        """One test: a record with its outcome ('pass', 'fail', 'aside'), the reason and the time."""
        t0 = time.monotonic()
        path = os.path.join(self.root, rel)
        try:
            sections = parse(path)
        except OSError as e:
            return record(rel, 'fail', f'cannot read: {e}', t0)
        why = aside_reason(sections, self.extensions)
        if why:
            return record(rel, 'aside', why, t0)
        folder = os.path.dirname(path)
        base = path[:-len('.phpt')] if path.endswith('.phpt') else path
        ini = self.ini(sections, folder)
        env = self.env(sections, folder)
        written = []
        try:
            if 'SKIPIF' in sections:
                skip = self.skipif(sections['SKIPIF'], base, ini, env, written)
                if skip:
                    return record(rel, 'aside', skip, t0)
            script = write(base + '.php', sections['FILE'], written)
            args = shlex.split(sections.get('ARGS', ''))
            rc, out, err, counts = self.php(script, ini, args, sections.get('STDIN', ''), folder, env)
            ok, want = matches(sections, out)
            if 'CLEAN' in sections:
                self.php(write(base + '.clean.php', sections['CLEAN'], written), ini, cwd=folder, env=env)
        finally:
            for p in written:
                if os.path.exists(p):
                    os.unlink(p)
        if ok:
            return record(rel, 'pass', '', t0, counts)
        return record(rel, 'fail', first_difference(want, normalise(out), rc, err), t0, counts)

    def skipif(self, code, base, ini, env, written):
        rc, out, err, _ = self.php(write(base + '.skip.php', code, written), ini, env=env)
        text = out.strip()
        if text[:4].lower() == 'skip':
            why = text[4:].strip(' :').splitlines()
            return 'SKIPIF: ' + (why[0][:100] if why else 'skip')
        if text[:5].lower() == 'xfail':
            return 'SKIPIF: xfail'
        return None


def write(path, text, written):
    with open(path, 'w', encoding='utf-8', errors='surrogateescape', newline='') as f:
        f.write(text)
    written.append(path)
    return path


def record(rel, outcome, reason, t0, counts=None):
    return {'file': rel, 'outcome': outcome, 'reason': reason, 'seconds': round(time.monotonic() - t0, 2),
            'counts': counts or {}}


def first_difference(want, got, rc, err):
    """A short account of a failure: the exit status, the first line that differs, stderr's
    last lines other than zend_mm's munmap complaints."""
    w, g = want.split('\n'), got.split('\n')
    n = next((i for i in range(max(len(w), len(g))) if i >= len(w) or i >= len(g) or w[i] != g[i]), 0)
    def line(lines):
        return repr(lines[n][:120]) if n < len(lines) else '(end)'
    errs = [l for l in err.splitlines() if l.strip() and 'munmap() failed' not in l]
    msg = f'exit {rc}; line {n + 1}: expected {line(w)}, got {line(g)}'
    return msg + (f'; stderr: {errs[-1][:200]}' if errs else '')


# ---- selection and the set ----

def collect(root, paths):
    """The .phpt files under each given path (files or folders), relative to root, sorted."""
    found = []
    for p in paths:
        full = os.path.join(root, p)
        if os.path.isdir(full):
            for d, _, names in os.walk(full):
                found += [os.path.relpath(os.path.join(d, n), root) for n in names if n.endswith('.phpt')]
        else:
            found.append(os.path.relpath(full, root))
    return sorted(set(found))


def read_set(path):
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith('#')]


def run_all(runner, files, jobs, quiet=False):
    """Runs the files with jobs workers; prints one line per file; returns the records in order."""
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        for r in ex.map(runner.run, files):
            results.append(r)
            if not quiet or r['outcome'] == 'fail':
                tag = {'pass': 'PASS ', 'fail': 'FAIL ', 'aside': 'ASIDE'}[r['outcome']]
                why = ': ' + r['reason'] if r['reason'] else ''
                print(f'{tag} {r["file"]} ({r["seconds"]:.1f} s){why}', flush=True)
    return results


def summary(results, seconds, jobs):
    n = {k: sum(1 for r in results if r['outcome'] == k) for k in ('pass', 'fail', 'aside')}
    return (f'phpt: {len(results)} files: {n["pass"]} passed, {n["fail"]} failed, {n["aside"]} set aside '
            f'({seconds:.0f} s, {jobs} workers)')


def php_js(args):
    """The php.js to test: --php, or the variant's link by tools/lib/php.py."""
    if args.php:
        return os.path.abspath(args.php)
    import php
    return php.link_php(args.variant)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog='tools/phpt', description='run .phpt files with a wasm PHP under node')
    ap.add_argument('paths', nargs='*', help='.phpt files or folders, relative to --root')
    ap.add_argument('--php', help='the linked php.js (default: the --variant of tools/lib/php.py)')
    ap.add_argument('--variant', default='libc',
                    help='libc or dropin: the mmap php.js is linked with (default libc)')
    ap.add_argument('--root', help="PHP's source tree (default: the one tools/lib/php.py unpacks)")
    ap.add_argument('--jobs', type=int, default=2, help='tests run at once (default 2)')
    ap.add_argument('--timeout', type=int, default=120, help='seconds per php run (default 120)')
    ap.add_argument('--set', help='run exactly the files of this set file; exit 1 unless every one passes')
    ap.add_argument('--list', help='write the passing files to this file, one a line')
    ap.add_argument('--json', help='write every record to this file')
    ap.add_argument('--quiet', action='store_true', help='print failures and the summary only')
    args = ap.parse_args(argv)
    if not args.root:
        import php
        args.root = php.SRC
    if not args.paths and not args.set:
        ap.error('give .phpt files or folders, or --set FILE')
    files = collect(args.root, args.paths) + (read_set(args.set) if args.set else [])
    runner = Runner(php_js(args), args.root, args.timeout)
    t0 = time.monotonic()
    results = run_all(runner, sorted(set(files)), args.jobs, args.quiet)
    print(summary(results, time.monotonic() - t0, args.jobs))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    if args.list:
        with open(args.list, 'w') as f:
            f.writelines(r['file'] + '\n' for r in results if r['outcome'] == 'pass')
    if args.set:
        bad = [r for r in results if r['outcome'] != 'pass']
        for r in bad:
            print(f'phpt: in the set but not passing: {r["file"]}: {r["outcome"]}: {r["reason"]}')
        return 1 if bad else 0
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
