// smaps.js: the resident bytes of a wasm linear memory, read from a process's
// /proc/PID/smaps (docs/benchmarks.md, "Resident memory"). One file for both readers: every
// wasm program of the project includes it (--pre-js, before pre.js) to read its own process
// under node, and tools/browser/driver.js requires it to read a Chromium renderer's.
//
// V8 reserves the whole address range a wasm memory may grow into (several GiB, PROT_NONE) and
// makes the part in use readable and writable; the kernel backs a page of it only once it is
// written. So in /proc/self/smaps the memory is a run of adjacent read-write mappings
// whose sizes add up to exactly the memory's size, directly followed by a PROT_NONE mapping
// (the rest of the reservation); its Rss is the memory actually touched. With exactly one such
// run the answer is its Rss; with none or several (another memory of the same size), null.
// Addresses are below 2^48, exact in a double (terser, which emcc runs, cannot parse BigInt
// literals).
function monoSmapsRegions(text) {
  const out = [];
  let cur = null;
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4})/.exec(line);
    if (m) {
      cur = { start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], rss: 0 };
      out.push(cur);
    } else if (cur) {
      const r = /^Rss:\s+(\d+) kB/.exec(line);
      if (r) cur.rss = Number(r[1]) * 1024;
    }
  }
  return out;
}

// The Rss of the read-write run starting at regions[i] that covers `bytes` and is followed by
// a PROT_NONE reservation, or -1.
function monoRunRss(regions, i, bytes) {
  let total = 0, rss = 0, j = i;
  for (; j < regions.length; j++) {
    const r = regions[j];
    if (!r.perms.startsWith('rw') || (j > i && r.start !== regions[j - 1].end)) return -1;
    total += r.end - r.start;
    rss += r.rss;
    if (total >= bytes) break;
  }
  const next = regions[j + 1];
  if (total !== bytes || !next || next.start !== regions[j].end || !next.perms.startsWith('---')) return -1;
  return rss;
}

function monoResidentBytes(smapsText, memoryBytes) {
  const regions = monoSmapsRegions(smapsText);
  const found = [];
  for (let i = 0; i < regions.length; i++) {
    const rss = monoRunRss(regions, i, memoryBytes);
    if (rss >= 0) found.push(rss);
  }
  return found.length === 1 ? found[0] : null;
}


// Required as a module (the browser driver), not included in a wasm program.
if (typeof Module === 'undefined' && typeof module === 'object' && module.exports)
  module.exports = { residentBytes: monoResidentBytes };
