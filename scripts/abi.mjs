// The kernels' ABI, defined once: every constant and descriptor slot order that both AssemblyScript and
// TypeScript must agree on. scripts/gen-abi.mjs writes it out as assembly/abi.ts (constants, slot indices)
// and src/engine/generated/abi.ts (the same constants, and one typed writer and reader per descriptor).
//
// A descriptor is a block of 4-byte slots in wasm memory, each an i32 or an f32, that a kernel family reads
// once at the top of a call: a geometry (conv, pool) written once at plan time, or a parameter block (norm,
// optimizer step) written when its values change. Why a descriptor instead of positional arguments: see the
// header of assembly/conv.ts.

/** GEMM micro-tile and packed-B panel width (the measurements behind 5×8: scripts/gen-gemm-kernels.mjs). */
export const constants = {
  GEMM_MR: { value: 5, doc: 'Micro-tile rows: op(A) is packed into MR-high k-panels.' },
  GEMM_NR: { value: 8, doc: 'Micro-tile columns and packed-B panel width: gemm_pack_b writes ceil(n/NR) panels of k×NR floats.' },
  QPARAM_BYTES: { value: 16, doc: 'One int8 GEMM output channel\'s parameters (assembly/qgemm.ts): i32 bias, i32 mult, i32 shift, f32 scale.' },
  CONV_PATH_AUTO: { value: 0, doc: 'Conv descriptor path: the kernel chooses (assembly/conv.ts convPath).' },
  CONV_PATH_GEMM: { value: 1, doc: 'Conv descriptor path: im2col + GEMM (or the pointwise / depthwise special cases).' },
  CONV_PATH_DIRECT: { value: 2, doc: 'Conv descriptor path: direct kernels without a col matrix where they apply (assembly/conv_small.ts for cin <= CONV_SMALL_CIN_MAX, else assembly/conv_direct.ts).' },
  WINOGRAD_TMP_BYTES: { value: 256, doc: 'Caller scratch of winograd_input_f32 (assembly/winograd.ts): one 4×4 input tile of 4 channels, zero-padded.' },
  CONV_SMALL_CIN_MAX: { value: 4, doc: 'Largest cin (groups = 1) the direct small-channel conv kernels take.' },
};

