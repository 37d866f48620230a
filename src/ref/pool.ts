// Reference pool kernels, same signatures as assembly/pool.ts.
import type { Heap } from './heap';

export const poolRef = (_h: Heap) => ({});
