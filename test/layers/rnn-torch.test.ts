// rede's default GRU (resetAfter: the reset gate multiplies h₋·R_h + b_rh, Keras 2's and cuDNN's form) against
// PyTorch 1.13's nn.GRU, which computes exactly that form — tfjs's GRU lacks it. PyTorch runs in f64 through
// /usr/bin/python3; its gates are ordered r, z, n with weights [3u, in], rede's (Keras's) z, r, h with [in, 3u],
// and PyTorch's two biases are rede's bias rows 0 and 1. Output, dx and every gradient for L = Σ y·r, within 1e-4;
// the weights go in through setWeights' PyTorch layout.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { modelEngines, withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';

const PY = `
import json, sys, torch
a = json.load(sys.stdin)
B, T, F, U = a['B'], a['T'], a['F'], a['U']
g = torch.nn.GRU(F, U, batch_first=True).double()
with torch.no_grad():
    g.weight_ih_l0.copy_(torch.tensor(a['w_ih']).view(3 * U, F)); g.weight_hh_l0.copy_(torch.tensor(a['w_hh']).view(3 * U, U))
    g.bias_ih_l0.copy_(torch.tensor(a['b_ih'])); g.bias_hh_l0.copy_(torch.tensor(a['b_hh']))
x = torch.tensor(a['x'], dtype=torch.float64).view(B, T, F).requires_grad_()
out, h = g(x)
y = out if a['seq'] else h[0]
(y * torch.tensor(a['r'], dtype=torch.float64).view(y.shape)).sum().backward()
f = lambda t: t.detach().reshape(-1).tolist()
print(json.dumps({'y': f(y), 'dx': f(x.grad), 'w_ih': f(g.weight_ih_l0.grad), 'w_hh': f(g.weight_hh_l0.grad), 'b_ih': f(g.bias_ih_l0.grad), 'b_hh': f(g.bias_hh_l0.grad)}))
`;

const B = 3, T = 5, F = 4, U = 6;
/** Keras gate block k (z, r, h) ↔ PyTorch block (r, z, n). */
const TORCH_BLOCK = [1, 0, 2];

/** rede [rows, 3U] (gates z, r, h in column blocks) → PyTorch [3U, rows] (r, z, n in row blocks). */
function toTorch(m: Float32Array, rows: number): number[] {
  const out = new Array<number>(3 * U * rows);
  for (let k = 0; k < 3; k++) for (let j = 0; j < U; j++) for (let i = 0; i < rows; i++) out[(TORCH_BLOCK[k] * U + j) * rows + i] = m[i * 3 * U + k * U + j];
  return out;
}
const biasToTorch = (b: ArrayLike<number>): number[] => { const out = new Array<number>(3 * U); for (let k = 0; k < 3; k++) for (let j = 0; j < U; j++) out[TORCH_BLOCK[k] * U + j] = b[k * U + j]; return out; };

