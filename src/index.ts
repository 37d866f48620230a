// rede: deep learning in TypeScript over AssemblyScript/WebAssembly SIMD kernels.
export { Engine, createEngine, type EngineOptions, type Layout, type Kernels } from './engine/engine';
export { MemoryPlan, type Part } from './engine/plan';
export { type Tensor, numel } from './engine/tensor';
export { RedeError } from './engine/errors';
export { refKernels } from './ref/index';
export * as ops from './ops/index';
