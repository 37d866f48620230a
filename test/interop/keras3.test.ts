// Keras 3 .keras files, built by Python (zipfile with deflate, h5py for model.weights.h5) from the public format:
// config.json in Keras 3's node form (module / registered_name / __keras_tensor__ inbound nodes), the weights
// at layers/<name>/vars/<i>; the same network built in tfjs gives the expected predictions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { RedeError } from '../../src/engine/errors';
import { importKeras3, zipEntries, zipRead, zipWrite } from '../../src/interop/keras/index';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { tfjs } from '../helpers/tfjs';

let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'rede-keras3-')); });
after(() => rm(dir, { recursive: true, force: true }));

const tensor = (src: string) => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [src, 0, 0] } });
const layer = (class_name: string, name: string, config: object, inputs: string[] | null) => ({
  module: 'keras.layers', class_name, config: { name, trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' } }, ...config },
  registered_name: null, name, inbound_nodes: inputs === null ? [] : [{ args: inputs.length === 1 ? [tensor(inputs[0])] : [inputs.map(tensor)], kwargs: {} }],
});

const CONFIG = {
  module: 'keras.src.models.functional', class_name: 'Functional', registered_name: 'Functional',
  config: {
    name: 'k3', trainable: true,
    layers: [
      layer('InputLayer', 'x', { batch_shape: [null, 6, 6, 2], dtype: 'float32', sparse: false }, null),
      layer('Conv2D', 'conv', { filters: 3, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'relu', use_bias: true }, ['x']),
      layer('BatchNormalization', 'bn', { axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true }, ['conv']),
      layer('Conv2D', 'conv2', { filters: 3, kernel_size: [1, 1], strides: [1, 1], padding: 'valid', data_format: 'channels_last', activation: 'linear', use_bias: false }, ['bn']),
      layer('Add', 'add', {}, ['conv', 'conv2']),
      layer('Flatten', 'flat', { data_format: 'channels_last' }, ['add']),
      layer('Dense', 'out', { units: 4, activation: 'softmax', use_bias: true }, ['flat']),
    ],
    input_layers: [['x', 0, 0]], output_layers: [['out', 0, 0]],
  },
  build_config: { input_shape: [null, 6, 6, 2] },
};

const WRITE = String.raw`
import h5py, json, sys, zipfile, io, numpy as np
d = sys.argv[1]
weights = json.load(open(d + '/weights.json'))
buf = io.BytesIO()
with h5py.File(buf, 'w') as f:
    for name, tensors in weights.items():
        g = f.create_group('layers/' + name + '/vars')
        for i, (shape, values) in enumerate(tensors):
            g.create_dataset(str(i), data=np.array(values, dtype='float32').reshape(shape))
with zipfile.ZipFile(d + '/model.keras', 'w', compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr('metadata.json', json.dumps({'keras_version': '3.6.0', 'date_saved': '2026-12-02@12:00:00'}))
    z.writestr('config.json', open(d + '/config.json').read())
    z.writestr('model.weights.h5', buf.getvalue())
`;

test('import a .keras (Keras 3 functional: conv, BN, add, dense) written by Python: rede predicts what tfjs does', async () => {
  const tf = await tfjs();
  const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }) });
  const x = tf.input({ shape: [6, 6, 2] });
  const conv = tf.layers.conv2d({ ...init(1), filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' }).apply(x) as TF.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(conv) as TF.SymbolicTensor;
  const conv2 = tf.layers.conv2d({ ...init(2), filters: 3, kernelSize: 1, useBias: false, name: 'conv2' }).apply(bn) as TF.SymbolicTensor;
  const add = tf.layers.add({ name: 'add' }).apply([conv, conv2]) as TF.SymbolicTensor;
  const out = tf.layers.dense({ ...init(3), units: 4, activation: 'softmax', name: 'out' }).apply(tf.layers.flatten({ name: 'flat' }).apply(add)) as TF.SymbolicTensor;
  const m = tf.model({ inputs: x, outputs: out });
  const rng = new Rng(8);
  const weights: Record<string, [number[], number[]][]> = {};
  for (const l of m.layers) {
    const ws = l.getWeights();
    if (!ws.length) continue;
    const bumped = ws.map((w, i) => tf.tensor(Float32Array.from(w.dataSync(), (v) => (l.name === 'bn' ? (i === 3 ? 0.5 + rng.next() : v + 0.2 * (rng.next() - 0.5)) : v + 0.05 * (rng.next() - 0.5))), w.shape));
    l.setWeights(bumped);
    weights[l.name] = bumped.map((w) => [w.shape, [...w.dataSync()]]);
  }
  await writeFile(join(dir, 'weights.json'), JSON.stringify(weights));
  await writeFile(join(dir, 'config.json'), JSON.stringify(CONFIG));
  const r = spawnSync('/usr/bin/python3', ['-c', WRITE, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const bytes = new Uint8Array(await readFile(join(dir, 'model.keras')));
  assert.ok(zipEntries(bytes, 'model.keras').every((e) => e.method === 8), 'Python deflated every entry');
  const model = await importKeras3(bytes, { file: 'model.keras' });
  const input = new Rng(2).array(3 * 72);
  assertClose(model.predict(input), (m.predict(tf.tensor(input, [3, 6, 6, 2])) as TF.Tensor).dataSync(), 'rede (.keras) vs tfjs', { rtol: 1e-4, atol: 1e-5 });
});

test('zip: what zipWrite stores reads back; a lying size, a bad CRC, a truncated file are RedeErrors', async () => {
  const files = new Map([['a.txt', new TextEncoder().encode('hello')], ['b/c.bin', Uint8Array.of(1, 2, 3)]]);
  const z = zipWrite(files);
  const es = zipEntries(z, 'z.zip');
  assert.deepEqual(es.map((e) => e.name), ['a.txt', 'b/c.bin']);
  assert.deepEqual(await zipRead(z, es[1], 'z.zip'), Uint8Array.of(1, 2, 3));
  const bad = z.slice(); bad[30 + 5] ^= 1; // a byte of a.txt's data
  await assert.rejects(zipRead(bad, zipEntries(bad, 'z.zip')[0], 'z.zip'), (e: unknown) => e instanceof RedeError && e.message.includes('CRC-32'));
  assert.throws(() => zipEntries(z.subarray(0, z.length - 30), 'z.zip'), RedeError);
  await assert.rejects(importKeras3(zipWrite(new Map([['metadata.json', new TextEncoder().encode('{"keras_version":"3.1.0"}')]])), { file: 'm.keras' }),
    (e: unknown) => e instanceof RedeError && e.message.includes('m.keras: no config.json'));
});
