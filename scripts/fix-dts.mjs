// Makes tsc's declaration files resolvable everywhere: src/ imports without extensions (moduleResolution
// Bundler), which node16/nodenext refuse inside a "type": "module" package (TS2834) — and with skipLibCheck
// every rede type would then silently be `any`. This rewrites each relative specifier to the file it names
// ('./layer' → './layer.js', './ops' → './ops/index.js') and writes a CJS twin of every file (x.d.cts, whose
// specifiers say .cjs), so that `require('rede')` gets declarations of CommonJS format.
//   node scripts/fix-dts.mjs dist/types
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// `from '…'`, `import '…'`, `import("…")` (tsc writes the last in inferred types); relative specifiers only.
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]*|\.\.?)\2/g;

function declarations(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) declarations(p, out);
    else if (e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The .js specifier of the declaration file that `spec` names from `file`, or an error naming both. */
function resolveSpecifier(file, spec) {
  const base = resolve(dirname(file), spec);
  const stem = spec.endsWith('.js') ? spec.slice(0, -3) : spec;
  if (existsSync(`${resolve(dirname(file), stem)}.d.ts`)) return `${stem}.js`;
  if (existsSync(join(base, 'index.d.ts'))) return `${spec.replace(/\/$/, '')}/index.js`;
  throw new Error(`fix-dts: ${file} imports '${spec}', which is neither ${stem}.d.ts nor ${spec}/index.d.ts`);
}

/** Rewrites every .d.ts under `dir` in place and writes its .d.cts twin; returns how many files. */
export function fixDeclarations(dir) {
  const files = declarations(dir);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const esm = text.replace(SPECIFIER, (_, head, q, spec) => `${head}${q}${resolveSpecifier(file, spec)}${q}`);
    const cjs = esm.replace(SPECIFIER, (_, head, q, spec) => `${head}${q}${spec.replace(/\.js$/, '.cjs')}${q}`);
    writeFileSync(file, esm);
    writeFileSync(file.replace(/\.d\.ts$/, '.d.cts'), cjs);
  }
  return files.length;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node scripts/fix-dts.mjs <declarations dir>');
  console.log(`fix-dts: ${fixDeclarations(dir)} files in ${relative(process.cwd(), resolve(dir)) || '.'}`);
}
