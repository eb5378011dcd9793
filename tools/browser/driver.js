// driver.js: one run of tools/browser-test: a fresh headless Chromium (Debian's
// /usr/bin/chromium through playwright-core), one page, a time limit, the checks, a screenshot.
//
// Each run gets its own browser and profile folder, so a page stuck in a wasm loop cannot hold
// up the next run: closing the browser ends it. The browser is always closed and its profile
// removed, whatever happens.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const { residentBytes } = require('../wasm/smaps.js');

const CHROMIUM = '/usr/bin/chromium';
// As root on a closed network Chromium needs these (docs/browser.md).
const FLAGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const LAST_LINES = 12;

function loadPlaywright(top) {
  try {
    return require(path.join(top, 'node_modules', 'playwright-core'));
  } catch (e) {
    throw new Error(`playwright-core is not installed (run tools/setup, which runs npm ci): ${e.message}`);
  }
}

// Resolves to p's value, or rejects with `what` after ms.
function within(ms, p, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// Browsers open now, for closeAllBrowsers() on Ctrl-C.
const OPEN = new Set();

class Browser {
  constructor(playwright) {
    this.playwright = playwright;
    this.context = null;
    this.profile = null;
  }

  async open() {
    this.profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mwpm-chromium-'));
    OPEN.add(this);
    this.context = await this.playwright.chromium.launchPersistentContext(this.profile, {
      executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60000,
      handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
      viewport: { width: 1200, height: 900 },
    });
  }

  async close() {
    const ctx = this.context;
    this.context = null;
    if (ctx) await within(15000, ctx.close(), 'closing the browser').catch(() => {});
    if (this.profile) fs.rmSync(this.profile, { recursive: true, force: true });
    this.profile = null;
    OPEN.delete(this);
  }
}

// ---- what the renderer holds (docs/browser.md, "Resident memory") ----

function readProc(pid, file) {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch (e) {
    return null;
  }
}

// The Chromium renderers of the browser that uses `profile`: their command lines (which a
// zygote child rewrites as one string, words separated by spaces) say --type=renderer and name
// the profile folder.
function renderersOf(profile) {
  const words = (pid) => (readProc(pid, 'cmdline') || '').split(/[\0 ]/);
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    const w = words(pid);
    return w.includes('--type=renderer') && w.includes(`--user-data-dir=${profile}`);
  });
}

// The renderer holding the page's wasm memory (memoryBytes long): the resident bytes of that
// memory (smaps.js) and the renderer's peak resident set (VmHWM), or null when no renderer
// shows exactly one such memory.
function rendererUsage(profile, memoryBytes) {
  if (!memoryBytes) return null;
  for (const pid of renderersOf(profile)) {
    const smaps = readProc(pid, 'smaps');
    const resident = smaps ? residentBytes(smaps, memoryBytes) : null;
    if (resident === null) continue;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readProc(pid, 'status') || '');
    return { pid, residentLinear: resident, peakRss: hwm ? Number(hwm[1]) * 1024 : null };
  }
  return null;
}

function closeAllBrowsers() {
  return Promise.all([...OPEN].map((b) => b.close()));
}

// What the expectations of a run find wrong in the page's result.
function expectationProblems(run, r) {
  const p = [];
  const expect = run.expect || {};
  if (r.crossOriginIsolated !== true) p.push('the page is not crossOriginIsolated (COOP/COEP headers)');
  if (expect.finalJson && !r.finalJson) p.push('the program printed no final JSON object');
  if (expect.finalJson && r.finalJson && !('verify_errors' in r.finalJson)) p.push('the final JSON has no verify_errors');
  if (expect.threadReports) {
    const reports = r.finalJson && r.finalJson.thread_reports;
    if (!Array.isArray(reports) || reports.length !== expect.threadReports)
      p.push(`the final JSON has ${Array.isArray(reports) ? reports.length : 'no'} thread_reports, expected ${expect.threadReports}`);
    else if (!reports.every((t) => t.ops_while_gc > 0))
      p.push(`a thread did no work while the GC ran: ops_while_gc ${reports.map((t) => t.ops_while_gc).join(', ')}`);
  }
  if (expect.resident && !(r.renderer && r.renderer.residentLinear > 0))
    p.push(`the page's ${r.memoryBytes}-byte wasm memory was not found in a renderer's smaps`);
  for (const [stat, min] of Object.entries(expect.minStats || {})) {
    const v = r.stats ? r.stats[stat] : undefined;
    if (typeof v !== 'number' || v < min) p.push(`stat ${stat} = ${v}, expected at least ${min}`);
  }
  return p;
}

