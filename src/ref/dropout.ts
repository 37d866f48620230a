// Reference dropout kernels, same signatures as assembly/dropout.ts.
import type { Heap } from './heap';

export const dropoutRef = (_h: Heap) => ({});
