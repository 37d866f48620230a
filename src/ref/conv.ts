// Reference conv kernels, same signatures as assembly/conv.ts.
import type { Heap } from './heap';

export const convRef = (_h: Heap) => ({});
