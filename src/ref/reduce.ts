// Reference reduce kernels, same signatures as assembly/reduce.ts.
import type { Heap } from './heap';

export const reduceRef = (_h: Heap) => ({});
