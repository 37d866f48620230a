// Configs and .rede files as a hostile user writes them: every refusal is a RedeError in the voice
// "where: what, got X", raised before memory is taken; a file's errors name the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine';
import { RedeError } from '../../src/engine/errors';
import { MemoryPlan } from '../../src/engine/plan';
import { encodeRedeFile } from '../../src/io/file';
import { buildGraph } from '../../src/model/graph';
import type { ModelConfig } from '../../src/model/config';
import { Model } from '../../src/api/model';
import { main } from '../../src/cli/main';

let engine: Promise<Engine> | null = null;
const simd = (): Promise<Engine> => (engine ??= Engine.create({ variant: 'simd' }));

const isRede = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof RedeError, `expected a RedeError, got ${(e as Error)?.stack ?? e}`);
  assert.match(e.message, re);
  return true;
};

/** A .rede file with this header and tensors (the file format is valid; what it says is the test). */
const redeBytes = (header: Record<string, unknown>, tensors: Record<string, Float32Array> = {}) => encodeRedeFile({ header, tensors });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rede-untrusted-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

test('hostile layer configs are RedeErrors naming the layer and the value, not TypeErrors', () => {
  const cases: [unknown, RegExp][] = [
    // Type names that are Object.prototype's own keys, with an option so the option list is consulted.
    [{ type: 'constructor', units: 3 }, /layer 'constructor_0': unknown type 'constructor' \(expected one of conv2d/],
    [{ type: 'toString', units: 3 }, /layer 'toString_0': unknown type 'toString'/],
    [{ type: '__proto__', rate: 1 }, /layer '__proto___0': unknown type '__proto__'/],
    [{ type: 'hasOwnProperty', x: 1 }, /unknown type 'hasOwnProperty'/],
    [{ type: 7 }, /unknown type 7/],
    [{ type: 'relu', inputs: 'input' }, /model: layer 'relu_0': inputs must be a non-empty list of layer names, got "input"/],
    [{ type: 'relu', inputs: [3] }, /inputs must be a non-empty list of layer names, got \[3\]/],
    [null, /model: layer 0 must be an object with a 'type', got null/],
    [[1, 2], /model: layer 0 must be an object with a 'type', got \[1,2\]/],
    [{ type: 'relu', name: 5 }, /model: layer 0: name must be a non-empty string, got 5/],
    [{ type: 'conv2d', name: 'c', filters: 2, kernel: true }, /conv2d 'c': kernel must be a number or \[h, w\], got true/],
    [{ type: 'conv2d', name: 'c', filters: 2, kernel: null }, /conv2d 'c': kernel must be a number or \[h, w\], got null/],
    [{ type: 'conv2d', name: 'c', filters: 2, kernel: [3] }, /conv2d 'c': kernel must be a number or \[h, w\], got \[3\]/],
    [{ type: 'maxpool2d', name: 'p', pool: true }, /maxpool2d 'p': pool must be a number or \[h, w\], got true/],
    [{ type: 'reshape', name: 'r', shape: 5 }, /reshape 'r': shape must be a list of positive integers, got 5/],
    [{ type: 'conv2d', name: 'c', filters: 2, kernel: 3, init: 'bogus' }, /conv2d 'c': init must be one of 'glorot_uniform'.*got 'bogus'/],
    [{ type: 'batchnorm', name: 'bn', momentum: '0.5' }, /batchnorm 'bn': momentum must be a finite number, got '0.5'/],
    [{ type: 'dense', name: 'd', units: 3, l2: -1 }, /dense 'd': l2 must be a finite number >= 0, got -1/],
    [{ type: 'dense', name: 'd', units: 3, useBias: 'no' }, /dense 'd': useBias must be true or false, got 'no'/],
  ];
  for (const [layer, re] of cases) {
    const input = (layer as { type?: string })?.type === 'dense' ? [4] : [6, 6, 2];
    assert.throws(() => buildGraph({ input, layers: [layer] } as unknown as ModelConfig), isRede(re), JSON.stringify(layer));
  }
  const models: [unknown, RegExp][] = [
    [null, /model: a config must be an object with 'input' and 'layers', got null/],
    ['lenet5', /model: a config must be an object/],
    [{ input: [4], layers: {} }, /model: layers must be a non-empty list, got \{\}/],
    [{ name: {}, input: [4], layers: [{ type: 'relu' }] }, /model: name must be a string, got \{\}/],
    [{ input: [4], layers: [{ type: 'relu' }], output: 0 }, /model: output must be a layer name, got 0/],
  ];
  for (const [config, re] of models) assert.throws(() => buildGraph(config as ModelConfig), isRede(re), JSON.stringify(config));
});

test('MemoryPlan: a size that is not a safe whole number of bytes is a RedeError naming the region', () => {
  assert.throws(() => new MemoryPlan().f32('w', NaN, 'parameters'), isRede(/MemoryPlan: region 'w' must be a whole number of bytes below 2\^53, got NaN/));
  assert.throws(() => new MemoryPlan().f32('w', 2 ** 60, 'parameters'), isRede(/region 'w' .*got 4611686018427388000/));
  assert.throws(() => new MemoryPlan().bytes('w', 1e300, 'scratch'), isRede(/region 'w'/));
  const twice = new MemoryPlan();
  twice.f32('w', 4, 'parameters');
  assert.throws(() => twice.f32('w', 4, 'gradients'), isRede(/MemoryPlan: region 'w' is planned twice/));
  // Each region fits, their sum does not.
  const sum = new MemoryPlan();
  sum.bytes('a', 2 ** 52, 'parameters'); sum.bytes('b', 2 ** 52, 'parameters');
  assert.throws(() => sum.layout(), isRede(/MemoryPlan: the arena passes 2\^53 bytes at region 'b'/));
});

test('a 192-byte .rede whose config needs 64 MB of weights is refused before any memory is taken', async () => {
  const e = await simd();
  const bytes = redeBytes({ format: 'rede-model', config: { input: [4096], layers: [{ type: 'dense', name: 'fc', units: 4096 }] }, seed: 0 });
  assert.ok(bytes.length < 256, `${bytes.length} bytes`);
  const used = e.used, memory = e.memory.buffer.byteLength;
  await assert.rejects(Model.fromBytes(bytes, { engine: e }), isRede(/^model bytes: tensor 'fc\/kernel' is missing$/));
  assert.equal(e.used, used, 'arena bytes in use');
  assert.equal(e.memory.buffer.byteLength, memory, 'wasm memory did not grow');
  // Present but short: refused the same way, naming both sizes.
  const short = redeBytes({ format: 'rede-model', config: { input: [4096], layers: [{ type: 'dense', name: 'fc', units: 4096 }] } },
    { 'fc/kernel': new Float32Array(16), 'fc/bias': new Float32Array(4096) });
  await assert.rejects(Model.fromBytes(short, { engine: e }), isRede(/tensor 'fc\/kernel' has 16 values, the model needs 16777216 \[4096, 4096\]/));
  assert.equal(e.memory.buffer.byteLength, memory, 'wasm memory did not grow');
  // Batch norm state is checked too (here in a file with the old names, param/<layer>/<handle>).
  const noState = redeBytes({ format: 'rede-model', config: { input: [3], layers: [{ type: 'batchnorm', name: 'bn' }] } },
    { 'param/bn/gamma': new Float32Array(3), 'param/bn/beta': new Float32Array(3) });
  await assert.rejects(Model.fromBytes(noState, { engine: e }), isRede(/model bytes: tensor 'bn\/moving_mean' is missing/));
  assert.equal(e.used, used, 'arena bytes in use');
});

test('Model.load: config and header errors name the file', async () => {
  const e = await simd();
  await withDir(async (dir) => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ format: 'rede-model', config: { input: [4], layers: [null] } }, /model: layer 0 must be an object with a 'type', got null/],
      [{ format: 'rede-model', config: { input: [4], layers: [{ type: '__proto__', a: 1 }] } }, /unknown type '__proto__'/],
      [{ format: 'rede-model', config: null }, /header field 'config' must be a model config object, got null/],
      [{ format: 'rede-model', config: { input: [4], layers: [{ type: 'relu' }] }, seed: 'x' }, /header field 'seed' must be a finite number, got "x"/],
      [{ format: 'rede-model', config: { input: [4], layers: [{ type: 'relu' }] }, compile: { optimizer: null, loss: 'mse' } }, /header field 'compile' must be compile options/],
      [{ format: 'rede-model', config: { input: [4], layers: [{ type: 'relu' }] }, training: { epoch: -1 } }, /header field 'training'/],
      [{ format: 'other' }, /not a rede model file \(header.format is "other"/],
    ];
    for (const [i, [header, re]] of cases.entries()) {
      const path = join(dir, `bad-${i}.rede`);
      await writeFile(path, redeBytes(header));
      await assert.rejects(Model.load(path, { engine: e }), isRede(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*${re.source}`)), JSON.stringify(header));
    }
  });
});

test("the CLI: 'rede summary --model __proto__' and a hostile .rede print one line, status 1", async () => {
  const run = async (argv: string[]) => {
    let out = '', err = '';
    const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
    return { code, out, err };
  };
  for (const name of ['__proto__', 'constructor', 'toString']) {
    const r = await run(['summary', '--model', name]);
    assert.equal(r.code, 1, name);
    assert.match(r.err, new RegExp(`^rede: summary: unknown model '${name}' \\(expected one of lenet5, .*\\)\\n$`));
  }
  await withDir(async (dir) => {
    const path = join(dir, 'hostile.rede');
    await writeFile(path, redeBytes({ format: 'rede-model', config: { input: [4], layers: [{ type: 'relu', inputs: 'input' }] } }));
    const r = await run(['summary', '--model', path]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `rede: ${path}: model: layer 'relu_0': inputs must be a non-empty list of layer names, got "input"\n`);
    const missing = await run(['summary', '--model', join(dir, 'missing.rede')]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^rede: .*missing\.rede: cannot open \(ENOENT/);
  });
});
