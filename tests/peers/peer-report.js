// peer-report.js (--pre-js, after tools/wasm/smaps.js): prints the counts of peer-count.c, the
// final linear memory and its resident bytes (smaps.js; -1 when they cannot be read) as one
// JSON line when node exits, however the program ended (tools/lib/peers.py reads it).
if (typeof process !== 'undefined' && (typeof ENVIRONMENT_IS_PTHREAD === 'undefined' || !ENVIRONMENT_IS_PTHREAD)) {
  process.on('exit', function () {
    var line = { mmap: -1, mmap_failed: -1, munmap: -1, munmap_failed: -1, memory: -1, resident: -1 };
    try {
      var count = Module['_peer_count'];
      line = { mmap: count(0), mmap_failed: count(1), munmap: count(2), munmap_failed: count(3),
               memory: wasmMemory.buffer.byteLength, resident: -1,
               huge_copied: Module['_peer_huge_copied_bytes'] ? Module['_peer_huge_copied_bytes']() : -1 };
      var resident = monoResidentBytes(require('fs').readFileSync('/proc/self/smaps', 'utf8'), line.memory);
      if (resident !== null) line.resident = resident;
    } catch (e) {
      line.error = String(e);
    }
    process.stdout.write('PEER-COUNTS ' + JSON.stringify(line) + '\n');
  });
}
