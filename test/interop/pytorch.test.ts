// rede → PyTorch and back, checked by PyTorch itself (Debian's python3-torch at /usr/bin/python3; .ci/run
// installs it): the generated module loads the exported safetensors state_dict with strict=True and its eval-mode
// outputs equal rede's predict within 1e-4 for LeNet-5 and ResNet-18; a state_dict that PyTorch writes from the
// same module (after changing every parameter and statistic) imports into rede and predicts what PyTorch does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { lenet5, resnet18 } from '../../src/zoo/index';
import { decodeSafetensors, encodeSafetensors, toFloat32 } from '../../src/interop/safetensors';
import { pytorchSource, stateDictBytes } from '../../src/interop/pytorch/export';
import { importPytorch } from '../../src/interop/pytorch/import';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';

const PYTHON = '/usr/bin/python3';
let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'rede-torch-')); });
after(() => rm(dir, { recursive: true, force: true }));

/** Runs the exported module in PyTorch: loads weights, predicts x; then perturbs it, saves its state_dict, predicts again. */
const SCRIPT = String.raw`
import importlib.util, sys, torch
d = sys.argv[1]
spec = importlib.util.spec_from_file_location('exported', d + '/model.py')
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
torch.manual_seed(3)
m = mod.RedeModel()
m.load_state_dict(mod.load_safetensors(d + '/weights.safetensors'), strict=True)
m.eval()
x = mod.load_safetensors(d + '/input.safetensors')['x']
with torch.no_grad():
    y = m(x)
    for name, p in m.state_dict().items():
        if p.dtype.is_floating_point:
            p.add_(0.05 * torch.randn_like(p))
            if name.endswith('running_var'): p.abs_()
    y2 = m(x)
mod.save_safetensors(m.state_dict(), d + '/torch_state.safetensors')
mod.save_safetensors({'y': y, 'y2': y2}, d + '/out.safetensors')
print('torch', torch.__version__)
`;

/** Batch-norm statistics and affine made non-trivial (a fresh model's are 0 and 1, which would hide layout bugs). */
function perturb(model: Model, seed: number): void {
  const rng = new Rng(seed), w = model.getWeights();
  for (const [name, t] of w) {
    if (!/\/(gamma|beta|moving_mean|moving_variance|bias)$/.test(name)) continue;
    for (let i = 0; i < t.data.length; i++) t.data[i] = /variance$/.test(name) ? 0.5 + rng.next() : /gamma$/.test(name) ? 0.8 + 0.4 * rng.next() : 0.2 * (rng.next() - 0.5);
  }
  model.setWeights(w);
}

async function roundTrip(name: string, config: ModelConfig, n: number): Promise<void> {
  const model = await Model.create(config, { seed: 5 });
  perturb(model, 9);
  const [h, w, c] = config.input, rng = new Rng(21);
  const x = rng.array(n * h * w * c, 0, 1); // NHWC for rede
  const nchw = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) nchw[((b * c + ch) * h + y) * w + xx] = x[((b * h + y) * w + xx) * c + ch];
  const sub = join(dir, name);
  await import('node:fs/promises').then((fs) => fs.mkdir(sub));
  await writeFile(join(sub, 'model.py'), pytorchSource(model));
  await writeFile(join(sub, 'weights.safetensors'), stateDictBytes(model));
  await writeFile(join(sub, 'input.safetensors'), encodeSafetensors({ x: { shape: [n, c, h, w], data: nchw } }));
  const r = spawnSync(PYTHON, ['-c', SCRIPT, sub], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `${PYTHON} failed: ${r.stderr}\n${r.stdout}`);
  assert.match(r.stdout, /^torch 1\.13/);
  const out = decodeSafetensors(new Uint8Array(await readFile(join(sub, 'out.safetensors'))), 'out').tensors;
  const yTorch = toFloat32(out.get('y')!), ours = model.predict(x);
  assert.deepEqual(out.get('y')!.shape, [n, 10]);
  assertClose(ours, yTorch, `${name}: rede predict vs the exported module in PyTorch`, { rtol: 1e-4, atol: 1e-4 });
  // Back: PyTorch's own state_dict file (changed weights and statistics) into a rede model of the same config.
  const back = await importPytorch(config, new Uint8Array(await readFile(join(sub, 'torch_state.safetensors'))), { source: 'torch_state.safetensors' });
  assertClose(back.predict(x), toFloat32(out.get('y2')!), `${name}: PyTorch's state_dict imported into rede`, { rtol: 1e-4, atol: 1e-4 });
}

test('export --pytorch: LeNet-5 in PyTorch predicts what rede does (1e-4), and PyTorch\'s state_dict imports back', async () => {
  await roundTrip('lenet5', lenet5([28, 28, 1], 10), 4);
});

test('export --pytorch: ResNet-18 (64×64×3, 10 classes) in PyTorch predicts what rede does (1e-4), and back', async () => {
  await roundTrip('resnet18', resnet18([64, 64, 3], 10), 2);
});

test('import --pytorch: a state_dict that does not fit is one error listing missing and unexpected keys', async () => {
  const model = await Model.create(lenet5(), { seed: 1 });
  const sd = decodeSafetensors(stateDictBytes(model)).tensors;
  sd.delete('c1.bias');
  sd.set('extra.weight', { dtype: 'F32', shape: [1], bytes: new Uint8Array(4) });
  await assert.rejects(importPytorch(lenet5(), encodeSafetensors(sd), { source: 'sd.safetensors' }),
    /^RedeError: sd\.safetensors: the state_dict does not fit the config; missing c1\.bias; unexpected extra\.weight$/);
  // DistributedDataParallel's 'module.' prefix is accepted.
  const ddp = new Map([...decodeSafetensors(stateDictBytes(model)).tensors].map(([k, t]) => [`module.${k}`, t]));
  const back = await importPytorch(lenet5(), encodeSafetensors(ddp));
  const x = new Rng(2).array(784, 0, 1);
  assert.deepEqual(back.predict(x), model.predict(x));
});
