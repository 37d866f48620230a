// A tiny static server for the browser demo and the browser tests, on 127.0.0.1 only.
//   node scripts/demo-server.mjs [--coop] [--port 8080] [--root dist/demo]
// --coop sends Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp on
// every response, which makes the page cross-origin isolated: only then does it get SharedArrayBuffer, and
// rede trains on worker threads. Without it the page trains on one thread (and says so).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.bin': 'application/octet-stream',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8',
};

/** The headers that make a page cross-origin isolated (CORP too, so the page's own files pass require-corp). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Serves `root` (and `pages`: extra in-memory files by URL path, e.g. a test's own page) on 127.0.0.1.
 * Resolves to { url, close() } once listening; port 0 picks a free port.
 */
export function startServer({ root, coop = false, port = 0, pages = {} }) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const headers = { 'Cache-Control': 'no-store', ...(coop ? ISOLATION_HEADERS : {}) };
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, headers, 'text/plain', 'method not allowed');
      if (Object.hasOwn(pages, path)) return send(res, 200, headers, TYPES[extname(path)] ?? 'text/plain', pages[path]);
      const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
      if (file !== base && !file.startsWith(base + sep)) return send(res, 403, headers, 'text/plain', 'forbidden');
      const st = await stat(file).catch(() => null);
      if (!st?.isFile()) return send(res, 404, headers, 'text/plain', `not found: ${path}`);
      send(res, 200, headers, TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file), req.method === 'HEAD');
    } catch (e) {
      send(res, 500, headers, 'text/plain', String(e?.message ?? e));
    }
  });
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      res({
        url: `http://127.0.0.1:${p}/`,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
      });
    });
  });
}

function send(res, status, headers, type, body, headOnly = false) {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': buf.length });
  res.end(headOnly ? undefined : buf);
}

function parseArgs(argv) {
  const o = { coop: false, port: 8080, root: 'dist/demo' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--coop') o.coop = true;
    else if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--root') o.root = argv[++i];
    else throw new Error(`demo-server: unknown argument '${a}' (usage: demo-server.mjs [--coop] [--port N] [--root DIR])`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error(`demo-server: --port must be an integer in [0, 65535], got ${o.port}`);
  return o;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const st = await stat(join(o.root, 'index.html')).catch(() => null);
  if (!st) {
    console.error(`demo-server: ${o.root}/index.html is missing; build it first (npm run build, or node scripts/build-demo.mjs)`);
    process.exit(1);
  }
  const { url } = await startServer(o).catch((e) => {
    console.error(e.code === 'EADDRINUSE' ? `demo-server: port ${o.port} is in use; pass --port N (0 picks a free one)` : `demo-server: ${e.message}`);
    process.exit(1);
  });
  console.log(`rede demo: ${url}  (${o.coop ? 'COOP/COEP on: cross-origin isolated, worker threads' : 'no COOP/COEP: single-threaded fallback'}; Ctrl-C stops)`);
}
