// php-rounds.js (--pre-js of the PHP builds, tools/lib/php.py): per-round memory readings for
// tests/peers/php-leak.php, with no PHP extension.
//
// PHP cannot call JavaScript, but every line it prints goes through the wasm import fd_write.
// When node runs with PHP_ROUNDS=1 in its environment, this file wraps that import (through
// emscripten's Module.instantiateWasm hook, which instantiates the module itself): after each
// write to stdout whose text begins with "round ", it prints one line
//   RUN-COUNTS {"line": ..., "memory": ..., "resident": ..., "mmap": ..., ...}
// with the linear memory's size, its resident part (from /proc/self/smaps) and the counts of
// tests/peers/peer-count.c at that moment. Without PHP_ROUNDS the module loads as usual.
// With PHP_PAGEMAP=FILE too, each record also appends to FILE a line
//   {"line": ..., "units": [n, n, ...]}
// with, for every 64 KiB of the linear memory in address order, how many of its 16 pages of
// 4 KiB are resident (from /proc/self/pagemap): where in the memory the resident bytes lie.
if (typeof process !== 'undefined' && process.env.PHP_ROUNDS === '1' &&
    (typeof ENVIRONMENT_IS_PTHREAD === 'undefined' || !ENVIRONMENT_IS_PTHREAD)) {
  Module['instantiateWasm'] = function (imports, receiveInstance) {
    var write = _fd_write;
    var wrapped = function (fd, iov, iovcnt, pnum) {
      var rc = write(fd, iov, iovcnt, pnum);
      if (fd === 1) {
        var text = writtenText(iov, iovcnt);
        if (text.lastIndexOf('round ', 0) === 0) roundRecord(text.split('\n')[0]);
      }
      return rc;
    };
    // At -O2 the import names are minified: the entry is found by its function.
    Object.keys(imports).forEach(function (mod) {
      Object.keys(imports[mod]).forEach(function (name) {
        if (imports[mod][name] === write) imports[mod][name] = wrapped;
      });
    });
    // The .wasm beside the .js: emscripten 3.1.6 names it wasmBinaryFile, 6.0.5 finds it later.
    var file = typeof wasmBinaryFile === 'string' ? wasmBinaryFile : __filename.replace(/\.js$/, '.wasm');
    var bytes = require('fs').readFileSync(file);
    WebAssembly.instantiate(bytes, imports).then(function (r) { receiveInstance(r.instance, r.module); });
    return {};
  };
}

// The first 200 bytes of what an fd_write call wrote (its iovec array), as text.
function writtenText(iov, iovcnt) {
  var s = '';
  for (var i = 0; i < iovcnt && s.length < 200; i++) {
    var ptr = HEAPU32[(iov + 8 * i) >> 2], len = HEAPU32[(iov + 8 * i + 4) >> 2];
    s += String.fromCharCode.apply(null, HEAPU8.subarray(ptr, ptr + Math.min(len, 200 - s.length)));
  }
  return s;
}

function roundRecord(line) {
  var count = Module['_peer_count'];
  var copied = Module['_peer_huge_copied_bytes'];
  var rec = { line: line, memory: wasmMemory.buffer.byteLength, resident: linearResident(),
              mmap: count(0), mmap_failed: count(1), munmap: count(2), munmap_failed: count(3),
              huge_copied: copied ? copied() : -1 };
  require('fs').writeSync(1, 'RUN-COUNTS ' + JSON.stringify(rec) + '\n');
  if (process.env.PHP_PAGEMAP && linearStart !== null) pageMapRecord(line, process.env.PHP_PAGEMAP);
}

// The linear memory's address in the process, found by linearResident().
var linearStart = null;

// Appends to path the resident pages of each 64 KiB unit of the linear memory. A pagemap entry is
// 8 bytes per 4 KiB page: bit 63 says a page is present, bits 0-54 give its frame (to root). A page
// only read is present too, as the kernel's one zero page, which Rss does not count: a frame that
// backs more than one page of the memory is that page and is not counted here either.
function pageMapRecord(line, path) {
  var fs = require('fs');
  var pages = wasmMemory.buffer.byteLength / 4096;
  var buf = Buffer.alloc(pages * 8);
  var fd = fs.openSync('/proc/self/pagemap', 'r');
  fs.readSync(fd, buf, 0, buf.length, (linearStart / 4096) * 8);
  fs.closeSync(fd);
  var frame = function (p) {
    var hi = buf.readUInt32LE(p * 8 + 4);
    return hi >>> 31 ? (hi & 0x7fffff) * 4294967296 + buf.readUInt32LE(p * 8) : -1;
  };
  var seen = new Map();
  for (var p = 0; p < pages; p++) {
    var f = frame(p);
    if (f > 0) seen.set(f, (seen.get(f) || 0) + 1);
  }
  var units = [];
  for (var u = 0; u < pages / 16; u++) {
    var n = 0;
    for (var k = 0; k < 16; k++) {
      var g = frame(u * 16 + k);
      n += g === 0 || (g > 0 && seen.get(g) === 1) ? 1 : 0;   // frame 0: not root, counted
    }
    units.push(n);
  }
  fs.appendFileSync(path, JSON.stringify({ line: line, units: units }) + '\n');
}

// The resident bytes of the linear memory. V8 reserves a large PROT_NONE region per 32-bit memory
// and makes its first part, the memory in use, read-write: in /proc/self/smaps that part is the
// read-write mapping (or run of adjacent ones) ending exactly where the largest PROT_NONE mapping
// begins. -1 when no such mapping is found.
function linearResident() {
  var maps = [], cur = null;
  require('fs').readFileSync('/proc/self/smaps', 'utf8').split('\n').forEach(function (l) {
    var m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) /.exec(l);
    if (m) {
      cur = { start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], rss: 0 };
      maps.push(cur);
    } else if (cur && /^Rss:/.test(l)) {
      cur.rss = parseInt(l.split(/\s+/)[1], 10) * 1024;
    }
  });
  var none = null;
  maps.forEach(function (m) {
    if (m.perms === '---p' && (!none || m.end - m.start > none.end - none.start)) none = m;
  });
  if (!none) return -1;
  var want = wasmMemory.buffer.byteLength, size = 0, rss = 0, edge = none.start;
  for (var found = true; found && size < want;) {
    found = false;
    maps.forEach(function (m) {
      if (!found && m.end === edge && m.perms.lastIndexOf('rw', 0) === 0) {
        size += m.end - m.start;
        rss += m.rss;
        edge = m.start;
        found = true;
      }
    });
  }
  if (size !== want) return -1;
  linearStart = edge;
  return rss;
}
