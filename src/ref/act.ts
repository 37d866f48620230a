// Reference act kernels, same signatures as assembly/act.ts.
import type { Heap } from './heap';

export const actRef = (_h: Heap) => ({});
