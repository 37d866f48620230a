// Weights by documented name (src/model/weights.ts): getWeights / setWeights round trips in every layout,
// the checks setWeights makes before writing anything (names with a suggestion, missing names, shapes per
// layout, values), the .rede names (and files written with the old ones), and model.gradients(): the loss and
// every gradient of one batch with the model left bitwise as it was. PyTorch itself: weights-pytorch.test.ts.
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { RedeError } from '../../src/engine/errors';
import { Model } from '../../src/api/model';
import { decodeRedeFile, encodeRedeFile } from '../../src/io/file';
import type { ModelConfig } from '../../src/model/config';
import type { WeightTensor } from '../../src/model/weights';
import { withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';

let engine: Promise<Engine> | null = null;
const simd = (): Promise<Engine> => (engine ??= Engine.create({ variant: 'simd' }));

/** conv → bn → relu → pool → flatten → dropout → dense → dense: every kind of weight, and a flatten of [3, 3, 4]. */
const NET: ModelConfig = {
  name: 'weights', input: [6, 6, 2], layers: [
    { type: 'conv2d', name: 'conv', filters: 4, kernel: 3, padding: 'same' },
    { type: 'batchnorm', name: 'bn' },
    { type: 'relu', name: 'act' },
    { type: 'maxpool2d', name: 'pool', pool: 2 },
    { type: 'flatten', name: 'flat' },
    { type: 'dropout', name: 'drop', rate: 0.25 },
    { type: 'dense', name: 'fc1', units: 5, activation: 'relu' },
    { type: 'dense', name: 'fc2', units: 3 },
  ],
};
const NAMES = ['conv/kernel', 'conv/bias', 'bn/gamma', 'bn/beta', 'bn/moving_mean', 'bn/moving_variance', 'fc1/kernel', 'fc1/bias', 'fc2/kernel', 'fc2/bias'];

const isRede = (re: RegExp) => (e: unknown) => e instanceof RedeError && re.test(e.message);
const bits = (w: Map<string, WeightTensor>) => new Map([...w].map(([k, t]) => [k, { shape: t.shape, data: Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)) }]));

/** Random values for every weight (BN's gamma and variance positive), so nothing is at its initial value. */
function randomize(m: Model, seed: number): void {
  const rng = new Rng(seed), w = m.getWeights();
  for (const t of w.values()) t.data.set(rng.array(t.data.length, 0.1, 0.9).map((v, i) => (i % 2 ? v : -v)));
  for (const k of ['bn/gamma', 'bn/moving_variance']) w.get(k)!.data.set(rng.array(4, 0.5, 1.5));
  m.setWeights(w);
}

test('getWeights: every parameter and BN statistic by documented name, in rede\'s and PyTorch\'s shapes', async () => {
  await withModel(await simd(), NET, (m) => {
    const w = m.getWeights();
    assert.deepEqual([...w.keys()], NAMES);
    assert.deepEqual(Object.fromEntries([...w].map(([k, t]) => [k, t.shape])), {
      'conv/kernel': [3, 3, 2, 4], 'conv/bias': [4], 'bn/gamma': [4], 'bn/beta': [4], 'bn/moving_mean': [4], 'bn/moving_variance': [4],
      'fc1/kernel': [36, 5], 'fc1/bias': [5], 'fc2/kernel': [5, 3], 'fc2/bias': [3],
    });
    for (const [k, t] of w) assert.deepEqual(t.data, m.getWeight(k), k);
    assert.deepEqual(w.get('bn/moving_variance')!.data, new Float32Array(4).fill(1), 'running variance starts at 1');
    assert.deepEqual(bits(m.getWeights({ layout: 'keras' })), bits(w), 'keras is rede\'s layout');
    const pt = m.getWeights({ layout: 'pytorch' });
    assert.deepEqual(pt.get('conv/kernel')!.shape, [4, 2, 3, 3]);
    assert.deepEqual(pt.get('fc1/kernel')!.shape, [5, 36]);
    // OIHW (o, c, y, x) is HWIO (y, x, c, o); fc1's input row j (c, y, x of the [3, 3, 4] map) is rede's (y, x, c).
    const k = w.get('conv/kernel')!.data, kp = pt.get('conv/kernel')!.data;
    assert.equal(kp[((3 * 2 + 1) * 3 + 2) * 3 + 0], k[((2 * 3 + 0) * 2 + 1) * 4 + 3]);
    const d = w.get('fc1/kernel')!.data, dp = pt.get('fc1/kernel')!.data;
    const c = 2, y = 1, x = 0, o = 4;
    assert.equal(dp[o * 36 + (c * 9 + y * 3 + x)], d[((y * 3 + x) * 4 + c) * 5 + o]);
    assert.deepEqual(pt.get('fc2/kernel')!.data[1 * 5 + 3], w.get('fc2/kernel')!.data[3 * 3 + 1], 'a dense layer after a dense one: a transpose only');
    assert.throws(() => m.getWeights({ layout: 'torch' as never }), isRede(/^getWeights: layout must be 'rede', 'keras' or 'pytorch', got "torch"$/));
    assert.throws(() => m.getWeights({ layuot: 'pytorch' } as never), isRede(/^getWeights: unknown option 'layuot' \(did you mean 'layout'\?\)/));
  });
});

