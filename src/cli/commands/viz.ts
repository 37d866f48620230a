// rede viz: what a trained network sees — the first conv layer's filters and every layer's feature maps
// for one input image, as PNG files (the lecture's "inside a convolutional network" view, from Node).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RedeError } from '../../engine/errors';
import { writeFileAtomic } from '../../io/atomic';
import { numelOf } from '../../layers/layer';
import { Model } from '../../api/model';
import { encodeGreyPng } from '../../viz/png';
import { featureMapImage, filterImage } from '../../viz/maps';
import { type Io, num, parse } from '../common';
import { decodePng, imageToInput } from '../png';

export const usage = `usage: rede viz --model FILE.rede --image IMAGE.png --out DIR [options]

  --invert                light digits on dark (as MNIST) from dark on light
  --labels A,B,...        class names for the output layer's captions           [class indices]
  --min-size N            enlarge every tile (nearest neighbour) to at least N px a side        [64]

Writes DIR/filters-<layer>.png (the first conv layer's filters) and DIR/<n>-<layer>.png (every layer's output
for the image, one tile per channel or unit), each titled with the layer's name, type and shape and every tile
captioned (channel, filter, unit, or class for the output layer), and prints the predicted class.`;

const OPTIONS = {
  model: { type: 'string' }, image: { type: 'string' }, out: { type: 'string' }, invert: { type: 'boolean' },
  labels: { type: 'string' }, 'min-size': { type: 'string' },
} as const;

export async function viz(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('viz', argv, OPTIONS);
  if (v.help) { io.stdout.write(`${usage}\n`); return; }
  if (!v.model || !v.image || !v.out) throw new RedeError('viz: --model, --image and --out are required (see rede viz --help)');
  const minSide = num('viz', 'min-size', v['min-size'], 64, { int: true, min: 1, max: 1024 });
  const model = await Model.load(v.model);
  const [h, w, c] = model.inputShape;
  if (model.inputShape.length !== 3) throw new RedeError(`viz: the model's input is [${model.inputShape.join(', ')}], not an image [h, w, c]`);
  const classes = numelOf(model.outputShape);
  const labels = v.labels === undefined ? null : v.labels.split(',').map((s) => s.trim());
  if (labels && labels.length !== classes) throw new RedeError(`viz: --labels names ${labels.length} classes, the model has ${classes} outputs`);
  const x = imageToInput(decodePng(await readFile(v.image), v.image), h, w, c, { invert: v.invert });
  const out = model.forward(x);
  let best = 0;
  for (let k = 1; k < out.length; k++) if (out[k] > out[best]) best = k;
  const className = (k: number) => (labels ? labels[k] : `class ${k}`);

  await mkdir(v.out, { recursive: true });
  const write = async (name: string, img: { pixels: Uint8Array; width: number; height: number }) => {
    const file = join(v.out!, name);
    await writeFileAtomic(file, encodeGreyPng(img.pixels, img.width, img.height));
    io.stdout.write(`wrote ${file}\n`);
  };
  const shapeOf = (s: readonly number[]) => `[${s.join(', ')}]`;
  const firstConv = model.layers.find((L) => L.type === 'conv2d');
  if (firstConv) {
    const shape = firstConv.params.find((p) => p.name === 'w')!.shape;
    await write(`filters-${firstConv.name}.png`, filterImage(model.getWeight(`${firstConv.name}/kernel`), shape, { title: `filters of ${firstConv.name} ${shapeOf(shape)}`, minSide }));
  }
  await write('0-input.png', featureMapImage(x, model.inputShape, { title: `input ${shapeOf(model.inputShape)}`, minSide }));
  const heads = new Set(model.outputs);
  for (const [i, L] of model.layers.entries()) {
    const values = model.e.read(model.act[i], numelOf(L.outShape));
    // An output layer's units are the classes: captioned by class, the title naming the prediction.
    const isOutput = heads.has(i) && numelOf(L.outShape) === classes;
    const title = `${L.name} (${L.type}) ${shapeOf(L.outShape)}${i === model.outputs[0] ? ` predicted ${className(best)}` : ''}`;
    await write(`${i + 1}-${L.name}.png`, featureMapImage(values, L.outShape, { title, minSide, caption: isOutput ? className : undefined }));
  }
  io.stdout.write(`predicted ${className(best)}\n`);
}
