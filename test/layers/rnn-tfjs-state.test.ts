// returnState, initialState and Bidirectional against @tensorflow/tfjs (cpu backend) with the same weights: output,
// dL/dinput and every weight gradient for L = Σ y·r, within 1e-4. tfjs's GRU is resetAfter: false (it refuses
// true), and its gates default to hard_sigmoid, so both are set to Keras 2's choices here.
//   returnState: tfjs's [output, h, c] concatenated, against rede's select parts concatenated;
//   initialState: an encoder's last state (returnState) starts a decoder over the same sequence, so the state's
//     gradient is checked through the encoder's weight gradients and dx;
//   bidirectional: every merge mode and cell, sequences and last state, and a masked input (tfjs's mask argument,
//     rede's masking layer; last state, since Keras's masked sequence outputs repeat the previous step where
//     rede's are 0).
import { test } from 'node:test';
import type * as TF from '@tensorflow/tfjs';
import { tfjs } from '../helpers/tfjs';
import { modelEngines, withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import type { LayerConfig, ModelConfig } from '../../src/model/config';
import type { Model } from '../../src/api/model';

const B = 3, T = 5, F = 4, U = 4;
type Kind = 'simple_rnn' | 'lstm' | 'gru';
const GATES: Record<Kind, number> = { simple_rnn: 1, lstm: 4, gru: 3 };
const TOL = { rtol: 1e-4, atol: 1e-4 };

function tfCell(tf: typeof TF, kind: Kind, o: { returnSequences?: boolean; returnState?: boolean; goBackwards?: boolean }): TF.RNN {
  const common = { units: U, activation: 'tanh' as const, ...o };
  if (kind === 'simple_rnn') return tf.layers.simpleRNN(common) as TF.RNN;
  if (kind === 'lstm') return tf.layers.lstm({ ...common, recurrentActivation: 'sigmoid' }) as TF.RNN;
  return tf.layers.gru({ ...common, recurrentActivation: 'sigmoid' }) as TF.RNN;
}
const rnnOpts = (kind: Kind): Partial<LayerConfig> => (kind === 'gru' ? { resetAfter: false } : {}) as Partial<LayerConfig>;

/** A recurrent layer's three Keras tensors. */
function weightsOf(rng: Rng, kind: Kind): { kernel: Float32Array; rec: Float32Array; bias: Float32Array } {
  const gu = GATES[kind] * U;
  return { kernel: rng.array(F * gu, -0.5, 0.5), rec: rng.array(U * gu, -0.5, 0.5), bias: rng.array(gu, -0.3, 0.3) };
}
const tfWeights = (tf: typeof TF, kind: Kind, w: ReturnType<typeof weightsOf>): TF.Tensor[] => {
  const gu = GATES[kind] * U;
  return [tf.tensor2d(w.kernel, [F, gu]), tf.tensor2d(w.rec, [U, gu]), tf.tensor1d(w.bias)];
};
const redeWeights = (prefix: string, kind: Kind, w: ReturnType<typeof weightsOf>) => {
  const gu = GATES[kind] * U;
  return { [`${prefix}/kernel`]: { shape: [F, gu], data: w.kernel }, [`${prefix}/recurrent_kernel`]: { shape: [U, gu], data: w.rec }, [`${prefix}/bias`]: { shape: [gu], data: w.bias } };
};

/**
 * tfjs's y, dL/dx and weight gradients of `run` (which applies tfjs layers to x), for L = Σ y·r; the layers'
 * trainable weights in order.
 */
function tfRun(tf: typeof TF, run: (x: TF.Tensor) => TF.Tensor, layers: TF.layers.Layer[], x: Float32Array, r: Float32Array, mask?: TF.Tensor) {
  const xt = tf.tensor3d(x, [B, T, F]);
  const y = run(xt), rt = tf.tensor(r, y.shape);
  const loss = (xi: TF.Tensor) => tf.sum(tf.mul(run(xi), rt)) as TF.Scalar;
  const dx = tf.grad(loss)(xt).dataSync() as Float32Array;
  const vars = layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as TF.Variable));
  const { grads } = tf.variableGrads(() => loss(xt), vars);
  const out = { y: y.dataSync() as Float32Array, dx, grads: vars.map((v) => grads[v.name].dataSync() as Float32Array) };
  tf.dispose([xt, y, rt, ...Object.values(grads), ...(mask ? [mask] : [])]);
  return out;
}

