// Data: IDX files, PNG images, the embedded digits, Fashion-MNIST, datasets, input conversion, the batcher and
// augmentation.
export * from './idx';
export * from './image';
export * from './input';
export * from './dataset';
export * from './mnist';
export * from './fashion-mnist';
export * from './batcher';
export * from './augment';
export * from './rng';
