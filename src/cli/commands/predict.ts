// rede predict: classify PNG images or every image of an IDX file with a saved model; prints the class (its
// name when the model has classNames) and the probabilities (softmax of the outputs, unless the model already
// ends in a softmax). What a file is comes from its first bytes (PNG signature, IDX magic, gzip), not its name.
import { readFile } from 'node:fs/promises';
import { RedeError } from '../../engine/errors';
import { isGzip, isIdx, parseIdx } from '../../data/idx';
import { isSoftmaxOutput } from '../../model/classify';
import { gunzipSync } from 'node:zlib';
import { Model } from '../../api/model';
import { type Io, parse } from '../common';
import { borderMean, decodePng, describeStart, imageToInput, isPng } from '../../data/image';

export const usage = `usage: rede predict --model FILE.rede [--invert] IMAGE...

  IMAGE                   a PNG (8-bit grey, RGB, RGBA or palette; resized to the model's input by bilinear
                          interpolation) or an IDX images file (.gz too): one line per image. The
                          class names are printed when the model has them (trained on Fashion-MNIST)
  --model FILE            a model saved by 'rede train --out'
  --invert                use 1 − pixel (dark strokes on a light background → MNIST's light on dark)`;

const OPTIONS = { model: { type: 'string' }, invert: { type: 'boolean' } } as const;

/** Softmax of each row of n × k outputs (max-subtracted). */
export function softmaxRows(y: Float32Array, k: number): Float32Array {
  const p = new Float32Array(y.length);
  for (let r = 0; r < y.length / k; r++) {
    let max = -Infinity, sum = 0;
    for (let c = 0; c < k; c++) max = Math.max(max, y[r * k + c]);
    for (let c = 0; c < k; c++) sum += (p[r * k + c] = Math.exp(y[r * k + c] - max));
    for (let c = 0; c < k; c++) p[r * k + c] /= sum;
  }
  return p;
}

const argmax = (p: Float32Array, at: number, k: number): number => {
  let best = 0;
  for (let c = 1; c < k; c++) if (p[at + c] > p[at + best]) best = c;
  return best;
};

/** Images of one file as model inputs: a PNG is one, an IDX file [N, H, W(, C)] is N (resized if needed). */
async function inputsOf(path: string, h: number, w: number, c: number, invert: boolean, io: Io): Promise<{ x: Float32Array; n: number }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new RedeError(`predict: cannot read ${path} (${(e as Error).message})`);
  }
  if (isPng(bytes)) {
    const x = imageToInput(decodePng(bytes, path), h, w, c, { invert });
    if (!invert && borderMean(x, h, w, c) > 0.5) {
      io.stderr.write(`note: ${path} has a light background; a model trained on MNIST-style data expects light strokes on dark — try --invert\n`);
    }
    return { x, n: 1 };
  }
  if (!isIdx(bytes) && !isGzip(bytes)) {
    const what = /\.png$/i.test(path) ? 'not a PNG image' : 'neither a PNG image nor an IDX file';
    throw new RedeError(`${path}: ${what} (starts with ${describeStart(bytes)})`);
  }
  let raw = bytes;
  if (isGzip(bytes)) {
    try { raw = gunzipSync(bytes); } catch (e) { throw new RedeError(`${path}: gzip data that does not inflate (${(e as Error).message})`); }
    if (!isIdx(raw)) throw new RedeError(`${path}: gzip data that is not an IDX file (it inflates to ${describeStart(raw)})`);
  }
  const idx = parseIdx(raw, path);
  const d = idx.dims;
  if ((d.length !== 3 && d.length !== 4) || (d[3] ?? 1) !== c) {
    throw new RedeError(`${path}: expected a PNG or IDX images [N, H, W] / [N, H, W, ${c}] for this model, found IDX ${idx.dtype} [${d.join(', ')}]`);
  }
  const n = d[0], per = d[1] * d[2] * c, scale = idx.dtype === 'u8' ? 1 / 255 : 1;
  const x = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) {
    // Through the PNG path's resize, so both inputs are treated alike.
    const img = { width: d[2], height: d[1], channels: c as 1 | 3, data: new Uint8Array(per) };
    for (let j = 0; j < per; j++) img.data[j] = Math.round(Math.min(1, Math.max(0, idx.data[i * per + j] * scale)) * 255);
    x.set(imageToInput(img, h, w, c, { invert }), i * h * w * c);
  }
  return { x, n };
}

export async function predictCommand(argv: string[], io: Io): Promise<void> {
  const { values: v, positionals: files } = parse('predict', argv, OPTIONS, true);
  if (v.help) { io.stdout.write(`${usage}\n`); return; }
  if (!v.model) throw new RedeError(`predict: --model FILE.rede is required (see 'rede predict --help')`);
  if (files.length === 0) throw new RedeError(`predict: give at least one image (PNG or IDX file)`);
  const model = await Model.load(v.model);
  const shape = model.inputShape, out = model.outputShape;
  if (shape.length !== 3) throw new RedeError(`predict: the model's input is [${shape.join(', ')}], not an image [h, w, c]`);
  const [h, w, c] = shape, k = out.reduce((a, b) => a * b, 1);
  const endsInSoftmax = isSoftmaxOutput(model.layers[model.graph.output]), names = model.classNames;
  const named = (cl: number) => (names ? `\t${names[cl]}` : '');
  for (const file of files) {
    const { x, n } = await inputsOf(file, h, w, c, v.invert ?? false, io);
    const y = model.predict(x);
    const p = endsInSoftmax ? y : softmaxRows(y, k);
    if (n === 1) {
      const best = argmax(p, 0, k);
      const label = names ? `${names[best]} (class ${best}, probability` : `class ${best} (probability`;
      io.stdout.write(`${file}: ${label} ${p[best].toFixed(4)})\n`);
      for (let cl = 0; cl < k; cl++) io.stdout.write(`  ${String(cl).padStart(String(k - 1).length)}  ${p[cl].toFixed(4)}${names ? `  ${names[cl]}` : ''}\n`);
    } else {
      io.stdout.write(`${file}: ${n} images (index, class, probability${names ? ', name' : ''})\n`);
      for (let i = 0; i < n; i++) {
        const best = argmax(p, i * k, k);
        io.stdout.write(`${i}\t${best}\t${p[i * k + best].toFixed(4)}${named(best)}\n`);
      }
    }
  }
}
