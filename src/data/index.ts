// Data: IDX files, the embedded digits, Fashion-MNIST, datasets, the batcher and augmentation.
export * from './idx';
export * from './dataset';
export * from './mnist';
export * from './fashion-mnist';
export * from './batcher';
export * from './augment';
export * from './rng';
