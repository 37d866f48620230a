// Reference optim kernels, same signatures as assembly/optim.ts.
import type { Heap } from './heap';

export const optimRef = (_h: Heap) => ({});
