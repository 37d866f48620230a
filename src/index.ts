// rede: deep learning in TypeScript over AssemblyScript/WebAssembly SIMD kernels.
export { Engine, createEngine, type EngineOptions, type Layout, type Kernels } from './engine/engine';
export { MemoryPlan, type Part } from './engine/plan';
export { type Tensor, numel } from './engine/tensor';
export { RedeError } from './engine/errors';
export { refKernels } from './ref/index';
export * as ops from './ops/index';
export { Model, type ModelOptions } from './model/model';
export type { ModelConfig, LayerConfig } from './model/config';
export { buildGraph } from './model/graph';
export type { CompileOptions, FitOptions, History } from './train/trainer';
export { EarlyStopping, ModelCheckpoint, type Callback, type Logs } from './train/callbacks';
export { Optimizer, type OptimizerSpec } from './optim/optimizer';
export { learningRate, type Schedule } from './optim/schedules';
export { models as zoo } from './zoo/index';
export * as data from './data/index';
export * as io from './io/index';
export * as init from './init';
export * from './parallel/index';
