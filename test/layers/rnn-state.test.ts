// returnState, initial state and the bidirectional wrapper (src/layers/rnn.ts, select.ts, bidirectional.ts):
// finite differences through the model API on each engine (the initial state's gradient is checked through the
// layer that computes it), a padded sequence read both ways gives the unpadded one's output, clear errors for
// bad configs, and InferenceModel and .rede round trips. Agreement with tfjs: test/layers/rnn-tfjs-state.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheckModel, modelEngines, withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { numelOf } from '../../src/layers/layer';
import type { LayerConfig, ModelConfig } from '../../src/model/config';
import { Model, Model as ModelClass } from '../../src/api/model';
import { RedeError } from '../../src/engine/errors';

function randomizeParams(m: Model, seed: number): void {
  const rng = new Rng(seed);
  for (const en of m.entries) m.setWeight(en.key, rng.array(en.n, -0.7, 0.7));
}
const zeroSteps = (features: number) => (rng: Rng, n: number): Float32Array => {
  const x = rng.array(n);
  for (let r = 0; r < n / features; r++) if (r % 4 === 3) x.fill(0, r * features, (r + 1) * features);
  return x;
};

interface Case { name: string; input: number[]; layers: LayerConfig[]; x?: (rng: Rng, n: number) => Float32Array }

/** An encoder's last state (returnState + select) starts a decoder reading the same sequence. */
const encoderDecoder = (type: 'simple_rnn' | 'lstm' | 'gru', extra: Partial<LayerConfig> = {}): LayerConfig[] => [
  { type, name: 'enc', units: 3, returnState: true, ...extra } as LayerConfig,
  { type: 'select', name: 'enc_h', inputs: ['enc'], part: 'h' },
  ...(type === 'lstm' ? [{ type: 'select', name: 'enc_c', inputs: ['enc'], part: 'c' } as LayerConfig] : []),
  { type, name: 'dec', units: 3, returnSequences: true, inputs: ['input', 'enc_h', ...(type === 'lstm' ? ['enc_c'] : [])], ...extra } as LayerConfig,
];

const cases: Case[] = [
  ...(['simple_rnn', 'lstm', 'gru'] as const).map((type): Case => ({ name: `${type} encoder state → decoder initial state`, input: [4, 2], layers: encoderDecoder(type) })),
  { name: 'gru resetAfter false, go backwards: state handed on', input: [3, 2], layers: encoderDecoder('gru', { resetAfter: false, goBackwards: true } as Partial<LayerConfig>) },
  { name: 'lstm returnSequences + returnState: every part read', input: [3, 2], layers: [
    { type: 'lstm', name: 'l', units: 3, returnSequences: true, returnState: true },
    { type: 'select', name: 'seq', inputs: ['l'], part: 'output' }, { type: 'flatten', name: 'fs', inputs: ['seq'] },
    { type: 'select', name: 'h', inputs: ['l'], part: 'h' }, { type: 'select', name: 'c', inputs: ['l'], part: 'c' },
    { type: 'concat', inputs: ['fs', 'h', 'c'] }] },
  { name: 'initial state from a dense layer; masked input', input: [5, 2], x: zeroSteps(2), layers: [
    { type: 'flatten', name: 'flat' }, { type: 'dense', name: 'h0', units: 3, activation: 'tanh' }, { type: 'dense', name: 'c0', units: 3, inputs: ['flat'] },
    { type: 'masking', name: 'mask', inputs: ['input'] }, { type: 'lstm', units: 3, inputs: ['mask', 'h0', 'c0'] }] },
  ...(['concat', 'sum', 'mul', 'ave'] as const).flatMap((mergeMode): Case[] => [
    { name: `bidirectional lstm ${mergeMode}, sequences`, input: [3, 2], layers: [{ type: 'bidirectional', layer: 'lstm', units: 3, returnSequences: true, mergeMode }] },
    { name: `bidirectional gru ${mergeMode}, last state`, input: [4, 2], layers: [{ type: 'bidirectional', layer: 'gru', units: 3, mergeMode }] },
  ]),
  { name: 'bidirectional lstm returnState: its states start a bidirectional lstm (masked input)', input: [4, 2], x: zeroSteps(2), layers: [
    { type: 'masking', name: 'mask' },
    { type: 'bidirectional', name: 'enc', layer: 'lstm', units: 3, returnState: true, returnSequences: true, mergeMode: 'sum' },
    ...(['output', 'forward_h', 'forward_c', 'backward_h', 'backward_c'] as const).map((part): LayerConfig => ({ type: 'select', name: part, inputs: ['enc'], part })),
    { type: 'bidirectional', layer: 'lstm', units: 3, inputs: ['output', 'forward_h', 'forward_c', 'backward_h', 'backward_c'] }] },
  { name: 'bidirectional gru returnState (last state, concat) → initial state of a gru', input: [4, 2], layers: [
    { type: 'bidirectional', name: 'enc', layer: 'gru', units: 3, returnState: true },
    { type: 'select', name: 'fh', inputs: ['enc'], part: 'forward_h' }, { type: 'select', name: 'bh', inputs: ['enc'], part: 'backward_h' },
    { type: 'add', name: 'h0', inputs: ['fh', 'bh'] }, { type: 'select', name: 'out', inputs: ['enc'], part: 'output' },
    { type: 'gru', name: 'dec', units: 3, inputs: ['input', 'h0'] }, { type: 'concat', inputs: ['out', 'dec'] }] },
  { name: 'bidirectional simple_rnn after masking (sequences) → bidirectional gru', input: [5, 2], x: zeroSteps(2), layers: [
    { type: 'masking' }, { type: 'bidirectional', layer: 'simple_rnn', units: 3, returnSequences: true }, { type: 'bidirectional', layer: 'gru', units: 2, mergeMode: 'sum', resetAfter: false }] },
];

