// Per-output-channel symmetric int8 weights: for channel j (the last axis: HWIO conv kernels, [in, out] dense
// kernels), scale_j = max|w_·j| / 127 (an all-zero channel: 1), q = clamp(round(w / scale_j), −127, 127), and
// w ≈ q·scale_j within scale_j / 2. Scales are f32, so a saved model reloads to the same integers.

export interface ChannelQuantized { q: Int8Array; scale: Float32Array }

export function quantizeChannels(w: Float32Array, channels: number): ChannelQuantized {
  const scale = new Float32Array(channels), q = new Int8Array(w.length);
  for (let j = 0; j < channels; j++) {
    let m = 0;
    for (let i = j; i < w.length; i += channels) m = Math.max(m, Math.abs(w[i]));
    scale[j] = m > 0 ? m / 127 : 1;
  }
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / scale[i % channels])));
  return { q, scale };
}

export function dequantizeChannels({ q, scale }: ChannelQuantized): Float32Array {
  const c = scale.length, w = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) w[i] = q[i] * scale[i % c];
  return w;
}