test('gru (resetAfter, the default) agrees with PyTorch nn.GRU: output, dx and weight gradients', async () => {
  const rng = new Rng(43);
  for (const seq of [false, true]) {
    const kernel = rng.array(F * 3 * U, -0.5, 0.5), rec = rng.array(U * 3 * U, -0.5, 0.5), bias = rng.array(2 * 3 * U, -0.3, 0.3);
    const x = rng.array(B * T * F), r = rng.array(B * (seq ? T : 1) * U);
    const input = { B, T, F, U, seq, x: [...x], r: [...r], w_ih: toTorch(kernel, F), w_hh: toTorch(rec, U), b_ih: biasToTorch(bias.subarray(0, 3 * U)), b_hh: biasToTorch(bias.subarray(3 * U)) };
    const p = spawnSync('/usr/bin/python3', ['-c', PY], { input: JSON.stringify(input), encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`PyTorch (/usr/bin/python3 with torch 1.13) failed: ${p.stderr || p.error}`);
    const t = JSON.parse(p.stdout) as Record<'y' | 'dx' | 'w_ih' | 'w_hh' | 'b_ih' | 'b_hh', number[]>;
    for (const { name, e } of await modelEngines()) {
      await withModel(e, { input: [T, F], layers: [{ type: 'gru', name: 'gru', units: U, returnSequences: seq }] }, (m) => {
        // PyTorch's layout in (src/model/weights.ts arrangeRecurrent), checked against this file's own mapping
        m.setWeights({ 'gru/kernel': { shape: [3 * U, F], data: input.w_ih }, 'gru/recurrent_kernel': { shape: [3 * U, U], data: input.w_hh },
          'gru/bias': { shape: [2, 3 * U], data: [...input.b_ih, ...input.b_hh] } }, { fromLayout: 'pytorch' });
        assertClose(m.getWeight('gru/kernel'), kernel, 'pytorch layout → rede', { rtol: 0, atol: 0 });
        assertClose(m.getWeights({ layout: 'pytorch' }).get('gru/recurrent_kernel')!.data, input.w_hh, 'rede → pytorch layout', { rtol: 0, atol: 0 });
        const what = `${name} returnSequences=${seq}`;
        assertClose(m.forward(x, { training: true }), t.y, `${what} forward`, { rtol: 1e-4, atol: 1e-4 });
        assertClose(m.backward(r), t.dx, `${what} dx`, { rtol: 1e-4, atol: 1e-4 });
        assertClose(toTorch(m.getGrad('gru/kernel'), F), t.w_ih, `${what} dkernel`, { rtol: 1e-4, atol: 1e-4 });
        assertClose(toTorch(m.getGrad('gru/recurrent_kernel'), U), t.w_hh, `${what} drecurrent_kernel`, { rtol: 1e-4, atol: 1e-4 });
        const db = m.getGrad('gru/bias');
        assertClose([...biasToTorch(db.subarray(0, 3 * U)), ...biasToTorch(db.subarray(3 * U))], [...t.b_ih, ...t.b_hh], `${what} dbias`, { rtol: 1e-4, atol: 1e-4 });
      });
    }
  }
});

const PY_BI = `
import json, sys, torch
a = json.load(sys.stdin)
B, T, F, U = a['B'], a['T'], a['F'], a['U']
g = torch.nn.GRU(F, U, batch_first=True, bidirectional=True).double()
with torch.no_grad():
    for s in ['', '_reverse']:
        getattr(g, 'weight_ih_l0' + s).copy_(torch.tensor(a['w_ih' + s]).view(3 * U, F)); getattr(g, 'weight_hh_l0' + s).copy_(torch.tensor(a['w_hh' + s]).view(3 * U, U))
        getattr(g, 'bias_ih_l0' + s).copy_(torch.tensor(a['b_ih' + s])); getattr(g, 'bias_hh_l0' + s).copy_(torch.tensor(a['b_hh' + s]))
x = torch.tensor(a['x'], dtype=torch.float64).view(B, T, F).requires_grad_()
out, h = g(x)
y = out if a['seq'] else torch.cat([h[0], h[1]], 1)
(y * torch.tensor(a['r'], dtype=torch.float64).view(y.shape)).sum().backward()
f = lambda t: t.detach().reshape(-1).tolist()
res = {'y': f(y), 'dx': f(x.grad)}
for s in ['', '_reverse']:
    for n in ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']: res[n + s] = f(getattr(g, n + '_l0' + s).grad)
print(json.dumps(res))
`;

test('bidirectional gru (concat) agrees with PyTorch nn.GRU(bidirectional=True), weights set in PyTorch\'s layout', async () => {
  const rng = new Rng(44);
  for (const seq of [false, true]) {
    const dirs = ['', '_reverse'].map((s) => ({ s, kernel: rng.array(F * 3 * U, -0.5, 0.5), rec: rng.array(U * 3 * U, -0.5, 0.5), bias: rng.array(2 * 3 * U, -0.3, 0.3) }));
    const x = rng.array(B * T * F), r = rng.array(B * (seq ? T : 1) * 2 * U);
    const input: Record<string, unknown> = { B, T, F, U, seq, x: [...x], r: [...r] };
    for (const d of dirs) Object.assign(input, { [`w_ih${d.s}`]: toTorch(d.kernel, F), [`w_hh${d.s}`]: toTorch(d.rec, U), [`b_ih${d.s}`]: biasToTorch(d.bias.subarray(0, 3 * U)), [`b_hh${d.s}`]: biasToTorch(d.bias.subarray(3 * U)) });
    const p = spawnSync('/usr/bin/python3', ['-c', PY_BI], { input: JSON.stringify(input), encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`PyTorch (/usr/bin/python3 with torch 1.13) failed: ${p.stderr || p.error}`);
    const t = JSON.parse(p.stdout) as Record<string, number[]>;
    for (const { name, e } of await modelEngines()) {
      await withModel(e, { input: [T, F], layers: [{ type: 'bidirectional', name: 'bi', layer: 'gru', units: U, returnSequences: seq }] }, (m) => {
        const weights: Record<string, { shape: number[]; data: number[] }> = {};
        dirs.forEach((d, i) => {
          const dir = i === 0 ? 'forward' : 'backward';
          weights[`bi/${dir}/kernel`] = { shape: [3 * U, F], data: input[`w_ih${d.s}`] as number[] };
          weights[`bi/${dir}/recurrent_kernel`] = { shape: [3 * U, U], data: input[`w_hh${d.s}`] as number[] };
          weights[`bi/${dir}/bias`] = { shape: [2, 3 * U], data: [...(input[`b_ih${d.s}`] as number[]), ...(input[`b_hh${d.s}`] as number[])] };
        });
        m.setWeights(weights, { fromLayout: 'pytorch' });
        assertClose(m.getWeight('bi/backward/kernel'), dirs[1].kernel, 'pytorch layout → rede', { rtol: 0, atol: 0 });
        const what = `${name} returnSequences=${seq}`;
        assertClose(m.forward(x, { training: true }), t.y, `${what} forward`, { rtol: 1e-4, atol: 1e-4 });
        assertClose(m.backward(r), t.dx, `${what} dx`, { rtol: 1e-4, atol: 1e-4 });
        dirs.forEach((d, i) => {
          const dir = i === 0 ? 'forward' : 'backward';
          assertClose(toTorch(m.getGrad(`bi/${dir}/kernel`), F), t[`weight_ih${d.s}`], `${what} ${dir} dkernel`, { rtol: 1e-4, atol: 1e-4 });
          assertClose(toTorch(m.getGrad(`bi/${dir}/recurrent_kernel`), U), t[`weight_hh${d.s}`], `${what} ${dir} drecurrent_kernel`, { rtol: 1e-4, atol: 1e-4 });
          const db = m.getGrad(`bi/${dir}/bias`);
          assertClose([...biasToTorch(db.subarray(0, 3 * U)), ...biasToTorch(db.subarray(3 * U))], [...t[`bias_ih${d.s}`], ...t[`bias_hh${d.s}`]], `${what} ${dir} dbias`, { rtol: 1e-4, atol: 1e-4 });
        });
      });
    }
  }
});
