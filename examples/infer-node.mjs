// rede/infer from Node: classify grey images (binary PGM, P5, 8-bit, any size) with a .rede model, f32 or int8.
//   npm run build && node examples/infer-node.mjs model.int8.rede digit.pgm [more.pgm …] [--workers 2]
// The import is the package's own subpath ('rede/infer' in a project that installed rede); one kernels
// build is read from beside the bundle (dist/infer/rede-infer-*.wasm).
import { readFileSync } from 'node:fs';
import { load } from '../dist/infer/index.js';

const args = process.argv.slice(2);
const w = args.indexOf('--workers');
const workers = w >= 0 ? Number(args.splice(w, 2)[1]) : 1;
const [modelPath, ...images] = args;
if (!modelPath || images.length === 0) {
  console.error('usage: node examples/infer-node.mjs MODEL.rede IMAGE.pgm [IMAGE.pgm …] [--workers N]');
  process.exit(2);
}

/** A binary PGM's pixels, 0…1 (its header: P5, width, height, maxval, then one byte per pixel). */
function readPgm(path) {
  const b = readFileSync(path);
  const head = b.toString('latin1', 0, Math.min(b.length, 64)).match(/^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/);
  if (!head || Number(head[3]) > 255) throw new Error(`${path}: not an 8-bit binary PGM (P5)`);
  const [, width, height, max] = head.map(Number), px = b.subarray(head[0].length);
  if (px.length < width * height) throw new Error(`${path}: ${px.length} pixel bytes, expected ${width * height}`);
  return { width, height, x: Float32Array.from(px.subarray(0, width * height), (v) => v / max) };
}

const model = await load(modelPath, { workers });
const [h, wd] = model.inputShape;
for (const path of images) {
  const img = readPgm(path);
  if (img.width !== wd || img.height !== h) throw new Error(`${path}: ${img.width}×${img.height}, the model takes ${wd}×${h}`);
  const top = model.topK(img.x, 3);
  const best = top.names?.[0] ?? top.indices[0];
  const score = model.endsInSoftmax ? `${(100 * top.values[0]).toFixed(1)} %` : `logit ${top.values[0].toFixed(2)}`; // a model without softmax gives logits
  console.log(`${path}: class ${best} (${score}); then ${top.indices[1]}, ${top.indices[2]}`);
}
console.log(`kernels: ${model.e.variant}, ${model.threads} thread${model.threads > 1 ? 's' : ''}`);
await model.close();
