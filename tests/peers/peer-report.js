// peer-report.js (--pre-js): prints the counts of peer-count.c and the final linear memory as
// one JSON line when node exits, however the program ended (tools/lib/peers.py reads it).
if (typeof process !== 'undefined' && (typeof ENVIRONMENT_IS_PTHREAD === 'undefined' || !ENVIRONMENT_IS_PTHREAD)) {
  process.on('exit', function () {
    var line = { mmap: -1, mmap_failed: -1, munmap: -1, munmap_failed: -1, memory: -1 };
    try {
      var count = Module['_peer_count'];
      line = { mmap: count(0), mmap_failed: count(1), munmap: count(2), munmap_failed: count(3),
               memory: wasmMemory.buffer.byteLength };
    } catch (e) {
      line.error = String(e);
    }
    process.stdout.write('PEER-COUNTS ' + JSON.stringify(line) + '\n');
  });
}
