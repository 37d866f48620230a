// rede export --format onnx / rede import --format onnx: a saved model (f32, or int8 from `rede quantize`) out
// as an .onnx file that ONNX Runtime runs, and an ONNX conv net in as a trainable .rede model (docs/interop.md).
// main.ts hands these functions the arguments without `--format onnx`.
import { readFile } from 'node:fs/promises';
import { Model } from '../../api/model';
import { RedeError } from '../../engine/errors';
import { decodeRedeFile } from '../../io/file';
import { writeFileAtomic } from '../../io/atomic';
import { exportOnnx as toOnnx } from '../../interop/onnx/export';
import { exportOnnxInt8 } from '../../interop/onnx/int8';
import { importOnnx as fromOnnx } from '../../interop/onnx/import';
import { INT8_FORMAT, QuantizedModel } from '../../quant/index';
import { checkWritable, count, type Io, parse } from '../common';

export const exportOnnxUsage = `usage: rede export --format onnx --model FILE.rede --out FILE.onnx [--input-layout nchw|nhwc]

  An ONNX model (opset 13) computing the model's predict. Input NCHW [N, C, H, W] (ONNX's convention), or
  --input-layout nhwc: rede's own [N, H, W, C]. An int8 model (rede quantize) becomes a QDQ graph
  (QuantizeLinear / DequantizeLinear around rede's integers) that ONNX Runtime runs in int8.`;

export const importOnnxUsage = `usage: rede import --format onnx --model FILE.onnx --out FILE.rede

  An ONNX conv net (Conv, Gemm, MatMul, BatchNormalization, Relu and friends, pools, Add, Concat, Flatten,
  Reshape, Softmax, LRN, Dropout) as a rede model that predicts the same and trains (rede train --resume-from …).`;

const readBytes = async (path: string, what: string): Promise<Uint8Array> => {
  try { return new Uint8Array(await readFile(path)); } catch (e) { throw new RedeError(`${what} '${path}' could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
};

export async function exportOnnx(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('export', argv, { model: { type: 'string' }, out: { type: 'string' }, 'input-layout': { type: 'string' } } as const);
  if (v.help) { io.stdout.write(`${exportOnnxUsage}\n`); return; }
  if (!v.model || !v.out) throw new RedeError('export --format onnx: --model FILE.rede and --out FILE.onnx are required');
  const layout = v['input-layout'] ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') throw new RedeError(`export --format onnx: --input-layout must be nchw or nhwc, got '${layout}'`);
  checkWritable('export', 'out', v.out);
  const bytes = await readBytes(v.model, 'model');
  const f = decodeRedeFile(bytes, v.model);
  let onnx: Uint8Array, what: string;
  if ((f.header as { format?: unknown }).format === INT8_FORMAT) {
    if (layout !== 'nchw') throw new RedeError('export --format onnx: an int8 model is exported with NCHW input only');
    onnx = exportOnnxInt8(QuantizedModel.fromFile(f, v.model));
    what = 'int8 QDQ';
  } else {
    const model = await Model.load(v.model);
    onnx = toOnnx(model, { inputLayout: layout });
    what = `${count(model.paramCount)} parameters`;
  }
  await writeFileAtomic(v.out, onnx);
  io.stdout.write(`wrote ${v.out} (ONNX opset 13, ${what}, input ${layout.toUpperCase()}, ${count(onnx.length)} bytes)\n`);
}

export async function importOnnx(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('import', argv, { model: { type: 'string' }, out: { type: 'string' } } as const);
  if (v.help) { io.stdout.write(`${importOnnxUsage}\n`); return; }
  if (!v.model || !v.out) throw new RedeError('import --format onnx: --model FILE.onnx and --out FILE.rede are required');
  checkWritable('import', 'out', v.out);
  const model = await fromOnnx(await readBytes(v.model, 'model'), { source: v.model });
  await model.save(v.out);
  io.stdout.write(`saved ${v.out} (${model.graph.nodes.length} layers, ${count(model.paramCount)} parameters from ${v.model})\n`);
}
