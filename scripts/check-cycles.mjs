// Fails when the modules under a folder (default src/) import each other in a cycle. Every kind of import
// counts: `import`, `import type`, `export … from` and dynamic `import()` — a cycle through a type-only or a
// lazy import is still two floors that each need the other (docs/architecture.md has the floors).
//   node scripts/check-cycles.mjs [dir]      exit 1 and one line per cycle, else one line saying there is none
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = resolve(root, process.argv[2] ?? 'src');

function files(d, out = []) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) { if (name !== 'generated') files(p, out); } else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// Static and type imports, re-exports, and import('...') with a literal specifier; comments stripped first.
const IMPORT = /(?:^|[;\s])(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function resolveSpec(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}.mts`, join(base, 'index.ts'), base.replace(/\.js$/, '.ts')]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

export function importGraph(d) {
  const graph = new Map();
  for (const f of files(d)) {
    const text = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const deps = new Set();
    for (const m of text.matchAll(IMPORT)) {
      const to = resolveSpec(f, m[1] ?? m[2] ?? m[3]);
      if (to && to.startsWith(d)) deps.add(to);
    }
    graph.set(f, [...deps]);
  }
  return graph;
}

/** Strongly connected components of more than one module (or a module importing itself): Tarjan's algorithm. */
export function cycles(graph) {
  let index = 0;
  const idx = new Map(), low = new Map(), stack = [], on = new Set(), out = [];
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do { w = stack.pop(); on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.reverse());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const graph = importGraph(dir), found = cycles(graph);
  const rel = (f) => relative(root, f);
  if (found.length) {
    for (const c of found) console.error(`import cycle among: ${c.map(rel).join(', ')}`);
    console.error(`check-cycles: ${found.length} import cycle${found.length > 1 ? 's' : ''} among ${graph.size} modules of ${rel(dir)}/`);
    process.exit(1);
  }
  console.log(`check-cycles: no import cycle among ${graph.size} modules of ${rel(dir)}/`);
}
