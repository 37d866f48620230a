// Keras 2 .h5 model files, written and read by rede through h5wasm and checked by an independent HDF5 library
// (h5py, Debian's python3-h5py; .ci/run installs it): rede's export has Keras's layout (root model_config,
// model_weights/layer_names, per-layer weight_names and datasets) as h5py reads it; a file that h5py writes the
// way Keras does (byte-string attributes, the topology of a model tfjs built) imports and predicts what tfjs
// predicts; rede → .h5 → rede is bitwise; .h5 and tfjs exports of one model agree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { Model } from '../../src/api/model';
import { RedeError } from '../../src/engine/errors';
import { resnet20 } from '../../src/zoo/index';
import { exportKerasH5, importKerasH5 } from '../../src/interop/keras/index';
import { toTfjs } from '../../src/interop/index';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { tfjs } from '../helpers/tfjs';
import { perturb } from './tfjs-helpers';

const PYTHON = '/usr/bin/python3';
let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'rede-h5-')); });
after(() => rm(dir, { recursive: true, force: true }));

function python(script: string, ...args: string[]): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `python: ${r.stderr}`);
  return r.stdout;
}

const READ = String.raw`
import h5py, json, sys
f = h5py.File(sys.argv[1], 'r')
cfg = json.loads(f.attrs['model_config'])
mw = f['model_weights']
out = {'class_name': cfg['class_name'], 'keras_version': str(f.attrs['keras_version']), 'layers': [l.decode() if isinstance(l, bytes) else l for l in mw.attrs['layer_names']], 'weights': {}}
for l in out['layers']:
    for w in mw[l].attrs['weight_names']:
        w = w.decode() if isinstance(w, bytes) else w
        d = mw[l][w]
        out['weights'][w] = [list(d.shape), str(d.dtype), float(d[()].sum())]
print(json.dumps(out))
`;

test('export .h5 (ResNet-20): h5py reads Keras\'s layout; rede → .h5 → rede is bitwise; the .h5 import and the tfjs export predict the same', async () => {
  const model = await Model.create(resnet20([12, 12, 3], 5), { seed: 2 });
  perturb(model, 4);
  const bytes = await exportKerasH5(model);
  const path = join(dir, 'resnet20.h5');
  await writeFile(path, bytes);
  const seen = JSON.parse(python(READ, path)) as { class_name: string; layers: string[]; weights: Record<string, [number[], string, number]> };
  assert.equal(seen.class_name, 'Functional');
  const w = model.getWeights({ layout: 'keras' });
  assert.equal(Object.keys(seen.weights).length, w.size);
  for (const [name, t] of w) {
    const s = seen.weights[`${name}:0`];
    assert.ok(s, `h5py finds ${name}:0`);
    assert.deepEqual(s[0], t.shape);
    assert.equal(s[1], 'float32');
    assert.ok(Math.abs(s[2] - t.data.reduce((a, b) => a + b, 0)) < 1e-3 * (1 + Math.abs(s[2])), `${name} sum`);
  }
  const back = await importKerasH5(new Uint8Array(await readFile(path)), { file: path });
  for (const [name, t] of model.getWeights()) assert.deepEqual(new Uint8Array(back.getWeights().get(name)!.data.buffer), new Uint8Array(t.data.buffer), `${name} bitwise`);
  // Through the tfjs route: tfjs runs the model the .h5 came back as.
  const tf = await tfjs();
  const a = toTfjs(back), json = JSON.parse(JSON.stringify(a.modelJson));
  const tm = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: a.weightData.slice().buffer }));
  const x = new Rng(3).array(2 * 12 * 12 * 3);
  assertClose((tm.predict(tf.tensor(x, [2, 12, 12, 3])) as TF.Tensor).dataSync(), model.predict(x), 'tfjs on the .h5 model vs rede', { rtol: 1e-4, atol: 1e-4 });
});

/** Writes a Keras 2 .h5 as Keras does, with h5py: the topology JSON, fixed-length byte-string name lists, float32 datasets. */
const WRITE = String.raw`
import h5py, json, sys, struct
topo = json.load(open(sys.argv[1]))
specs = json.load(open(sys.argv[2]))
data = open(sys.argv[3], 'rb').read()
import array
vals = array.array('f'); vals.frombytes(data)
f = h5py.File(sys.argv[4], 'w')
f.attrs['model_config'] = json.dumps(topo).encode()
f.attrs['keras_version'] = b'2.15.0'
f.attrs['backend'] = b'tensorflow'
mw = f.create_group('model_weights')
names = [l['config']['name'] for l in topo['config']['layers']]
mw.attrs['layer_names'] = [n.encode() for n in names]
at = 0
by_layer = {}
for s in specs:
    n = 1
    for d in s['shape']: n *= d
    layer, param = s['name'].rsplit('/', 1)
    by_layer.setdefault(layer, []).append((param, s['shape'], vals[at:at + n]))
    at += n
import numpy as np
for name in names:
    g = mw.create_group(name)
    ws = by_layer.get(name, [])
    g.attrs['weight_names'] = np.array([(name + '/' + p + ':0').encode() for p, _, _ in ws], dtype='S')
    for p, shape, v in ws:
        g.create_dataset(name + '/' + p + ':0', data=np.array(v, dtype='float32').reshape(shape))
f.close()
`;