// For runs that must fail (expect.mustFail): null for other runs; else { problems, seen }, where
// problems is empty when every expected text appeared among the problems found.
function expectedFailure(run, problems) {
  const want = (run.expect || {}).mustFail;
  if (!want) return null;
  const missing = want.filter((t) => !problems.some((p) => p.includes(t)));
  if (!missing.length) return { problems: [], seen: problems.slice() };
  return { problems: [`expected a failure showing "${missing.join('", "')}"; found: ${problems.join('; ') || 'none, the run passed'}`], seen: null };
}

// Runs one page. Returns { status: 'pass'|'fail', problems, lastLines, seconds, result, screenshot }.
async function runPage(playwright, run, url, screenshot, log) {
  const started = Date.now();
  const lines = [];
  const consoleErrors = [];
  const pageErrors = [];
  const browser = new Browser(playwright);
  let result = null;
  const problems = [];
  try {
    await browser.open();
    const page = await browser.context.newPage();
    let finished;
    const done = new Promise((resolve) => { finished = resolve; });
    page.on('console', (msg) => {
      const text = msg.text();
      if (text === '[mwpm-run-done]') return finished('done');
      if (msg.type() === 'error') {
        const where = msg.location() && msg.location().url;
        consoleErrors.push(where ? `${text} (${where})` : text);
      }
      lines.push(text.startsWith('[stdout] ') ? text.slice(9) : text);
      if (lines.length > 2000) lines.splice(0, 1000);
      if (log) log(text);
    });
    page.on('pageerror', (e) => pageErrors.push(String(e && e.stack ? e.stack.split('\n')[0] : e)));
    page.on('crash', () => finished('crash'));
    let timer;
    const deadline = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), run.timeout * 1000); });
    await page.goto(url, { waitUntil: 'commit', timeout: 30000 });
    const how = await Promise.race([done, deadline]);
    clearTimeout(timer);
    if (how === 'timeout') {
      problems.push(`timed out after ${run.timeout} s (the page never finished)`);
    } else if (how === 'crash') {
      problems.push('the page crashed');
    } else {
      result = await within(20000, page.evaluate(() => {
        const r = window.mwpmRun;
        return {
          exitStatus: r.exitStatus, error: r.error, crossOriginIsolated: r.crossOriginIsolated, stats: r.stats,
          finalJson: r.finalJson, tap: r.tap, problems: r.problems, elapsedMs: r.elapsedMs, memoryBytes: r.memoryBytes,
          pageRunCount: r.pageRuns && r.pageRuns.runs ? r.pageRuns.runs.length / 3 : null,
        };
      }), 'reading the result from the page');
      result.renderer = rendererUsage(browser.profile, result.memoryBytes);
      problems.push(...result.problems, ...expectationProblems(run, result));
    }
    problems.push(...consoleErrors.map((t) => `console error: ${t}`));
    problems.push(...pageErrors.map((t) => `uncaught exception: ${t}`));
    const expected = expectedFailure(run, problems);
    if (expected) problems.splice(0, problems.length, ...expected.problems);
    if (how === 'done') {
      await within(10000, page.evaluate(([p, e]) => window.mwpmShowVerdict(p, e), [problems, expected && expected.seen]),
        'showing the verdict').catch(() => {});
      await within(30000, page.screenshot({ path: screenshot, fullPage: true }), 'taking the screenshot')
        .catch((e) => problems.push(`screenshot failed: ${e.message}`));
    } else {
      // The page may be stuck in wasm: a screenshot may not come; try briefly.
      await within(5000, page.screenshot({ path: screenshot, timeout: 5000 }), 'taking the screenshot').catch(() => {});
    }
  } catch (e) {
    problems.push(String(e.message || e).split('\n')[0]);
  } finally {
    await browser.close();
  }
  return {
    status: problems.length ? 'fail' : 'pass',
    problems,
    lastLines: lines.slice(-LAST_LINES),
    seconds: (Date.now() - started) / 1000,
    result,
    screenshot: fs.existsSync(screenshot) ? screenshot : null,
  };
}

module.exports = { loadPlaywright, runPage, closeAllBrowsers, rendererUsage, CHROMIUM };
