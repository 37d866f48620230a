// Models and data for the parallel tests and bench/parallel.ts: a CIFAR-style residual net with batch norm
// (He et al. 2016, §4.2: 3 stages of n basic blocks, widths w, 2w, 4w, projection shortcuts when the shape
// changes; n = 3, w = 16 on 32×32×3 is ResNet-20), and seeded random data.
import type { LayerConfig, ModelConfig } from '../../src/model/config';
import { makeDataset, type Dataset } from '../../src/data/dataset';
import { Rng } from '../helpers/rand';

/** conv3×3 → BN → ReLU → conv3×3 → BN, + shortcut, ReLU; `dropout` after the global pool when > 0. */
export function resnet(o: { input: [number, number, number]; blocks: number; width: number; stages?: number; classes?: number; dropout?: number }): ModelConfig {
  const layers: LayerConfig[] = [];
  let prev = 'input', width = o.width, id = 0;
  const add = (l: LayerConfig & { name: string }) => { layers.push(l); return l.name; };
  prev = add({ type: 'conv2d', name: 'stem', inputs: [prev], filters: width, kernel: 3, padding: 'same', useBias: false });
  prev = add({ type: 'batchnorm', name: 'stem_bn' });
  prev = add({ type: 'relu', name: 'stem_relu' });
  const stages = o.stages ?? 3;
  for (let s = 0; s < stages; s++) {
    for (let b = 0; b < o.blocks; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1, w = o.width << s, n = `b${id++}`;
      const inp = prev;
      add({ type: 'conv2d', name: `${n}_c1`, inputs: [inp], filters: w, kernel: 3, stride, padding: 'same', useBias: false });
      add({ type: 'batchnorm', name: `${n}_bn1` });
      add({ type: 'relu', name: `${n}_r1` });
      add({ type: 'conv2d', name: `${n}_c2`, filters: w, kernel: 3, padding: 'same', useBias: false });
      const main = add({ type: 'batchnorm', name: `${n}_bn2` });
      let short = inp;
      if (stride !== 1 || w !== width) {
        add({ type: 'conv2d', name: `${n}_proj`, inputs: [inp], filters: w, kernel: 1, stride, padding: 'same', useBias: false });
        short = add({ type: 'batchnorm', name: `${n}_proj_bn` });
      }
      add({ type: 'add', name: `${n}_add`, inputs: [main, short] });
      prev = add({ type: 'relu', name: `${n}_out` });
      width = w;
    }
  }
  add({ type: 'globalavgpool2d', name: 'gap' });
  if (o.dropout) add({ type: 'dropout', name: 'drop', rate: o.dropout });
  add({ type: 'dense', name: 'logits', units: o.classes ?? 10 });
  return { name: 'resnet', input: o.input, layers };
}

/** n random images of `shape` in [0, 1) with random labels. */
export function randomDataset(n: number, shape: [number, number, number], classes: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = rng.array(n * shape[0] * shape[1] * shape[2], 0, 1);
  const y = Int32Array.from({ length: n }, () => rng.int(0, classes));
  return makeDataset(x, y, shape, classes, { name: 'random' });
}

/** A learnable task: the label is which quadrant of the image is brightest (plus noise). */
export function quadrantDataset(n: number, size: number, seed: number): Dataset {
  const rng = new Rng(seed), per = size * size;
  const x = new Float32Array(n * per), y = new Int32Array(n);
  const h = size >> 1;
  for (let i = 0; i < n; i++) {
    const q = rng.int(0, 4);
    y[i] = q;
    for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) {
      const inQ = (r < h ? 0 : 2) + (c < h ? 0 : 1) === q;
      x[i * per + r * size + c] = (inQ ? 0.6 : 0.2) + 0.3 * rng.next();
    }
  }
  return makeDataset(x, y, [size, size, 1], 4, { name: 'quadrants' });
}

/** A small conv net over 8×8×1 with 4 classes (quadrantDataset's): the parallel tests' workhorse. */
export const SMALL_NET: ModelConfig = {
  name: 'small', input: [8, 8, 1], layers: [
    { type: 'conv2d', name: 'conv', filters: 4, kernel: 3, padding: 'same', activation: 'relu' },
    { type: 'maxpool2d', name: 'pool', pool: 2 },
    { type: 'flatten', name: 'flat' },
    { type: 'dense', name: 'out', units: 4 },
  ],
};
