// The inference kernels module (rede/infer, src/infer/entry/): the forward half of the ABI that an
// InferenceModel calls — f32 conv (im2col + packed GEMM, direct), dense, pooling, batch norm and LRN in their
// inference form, activations and softmax, adds and concat copies, and every int8 kernel. No backward, loss,
// optimizer, dropout, recurrent, embedding, upsampling or Winograd kernels (src/infer/model.ts
// leaves Winograd out where they are missing): asc compiles only what these exports reach,
// so the binary is a fraction of assembly/index.ts's (scripts/build-wasm.mjs prints both). Names and
// signatures are the full module's, so the engine's generated Kernels interface describes both; a graph that
// needs a kernel left out here is refused when it is compiled (src/infer/model.ts), never a missing import.
/** Marks this module for assembly/conv.ts (isDefined): it never runs the direct conv kernels (see runner there). */
@global export const REDE_INFER_MODULE: bool = true;

export { heap_base } from './util';
export { gemm_scratch_bytes, gemm_f32_packed_b_scratch_bytes, gemm_packed_b_bytes, gemm_f32, gemm_pack_b, gemm_f32_packed_b } from './gemm';
export { conv2d_scratch_bytes, im2col_f32, conv2d_forward_f32 } from './conv';
export { maxpool2d_forward_f32, avgpool2d_forward_f32, global_avgpool_forward_f32 } from './pool';
export { bias_add_f32, relu_forward_f32, leaky_relu_forward_f32, elu_forward_f32, sigmoid_forward_f32, tanh_forward_f32, add_f32, add_acc_f32 } from './act';
export { softmax_forward_f32 } from './loss';
export { batchnorm_scratch_bytes, batchnorm_infer_forward_f32, lrn_scratch_bytes, lrn_forward_f32 } from './norm';
export { copy_rows_f32 } from './tensor';
export { qgemm_packed_b_bytes, qgemm_scratch_bytes, qgemm_pack_b, qgemm_s8 } from './qgemm';
export { im2col_s8, dwconv_s8, maxpool_s8, avgpool_s8, add_s8, quantize_f32_s8, dequantize_s8_f32 } from './qconv';