for (const c of cases) {
  test(`gradcheck: ${c.name}`, async () => {
    const config: ModelConfig = { name: 'seq', input: c.input, layers: c.layers };
    for (const { name, e } of await modelEngines()) {
      await withModel(e, config, (m) => {
        randomizeParams(m, 17);
        const rng = new Rng(5), n = 2 * numelOf(c.input);
        const x = c.x ? c.x(rng, n) : rng.array(n);
        try {
          gradcheckModel(m, x, { training: true, samples: 30 });
        } catch (err) {
          throw new Error(`${name} engine, ${c.name}: ${(err as Error).message}`, { cause: err });
        }
      });
    }
  });
}

test('bidirectional over a padded sequence gives the unpadded sequence\'s output (both directions skip the padding)', async () => {
  for (const layer of ['simple_rnn', 'lstm', 'gru'] as const) {
    for (const { name, e } of await modelEngines()) {
      const cfg = (steps: number, returnSequences: boolean): ModelConfig => ({ input: [steps], layers: [
        { type: 'embedding', name: 'emb', inputDim: 9, outputDim: 4, maskZero: true }, { type: 'bidirectional', name: 'bi', layer, units: 4, returnSequences }] });
      const short = await ModelClass.create(cfg(3, false), { engine: e, seed: 3 });
      randomizeParams(short, 4);
      const padded = await ModelClass.create(cfg(6, false), { engine: e, seed: 3 });
      padded.setWeights(short.getWeights());
      const want = short.forward(new Float32Array([5, 2, 8]));
      assertClose(padded.forward(new Float32Array([5, 2, 8, 0, 0, 0])), want, `${name} ${layer} right-padded`, { rtol: 1e-6, atol: 1e-7 });
      assertClose(padded.forward(new Float32Array([0, 5, 0, 2, 8, 0])), want, `${name} ${layer} padded between`, { rtol: 1e-6, atol: 1e-7 });
      // sequences: the real steps' outputs in time order, zeros at padding
      const s1 = await ModelClass.create(cfg(3, true), { engine: e, seed: 3 }), s2 = await ModelClass.create(cfg(5, true), { engine: e, seed: 3 });
      s1.setWeights(short.getWeights()); s2.setWeights(short.getWeights());
      const y1 = s1.forward(new Float32Array([5, 2, 8])), y2 = s2.forward(new Float32Array([5, 2, 0, 8, 0])), w = 8;
      [0, 1, 3].forEach((at, i) => assertClose(y2.subarray(at * w, at * w + w), y1.subarray(i * w, i * w + w), `${name} ${layer} step ${i}`, { rtol: 1e-6, atol: 1e-7 }));
      for (const z of [2, 4]) assert.ok(y2.subarray(z * w, z * w + w).every((v) => v === 0), `${name} ${layer}: padded step ${z} outputs 0`);
    }
  }
});

