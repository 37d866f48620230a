// The recurrent layers against @tensorflow/tfjs's (cpu backend) tf.layers.simpleRNN / lstm / gru with the same
// weights, set through rede's setWeights in Keras's layout: output, dL/dinput and every weight's gradient for
// L = Σ y·r, within 1e-4, for returnSequences and goBackwards both ways. tfjs's GRU has no reset_after, so the
// GRU is compared with resetAfter: false here; the default (resetAfter, PyTorch's GRU formula) is compared
// with PyTorch in test/layers/rnn-torch.test.ts. Also: getWeights in Keras's layout round-trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as TF from '@tensorflow/tfjs';
import { tfjs } from '../helpers/tfjs';
import { modelEngines, withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';

const B = 3, T = 6, F = 4, U = 5;
type Kind = 'simple_rnn' | 'lstm' | 'gru';
const GATES: Record<Kind, number> = { simple_rnn: 1, lstm: 4, gru: 3 };

function tfLayer(tf: typeof TF, kind: Kind, returnSequences: boolean, goBackwards: boolean): TF.layers.Layer {
  const common = { units: U, returnSequences, goBackwards, activation: 'tanh' as const, inputShape: [T, F] };
  if (kind === 'simple_rnn') return tf.layers.simpleRNN(common);
  // tfjs defaults to hard_sigmoid gates; Keras 2 and rede to sigmoid
  if (kind === 'lstm') return tf.layers.lstm({ ...common, recurrentActivation: 'sigmoid' });
  return tf.layers.gru({ ...common, recurrentActivation: 'sigmoid' }); // tfjs's GRU is resetAfter: false (it refuses true)
}

for (const kind of ['simple_rnn', 'lstm', 'gru'] as const) {
  test(`${kind} agrees with tfjs: output, dx and weight gradients`, async () => {
    const tf = await tfjs();
    const rng = new Rng(41), gu = GATES[kind] * U;
    for (const returnSequences of [false, true]) for (const goBackwards of [false, true]) {
      const kernel = rng.array(F * gu, -0.5, 0.5), rec = rng.array(U * gu, -0.5, 0.5), bias = rng.array(gu, -0.3, 0.3);
      const x = rng.array(B * T * F), yn = B * (returnSequences ? T : 1) * U, r = rng.array(yn);
      // tfjs
      const layer = tfLayer(tf, kind, returnSequences, goBackwards);
      const xt = tf.tensor3d(x, [B, T, F]), rt = tf.tensor(r, returnSequences ? [B, T, U] : [B, U]);
      layer.apply(xt); // builds the weights
      layer.setWeights([tf.tensor2d(kernel, [F, gu]), tf.tensor2d(rec, [U, gu]), tf.tensor1d(bias)]);
      const loss = (xi: TF.Tensor) => tf.sum(tf.mul(layer.apply(xi) as TF.Tensor, rt)) as TF.Scalar;
      const yTf = (layer.apply(xt) as TF.Tensor).dataSync() as Float32Array;
      const dxTf = tf.grad((xi: TF.Tensor) => loss(xi))(xt).dataSync() as Float32Array;
      const vars = layer.trainableWeights.map((w) => w.read() as TF.Variable);
      const { grads } = tf.variableGrads(() => loss(xt), vars);
      const gTf = vars.map((v) => grads[v.name].dataSync() as Float32Array);
      const what = `${kind} returnSequences=${returnSequences} goBackwards=${goBackwards}`;
      for (const { name, e } of await modelEngines()) {
        await withModel(e, { input: [T, F], layers: [{ type: kind, name: 'rnn', units: U, returnSequences, goBackwards, ...(kind === 'gru' ? { resetAfter: false } : {}) }] }, (m) => {
          m.setWeights({ 'rnn/kernel': { shape: [F, gu], data: kernel }, 'rnn/recurrent_kernel': { shape: [U, gu], data: rec }, 'rnn/bias': { shape: [gu], data: bias } }, { fromLayout: 'keras' });
          const y = m.forward(x, { training: true });
          assertClose(y, yTf, `${name} ${what} forward`, { rtol: 1e-4, atol: 1e-4 });
          const dx = m.backward(r);
          assertClose(dx, dxTf, `${name} ${what} dx`, { rtol: 1e-4, atol: 1e-4 });
          ['rnn/kernel', 'rnn/recurrent_kernel', 'rnn/bias'].forEach((k, i) => assertClose(m.getGrad(k), gTf[i], `${name} ${what} d${k}`, { rtol: 1e-4, atol: 1e-4 }));
          // Keras's layout is rede's: the weights come back as they went in
          const w = m.getWeights({ layout: 'keras' });
          assert.deepEqual(w.get('rnn/recurrent_kernel')!.shape, [U, gu]);
          assertClose(w.get('rnn/recurrent_kernel')!.data, rec, 'round trip', { rtol: 0, atol: 0 });
        });
      }
      tf.dispose([xt, rt, ...Object.values(grads)]);
      layer.dispose();
    }
  });
}

test('embedding agrees with tfjs: output and the embeddings gradient', async () => {
  const tf = await tfjs();
  const rng = new Rng(42), vocab = 7, dim = 3, steps = 5;
  const table = rng.array(vocab * dim), ids = Float32Array.from({ length: 2 * steps }, () => rng.int(0, vocab)), r = rng.array(2 * steps * dim);
  const layer = tf.layers.embedding({ inputDim: vocab, outputDim: dim, inputLength: steps });
  const it = tf.tensor2d(ids, [2, steps], 'int32'), rt = tf.tensor3d(r, [2, steps, dim]);
  layer.apply(it);
  layer.setWeights([tf.tensor2d(table, [vocab, dim])]);
  const yTf = (layer.apply(it) as TF.Tensor).dataSync();
  const v = layer.trainableWeights[0].read() as TF.Variable;
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(it) as TF.Tensor, rt)) as TF.Scalar, [v]);
  const gTf = grads[v.name].dataSync();
  for (const { name, e } of await modelEngines()) {
    await withModel(e, { input: [steps], layers: [{ type: 'embedding', name: 'emb', inputDim: vocab, outputDim: dim }] }, (m) => {
      m.setWeights({ 'emb/embeddings': { shape: [vocab, dim], data: table } }, { fromLayout: 'keras' });
      assertClose(m.forward(ids, { training: true }), yTf, `${name} embedding forward`, { rtol: 0, atol: 0 });
      m.backward(r);
      assertClose(m.getGrad('emb/embeddings'), gTf, `${name} embedding gradient`, { rtol: 1e-6, atol: 1e-6 });
    });
  }
  layer.dispose();
});
