import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';

test('concurrent first engines all see relaxed SIMD (the V8 flag is set before any validation)', async () => {
  const es = await Promise.all([Engine.create({ variant: 'ref' }), Engine.create(), Engine.create({ shared: true })]);
  assert.deepEqual(es.map((e) => e.variant), ['ref', 'relaxed-simd', 'relaxed-simd']);
});
