// A Caffe data layer's examples from rede's data sources. Caffe's Data layer reads an LMDB/LevelDB database
// that Caffe's convert scripts made from IDX files (examples/mnist/create_mnist.sh); rede reads no LMDB, so
// a source is mapped: a directory holding IDX files is read as one; otherwise a source named like MNIST
// ('examples/mnist/mnist_train_lmdb') is rede's embedded digits and one named like Fashion-MNIST is Debian's
// dataset-fashion-mnist. The caller can always say which (the CLI's --data).
// Pixels: rede's sources give byte/255; Caffe's transform is x' = (byte − mean)·scale, applied here.
import { RedeError } from '../../engine/errors';
import { type Dataset, makeDataset } from '../../data/dataset';
import { fashionMnist } from '../../data/fashion-mnist';
import { findIdxPair, loadIdxDataset } from '../../data/idx';
import { mnistDigits } from '../../data/mnist';
import type { CaffeData } from './net';

// node:fs is imported when a path is looked at, so that the browser bundle loads without it.
async function kindOf(p: string): Promise<'dir' | 'other' | 'none'> {
  const { statSync } = await import('node:fs');
  try { return statSync(p).isDirectory() ? 'dir' : 'other'; } catch { return 'none'; }
}

/** 'mnist', 'fashion-mnist' or an IDX directory for a data layer's source; `why` says how it was chosen. */
export async function dataSpecFor(d: CaffeData, where: string): Promise<{ spec: string; why: string }> {
  const src = d.source;
  if (src === undefined) throw new RedeError(`${where}: data layer '${d.layer}' (${d.type}) has no source; give the data (--data mnist, fashion-mnist or an IDX directory)`);
  const kind = await kindOf(src);
  if (kind === 'dir') return { spec: src, why: `${src} (a directory, read as IDX files)` };
  const name = (src.split(/[\\/]/).pop() ?? src).toLowerCase();
  if (/fashion/.test(name)) return { spec: 'fashion-mnist', why: `'${src}' named like Fashion-MNIST: Debian's dataset-fashion-mnist` };
  if (/mnist/.test(name)) return { spec: 'mnist', why: `'${src}' named like MNIST: rede's embedded digits (8,000 training, 2,000 test)` };
  throw new RedeError(`${where}: data layer '${d.layer}' reads '${src}'${kind === 'none' ? ', which does not exist' : ''}; rede reads no LMDB/LevelDB, so give the data (--data mnist, fashion-mnist or a directory of IDX files)`);
}

/** The train and test splits of a data spec (as the CLI's --data). */
export async function loadSpec(spec: string): Promise<{ train: Dataset; test: Dataset | null }> {
  if (spec === 'mnist') return mnistDigits();
  if (spec === 'fashion-mnist') return fashionMnist();
  if (await kindOf(spec) !== 'dir') throw new RedeError(`caffe data: '${spec}' is neither 'mnist', 'fashion-mnist' nor a directory of IDX files`);
  const train = await loadIdxDataset(spec, { split: 'train', name: `${spec} train` });
  const hasTest = await findIdxPair(spec, 'test').then(() => true, () => false);
  const test = hasTest ? await loadIdxDataset(spec, { split: 'test', classes: train.classes, name: `${spec} test` }) : null;
  return { train, test };
}

/**
 * Caffe's transform_param on a dataset whose pixels are byte/255: x' = (255·x − mean[c])·scale, a new dataset.
 * MNIST's scale 0.00390625 = 1/256 gives byte/256, as Caffe feeds it.
 */
export function caffeTransform(ds: Dataset, d: CaffeData, where: string): Dataset {
  const c = ds.shape[2];
  if (d.mean.length > 1 && d.mean.length !== c) throw new RedeError(`${where}: data layer '${d.layer}': ${d.mean.length} mean_value values for ${c} channels (give 1 or ${c})`);
  if (d.shape && d.shape.join() !== ds.shape.join()) {
    throw new RedeError(`${where}: data layer '${d.layer}' states [h, w, c] = [${d.shape.join(', ')}], the data has [${ds.shape.join(', ')}]`);
  }
  const x = new Float32Array(ds.x.length), mean = d.mean.length === 0 ? [0] : d.mean;
  for (let i = 0; i < x.length; i++) x[i] = (255 * ds.x[i] - mean[mean.length === 1 ? 0 : i % c]) * d.scale;
  return makeDataset(x, ds.y, ds.shape, ds.classes, { name: ds.name, classNames: ds.classNames });
}