/** Descriptors: name → doc and slots [field, 'i32' | 'f32'] in memory order. */
export const descriptors = {
  conv: {
    doc: 'Convolution geometry (assembly/conv.ts); padBottom/padRight are implied by oh/ow; tileRows 0: the kernel chooses; path: CONV_PATH_* (0: the kernel chooses).',
    slots: [['n', 'i32'], ['h', 'i32'], ['w', 'i32'], ['cin', 'i32'], ['oh', 'i32'], ['ow', 'i32'], ['cout', 'i32'],
      ['kh', 'i32'], ['kw', 'i32'], ['strideH', 'i32'], ['strideW', 'i32'], ['padTop', 'i32'], ['padLeft', 'i32'],
      ['dilationH', 'i32'], ['dilationW', 'i32'], ['groups', 'i32'], ['tileRows', 'i32'], ['path', 'i32']],
  },
  pool: {
    doc: '2-D pooling geometry (assembly/pool.ts): x [n, h, w, c] → y [n, oh, ow, c]; padBottom/padRight are implied by oh/ow.',
    slots: [['n', 'i32'], ['h', 'i32'], ['w', 'i32'], ['c', 'i32'], ['kh', 'i32'], ['kw', 'i32'], ['strideH', 'i32'],
      ['strideW', 'i32'], ['padTop', 'i32'], ['padLeft', 'i32'], ['oh', 'i32'], ['ow', 'i32']],
  },
  upsample: {
    doc: 'UpSampling2D geometry (assembly/upsample.ts): x [n, h, w, c] → y [n, h·sizeH, w·sizeW, c].',
    slots: [['n', 'i32'], ['h', 'i32'], ['w', 'i32'], ['c', 'i32'], ['sizeH', 'i32'], ['sizeW', 'i32']],
  },
  batchnorm: {
    doc: 'Batch norm over rows × c (assembly/norm.ts); momentum is PyTorch\'s (unused by the inference forward and the backward).',
    slots: [['rows', 'i32'], ['c', 'i32'], ['eps', 'f32'], ['momentum', 'f32']],
  },
  lrn: {
    doc: 'TensorFlow\'s LRN over rows × c (assembly/norm.ts): window channels i − radius … i + radius.',
    slots: [['rows', 'i32'], ['c', 'i32'], ['radius', 'i32'], ['bias', 'f32'], ['alpha', 'f32'], ['beta', 'f32']],
  },
  qadd: {
    doc: 'int8 add (assembly/qconv.ts add_s8), TFLite\'s scheme: each input (q − z) << left, scaled by its multiplier (mult, shift), summed, scaled by the output\'s, + zy, clamped to [lo, hi].',
    slots: [['za', 'i32'], ['multA', 'i32'], ['shiftA', 'i32'], ['zb', 'i32'], ['multB', 'i32'], ['shiftB', 'i32'],
      ['zy', 'i32'], ['multY', 'i32'], ['shiftY', 'i32'], ['lo', 'i32'], ['hi', 'i32'], ['left', 'i32']],
  },
  sgd: {
    doc: 'SGD step hyper-parameters (assembly/optim.ts); the same for every parameter range of one step.',
    slots: [['lr', 'f32'], ['momentum', 'f32'], ['nesterov', 'i32']],
  },
  rmsprop: {
    doc: 'RMSprop step hyper-parameters (assembly/optim.ts); the same for every parameter range of one step.',
    slots: [['lr', 'f32'], ['alpha', 'f32'], ['eps', 'f32'], ['momentum', 'f32']],
  },
  adam: {
    doc: 'Adam/AdamW step hyper-parameters (assembly/optim.ts): bc1 = 1 − β1^t, bc2 = 1 − β2^t (computed in f64 by the caller), wd = AdamW\'s decoupled weight decay (0: Adam).',
    slots: [['lr', 'f32'], ['beta1', 'f32'], ['beta2', 'f32'], ['eps', 'f32'], ['bc1', 'f32'], ['bc2', 'f32'], ['wd', 'f32']],
  },
  adagrad: {
    doc: 'AdaGrad step hyper-parameters (assembly/optim.ts); the same for every parameter range of one step.',
    slots: [['lr', 'f32'], ['eps', 'f32']],
  },
  adadelta: {
    doc: 'AdaDelta step hyper-parameters (assembly/optim.ts): rho is the decay of both running averages.',
    slots: [['lr', 'f32'], ['rho', 'f32'], ['eps', 'f32']],
  },
  rnn: {
    doc: 'Recurrent layer geometry (assembly/rnn.ts): x [n, t, f] → y [n, t, u] (returnSeq) or [n, u]; cell 0 simple, 1 LSTM, 2 GRU; act/ract 0 tanh, 1 relu, 2 sigmoid, 3 linear, 4 hard_sigmoid; masked: a step whose f inputs are all 0 is skipped; returnState: y also holds the last h (and LSTM\'s c) after the output rows.',
    slots: [['n', 'i32'], ['t', 'i32'], ['f', 'i32'], ['u', 'i32'], ['cell', 'i32'], ['act', 'i32'], ['ract', 'i32'],
      ['returnSeq', 'i32'], ['backwards', 'i32'], ['resetAfter', 'i32'], ['masked', 'i32'], ['returnState', 'i32']],
  },
};

/** The optimizer's per-step block (assembly/optim.ts optim_step_block) holds any one of the optimizers'. */
constants.OPTIM_STEP_BYTES = {
  value: 4 * Math.max(...['sgd', 'rmsprop', 'adam', 'adagrad', 'adadelta'].map((d) => descriptors[d].slots.length)),
  doc: 'Bytes of the static per-step hyper-parameter block the Optimizer writes (the largest optimizer descriptor).',
};
