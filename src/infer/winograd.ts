// Winograd F(2×2, 3×3) at inference (the kernels and the algebra: assembly/winograd.ts): which convs take it, and
// the filter transform U = G g Gᵀ, done once when a model is compiled.
// rede/infer's bundle leaves this path out (REDE_INFER_BUNDLE, scripts/build-infer.mjs): its kernels and this code
// would take it over its 40 kB budget, and its 16/9 larger filters cost small devices memory.
import type { ConvGeom } from '../ops/conv';
import type { Kernels } from '../engine/generated/kernels';
import type { Call } from '../layers/layer';
import { alignUp } from '../engine/plan';
import { CONV_PATH_AUTO, WINOGRAD_TMP_BYTES } from '../engine/generated/abi';

/**
 * Whether a conv runs as Winograd F(2×2, 3×3) with T threads: 3×3, stride 1, no dilation or groups, the path
 * left to rede, channels in whole 4-lane vectors, at least CIN_MIN of them (the transforms' cost per multiply
 * saved grows as channels shrink; fewer than 16 were not measured and stay on GEMM), and at least one row of
 * 2×2 tiles per thread.
 */
export function winogradApplies(geo: ConvGeom, T: number): boolean {
  return geo.kh === 3 && geo.kw === 3 && geo.strideH === 1 && geo.strideW === 1 && geo.dilationH === 1 && geo.dilationW === 1 &&
    geo.groups === 1 && geo.path === CONV_PATH_AUTO && geo.cin % 4 === 0 && geo.cout % 4 === 0 && geo.cin >= CIN_MIN &&
    Math.ceil(geo.oh / 2) >= T;
}

/** Smallest input channel count that takes the Winograd path: ResNet-20's 16-channel stage gains too (docs/inference.md, Winograd). */
export const CIN_MIN = 16;

/** G (4×3): U = G g Gᵀ. */
const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];

/**
 * The 16 transformed filters: for ξ = 4i + j, U[ξ] [cin, cout] (row-major) = (G g_co Gᵀ)[i][j] for every
 * input channel c and output channel o, from w [3, 3, cin, cout] (HWIO). Sums in f64, one rounding to f32.
 */
export function winogradFilter(w: Float32Array, cin: number, cout: number): Float32Array[] {
  const n = cin * cout;
  if (w.length !== 9 * n) throw new Error(`winograd: w has ${w.length} floats, expected 3·3·${cin}·${cout}`);
  const u = Array.from({ length: 16 }, () => new Float32Array(n));
  for (let e = 0; e < n; e++) {
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) s += G[i][ky] * w[(ky * 3 + kx) * n + e] * G[j][kx];
      u[i * 4 + j][e] = s;
    }
  }
  return u;
}

/** Bytes of one packed U[ξ] (cin × cout) as the builder places the 16 back to back (64-aligned, as putPacked rounds). */
export function winogradUBytes(k: Kernels, geo: ConvGeom): number { return alignUp(k.gemm_packed_b_bytes(geo.cin, geo.cout) / 4, 16) * 4; }

/**
 * The bands of one example, per thread: tile rows (2 output rows each) split across the T threads, then cut so
 * that a band's V and M (16 · tiles · (cin + cout) floats) stay within bandBytes; `tiles`: the largest band's.
 */
export function winogradBands(geo: ConvGeom, T: number, bandBytes: number): { threads: [number, number][][]; tiles: number } {
  const tilesW = Math.ceil(geo.ow / 2), tilesH = Math.ceil(geo.oh / 2);
  const perRow = 16 * tilesW * (geo.cin + geo.cout) * 4, band = Math.max(1, Math.min(tilesH, Math.floor(bandBytes / perRow)));
  let most = 0;
  const threads = Array.from({ length: T }, (_, t) => {
    const r0 = Math.floor(tilesH * t / T), r1 = Math.floor(tilesH * (t + 1) / T), out: [number, number][] = [];
    for (let r = r0; r < r1; r += band) { out.push([r, Math.min(r1, r + band)]); most = Math.max(most, Math.min(r1, r + band) - r); }
    return out;
  });
  return { threads, tiles: most * tilesW };
}

/** Per-thread scratch of a band of `tiles` tiles: the col slot holds [tmp | V | M], the gemm slot the GEMM's A packing. */
export function winogradScratch(k: Kernels, geo: ConvGeom, tiles: number): { col: number; gemm: number } {
  return {
    col: alignUp(WINOGRAD_TMP_BYTES) + alignUp(k.winograd_buffer_bytes(tiles, geo.cin)) + k.winograd_buffer_bytes(tiles, geo.cout),
    gemm: k.gemm_f32_packed_b_scratch_bytes(tiles, geo.cout, geo.cin),
  };
}

/**
 * Each thread's calls for a conv over `batch` examples: per example and band, the input transform, the 16 GEMMs
 * M[ξ] = V[ξ] · U[ξ], the output transform with bias, residual `res` (0: none) and ReLU when `relu`, then
 * `epilogue(byteOffset, rows)` over the band's output pixels (another activation; [] for none).
 * desc: the conv's descriptor for one example; packed: the 16 U[ξ], winogradUBytes apart.
 */
export function winogradCalls(k: Kernels, geo: ConvGeom, a: {
  desc: number; x: number; y: number; packed: number; bias: number; res: number; relu: boolean; batch: number; T: number; bandBytes: number;
  col: number[]; gemm: number[]; epilogue: (at: number, rows: number) => Call[];
}): Call[][] {
  const { threads: work } = winogradBands(geo, a.T, a.bandBytes), tilesW = Math.ceil(geo.ow / 2), cin = geo.cin, cout = geo.cout;
  const xPer = geo.h * geo.w * cin * 4, yPer = geo.oh * geo.ow * cout * 4, uBytes = winogradUBytes(k, geo);
  return work.map((bands, t) => {
    const calls: Call[] = [], tmp = a.col[t], v = tmp + alignUp(WINOGRAD_TMP_BYTES);
    for (let e = 0; e < a.batch; e++) for (const [ty0, ty1] of bands) {
      const tiles = (ty1 - ty0) * tilesW, m = v + alignUp(k.winograd_buffer_bytes(tiles, cin));
      const r0 = 2 * ty0, r1 = Math.min(geo.oh, 2 * ty1);
      calls.push(['winograd_input_f32', [a.desc, a.x + e * xPer, ty0, ty1, v, tmp]]);
      for (let xi = 0; xi < 16; xi++) {
        calls.push(['gemm_f32_packed_b', [0, tiles, cout, cin, v + xi * tiles * cin * 4, cin, a.packed + xi * uBytes, m + xi * tiles * cout * 4, cout, 0, a.gemm[t]]]);
      }
      calls.push(['winograd_output_f32', [a.desc, m, ty0, ty1, a.y + e * yPer, a.bias, a.res ? a.res + e * yPer : 0, a.relu ? 1 : 0]]);
      calls.push(...a.epilogue(e * yPer + r0 * geo.ow * cout * 4, (r1 - r0) * geo.ow));
    }
    return calls;
  });
}