test('returnState, initial states, select and bidirectional reject bad configs with clear errors', async () => {
  const { e } = (await modelEngines())[0];
  const bad = async (layers: LayerConfig[], re: RegExp, extra: Partial<ModelConfig> = {}) => {
    await assert.rejects(ModelClass.create({ input: [4, 2], layers, ...extra }, { engine: e }), (err: Error) => err instanceof RedeError && re.test(err.message), String(re));
  };
  const packed: LayerConfig = { type: 'lstm', name: 'l', units: 3, returnState: true };
  await bad([packed, { type: 'dense', units: 2 }], /dense 'dense_1': input 0 packs several outputs \(output, h, c: a recurrent layer with returnState\); read each through a select layer/);
  await bad([packed], /model: output 'l' packs several outputs \(output, h, c\); make select layers of them the outputs/);
  await bad([packed, { type: 'select', part: 'c2' } as unknown as LayerConfig], /select 'select_1': part must be one of 'output', 'h', 'c', 'forward_h', 'forward_c', 'backward_h', 'backward_c', got 'c2'/);
  await bad([{ type: 'gru', name: 'g', units: 3, returnState: true }, { type: 'select', part: 'c' }], /select 'select_1': its input has no part 'c' \(it has 'output', 'h'\)/);
  await bad([{ type: 'flatten' }, { type: 'select', part: 'h' }], /select 'select_1': its input \[8\] is one tensor; select reads a layer with several outputs/);
  await bad([{ type: 'flatten' }, { type: 'dense', name: 'h0', units: 4 }, { type: 'gru', units: 3, inputs: ['input', 'h0'] }], /gru 'gru_2': initial state h0 \(input 1\) must be \[3\] \(units\) per example, got \[4\]/);
  await bad([{ type: 'flatten' }, { type: 'dense', name: 'h0', units: 3 }, { type: 'lstm', units: 3, inputs: ['input', 'h0'] }], /lstm 'lstm_2': expects 1 input \(the sequence\) or 3 \(the sequence, then the initial state h0 and c0\), got 2/);
  await bad([{ type: 'bidirectional', name: 'bi', layer: 'lstm', units: 3, returnState: true }, { type: 'select', part: 'h' }],
    /select 'select_1': its input has no part 'h' \(it has 'output', 'forward_h', 'forward_c', 'backward_h', 'backward_c'\)/);
  await bad([{ type: 'flatten' }, { type: 'dense', name: 'h0', units: 3 }, { type: 'bidirectional', layer: 'gru', units: 3, inputs: ['input', 'h0'] }],
    /bidirectional 'bidirectional_2': expects 1 input \(the sequence\) or 3 \(the sequence, then the initial state: forward h0, backward h0\), got 2/);
  await bad([{ type: 'bidirectional', layer: 'dense', units: 3 } as unknown as LayerConfig], /bidirectional 'bidirectional_0': layer must be one of 'simple_rnn', 'lstm', 'gru', got 'dense'/);
  await bad([{ type: 'bidirectional', layer: 'gru', units: 3, mergeMode: 'max' } as unknown as LayerConfig], /mergeMode must be one of 'concat', 'sum', 'mul', 'ave', got 'max'/);
  await bad([{ type: 'bidirectional', layer: 'lstm', units: 3, resetAfter: true }], /lstm 'bidirectional_0\/forward': resetAfter is a gru option/);
});

test('InferenceModel and .rede save/load run returnState, initial states and bidirectional layers as training does', async () => {
  const { InferenceModel } = await import('../../src/infer/model');
  const config: ModelConfig = { input: [5], layers: [
    { type: 'embedding', name: 'emb', inputDim: 9, outputDim: 3, maskZero: true },
    { type: 'bidirectional', name: 'bi', layer: 'lstm', units: 4, returnSequences: true, mergeMode: 'concat' },
    { type: 'lstm', name: 'enc', units: 3, returnState: true },
    { type: 'select', name: 'h', inputs: ['enc'], part: 'h' }, { type: 'select', name: 'c', inputs: ['enc'], part: 'c' },
    { type: 'lstm', name: 'dec', units: 3, returnSequences: true, inputs: ['bi', 'h', 'c'] },
    { type: 'bidirectional', name: 'bi2', layer: 'gru', units: 2, mergeMode: 'ave', returnState: true },
    { type: 'select', name: 'bi2_out', inputs: ['bi2'], part: 'output' }, { type: 'select', name: 'bi2_bh', inputs: ['bi2'], part: 'backward_h' },
    { type: 'concat', inputs: ['bi2_out', 'bi2_bh'] },
    { type: 'dense', units: 2, activation: 'softmax' }] };
  const m = await ModelClass.create(config, { seed: 2 });
  randomizeParams(m, 8);
  assert.ok(m.getWeights().has('bi/forward/kernel') && m.getWeights().has('bi/backward/recurrent_kernel'), 'bidirectional weights named forward/… and backward/…');
  const x = new Float32Array([1, 2, 0, 0, 3, 8, 0, 5, 6, 7, 1, 4, 4, 0, 0]);
  const want = m.forward(x);
  for (const workers of [1, 2]) {
    const inf = await InferenceModel.from(m, { workers });
    try {
      assertClose(inf.predict(x), want, `InferenceModel workers=${workers}`, { rtol: 1e-5, atol: 1e-6 });
    } finally {
      await inf.close();
    }
  }
  const { mkdtempSync, rmSync } = await import('node:fs'), { join } = await import('node:path'), { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'rede-seqx-'));
  try {
    await m.save(join(dir, 'seq.rede'));
    const back = await ModelClass.load(join(dir, 'seq.rede'));
    assertClose(back.forward(x), want, 'after save/load', { rtol: 0, atol: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a layer named like a bidirectional layer\'s part is refused: their weights would share names', async () => {
  const { e } = (await modelEngines())[0];
  await assert.rejects(ModelClass.create({ input: [6, 3], layers: [
    { type: 'bidirectional', name: 'bi', layer: 'gru', units: 3, returnSequences: true }, { type: 'gru', name: 'bi/forward', units: 3 }] }, { engine: e }),
  (err: Error) => err instanceof RedeError && /model: layers 'bi' and 'bi\/forward' both have a weight named 'bi\/forward\/kernel'; rename one/.test(err.message));
});
