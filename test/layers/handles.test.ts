// Typed layer handles at run time: binding a name a layer does not declare, or a non-address, is a RedeError
// naming the layer; a declared handle left unbound fails when the model plans, before any kernel runs; and
// every layer type declares exactly the names its params, state and buffers() list. (The type-level half,
// a misspelled handle being a compile error, is test/layers/handles.typecheck.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { RedeError } from '../../src/engine/errors';
import { BatchNorm } from '../../src/layers/norm';
import { Dense } from '../../src/layers/dense';
import { LAYER_TYPES } from '../../src/layers/index';
import type { Layer } from '../../src/layers/layer';
import type { ModelConfig } from '../../src/model/config';
import { withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';

let engine: Promise<Engine> | null = null;
const simd = (): Promise<Engine> => (engine ??= Engine.create({ variant: 'simd' }));

const rede = (re: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof RedeError, `expected a RedeError, got ${err}`);
  assert.match(err.message, re);
  return true;
};

/** Every layer type once: conv → bn → activations → pools → lrn → a residual add and a concat → transposed conv →
 *  upsampling → dense → softmax. */
const EVERY_TYPE: ModelConfig = {
  name: 'every-type', input: [8, 8, 2], layers: [
    { type: 'conv2d', name: 'conv', filters: 4, kernel: 3, padding: 'same' },
    { type: 'batchnorm', name: 'bn' },
    { type: 'relu', name: 'relu' },
    { type: 'leaky_relu', name: 'leaky' },
    { type: 'elu', name: 'elu' },
    { type: 'sigmoid', name: 'sigmoid' },
    { type: 'tanh', name: 'tanh' },
    { type: 'maxpool2d', name: 'maxpool', pool: 2 },
    { type: 'avgpool2d', name: 'avgpool', pool: 1 },
    { type: 'lrn', name: 'lrn' },
    { type: 'add', name: 'add', inputs: ['maxpool', 'lrn'] },
    { type: 'concat', name: 'concat', inputs: ['add', 'maxpool'] },
    { type: 'dropout', name: 'drop', rate: 0.25 },
    { type: 'reshape', name: 'reshape', shape: [4, 4, 8] },
    { type: 'conv2d_transpose', name: 'deconv', filters: 2, kernel: 3, stride: 2, padding: 'same' },
    { type: 'upsampling2d', name: 'up', interpolation: 'bilinear' },
    { type: 'globalavgpool2d', name: 'gap', inputs: ['up'] },
    { type: 'flatten', name: 'flat' },
    { type: 'dense', name: 'fc', units: 3 },
    { type: 'softmax', name: 'softmax' },
  ],
};

/**
 * The sequence types, which take ids or [steps, features]: embedding → masking → simple_rnn → lstm (returnState,
 * its h and c selected as the initial state of the next lstm) → bidirectional → gru → time_distributed.
 */
const SEQUENCE_TYPES: ModelConfig = {
  name: 'sequence-types', input: [5], layers: [
    { type: 'embedding', name: 'emb', inputDim: 6, outputDim: 3, maskZero: true },
    { type: 'masking', name: 'mask' },
    { type: 'simple_rnn', name: 'rnn', units: 3, returnSequences: true },
    { type: 'lstm', name: 'enc', units: 3, returnState: true },
    { type: 'select', name: 'h', inputs: ['enc'], part: 'h' },
    { type: 'select', name: 'c', inputs: ['enc'], part: 'c' },
    { type: 'lstm', name: 'lstm', units: 3, returnSequences: true, inputs: ['rnn', 'h', 'c'] },
    { type: 'bidirectional', name: 'bi', layer: 'gru', units: 2, returnSequences: true },
    { type: 'gru', name: 'gru', units: 2, returnSequences: true },
    { type: 'time_distributed', name: 'td', units: 2 },
  ],
};

const layer = (m: { layers: Layer[] }, name: string): Layer => m.layers.find((L) => L.name === name)!;

test('binding a name a layer does not declare throws naming the layer and what it declares', async () => {
  await withModel(await simd(), EVERY_TYPE, (m) => {
    const fc = layer(m, 'fc'), pool = layer(m, 'maxpool'), relu = layer(m, 'relu');
    const w = fc.p.w;
    assert.throws(() => fc.bindParam('wt', 4096), rede(/^dense 'fc': no parameter 'wt' to bind \(declared: w, b\)$/));
    assert.throws(() => fc.bindGrad('W', 4096), rede(/^dense 'fc': no gradient 'W' to bind \(declared: w, b\)$/));
    assert.throws(() => fc.bindState('running_mean', 4096), rede(/^dense 'fc': no state 'running_mean' to bind \(declared: none\)$/));
    assert.throws(() => pool.bindBuffer('argmx', 4096), rede(/^maxpool2d 'maxpool': no buffer 'argmx' to bind \(declared: argmax, desc\)$/));
    assert.throws(() => relu.bindParam('w', 4096), rede(/^relu 'relu': no parameter 'w' to bind \(declared: none\)$/));
    // Inherited object keys are not handles.
    assert.throws(() => fc.bindParam('constructor', 4096), rede(/^dense 'fc': no parameter 'constructor' to bind/));
    // A declared name with no address (a missing plan entry reads as undefined) is refused, not written as 0.
    assert.throws(() => fc.bindParam('w', 0), rede(/^dense 'fc': parameter 'w' must be bound to a positive address, got 0$/));
    assert.throws(() => pool.bindBuffer('argmax', undefined as unknown as number), rede(/^maxpool2d 'maxpool': buffer 'argmax' must be bound to a positive address, got undefined$/));
    assert.equal(fc.p.w, w, 'a refused binding leaves the handle as it was');
  });
});

