// server.js: the small HTTP server of tools/browser-test, on a free port of 127.0.0.1.
//
//   /run/<build>/<program>?<options>  the result page (page.html) for build/<build>/<program>.js
//   /build/<build>/<file>             files of a build folder (the program's .js, .wasm, .worker.js)
//   /page/<file>                      the page's own files (tools/browser/)
//
// Every response carries Cross-Origin-Opener-Policy: same-origin and
// Cross-Origin-Embedder-Policy: require-corp, so the page is cross-origin isolated and pthreads
// get SharedArrayBuffer. Only files under the named folders are served (no '..', no symlink
// escape); anything else is 404.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
};

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

// The real path of `rel` inside `root`, or null when it would leave root or does not exist.
function resolveInside(root, rel) {
  let real;
  try {
    real = fs.realpathSync(path.join(root, rel));
  } catch (e) {
    return null;
  }
  const base = fs.realpathSync(root);
  return real === base || real.startsWith(base + path.sep) ? real : null;
}

function send(res, status, type, body) {
  res.writeHead(status, { ...ISOLATION, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendFile(res, file) {
  fs.readFile(file, (err, data) => {
    if (err) return send(res, 404, 'text/plain', 'not found\n');
    send(res, 200, TYPES[path.extname(file)] || 'application/octet-stream', data);
  });
}

// builds: { name: folder }. pageDir: the folder of page.html and page.js.
// Resolves to { url, close() } once listening.
function startServer(builds, pageDir) {
  const server = http.createServer((req, res) => {
    let p;
    try {
      p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch (e) {
      return send(res, 400, 'text/plain', 'bad URL\n');
    }
    const parts = p.split('/').filter(Boolean);
    if (parts.includes('..')) return send(res, 403, 'text/plain', 'forbidden\n');
    if (parts[0] === 'run' && parts.length >= 3 && builds[parts[1]])
      return sendFile(res, path.join(pageDir, 'page.html'));
    let file = null;
    if (parts[0] === 'build' && parts.length >= 3 && builds[parts[1]])
      file = resolveInside(builds[parts[1]], parts.slice(2).join('/'));
    else if (parts[0] === 'page' && parts.length === 2)
      file = resolveInside(pageDir, parts[1]);
    if (!file) return send(res, 404, 'text/plain', `not found: ${p}\n`);
    sendFile(res, file);
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

module.exports = { startServer };
