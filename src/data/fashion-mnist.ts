// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, github.com/zalandoresearch/fashion-mnist): 60,000 train and
// 10,000 test 28×28 grey images of 10 clothing classes, in MNIST's IDX files (gzipped as distributed).
import { RedeError } from '../engine/errors';
import { type Dataset } from './dataset';
import { findIdxPair, loadIdxDataset } from './idx';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's class names, label 0 to 9 (the dataset's README). */
export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Node only: Fashion-MNIST from `dir` (Debian's dataset-fashion-mnist by default) as train/test Datasets. */
export async function fashionMnist(dir = FASHION_MNIST_DIR): Promise<{ train: Dataset; test: Dataset }> {
  try {
    await findIdxPair(dir, 'train');
    await findIdxPair(dir, 'test');
  } catch (e) {
    throw new RedeError(
      `Fashion-MNIST not found: ${(e as Error).message}. On Debian/Ubuntu install it with ` +
      `'apt-get install dataset-fashion-mnist' (files in ${FASHION_MNIST_DIR}); or download the four ` +
      `*-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist and pass their directory.`,
    );
  }
  const load = (split: 'train' | 'test') =>
    loadIdxDataset(dir, { split, classes: 10, classNames: FASHION_MNIST_CLASS_NAMES, name: `fashion-mnist ${split}` });
  const [train, test] = await Promise.all([load('train'), load('test')]);
  return { train, test };
}
