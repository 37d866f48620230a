// Attention that is scored: for each generated shape word, does the attention's argmax fall inside the box of
// the object that word names? The k-th shape word of a generated caption names the k-th object of the scene in
// caption order (left to right, top to bottom when stacked: the data set's reading order); a shape word past
// the scene's last object names nothing and counts as a miss. The argmax is a grid cell; it is inside a box
// when the cell's centre pixel is (every box is at least 12 pixels wide, so it contains at least one centre of
// an 8-pixel grid).
import type { SceneObject } from '../data/shapes-captions';

export interface Localization { hits: number; words: number; rate: number }

/** Over n captions: tokens [n, T], alphas [n, T, L] on a g×g grid over an image of `image` pixels. */
export function localization(tokens: Int32Array, alphas: Float32Array, objects: readonly (readonly SceneObject[])[], T: number, grid: number, image: number,
  isShape: (id: number) => boolean, end: number): Localization {
  const L = grid * grid, cell = image / grid;
  let hits = 0, words = 0;
  objects.forEach((objs, b) => {
    let k = 0;
    for (let t = 0; t < T; t++) {
      const id = tokens[b * T + t];
      if (id === end || id === 0) break;
      if (!isShape(id)) continue;
      words++;
      const o = objs[k++];
      if (!o) continue;
      let best = 0;
      const a = alphas.subarray((b * T + t) * L, (b * T + t + 1) * L);
      for (let i = 1; i < L; i++) if (a[i] > a[best]) best = i;
      const cx = ((best % grid) + 0.5) * cell, cy = (Math.floor(best / grid) + 0.5) * cell, [x0, y0, x1, y1] = o.box;
      if (cx >= x0 && cx < x1 && cy >= y0 && cy < y1) hits++;
    }
  });
  return { hits, words, rate: words ? hits / words : 0 };
}

/**
 * A diagnostic beside the score: per generated object phrase ("a small red circle"), whether the argmax of the
 * attention summed over the phrase's words falls inside the named object's box (same matching as above).
 */
export function phraseLocalization(tokens: Int32Array, alphas: Float32Array, objects: readonly (readonly SceneObject[])[], T: number, grid: number, image: number,
  isShape: (id: number) => boolean, end: number, article: number): Localization {
  const L = grid * grid, cell = image / grid, sum = new Float32Array(L);
  let hits = 0, words = 0;
  objects.forEach((objs, b) => {
    let k = 0, open = false;
    for (let t = 0; t < T; t++) {
      const id = tokens[b * T + t];
      if (id === end || id === 0) break;
      if (id === article) { sum.fill(0); open = true; }
      if (!open) continue;
      const a = alphas.subarray((b * T + t) * L, (b * T + t + 1) * L);
      for (let i = 0; i < L; i++) sum[i] += a[i];
      if (!isShape(id)) continue;
      open = false;
      words++;
      const o = objs[k++];
      if (!o) continue;
      let best = 0;
      for (let i = 1; i < L; i++) if (sum[i] > sum[best]) best = i;
      const cx = ((best % grid) + 0.5) * cell, cy = (Math.floor(best / grid) + 0.5) * cell, [x0, y0, x1, y1] = o.box;
      if (cx >= x0 && cx < x1 && cy >= y0 && cy < y1) hits++;
    }
  });
  return { hits, words, rate: words ? hits / words : 0 };
}
