// docs/zoo.md's table of registered models states each one's default input, parameters and FLOPs: it must
// list every model in the registry and agree with the configs, so the documentation cannot drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { models } from '../../src/zoo/index';
import { configStats } from './stats';

const DOC = new URL('../../docs/zoo.md', import.meta.url);

test('docs/zoo.md: every registered model, with its exact params and FLOPs', () => {
  const rows = new Map<string, string[]>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length >= 4 && models[cells[0]]) rows.set(cells[0], cells);
  }
  const num = (s: string) => Number(s.replace(/,/g, ''));
  for (const [name, make] of Object.entries(models)) {
    const row = rows.get(name);
    assert.ok(row, `docs/zoo.md has no row for '${name}'`);
    const config = make(), s = configStats(config);
    assert.equal(row[1], config.input.join('×'), `${name}: input`);
    assert.equal(num(row[2]), s.params, `${name}: params`);
    assert.equal(num(row[3]), s.flops, `${name}: FLOPs`);
  }
});
