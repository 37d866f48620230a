// A rede model as PyTorch: a self-contained module (.py: torch only, no safetensors package — it carries its
// own reader and writer of the format) plus its state_dict in safetensors, in PyTorch's layout (getWeights
// with layout 'pytorch': OIHW conv kernels, [out, in] dense kernels, the dense after a flatten in C,H,W order).
// The module takes NCHW input as PyTorch does and computes what rede's predict does, layer for layer:
//   conv2d → [F.pad] + nn.Conv2d (+ the fused activation)   dense → nn.Linear   batchnorm → nn.BatchNorm1d/2d
//   maxpool2d/avgpool2d → [F.pad] + pooling (rede's 'same' puts the odd pixel bottom/right; rede's average counts
//   the pixels inside the image only)   lrn → nn.LocalResponseNorm (α·size: rede's α is per element)
//   globalavgpool2d, flatten, reshape, dropout, activations, add, concat (channels).
// Names: module <layer name, made an identifier>; tensors <module>.weight/.bias/.running_mean/.running_var
// (+ num_batches_tracked, which PyTorch's BatchNorm keeps).
import { RedeError } from '../../engine/errors';
import type { Model } from '../../api/model';
import type { Layer } from '../../layers/layer';
import type { ConvGeom } from '../../ops/conv';
import type { WeightTensor } from '../../model/weights';
import { encodeSafetensors, type SafeTensor } from '../safetensors';

const TORCH_PARAM: Readonly<Record<string, string>> = { kernel: 'weight', bias: 'bias', gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var' };
const EXPORTED = ['conv2d', 'dense', 'batchnorm', 'maxpool2d', 'avgpool2d', 'globalavgpool2d', 'lrn', 'dropout', 'flatten', 'reshape',
  'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax', 'add', 'concat'];

/** Python identifiers for the layers' names, distinct, stable: 'conv1' stays, 'block-1/a' → 'block_1_a'. */
export function moduleNames(model: Model): Map<string, string> {
  const out = new Map<string, string>(), used = new Set<string>(['x', 'input', 'self', 'F', 'nn', 'torch']);
  for (const { layer } of model.graph.nodes) {
    let base = layer.name.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z_]/.test(base)) base = `l_${base}`;
    let n = base, i = 1;
    while (used.has(n)) n = `${base}_${i++}`;
    used.add(n);
    out.set(layer.name, n);
  }
  return out;
}

/** rede weight name ('conv1/kernel') → state_dict key ('conv1.weight'). */
export function torchKey(names: ReadonlyMap<string, string>, weight: string): string {
  const cut = weight.lastIndexOf('/'), layer = weight.slice(0, cut), handle = weight.slice(cut + 1);
  return `${names.get(layer) ?? layer}.${TORCH_PARAM[handle] ?? handle}`;
}

/** The state_dict PyTorch's module holds, as safetensors tensors (F32; num_batches_tracked I64). */
export function stateDict(model: Model): Map<string, SafeTensor> {
  const names = moduleNames(model), out = new Map<string, SafeTensor>();
  const w = model.getWeights({ layout: 'pytorch' });
  for (const [name, t] of w) out.set(torchKey(names, name), f32(t));
  for (const { layer } of model.graph.nodes) {
    if (layer.type === 'batchnorm') out.set(`${names.get(layer.name)}.num_batches_tracked`, { dtype: 'I64', shape: [], bytes: new Uint8Array(8) });
  }
  return out;
}

const f32 = (t: WeightTensor): SafeTensor => ({ dtype: 'F32', shape: t.shape, bytes: new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)) });

/** The weights file of `rede export --pytorch`. */
export function stateDictBytes(model: Model): Uint8Array {
  return encodeSafetensors(stateDict(model), { format: 'pt', producer: 'rede' });
}

