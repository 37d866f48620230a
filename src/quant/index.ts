// Post-training int8 quantization (docs/int8.md).
export { quantize, type QuantizeOptions } from './quantize';
export { QuantizedModel, INT8_FORMAT, type QuantSpec } from './model';
export { quantizeChannels, dequantizeChannels, type ChannelQuantized } from './weights';
export { rangeParams, type CalibrationMethod } from './calibrate';