test('a declared handle the layer never lists fails at plan time, before any kernel runs', async () => {
  await withModel(await simd(), EVERY_TYPE, (m) => {
    const pool = layer(m, 'maxpool');
    // A max pool whose buffers() forgets its argmax: forward would write the argmax at address 0.
    pool.buffers = () => [];
    const low = m.e.u8.slice(0, m.e.base), x = new Rng(3).array(4 * 8 * 8 * 2);
    assert.throws(() => m.forward(x), rede(/^maxpool2d 'maxpool': buffer 'argmax' has no address \(declared as a handle, missing from the layer's buffers\(\)\)$/));
    // A failed plan leaves the model unplanned: the next call plans (and fails) again instead of running.
    assert.throws(() => m.forward(x), rede(/^maxpool2d 'maxpool': buffer 'argmax' has no address/));
    assert.throws(() => m.plan(4), rede(/^maxpool2d 'maxpool': buffer 'argmax' has no address/));
    assert.deepEqual(m.e.u8.slice(0, m.e.base), low, 'nothing was written below the arena (where address 0 lands)');
  });
});

test('checkBound names the first declared handle of each kind left without an address', () => {
  const fc = new Dense({ name: 'fc', units: 3 }, [[5]]);
  assert.throws(() => fc.checkBound(), rede(/^dense 'fc': parameter 'w' has no address \(declared as a handle, missing from the layer's params\)$/));
  fc.bindParam('w', 1024); fc.bindParam('b', 2048); fc.bindGrad('w', 4096);
  assert.throws(() => fc.checkBound(), rede(/^dense 'fc': gradient 'b' has no address/));
  fc.bindGrad('b', 8192);
  fc.checkBound();

  const bn = new BatchNorm({ name: 'bn' }, [[4, 4, 3]]);
  for (const p of ['gamma', 'beta']) { bn.bindParam(p, 1024); bn.bindGrad(p, 2048); }
  bn.bindState('running_mean', 4096);
  assert.throws(() => bn.checkBound(), rede(/^batchnorm 'bn': state 'running_var' has no address \(declared as a handle, missing from the layer's state\)$/));
  bn.bindState('running_var', 4160);
  assert.throws(() => bn.checkBound(), rede(/^batchnorm 'bn': buffer 'mean' has no address/));
});

test('every layer type declares exactly the handles its params, state and buffers() list, all bound after plan', async () => {
  assert.deepEqual([...new Set([...EVERY_TYPE.layers, ...SEQUENCE_TYPES.layers].map((l) => l.type))].sort(), [...LAYER_TYPES].sort(), 'the models cover every layer type');
  for (const [config, x] of [[EVERY_TYPE, new Rng(5).array(4 * 8 * 8 * 2)], [SEQUENCE_TYPES, Float32Array.from({ length: 4 * 5 }, (_, i) => i % 6)]] as const) await withModel(await simd(), config, (m) => {
    m.plan(4);
    for (const L of m.layers) {
      const names = (h: object): string[] => Object.keys(h).sort();
      const params = L.params.map((p) => p.name).sort();
      assert.deepEqual(names(L.p), params, `${L.name}: parameter handles`);
      assert.deepEqual(names(L.g), params, `${L.name}: gradient handles`);
      assert.deepEqual(names(L.s), L.state.map((s) => s.name).sort(), `${L.name}: state handles`);
      assert.deepEqual(names(L.buf), L.buffers(4).map((b) => b.name).sort(), `${L.name}: buffer handles`);
      for (const h of [L.p, L.g, L.s, L.buf]) for (const [k, addr] of Object.entries(h)) assert.ok(addr > 0, `${L.name}.${k} bound`);
    }
    const out = m.forward(x, { training: true });
    assert.ok(out.every(Number.isFinite));
  });
});

test('without a bias, conv2d and dense declare only w: such a model plans and trains', async () => {
  const cfg: ModelConfig = {
    name: 'no-bias', input: [6, 6, 1], layers: [
      { type: 'conv2d', name: 'conv', filters: 3, kernel: 3, useBias: false, activation: 'relu' },
      { type: 'flatten', name: 'flat' },
      { type: 'dense', name: 'fc', units: 2, useBias: false },
    ],
  };
  await withModel(await simd(), cfg, (m) => {
    for (const name of ['conv', 'fc']) {
      const L = layer(m, name);
      assert.deepEqual(Object.keys(L.p), ['w'], `${name}: parameter handles`);
      assert.deepEqual(Object.keys(L.g), ['w'], `${name}: gradient handles`);
      assert.throws(() => L.bindParam('b', 4096), rede(new RegExp(`'${name}': no parameter 'b' to bind \\(declared: w\\)$`)));
    }
    const x = new Rng(7).array(2 * 36);
    m.forward(x, { training: true });
    const dx = m.backward(new Float32Array(2 * 2).fill(1));
    assert.ok(dx.some((v) => v !== 0) && dx.every(Number.isFinite));
    assert.ok(m.getGrad('fc/kernel').some((v) => v !== 0));
  });
});
