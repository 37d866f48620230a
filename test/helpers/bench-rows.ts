// Runs a benchmark script with --json --quick and checks its rows against the schema every bench prints (shared by
// test/bench/*.test.ts): every key present, rede's values finite, a peer's value a number or null with a note.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export interface Row { bench: string; case: string; peer: string; variant: string; threads: number; metric: string; value: number | null; unit: string; note?: string }

export function bench(file: string, ...args: string[]): Row[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}.ts`, '--json', '--quick', ...args], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, `bench/${file}.ts: ${r.stderr.slice(-2000)}`);
  const rows = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Row);
  assert.ok(rows.length > 0, `bench/${file}.ts printed no JSON rows:\n${r.stdout.slice(0, 2000)}`);
  for (const row of rows) {
    for (const key of ['bench', 'case', 'peer', 'variant', 'threads', 'metric', 'value', 'unit'] as const) assert.ok(key in row, `${file}: row without '${key}': ${JSON.stringify(row)}`);
    if (row.peer === 'rede') assert.ok(typeof row.value === 'number' && Number.isFinite(row.value), `${file}: rede row not finite: ${JSON.stringify(row)}`);
    else assert.ok((typeof row.value === 'number' && Number.isFinite(row.value)) || (row.value === null && !!row.note), `${file}: a peer row needs a number or a note: ${JSON.stringify(row)}`);
  }
  return rows;
}

export const has = (rows: Row[], want: Partial<Row>, what: string) =>
  assert.ok(rows.some((r) => Object.entries(want).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v)), `missing row ${what}: ${JSON.stringify(want)}`);
