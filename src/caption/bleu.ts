// Corpus BLEU (Papineni, Roukos, Ward & Zhu 2002): the geometric mean of modified n-gram precisions, n = 1..N,
// times a brevity penalty, with counts summed over the whole corpus before dividing (not averaged per sentence).
//   p_n = Σ_cand Σ_{g ∈ n-grams(cand)} min(count_cand(g), max_ref count_ref(g)) / Σ_cand (number of n-grams in cand)
//   BP  = 1 if c > r, else exp(1 − r/c)    c = total candidate length, r = Σ the reference length closest to
//         each candidate's (the shorter on a tie: the "effective reference length" of the paper's §2.2.2)
//   BLEU-N = BP · exp((1/N) Σ_{n ≤ N} log p_n), and 0 when some p_n is 0 (no smoothing).
import { RedeError } from '../engine/errors';

export interface Bleu {
  /** BLEU-1 … BLEU-4. */
  bleu: [number, number, number, number];
  /** Modified precisions p_1 … p_4. */
  precisions: [number, number, number, number];
  brevityPenalty: number;
  candidateLength: number;
  referenceLength: number;
}

function ngramCounts(words: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= words.length; i++) {
    const g = words.slice(i, i + n).join('\u0001');
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

/** Corpus BLEU of candidates[i] against references[i] (one or more word lists each). */
export function corpusBleu(candidates: readonly (readonly string[])[], references: readonly (readonly (readonly string[])[])[]): Bleu {
  if (candidates.length !== references.length) throw new RedeError(`bleu: ${candidates.length} candidates but ${references.length} reference sets`);
  if (candidates.length === 0) throw new RedeError('bleu: no candidates');
  const hit = [0, 0, 0, 0], total = [0, 0, 0, 0];
  let c = 0, r = 0;
  candidates.forEach((cand, i) => {
    const refs = references[i];
    if (!refs.length) throw new RedeError(`bleu: candidate ${i} has no reference`);
    c += cand.length;
    let best = refs[0].length;
    for (const ref of refs) {
      const d = Math.abs(ref.length - cand.length), bd = Math.abs(best - cand.length);
      if (d < bd || (d === bd && ref.length < best)) best = ref.length;
    }
    r += best;
    for (let n = 1; n <= 4; n++) {
      const counts = ngramCounts(cand, n), maxRef = new Map<string, number>();
      for (const ref of refs) for (const [g, k] of ngramCounts(ref, n)) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, k));
      for (const [g, k] of counts) hit[n - 1] += Math.min(k, maxRef.get(g) ?? 0);
      total[n - 1] += Math.max(0, cand.length - n + 1);
    }
  });
  const precisions = hit.map((h, i) => (total[i] ? h / total[i] : 0)) as Bleu['precisions'];
  const brevityPenalty = c > r ? 1 : c === 0 ? 0 : Math.exp(1 - r / c);
  const bleu = [1, 2, 3, 4].map((N) => {
    const ps = precisions.slice(0, N);
    if (ps.some((p) => p === 0)) return 0;
    return brevityPenalty * Math.exp(ps.reduce((s, p) => s + Math.log(p), 0) / N);
  }) as Bleu['bleu'];
  return { bleu, precisions, brevityPenalty, candidateLength: c, referenceLength: r };
}