test('import a .h5 that h5py writes the way Keras does (a functional model tfjs built): rede predicts what tfjs does', async () => {
  const tf = await tfjs();
  const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }) });
  const input = tf.input({ shape: [8, 8, 2], name: 'img' });
  const c1 = tf.layers.conv2d({ ...init(1), filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }).apply(input) as TF.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'bn', epsilon: 0.01 }).apply(c1) as TF.SymbolicTensor;
  const c2 = tf.layers.conv2d({ ...init(2), filters: 4, kernelSize: 1, name: 'c2' }).apply(bn) as TF.SymbolicTensor;
  const s = tf.layers.add({ name: 's' }).apply([c1, c2]) as TF.SymbolicTensor;
  const p = tf.layers.maxPooling2d({ poolSize: 2, name: 'p' }).apply(s) as TF.SymbolicTensor;
  const f = tf.layers.flatten({ name: 'f' }).apply(p) as TF.SymbolicTensor;
  const out = tf.layers.dense({ ...init(3), units: 3, activation: 'softmax', name: 'out' }).apply(f) as TF.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out, name: 'keras_fixture' });
  const bnLayer = m.getLayer('bn');
  bnLayer.setWeights(bnLayer.getWeights().map((w, i) => tf.add(w, tf.scalar([0.1, -0.2, 0.3, 0.4][i]))));
  let art: TF.io.ModelArtifacts | null = null;
  await m.save(tf.io.withSaveHandler(async (a) => { art = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const a = art as unknown as TF.io.ModelArtifacts;
  await writeFile(join(dir, 'topo.json'), JSON.stringify(a.modelTopology));
  await writeFile(join(dir, 'specs.json'), JSON.stringify(a.weightSpecs));
  await writeFile(join(dir, 'w.bin'), new Uint8Array(a.weightData as ArrayBuffer));
  const h5 = join(dir, 'fixture.h5');
  python(WRITE, join(dir, 'topo.json'), join(dir, 'specs.json'), join(dir, 'w.bin'), h5);
  const model = await importKerasH5(new Uint8Array(await readFile(h5)), { file: h5 });
  const x = new Rng(9).array(4 * 8 * 8 * 2);
  assertClose(model.predict(x), (m.predict(tf.tensor(x, [4, 8, 8, 2])) as TF.Tensor).dataSync(), 'rede (.h5) vs tfjs', { rtol: 1e-4, atol: 1e-5 });
});

test('import .h5: not HDF5, a weights-only file, and a layer rede lacks are RedeErrors naming the file', async () => {
  await assert.rejects(importKerasH5(new TextEncoder().encode('{"not": "hdf5"}'), { file: 'x.h5' }), (e: unknown) => e instanceof RedeError && /x\.h5: not an HDF5 file/.test(e.message));
  const path = join(dir, 'weights-only.h5');
  python(String.raw`
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], 'w'); f.attrs['layer_names'] = [b'dense']; g = f.create_group('dense'); g.attrs['weight_names'] = [b'dense/kernel:0']
g.create_dataset('dense/kernel:0', data=np.zeros((2, 2), dtype='float32')); f.close()`, path);
  await assert.rejects(importKerasH5(new Uint8Array(await readFile(path)), { file: path }), (e: unknown) => e instanceof RedeError && e.message.includes('weights-only'));
  const lrn = await Model.create({ input: [4, 4, 2], layers: [{ type: 'lrn', name: 'n' }, { type: 'flatten' }, { type: 'dense', units: 2 }] });
  await assert.rejects(exportKerasH5(lrn), (e: unknown) => e instanceof RedeError && e.message.includes("'n' (lrn)"));
});

test('import .h5: raw byte mutations of a file are RedeErrors naming the file, and a valid file still loads bitwise after each batch of them', async () => {
  // HDF5 inside h5wasm is not hardened: before each read restored a clean h5wasm (src/interop/keras/h5.ts),
  // corrupt files like these broke later reads with "memory access out of bounds".
  const model = await Model.create({ input: [6, 6, 1], layers: [
    { type: 'conv2d', name: 'c', filters: 2, kernel: 3, activation: 'relu' }, { type: 'flatten' }, { type: 'dense', name: 'd', units: 3 }] }, { seed: 4 });
  perturb(model, 5);
  const valid = await exportKerasH5(model);
  const rng = new Rng(11);
  let refused = 0;
  const checkValid = async (after: number) => {
    const back = await importKerasH5(valid, { file: 'valid.h5' });
    for (const [name, t] of model.getWeights()) {
      assert.deepEqual(new Uint8Array(back.getWeights().get(name)!.data.buffer), new Uint8Array(t.data.buffer), `${name} bitwise after ${after} mutants`);
    }
  };
  for (let i = 0; i < 300; i++) {
    const bytes = valid.slice();
    // A few bytes set at random, or a run of 0xff (an address or a length far past the file), or a cut.
    for (let k = rng.int(1, 6); k > 0; k--) {
      const at = rng.int(0, bytes.length), kind = rng.int(0, 3);
      if (kind === 0) bytes[at] = rng.int(0, 256);
      else if (kind === 1) bytes.fill(0xff, at, at + rng.int(1, 9));
      else bytes[at] ^= 1 << rng.int(0, 8);
    }
    const input = rng.int(0, 10) === 0 ? bytes.subarray(0, rng.int(8, bytes.length)) : bytes;
    try {
      await importKerasH5(input, { file: `mutant-${i}.h5` });
    } catch (e) {
      assert.ok(e instanceof RedeError && e.message.startsWith(`mutant-${i}.h5`), `mutant ${i}: ${String(e)}`);
      refused++;
    }
    if (i % 50 === 49) await checkValid(i + 1);
  }
  assert.ok(refused > 150, `${refused} of 300 mutants refused`);
});
