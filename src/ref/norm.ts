// Reference norm kernels, same signatures as assembly/norm.ts.
import type { Heap } from './heap';

export const normRef = (_h: Heap) => ({});
