// page.js: runs one emscripten program of a build folder and shows a person its result.
//
// URL /run/<build>/<program>?name=value&flag runs build/<build>/<program>.js with the arguments
// --name=value --flag (the same words as on the command line; the program's own option code
// parses them). Standard output and error are kept and mirrored to the console as
// "[stdout] ..." / "[stderr] ..." lines, which is how tools/browser-test follows a run live.
//
// At exit the program calls Module.monoWasmAtExit() (mono/utils/mono-wasm-exports.c) while its
// runtime is still alive; the page then reads mwpm's stats and page table through the exported
// functions. When the run is over, window.mwpmRun.state is 'done' and the console gets the line
// "[mwpm-run-done]". window.mwpmRun.problems lists what the page itself found wrong.
'use strict';
(function () {
  const MAX_LINES = 4000;
  const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const build = parts[1];
  const program = parts.slice(2).join('/');
  const args = [];
  for (const [k, v] of new URLSearchParams(location.search)) args.push(v === '' ? `--${k}` : `--${k}=${v}`);

  const run = window.mwpmRun = {
    build, program, args, state: 'running', exitStatus: null, error: null,
    crossOriginIsolated: self.crossOriginIsolated === true,
    stdout: [], stderr: [], stats: null, pageRuns: null, statsError: null, memoryBytes: null,
    finalJson: null, tap: null, elapsedMs: null, problems: [],
  };
  const started = performance.now();
  const $ = (id) => document.getElementById(id);

  function keep(list, line) {
    list.push(line);
    if (list.length > MAX_LINES) list.splice(0, list.length - MAX_LINES);
  }

  function readStats() {
    try {
      // On wasm64 an exported function returns its pointer as a BigInt.
      const text = (ptr) => Module.UTF8ToString(Number(ptr));
      run.stats = JSON.parse(text(Module._mono_wasm_stats_json()));
      run.pageRuns = JSON.parse(text(Module._mono_wasm_page_runs_json()));
      // Emscripten 6 no longer puts HEAPU8 on Module; its wasmMemory is a global of the page.
      run.memoryBytes = Module.HEAPU8 ? Module.HEAPU8.length
        : typeof wasmMemory === 'object' ? wasmMemory.buffer.byteLength : null;
    } catch (e) {
      run.statsError = String(e);
    }
  }

  // The last stdout line that is a JSON object, or null.
  function finalJson() {
    for (let i = run.stdout.length - 1; i >= 0; i--) {
      const line = run.stdout[i].trim();
      if (!line.startsWith('{')) continue;
      try {
        const v = JSON.parse(line);
        if (v && typeof v === 'object' && !Array.isArray(v)) return v;
      } catch (e) { /* not JSON: keep looking */ }
    }
    return null;
  }

  function tapSummary() {
    let ok = 0, notOk = 0, plan = null;
    for (const line of run.stdout) {
      if (/^ok \d+/.test(line)) ok++;
      else if (/^not ok \d+/.test(line)) notOk++;
      const m = /^1\.\.(\d+)/.exec(line);
      if (m) plan = Number(m[1]);
    }
    return ok + notOk + (plan === null ? 0 : 1) ? { ok, notOk, plan } : null;
  }

  // Pages per state in the exported page table.
  function stateCounts(pr) {
    const count = [0, 0, 0, 0, 0];
    for (let i = 0; i + 2 < pr.runs.length; i += 3) count[pr.runs[i]] = (count[pr.runs[i]] || 0) + pr.runs[i + 2];
    return count;
  }

  // The page table and the stats come from two exported functions: they must agree.
  function tableProblems() {
    const pr = run.pageRuns, st = run.stats;
    if (!pr || pr.error || !st || st.error) return [];
    const count = stateCounts(pr);
    const want = [[1, 'pages_external'], [2, 'pages_free_zeroed'], [3, 'pages_free_dirty'], [4, 'pages_in_use']];
    return want.filter(([state, key]) => count[state] !== st[key])
      .map(([state, key]) => `page table shows ${count[state]} pages in state ${state}, stats ${key} = ${st[key]}`);
  }

  function findProblems() {
    const p = [];
    if (run.error) p.push(run.error);
    if (run.exitStatus !== 0) p.push(`exit status ${run.exitStatus === null ? 'none (did not exit)' : run.exitStatus}`);
    if (run.statsError) p.push(`reading the exported stats failed: ${run.statsError}`);
    else if (!run.stats) p.push('the program never reported its stats at exit (mono_wasm_stats_json)');
    else if (run.stats.error) p.push(`stats: ${run.stats.error}`);
    if (run.pageRuns && run.pageRuns.error) p.push(`page runs: ${run.pageRuns.error}`);
    p.push(...tableProblems());
    if (run.tap) {
      if (run.tap.notOk) p.push(`${run.tap.notOk} TAP case(s) not ok`);
      if (run.tap.plan === null) p.push('TAP plan line missing');
      else if (run.tap.plan !== run.tap.ok + run.tap.notOk) p.push(`TAP plan ${run.tap.plan}, ${run.tap.ok + run.tap.notOk} cases`);
    }
    if (run.finalJson && 'verify_errors' in run.finalJson && run.finalJson.verify_errors !== 0)
      p.push(`verify_errors = ${run.finalJson.verify_errors}`);
    return p;
  }

  function fmt(key, v) {
    if (typeof v !== 'number') return String(v);
    const s = v.toLocaleString('en-US');
    return key.startsWith('bytes') || key.endsWith('_bytes') || key.includes('bytes_')
      ? `${s} (${(v / 1048576).toFixed(1)} MiB)` : s;
  }

  function fillTable(table, rows) {
    table.textContent = '';
    for (const [k, v] of rows) {
      const tr = table.insertRow();
      tr.insertCell().textContent = k;
      const td = tr.insertCell();
      td.textContent = v;
      if (/^[\d,.]/.test(v)) td.className = 'num';
    }
  }

  const STATES = [
    ['not mwpm\'s', [233, 236, 239]],
    ['foreign (other sbrk users)', [85, 85, 85]],
    ['free, zeroed', [43, 138, 62]],
    ['free, dirty', [242, 201, 76]],
    ['in use', [201, 42, 42]],
  ];

  // One pixel per page from page 0 to the end of mwpm's span, in rows, scaled up for the eye.
  function drawPageTable() {
    const pr = run.pageRuns;
    const canvas = $('map');
    if (!pr || pr.error || !pr.end_page) {
      $('legend').textContent = 'mwpm holds no pages.';
      canvas.hidden = true;
      return;
    }
    // About four times wider than high, a power of two from 64 to 512 pages per row.
    const width = Math.min(512, Math.max(64, 2 ** Math.ceil(Math.log2(Math.sqrt(pr.end_page * 4)))));
    const rows = Math.ceil(pr.end_page / width);
    canvas.width = width;
    canvas.height = rows;
    const scale = Math.max(1, Math.min(16, Math.floor(1024 / width), Math.floor(600 / rows)));
    canvas.style.width = `${width * scale}px`;
    canvas.style.height = `${rows * scale}px`;
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(width, rows);
    const count = stateCounts(pr);
    for (let i = 0; i + 2 < pr.runs.length; i += 3) {
      const [state, first, n] = [pr.runs[i], pr.runs[i + 1], pr.runs[i + 2]];
      const rgb = (STATES[state] || ['?', [0, 0, 255]])[1];
      for (let p = first; p < first + n; p++) {
        img.data.set([rgb[0], rgb[1], rgb[2], 255], p * 4);
      }
    }
    ctx.putImageData(img, 0, 0);
    const legend = $('legend');
    legend.textContent = `${pr.end_page.toLocaleString('en-US')} pages of ${pr.page_size / 1024} KiB ` +
      `from address 0, ${width} per row:`;
    STATES.forEach(([name, rgb], s) => {
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = `rgb(${rgb.join(',')})`;
      legend.append(sw, `${name} ${count[s].toLocaleString('en-US')}`);
    });
  }

  // Shows the verdict; the runner calls it again with the problems it found itself, and for a
  // run that must fail, with the expected failure it saw.
  window.mwpmShowVerdict = function (problems, expectedFailure) {
    const v = $('verdict');
    v.className = problems.length ? 'fail' : 'pass';
    v.textContent = problems.length ? 'FAIL: ' + problems.join('; ')
      : expectedFailure ? 'PASS: failed as it must: ' + expectedFailure.join('; ') : 'PASS';
  };

  function render() {
    $('title').textContent = `${program} (${build}) ${args.join(' ')}`;
    const tap = run.tap ? `${run.tap.ok} ok, ${run.tap.notOk} not ok, plan ${run.tap.plan}` : 'no TAP output';
    fillTable($('run'), [
      ['program', `${build}/${program}.js`],
      ['arguments', args.join(' ') || '(none)'],
      ['exit status', run.exitStatus === null ? 'none' : String(run.exitStatus)],
      ['crossOriginIsolated', String(run.crossOriginIsolated)],
      ['hardware threads', String(navigator.hardwareConcurrency)],
      ['time', `${(run.elapsedMs / 1000).toFixed(2)} s`],
      ['TAP', tap],
      ['linear memory at exit', run.memoryBytes === null ? '?' : fmt('bytes', run.memoryBytes)],
    ]);
    if (run.stats && !run.stats.error) fillTable($('stats'), Object.entries(run.stats).map(([k, v]) => [k, fmt(k, v)]));
    if (run.finalJson) {
      $('final-title').hidden = $('final').hidden = false;
      fillTable($('final'), Object.entries(run.finalJson).map(([k, v]) =>
        [k, Array.isArray(v) ? v.map((x) => JSON.stringify(x)).join('\n') : typeof v === 'object' ? JSON.stringify(v) : fmt(k, v)]));
    }
    drawPageTable();
    $('out').textContent = run.stdout.slice(-40).join('\n') +
      (run.stderr.length ? '\n--- stderr ---\n' + run.stderr.slice(-20).join('\n') : '');
    window.mwpmShowVerdict(run.problems);
  }

  function finish(code, error) {
    if (run.state === 'done') return;
    run.state = 'done';
    run.exitStatus = code;
    run.error = error;
    run.elapsedMs = performance.now() - started;
    run.finalJson = finalJson();
    run.tap = tapSummary();
    run.problems = findProblems();
    try {
      render();
    } catch (e) {
      run.problems.push(`the page could not show the result: ${e}`);
    }
    console.log('[mwpm-run-done]');
  }

  window.addEventListener('error', (e) => finish(run.exitStatus, `uncaught exception: ${e.message}`));
  window.addEventListener('unhandledrejection', (e) => finish(run.exitStatus, `unhandled rejection: ${e.reason}`));

  window.Module = {
    arguments: args,
    print: (line) => { keep(run.stdout, line); console.log('[stdout] ' + line); },
    printErr: (line) => { keep(run.stderr, line); console.log('[stderr] ' + line); },
    monoWasmAtExit: readStats,
    onExit: (code) => finish(code, null),
    onAbort: (what) => finish(null, `aborted: ${what}`),
  };

  $('title').textContent = `${program} (${build}) ${args.join(' ')}`;
  const script = document.createElement('script');
  script.src = `/build/${encodeURIComponent(build)}/${program.split('/').map(encodeURIComponent).join('/')}.js`;
  script.onerror = () => finish(null, `could not load ${script.src}`);
  document.body.appendChild(script);
})();
