// The kernels module's ABI: every export, by family. Pointers are byte addresses (usize) into the one
// imported memory; sizes are i32. Kernels never allocate: the TypeScript engine plans all memory above
// heap_base() (each instance re-copies its data segments below it).
export { heap_base } from './util';
export * from './gemm';
export * from './conv';
export * from './pool';
export * from './upsample';
export * from './act';
export * from './loss';
export * from './norm';
export * from './dropout';
export * from './optim';
export * from './reduce';
export * from './rnn';
export * from './embed';
export * from './attention';
export * from './tensor';
export * from './peak';
export * from './qgemm';
export * from './qconv';
export * from './winograd';
