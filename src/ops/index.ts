// Checked kernel calls over tensors, for direct use; layers call the kernels themselves after planning.
export * from './gemm';