const py = (v: number) => (Number.isInteger(v) ? String(v) : String(v));
const ACT: Record<string, (x: string, alpha: number) => string> = {
  linear: (x) => x, relu: (x) => `F.relu(${x})`, leaky_relu: (x, a) => `F.leaky_relu(${x}, ${py(a)})`, elu: (x, a) => `F.elu(${x}, ${py(a)})`,
  sigmoid: (x) => `torch.sigmoid(${x})`, tanh: (x) => `torch.tanh(${x})`, softmax: (x) => `torch.softmax(${x}, 1)`,
};

/** The Python source of a module computing `model`'s predict. */
export function pytorchSource(model: Model, className = 'RedeModel'): string {
  const g = model.graph, names = moduleNames(model);
  const bad = g.nodes.filter(({ layer }) => !EXPORTED.includes(layer.type)).map(({ layer }) => `'${layer.name}' (${layer.type})`);
  if (bad.length) throw new RedeError(`export --pytorch: no PyTorch form for ${bad.join(', ')} (exported: ${EXPORTED.join(', ')})`);
  const init: string[] = [], fwd: string[] = [];
  const v = (i: number) => (i < 0 ? 'x' : `t_${names.get(g.nodes[i].layer.name)}`);
  g.nodes.forEach(({ layer, inputs }, i) => {
    const m = names.get(layer.name)!, out = v(i), ins = inputs.map(v), x = ins[0];
    const L = layer as Layer & Record<string, unknown>;
    const pad4 = (geo: ConvGeom) => [geo.padLeft, geo.padRight, geo.padTop, geo.padBottom];
    switch (layer.type) {
      case 'conv2d': {
        const geo = L.geo as ConvGeom, act = L.act as { type: string; alpha: number };
        const [l, r, t, b] = pad4(geo), sym = l === r && t === b;
        init.push(`self.${m} = nn.Conv2d(${geo.cin}, ${geo.cout}, (${geo.kh}, ${geo.kw}), stride=(${geo.strideH}, ${geo.strideW}), padding=${sym ? `(${t}, ${l})` : '0'}, ` +
          `dilation=(${geo.dilationH}, ${geo.dilationW}), groups=${geo.groups}, bias=${L.useBias ? 'True' : 'False'})`);
        const xin = sym ? x : `F.pad(${x}, (${l}, ${r}, ${t}, ${b}))`;
        fwd.push(`${out} = ${ACT[act.type](`self.${m}(${xin})`, act.alpha)}`);
        break;
      }
      case 'dense': {
        const act = L.act as { type: string; alpha: number };
        const [inF, outF] = layer.params.find((p) => p.name === 'w')!.shape;
        init.push(`self.${m} = nn.Linear(${inF}, ${outF}, bias=${layer.params.some((p) => p.name === 'b') ? 'True' : 'False'})`);
        fwd.push(`${out} = ${ACT[act.type](`self.${m}(${x})`, act.alpha)}`);
        break;
      }
      case 'batchnorm': {
        const c = layer.inShapes[0][layer.inShapes[0].length - 1], d = layer.inShapes[0].length === 3 ? 2 : 1;
        init.push(`self.${m} = nn.BatchNorm${d}d(${c}, eps=${py(L.epsilon as number)}, momentum=${py(L.momentum as number)})`);
        fwd.push(`${out} = self.${m}(${x})`);
        break;
      }
      case 'maxpool2d': case 'avgpool2d': {
        const geo = L.geo as ConvGeom, [l, r, t, b] = pad4(geo), k = `(${geo.kh}, ${geo.kw})`, s = `(${geo.strideH}, ${geo.strideW})`;
        const padded = l || r || t || b;
        if (layer.type === 'maxpool2d') {
          fwd.push(`${out} = F.max_pool2d(${padded ? `F.pad(${x}, (${l}, ${r}, ${t}, ${b}), value=float('-inf'))` : x}, ${k}, ${s})`);
        } else if (!padded) {
          fwd.push(`${out} = F.avg_pool2d(${x}, ${k}, ${s})`);
        } else {
          // The mean over the window's pixels inside the image: window sums over zero padding / pixel counts.
          fwd.push(`${out} = F.avg_pool2d(F.pad(${x}, (${l}, ${r}, ${t}, ${b})), ${k}, ${s}) / F.avg_pool2d(F.pad(torch.ones_like(${x}[:1, :1]), (${l}, ${r}, ${t}, ${b})), ${k}, ${s})`);
        }
        break;
      }
      case 'globalavgpool2d': fwd.push(`${out} = ${x}.mean((2, 3))`); break;
      case 'lrn': {
        const size = 2 * (L.radius as number) + 1;
        init.push(`self.${m} = nn.LocalResponseNorm(${size}, alpha=${py((L.alpha as number) * size)}, beta=${py(L.beta as number)}, k=${py(L.bias as number)})`);
        fwd.push(`${out} = self.${m}(${x})`);
        break;
      }
      case 'dropout': init.push(`self.${m} = nn.Dropout(${py(L.rate as number)})`); fwd.push(`${out} = self.${m}(${x})`); break;
      case 'flatten': fwd.push(`${out} = torch.flatten(${x}, 1)`); break;
      case 'reshape': {
        // rede reshapes its H, W, C order: through NHWC and back.
        const inHwc = layer.inShapes[0].length === 3 ? `${x}.permute(0, 2, 3, 1)` : x, o = layer.outShape;
        const r = `${inHwc}.reshape(${x}.shape[0], ${o.join(', ')})`;
        fwd.push(`${out} = ${o.length === 3 ? `${r}.permute(0, 3, 1, 2)` : r}`);
        break;
      }
      case 'relu': case 'leaky_relu': case 'elu': case 'sigmoid': case 'tanh': case 'softmax':
        fwd.push(`${out} = ${ACT[layer.type](x, (L.alpha as number | undefined) ?? 0)}`);
        break;
      case 'add': fwd.push(`${out} = ${ins.join(' + ')}`); break;
      case 'concat': fwd.push(`${out} = torch.cat([${ins.join(', ')}], 1)`); break;
    }
  });
  const shape = g.input;
  const inDoc = shape.length === 3 ? `[N, ${shape[2]}, ${shape[0]}, ${shape[1]}] (NCHW)` : `[N, ${shape.join(', ')}]`;
  return `# Generated by rede (export --pytorch) from the model '${model.config.name ?? 'model'}'. Needs only torch.
#   model = ${className}(); model.load_state_dict(load_safetensors('weights.safetensors')); model.eval()
# Input ${inDoc}; output: what rede's predict gives (probabilities when the model ends in a softmax).
import json
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

_DTYPES = {'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64,
           'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8, 'U8': torch.uint8, 'BOOL': torch.bool}


def load_safetensors(path):
    """A safetensors file as {name: tensor}: JSON header and bytes, nothing executed."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    if n > len(data) - 8:
        raise ValueError(f'{path}: header length {n} past the end of the file')
    header = json.loads(data[8:8 + n])
    body = memoryview(data)[8 + n:]
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        b, e = t['data_offsets']
        raw = bytearray(body[b:e])
        dtype = _DTYPES[t['dtype']]
        out[name] = (torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)).reshape(t['shape']).clone()
    return out


def save_safetensors(tensors, path, metadata=None):
    """{name: tensor} as a safetensors file (little-endian, contiguous)."""
    names = {v: k for k, v in _DTYPES.items()}
    header, blobs, at = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {'dtype': names[t.dtype], 'shape': list(t.shape), 'data_offsets': [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


class ${className}(nn.Module):
    def __init__(self):
        super().__init__()
${init.length ? init.map((l) => `        ${l}`).join('\n') : '        pass'}

    def forward(self, x):
${fwd.map((l) => `        ${l}`).join('\n')}
        return ${v(g.output)}
`;
}
