// The layering rule has a check: scripts/check-cycles.mjs fails on an import cycle of any kind (static, type-only,
// `export … from`, dynamic import()), and src/ has none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (dir?: string) => spawnSync(process.execPath, ['scripts/check-cycles.mjs', ...(dir ? [dir] : [])], { encoding: 'utf8' });

function tree(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'rede-cycles-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

test('src/ has no import cycle', () => {
  const r = run();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /no import cycle among \d+ modules of src\//);
});

for (const [kind, a, b] of [
  ['static', "import { b } from './b';\nexport const a = 1;", "import { a } from './a';\nexport const b = a;"],
  ['type-only', "import type { B } from './lib/b';\nexport type A = B;", "import type { A } from '../a';\nexport type B = number | A[];"],
  ['re-export', "export { b } from './b';", "export * from './a';\nexport const b = 2;"],
  ['dynamic', "export const load = () => import('./b');", "import { load } from './a';\nexport const b = load;"],
] as const) {
  test(`a ${kind} import cycle fails the check, naming its modules`, () => {
    const bPath = a.includes('./lib/b') ? 'lib/b.ts' : 'b.ts';
    const d = tree({ 'a.ts': a, [bPath]: b, 'c.ts': "import { x } from './d';\nexport const c = x;", 'd.ts': 'export const x = 1;' });
    const r = run(d);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`import cycle among: .*a\\.ts, .*${bPath.replace('.', '\\.')}`));
    assert.doesNotMatch(r.stderr, /c\.ts|d\.ts/, 'an acyclic import is not reported');
  });
}