async function compare(config: ModelConfig, weights: Record<string, { shape: number[]; data: Float32Array }>, gradNames: string[],
  x: Float32Array, r: Float32Array, want: ReturnType<typeof tfRun>, what: string): Promise<void> {
  for (const { name, e } of await modelEngines()) {
    await withModel(e, config, (m: Model) => {
      m.setWeights(weights, { fromLayout: 'keras' });
      assertClose(m.forward(x, { training: true }), want.y, `${name} ${what} forward`, TOL);
      assertClose(m.backward(r), want.dx, `${name} ${what} dx`, TOL);
      gradNames.forEach((k, i) => assertClose(m.getGrad(k), want.grads[i], `${name} ${what} d${k}`, TOL));
    });
  }
}

const names = (prefix: string) => ['kernel', 'recurrent_kernel', 'bias'].map((n) => `${prefix}/${n}`);

for (const kind of ['simple_rnn', 'lstm', 'gru'] as const) {
  test(`${kind} returnState and initialState agree with tfjs`, async () => {
    const tf = await tfjs();
    const rng = new Rng(61);
    for (const returnSequences of [false, true]) {
      // returnState: [output, h, (c)] flattened and concatenated
      const w = weightsOf(rng, kind), x = rng.array(B * T * F);
      const layer = tfCell(tf, kind, { returnSequences, returnState: true });
      layer.apply(tf.zeros([B, T, F]));
      layer.setWeights(tfWeights(tf, kind, w));
      const run = (xi: TF.Tensor) => tf.concat((layer.apply(xi) as TF.Tensor[]).map((t) => t.reshape([B, -1])), 1);
      const parts = kind === 'lstm' ? ['output', 'h', 'c'] : ['output', 'h'];
      const rows = (returnSequences ? T : 1) + parts.length - 1, r = rng.array(B * rows * U);
      const want = tfRun(tf, run, [layer], x, r);
      const config: ModelConfig = { input: [T, F], layers: [
        { type: kind, name: 'rnn', units: U, returnSequences, returnState: true, ...rnnOpts(kind) } as LayerConfig,
        ...parts.flatMap((part): LayerConfig[] => [{ type: 'select', name: part, inputs: ['rnn'], part } as LayerConfig, { type: 'flatten', name: `${part}_flat`, inputs: [part] }]),
        { type: 'concat', inputs: parts.map((p) => `${p}_flat`) }] };
      await compare(config, redeWeights('rnn', kind, w), names('rnn'), x, r, want, `${kind} returnState returnSequences=${returnSequences}`);
      layer.dispose();
      // initialState: enc's last state starts dec
      const we = weightsOf(rng, kind), wd = weightsOf(rng, kind), r2 = rng.array(B * (returnSequences ? T : 1) * U);
      const enc = tfCell(tf, kind, { returnState: true }), dec = tfCell(tf, kind, { returnSequences, goBackwards: returnSequences });
      const run2 = (xi: TF.Tensor) => dec.apply(xi, { initialState: (enc.apply(xi) as TF.Tensor[]).slice(1) }) as TF.Tensor;
      run2(tf.zeros([B, T, F]));
      enc.setWeights(tfWeights(tf, kind, we)); dec.setWeights(tfWeights(tf, kind, wd));
      const want2 = tfRun(tf, run2, [enc, dec], x, r2);
      const states = kind === 'lstm' ? ['h', 'c'] : ['h'];
      const config2: ModelConfig = { input: [T, F], layers: [
        { type: kind, name: 'enc', units: U, returnState: true, ...rnnOpts(kind) } as LayerConfig,
        ...states.map((part): LayerConfig => ({ type: 'select', name: part, inputs: ['enc'], part } as LayerConfig)),
        { type: kind, name: 'dec', units: U, returnSequences, goBackwards: returnSequences, inputs: ['input', ...states], ...rnnOpts(kind) } as LayerConfig] };
      await compare(config2, { ...redeWeights('enc', kind, we), ...redeWeights('dec', kind, wd) }, [...names('enc'), ...names('dec')], x, r2, want2,
        `${kind} initialState returnSequences=${returnSequences}`);
      enc.dispose(); dec.dispose();
    }
  });

  test(`bidirectional ${kind} agrees with tfjs: every merge mode, sequences and last state, masked input`, async () => {
    const tf = await tfjs();
    const rng = new Rng(62);
    const cases = [
      ...(['concat', 'sum', 'mul', 'ave'] as const).flatMap((mergeMode) => [false, true].map((returnSequences) => ({ mergeMode, returnSequences, masked: false }))),
      { mergeMode: 'concat' as const, returnSequences: false, masked: true },
    ];
    for (const { mergeMode, returnSequences, masked } of cases) {
      const wf = weightsOf(rng, kind), wb = weightsOf(rng, kind), x = rng.array(B * T * F);
      // masked: example 0 padded at the end, example 1 in the middle and at the start
      const pad = [[0, 3], [0, 4], [1, 0], [1, 2]];
      if (masked) for (const [b, t] of pad) x.fill(0, (b * T + t) * F, (b * T + t + 1) * F);
      const bi = tf.layers.bidirectional({ layer: tfCell(tf, kind, { returnSequences }), mergeMode });
      bi.apply(tf.zeros([B, T, F]));
      bi.setWeights([...tfWeights(tf, kind, wf), ...tfWeights(tf, kind, wb)]);
      const maskData = new Array(B * T).fill(true);
      if (masked) for (const [b, t] of pad) maskData[b * T + t] = false;
      const mask = masked ? tf.tensor2d(maskData, [B, T], 'bool') : undefined;
      const run = (xi: TF.Tensor) => bi.apply(xi, mask ? { mask } : {}) as TF.Tensor;
      const width = mergeMode === 'concat' ? 2 * U : U, r = rng.array(B * (returnSequences ? T : 1) * width);
      const want = tfRun(tf, run, [bi], x, r, mask);
      const config: ModelConfig = { input: [T, F], layers: [
        ...(masked ? [{ type: 'masking' } as LayerConfig] : []),
        { type: 'bidirectional', name: 'bi', layer: kind, units: U, returnSequences, mergeMode, ...rnnOpts(kind) } as LayerConfig] };
      await compare(config, { ...redeWeights('bi/forward', kind, wf), ...redeWeights('bi/backward', kind, wb) }, [...names('bi/forward'), ...names('bi/backward')],
        x, r, want, `bidirectional ${kind} ${mergeMode} returnSequences=${returnSequences} masked=${masked}`);
      bi.dispose();
    }
  });
}

