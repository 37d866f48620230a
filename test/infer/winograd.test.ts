// The inference plan's Winograd path (src/infer/winograd.ts, assembly/winograd.ts) against Model.predict and
// against the same plan with winograd: false: stride-1 3×3 convs with ≥ 16 input channels at even and odd map
// sizes, with bias, a fused residual add and ReLU, an ELU epilogue, a batch of 3 (plans of 2 and 1), 1 and 2
// threads, and one tile row per band.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { numelOf } from '../../src/layers/layer';
import { InferenceModel } from '../../src/infer/model';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';

/** A residual block at h × w: conv 3×3 32 → 36 (bias, ReLU), conv 36 → 36, + a 1×1 projection, ReLU; a 'valid' conv with ELU. */
const block = (h: number, w: number): ModelConfig => ({
  name: `block${h}x${w}`, input: [h, w, 32], layers: [
    { type: 'conv2d', name: 'c1', filters: 36, kernel: 3, padding: 'same', useBias: true },
    { type: 'relu', name: 'r1' },
    { type: 'conv2d', name: 'c2', filters: 36, kernel: 3, padding: 'same', useBias: true },
    { type: 'conv2d', name: 'p', filters: 36, kernel: 1, inputs: ['input'], useBias: false },
    { type: 'add', name: 'a', inputs: ['c2', 'p'] },
    { type: 'relu', name: 'r2' },
    { type: 'conv2d', name: 'c3', filters: 8, kernel: 3, padding: 'valid', activation: 'elu' },
  ],
});

test('infer: Winograd convs equal Model.predict and the GEMM plan (even and odd maps, residual + ReLU, batch 3, 1 and 2 threads)', async () => {
  const e = await Engine.create();
  for (const [h, w] of [[8, 8], [7, 7], [6, 9], [3, 5], [17, 6]] as const) {
    const config = block(h, w), rng = new Rng(h * 10 + w), m = await Model.create(config, { engine: e, seed: 5 });
    const x = rng.array(3 * numelOf(config.input)), expected = m.predict(x);
    for (const opts of [{ workers: 1 }, { workers: 1, bandBytes: 1 }, { workers: 2 }, { workers: 2, bandBytes: 1 }]) {
      const what = `${config.name} ${JSON.stringify(opts)}`;
      const wino = await InferenceModel.from(m, opts), gemm = await InferenceModel.from(m, { ...opts, winograd: false });
      try {
        const ran = wino.summary.ops.filter((op) => op.winograd).map((op) => op.name);
        // c3 ('valid') has h − 2 output rows: Winograd needs a row of 2×2 tiles per thread
        assert.deepEqual(ran, ['c1', 'c2', ...(Math.ceil((h - 2) / 2) >= opts.workers ? ['c3'] : [])], `${what}: the 3×3 convs run as Winograd`);
        assert.ok(gemm.summary.ops.every((op) => !op.winograd), `${what}: winograd: false keeps GEMM`);
        const y = wino.predict(x);
        assertClose(y, expected, `${what}: Winograd vs Model.predict`, { rtol: 1e-4, atol: 1e-4 });
        assertClose(y, gemm.predict(x), `${what}: Winograd vs the GEMM plan`, { rtol: 1e-4, atol: 1e-4 });
        assertClose(wino.predict(x), y, `${what}: a second call`, { rtol: 0, atol: 0 });
      } finally {
        await wino.close(); await gemm.close();
      }
    }
  }
});

test('infer: the winograd option is checked', async () => {
  const m = await Model.create(block(4, 4), { seed: 1 });
  await assert.rejects(InferenceModel.from(m, { winograd: 'yes' as unknown as boolean }), /infer: winograd must be true or false, got "yes"/);
});
