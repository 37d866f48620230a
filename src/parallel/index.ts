// Data-parallel training across worker threads (docs/parallel.md). fit({ workers }) is the usual way in;
// these are for tools and benchmarks that drive steps themselves.
export { WorkerGroup, type GroupOptions, type StepResult, type WorkerTimes } from './group';
export { closeWorkers, resolveWorkers, shareData, workerGroupOf } from './fit';
export { canShareMemory } from './fallback';
export { shardRange, shardCapacity, workerShards, blockCount, blockRange, workerChunk } from './shards';
