// What rede/infer's bundle gets in place of the layers whose kernels assembly/infer.ts leaves out (recurrent,
// bidirectional and the select of their packed states, embedding, transposed conv, upsampling, time-distributed: scripts/build-infer.mjs). load.ts refuses such a
// layer by name before a graph is built (INFER_LAYER_TYPES), so these are never constructed; the lists are
// empty because no config that reaches buildLayer here has those types.
function absent(type: string): never {
  throw new Error(`rede/infer: the ${type} layer is not in the inference-only bundle (load.ts should have refused it)`);
}
export const RNN_TYPES = [] as const;
export const RNN_ACTIVATIONS = [] as const;
export const RNN_RECURRENT_ACTIVATIONS = [] as const;
export const MERGE_MODES = [] as const;
export const SELECT_PARTS = [] as const;
export class Recurrent { constructor() { absent('recurrent'); } }
export class Bidirectional { constructor() { absent('bidirectional'); } }
export class Select { constructor() { absent('select'); } }
export class Embedding { constructor() { absent('embedding'); } }
export class Masking { constructor() { absent('masking'); } }
export class Conv2DTranspose { constructor() { absent('conv2d_transpose'); } }
export class TimeDistributed { constructor() { absent('time_distributed'); } }
export class UpSampling2D { constructor() { absent('upsampling2d'); } }
