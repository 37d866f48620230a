// Data-parallel training across worker threads (docs/parallel.md). fit({ workers }) is the usual way in;
// these are for tools and benchmarks that drive steps themselves.
export { WorkerGroup, type GroupOptions, type GroupStepArgs, type GroupStepResult, type WorkerTimes } from './group';
export { GroupStep, shareData } from './group-step';
export { closeWorkers, resolveWorkers, workerGroupOf } from './groups';
export { canShareMemory } from './fallback';
export { shardRange, shardCapacity, workerShards, blockCount, blockRange, workerChunk } from './shards';
