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
import { type Io, parse } from '../common';
import { decodePng, imageToInput } from '../png';

export const usage = `usage: rede viz --model FILE.rede --image IMAGE.png --out DIR [--invert]

Writes DIR/filters-<layer>.png (the first conv layer's filters) and DIR/<n>-<layer>.png (every layer's output
for the image, one tile per channel), and prints the predicted class.`;

const OPTIONS = { model: { type: 'string' }, image: { type: 'string' }, out: { type: 'string' }, invert: { type: 'boolean' } } as const;

export async function viz(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('viz', argv, OPTIONS);
  if (v.help) { io.stdout.write(`${usage}\n`); return; }
  if (!v.model || !v.image || !v.out) throw new RedeError('viz: --model, --image and --out are required (see rede viz --help)');
  const model = await Model.load(v.model);
  const [h, w, c] = model.inputShape;
  if (model.inputShape.length !== 3) throw new RedeError(`viz: the model's input is [${model.inputShape.join(', ')}], not an image [h, w, c]`);
  const x = imageToInput(decodePng(await readFile(v.image), v.image), h, w, c, { invert: v.invert });
  const out = model.forward(x);
  await mkdir(v.out, { recursive: true });
  const write = async (name: string, img: { pixels: Uint8Array; width: number; height: number }) => {
    const file = join(v.out!, name);
    await writeFileAtomic(file, encodeGreyPng(img.pixels, img.width, img.height));
    io.stdout.write(`wrote ${file}\n`);
  };
  const firstConv = model.layers.find((L) => L.type === 'conv2d');
  if (firstConv) {
    const shape = firstConv.params.find((p) => p.name === 'w')!.shape;
    await write(`filters-${firstConv.name}.png`, filterImage(model.getWeight(`${firstConv.name}/kernel`), shape));
  }
  await write('0-input.png', featureMapImage(x, model.inputShape));
  for (const [i, L] of model.layers.entries()) {
    const values = model.e.read(model.act[i], numelOf(L.outShape));
    await write(`${i + 1}-${L.name}.png`, featureMapImage(values, L.outShape));
  }
  let best = 0;
  for (let k = 1; k < out.length; k++) if (out[k] > out[best]) best = k;
  io.stdout.write(`predicted class ${best}\n`);
}
