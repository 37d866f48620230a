// Checked kernel calls over tensors, for direct use; layers call the kernels themselves after planning.
export * from './gemm';
export * from './conv';
export * from './pool';
export * from './act';
export * from './loss';
export * from './norm';
export * from './dropout';
export * from './optim';
export * from './reduce';