for (const kind of ['simple_rnn', 'lstm', 'gru'] as const) {
  test(`bidirectional ${kind} returnState and initialState agree with tfjs`, async () => {
    const tf = await tfjs();
    const rng = new Rng(63);
    // enc: bidirectional with returnState over x; dec: bidirectional over x from enc's four (or two) states;
    // compared: enc's merged sequence and every state, then dec's output, flattened and concatenated.
    const w = [0, 1, 2, 3].map(() => weightsOf(rng, kind)), x = rng.array(B * T * F);
    const enc = tf.layers.bidirectional({ layer: tfCell(tf, kind, { returnSequences: true, returnState: true }), mergeMode: 'ave' });
    const dec = tf.layers.bidirectional({ layer: tfCell(tf, kind, {}), mergeMode: 'concat' });
    const run = (xi: TF.Tensor) => {
      const [out, ...states] = enc.apply(xi) as TF.Tensor[];
      const y = dec.apply(xi, { initialState: states }) as TF.Tensor;
      return tf.concat([out, ...states, y].map((t) => t.reshape([B, -1])), 1);
    };
    run(tf.zeros([B, T, F]));
    enc.setWeights([...tfWeights(tf, kind, w[0]), ...tfWeights(tf, kind, w[1])]);
    dec.setWeights([...tfWeights(tf, kind, w[2]), ...tfWeights(tf, kind, w[3])]);
    const states = kind === 'lstm' ? ['forward_h', 'forward_c', 'backward_h', 'backward_c'] : ['forward_h', 'backward_h'];
    const r = rng.array(B * (T * U + states.length * U + 2 * U));
    const want = tfRun(tf, run, [enc, dec], x, r);
    const config: ModelConfig = { input: [T, F], layers: [
      { type: 'bidirectional', name: 'enc', layer: kind, units: U, returnSequences: true, returnState: true, mergeMode: 'ave', ...rnnOpts(kind) } as LayerConfig,
      { type: 'select', name: 'output', inputs: ['enc'], part: 'output' }, { type: 'flatten', name: 'out_flat', inputs: ['output'] },
      ...states.map((part): LayerConfig => ({ type: 'select', name: part, inputs: ['enc'], part } as LayerConfig)),
      { type: 'bidirectional', name: 'dec', layer: kind, units: U, mergeMode: 'concat', inputs: ['input', ...states], ...rnnOpts(kind) } as LayerConfig,
      { type: 'concat', inputs: ['out_flat', ...states, 'dec'] }] };
    await compare(config, { ...redeWeights('enc/forward', kind, w[0]), ...redeWeights('enc/backward', kind, w[1]), ...redeWeights('dec/forward', kind, w[2]), ...redeWeights('dec/backward', kind, w[3]) },
      ['enc/forward', 'enc/backward', 'dec/forward', 'dec/backward'].flatMap(names), x, r, want, `bidirectional ${kind} returnState → initialState`);
    enc.dispose(); dec.dispose();
  });
}