test('setWeights(getWeights()) round trips bitwise in every layout, from a Map or a JSON object', async () => {
  const e = await simd();
  const x = new Rng(3).array(4 * 72, -1, 1);
  await withModel(e, NET, async (a) => {
    randomize(a, 11);
    const want = bits(a.getWeights()), out = a.predict(x);
    for (const layout of ['rede', 'keras', 'pytorch'] as const) {
      await withModel(e, NET, (b) => {
        b.setWeights(a.getWeights({ layout }), { fromLayout: layout });
        assert.deepEqual(bits(b.getWeights()), want, layout);
        assert.deepEqual(b.predict(x), out, `${layout}: same predictions`);
      }, 2);
    }
    // What JSON.parse gives back: a plain object with number[] data.
    const json = JSON.parse(JSON.stringify(Object.fromEntries([...a.getWeights({ layout: 'pytorch' })].map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }]))));
    await withModel(e, NET, (b) => {
      b.setWeights(json, { fromLayout: 'pytorch' });
      assert.deepEqual(bits(b.getWeights()), want, 'from JSON');
    }, 3);
  });
});

test('setWeights checks names, shapes per layout and values before writing anything', async () => {
  await withModel(await simd(), NET, (m) => {
    randomize(m, 5);
    const before = bits(m.getWeights());
    const all = () => m.getWeights();
    const refused = (w: Map<string, unknown> | Record<string, unknown>, o: object | undefined, re: RegExp) => {
      assert.throws(() => m.setWeights(w as never, o as never), isRede(re));
      assert.deepEqual(bits(m.getWeights()), before, `nothing written after ${re}`);
    };
    // An unknown name, last in the map: the closest name suggested, and the earlier tensors not written.
    const typo = new Map([...all()].map(([k, t]) => [k, { shape: t.shape, data: t.data.map(() => 0.5) }] as const)) as Map<string, unknown>;
    typo.set('conv/kernal', { shape: [3, 3, 2, 4], data: new Float32Array(72) });
    refused(typo, undefined, /^setWeights: the model has no weight 'conv\/kernal' \(did you mean 'conv\/kernel'\?\); its weights: conv\/kernel, conv\/bias, .*\(10 in all\)$/);
    // The wrong shape for the layout, naming the weight, both shapes and the layout, and which layout fits.
    const wrong = new Map([...all()].map(([k, t]) => [k, { shape: t.shape, data: t.data.map(() => 0.5) }] as const)) as Map<string, unknown>;
    wrong.set('fc2/kernel', { shape: [3, 5], data: new Float32Array(15) });
    refused(wrong, undefined, /^setWeights: 'fc2\/kernel' has shape \[3, 5\], expected \[5, 3\] in layout 'rede' \(rede's layout: .*\); that is its shape in layout 'pytorch' \(pass \{ fromLayout: 'pytorch' \}\)$/);
    refused(all(), { fromLayout: 'pytorch' }, /^setWeights: 'conv\/kernel' has shape \[3, 3, 2, 4\], expected \[4, 2, 3, 3\] in layout 'pytorch' \(PyTorch's layout: conv kernels \[out, in, kh, kw\], transposed-conv kernels \[in, out, kh, kw\], dense kernels \[out, in\]\); that is its shape in layout 'rede'/);
    const short = all(); short.set('conv/bias', { shape: [4], data: new Float32Array(3) });
    refused(short, undefined, /^setWeights: 'conv\/bias' has 3 values, its shape \[4\] needs 4$/);
    const nan = all(); nan.get('fc1/bias')!.data[2] = NaN;
    refused(nan, undefined, /^setWeights: 'fc1\/bias' value 2 is NaN, expected a finite number$/);
    refused({ 'conv/bias': new Float32Array(4) }, { strict: false }, /^setWeights: 'conv\/bias' must be \{ shape: number\[\], data: Float32Array or number\[\] \}, got an object with keys 0, 1, 2, 3$/);
    const missing = all(); missing.delete('bn/moving_mean'); missing.delete('fc2/bias');
    refused(missing, undefined, /^setWeights: 2 of the model's 10 weights are missing: bn\/moving_mean, fc2\/bias \(pass \{ strict: false \} to set only some\)$/);
    // PyTorch's names for the BN statistics are accepted in its layout, not twice, and not in rede's.
    const pt = m.getWeights({ layout: 'pytorch' });
    pt.set('bn/running_mean', pt.get('bn/moving_mean')!);
    refused(pt, { fromLayout: 'pytorch' }, /^setWeights: 'bn\/moving_mean' is given twice \(as 'bn\/moving_mean' and 'bn\/running_mean'\)$/);
    refused({ 'bn/running_mean': { shape: [4], data: [1, 2, 3, 4] } }, { strict: false }, /^setWeights: the model has no weight 'bn\/running_mean' \(did you mean 'bn\/moving_mean'\?\)/);
    refused(all(), { fromLayout: 'onnx' }, /^setWeights: fromLayout must be 'rede', 'keras' or 'pytorch', got "onnx"$/);
    refused(all(), { fromLayuot: 'pytorch' }, /^setWeights: unknown option 'fromLayuot' \(did you mean 'fromLayout'\?\)/);
    refused(all(), { strict: 'no' }, /^setWeights: strict must be true or false, got "no"$/);
    refused([] as never, undefined, /^setWeights: weights must be a Map or an object of name → \{ shape, data \}, got an array$/);

    // strict: false sets only what is given; PyTorch's statistic names work in its layout (Keras's alias too).
    m.setWeights({ 'bn/running_mean': { shape: [4], data: [1, 2, 3, 4] }, 'fc2/bias': { shape: [3], data: [7, 8, 9] } }, { layout: 'pytorch', strict: false } as never);
    assert.deepEqual(m.getWeight('bn/moving_mean'), Float32Array.of(1, 2, 3, 4));
    assert.deepEqual(m.getWeight('fc2/bias'), Float32Array.of(7, 8, 9));
    const after = bits(m.getWeights());
    for (const k of NAMES) if (k !== 'bn/moving_mean' && k !== 'fc2/bias') assert.deepEqual(after.get(k), before.get(k), `${k} untouched`);
  });
});

test('getWeight / setWeight / getGrad: one tensor by documented name', async () => {
  await withModel(await simd(), NET, (m) => {
    m.setWeight('fc2/bias', [1, 2, 3]);
    assert.deepEqual(m.getWeight('fc2/bias'), Float32Array.of(1, 2, 3));
    m.setWeight('bn/moving_variance', [2, 2, 2, 2]);
    assert.deepEqual(m.getWeights().get('bn/moving_variance')!.data, new Float32Array(4).fill(2));
    assert.throws(() => m.setWeight('fc2/bias', [1, 2]), isRede(/^setWeight: 'fc2\/bias' has 3 values \[3\], got 2$/));
    assert.throws(() => m.getWeight('fc2/w'), isRede(/^getWeight: the model has no weight 'fc2\/w' \(did you mean 'fc2\/kernel'\?\)/));
    assert.throws(() => m.getGrad('bn/moving_mean'), isRede(/^getGrad: 'bn\/moving_mean' is batch-norm state, not a trainable parameter; it has no gradient$/));
    assert.throws(() => m.getGrad('fc2/bias', 1), isRede(/^getGrad: slice must be an integer in \[0, 1\), got 1$/));
    assert.deepEqual(m.entries.map((en) => en.key), NAMES.filter((k) => !k.includes('moving')));
  });
});

test('.rede files name tensors as getWeights does, and files with the old param/<layer>/<w|b> names still load', async () => {
  const e = await simd();
  await withModel(e, NET, async (m) => {
    randomize(m, 9);
    m.compile({ optimizer: { type: 'adam', lr: 1e-3 }, loss: 'sparse_categorical_crossentropy' });
    const rng = new Rng(4);
    await m.fit(rng.array(8 * 72, -1, 1), Int32Array.from({ length: 8 }, () => rng.int(0, 3)), { epochs: 1, batchSize: 4 });
    const file = decodeRedeFile(m.toBytes());
    const params = NAMES.filter((k) => !k.includes('moving'));
    assert.deepEqual(Object.keys(file.tensors).sort(), [...NAMES, ...params.map((k) => `optimizer/0/${k}`), ...params.map((k) => `optimizer/1/${k}`)].sort());
    assert.deepEqual(file.shapes['conv/kernel'], [3, 3, 2, 4]);
    assert.deepEqual(file.shapes['bn/moving_variance'], [4]);

    // The same model in the old naming, built here: param/<layer>/<handle>, state/<layer>/<handle>, optimizer/<slot>/<layer>/<handle>.
    const OLD: Record<string, string> = { kernel: 'w', bias: 'b', gamma: 'gamma', beta: 'beta', moving_mean: 'running_mean', moving_variance: 'running_var' };
    const old = (k: string): string => {
      const opt = k.match(/^optimizer\/(\d+)\/(.+)$/);
      if (opt) return `optimizer/${opt[1]}/${old(opt[2]).replace(/^param\//, '')}`;
      const [layer, name] = k.split('/');
      return `${name.startsWith('moving') ? 'state' : 'param'}/${layer}/${OLD[name]}`;
    };
    const tensors = Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [old(k), t]));
    assert.ok('param/conv/w' in tensors && 'state/bn/running_var' in tensors && 'optimizer/1/fc1/w' in tensors);
    const oldBytes = encodeRedeFile({ header: file.header, tensors });
    const back = await Model.fromBytes(oldBytes, { engine: e });
    assert.deepEqual(bits(back.getWeights()), bits(m.getWeights()));
    assert.equal(back.trainer!.optimizer.t, m.trainer!.optimizer.t);
    // Saved again, it is the file the model writes today, byte for byte (optimizer state included).
    assert.deepEqual(back.toBytes(), m.toBytes());
    // A tensor missing from an old file is named by its documented name.
    delete tensors['state/bn/running_mean'];
    await assert.rejects(Model.fromBytes(encodeRedeFile({ header: file.header, tensors }), { engine: e }), isRede(/^model bytes: tensor 'bn\/moving_mean' is missing$/));
  });
});

test('model.gradients: loss and every gradient of a batch; weights, BN statistics, optimizer state and counters bitwise unchanged', async () => {
  const e = await simd();
  const rng = new Rng(21);
  const x = rng.array(6 * 72, -1, 1), y = Int32Array.from({ length: 6 }, () => rng.int(0, 3));
  await withModel(e, NET, async (m) => {
    randomize(m, 13);
    assert.throws(() => m.gradients(x, y), isRede(/^model: gradients\(\) needs compile\(\{optimizer, loss\}\) first$/));
    m.compile({ optimizer: { type: 'adam', lr: 1e-2 }, loss: 'sparse_categorical_crossentropy' });
    await m.fit(x, y, { epochs: 1, batchSize: 3 }); // non-zero optimizer state and step counters
    const file = m.toBytes(), t = m.trainer!, counters = [t.step, t.epoch, t.optimizer.t];
    const first = m.gradients(x, y);
    assert.deepEqual(m.toBytes(), file, 'weights, BN running statistics, optimizer state and counters');
    assert.deepEqual([t.step, t.epoch, t.optimizer.t], counters);
    assert.ok(Number.isFinite(first.loss) && first.loss > 0);
    assert.deepEqual([...first.grads.keys()], NAMES.filter((k) => !k.includes('moving')));
    for (const [k, g] of first.grads) {
      assert.deepEqual(g.shape, m.getWeights().get(k)!.shape, k);
      assert.deepEqual(g.data, m.getGrad(k), `${k}: the gradient slice`);
      assert.ok(g.data.some((v) => v !== 0), `${k} has a gradient`);
    }
    // Nothing moved, so the same call gives the same numbers bitwise; PyTorch's layout is the same numbers rearranged.
    const again = m.gradients(x, y, { layout: 'pytorch' });
    assert.equal(again.loss, first.loss);
    const pt = again.grads.get('conv/kernel')!;
    assert.deepEqual(pt.shape, [4, 2, 3, 3]);
    assert.equal(pt.data[((1 * 2 + 0) * 3 + 2) * 3 + 1], first.grads.get('conv/kernel')!.data[((2 * 3 + 1) * 2 + 0) * 4 + 1]);
    assert.throws(() => m.gradients(x, y.subarray(1)), isRede(/^gradients: 5 labels for 6 examples$/));
    assert.throws(() => m.gradients(x, Int32Array.from(y, () => 3)), isRede(/^gradients: label 0 is 3, expected an integer in \[0, 3\)$/));
    assert.throws(() => m.gradients(x, new Float32Array(6)), isRede(/^gradients: the loss sparse_categorical_crossentropy needs integer labels/));
    assert.throws(() => m.gradients(x.subarray(1), y), isRede(/^model: x has 431 values, not a whole number of examples/));
    assert.throws(() => m.gradients(x, y, { layout: 'tf' } as never), isRede(/^gradients: layout must be 'rede', 'keras' or 'pytorch', got "tf"$/));
    assert.deepEqual(m.toBytes(), file, 'refused calls change nothing either');
  });
});

test('model.gradients is the gradient a training step applies: one SGD step moves each weight by -lr·g', async () => {
  const e = await simd();
  const noDropout: ModelConfig = { ...NET, layers: NET.layers.filter((l) => l.type !== 'dropout') };
  const rng = new Rng(8);
  const x = rng.array(5 * 72, -1, 1), y = Int32Array.from({ length: 5 }, () => rng.int(0, 3));
  await withModel(e, noDropout, async (m) => {
    randomize(m, 17);
    const lr = 0.5;
    m.compile({ optimizer: { type: 'sgd', lr }, loss: 'sparse_categorical_crossentropy' });
    const { grads } = m.gradients(x, y), before = m.getWeights();
    await m.fit(x, y, { epochs: 1, batchSize: 5, shuffle: false });
    const after = m.getWeights();
    for (const [k, g] of grads) {
      const moved = after.get(k)!.data.map((w, i) => (before.get(k)!.data[i] - w) / lr);
      assertClose(moved, g.data, `${k}: (before - after) / lr`, { rtol: 1e-3, atol: 1e-5 });
    }
  });
});

test('docs/file-format.md: the example header is the one its snippet writes (names, shapes, offsets; CRCs vary by engine)', async () => {
  const doc = readFileSync(new URL('../../docs/file-format.md', import.meta.url), 'utf8');
  const block = doc.slice(doc.indexOf('## Header')).match(/```json\n([\s\S]*?)\n```/);
  assert.ok(block, 'a json block after ## Header');
  const documented = JSON.parse(block[1]) as { tensors: Record<string, { crc32?: number }> };
  // The snippet in the doc, on this test's engine.
  await withModel(await simd(), {
    input: [4, 4, 1], layers: [
      { type: 'conv2d', name: 'conv1', filters: 2, kernel: 3 }, { type: 'batchnorm', name: 'bn1' }, { type: 'flatten' }, { type: 'dense', name: 'fc', units: 2 }],
  }, async (m) => {
    m.compile({ optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' });
    await m.fit(new Float32Array(2 * 16).fill(0.5), Int32Array.of(0, 1), { epochs: 3, batchSize: 2, verbose: 0 });
    const bytes = m.toBytes(), f = decodeRedeFile(bytes);
    const noCrc = (t: Record<string, { crc32?: number }>) => Object.fromEntries(Object.entries(t).map(([k, { crc32: _, ...rest }]) => [k, rest]));
    assert.deepEqual({ ...documented, tensors: noCrc(documented.tensors) }, { ...f.header, tensors: noCrc(f.table), dataBytes: Math.max(...Object.values(f.table).map((t) => t.offset + t.bytes)) });
    assert.match(doc, new RegExp(`${bytes.length} bytes in all`));
    // Untrained tensors (BN's variance, zero velocities) have the same bytes on every engine.
    for (const k of ['bn1/moving_variance', 'optimizer/0/fc/bias']) assert.equal(documented.tensors[k].crc32, f.table[k].crc32, k);
  }, 1);
});

// Checked once against torch 1.13's ConvTranspose2d (stride 2, valid, 2 → 3 channels: outputs equal within 6e-8).
test("conv2d_transpose kernels: rede/Keras [kh, kw, out, in] ↔ PyTorch's ConvTranspose2d [in, out, kh, kw]", async () => {
  const { Model } = await import('../../src/api/model');
  const m = await Model.create({ name: 'ct', input: [3, 4, 2], layers: [{ type: 'conv2d_transpose', name: 't', filters: 3, kernel: [3, 2], stride: 2, padding: 'valid' }] }, { seed: 3 });
  const kh = 3, kw = 2, co = 3, ci = 2, rede = Float32Array.from({ length: kh * kw * co * ci }, (_, i) => i);
  m.setWeight('t/kernel', rede);
  const pt = m.getWeights({ layout: 'pytorch' }).get('t/kernel')!;
  assert.deepEqual(pt.shape, [ci, co, kh, kw]);
  for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
    assert.equal(pt.data[((c * co + o) * kh + y) * kw + x], rede[((y * kw + x) * co + o) * ci + c]);
  }
  m.setWeight('t/kernel', new Float32Array(rede.length));
  m.setWeights(new Map([['t/kernel', pt], ['t/bias', { shape: [co], data: new Float32Array(co) }]]), { fromLayout: 'pytorch' });
  assert.deepEqual(m.getWeight('t/kernel'), rede, 'round trip through the PyTorch layout');
});
