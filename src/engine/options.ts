// Options objects are checked like layer configs: an unknown key is an error naming it and the closest known
// one, before any work. Aliases accept the spellings people bring from Keras and tfjs (learningRate, epsilon).
import { RedeError } from './errors';

/** Edit distance (insert, delete, substitute) between two short keys, case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase(); b = b.toLowerCase();
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** The known key closest to `key`, when it is close enough to be a likely typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const k of known) { const d = distance(key, k); if (d < bestD) { bestD = d; best = k; } }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * Checks that `o` is a plain object whose keys are all in `known` (or in `aliases`, which are renamed to their
 * canonical key); returns a copy with canonical keys. `where` names the call, e.g. "fit" or "optimizer adam".
 */
export function checkOptions<T extends object>(where: string, o: unknown, known: readonly string[], aliases: Record<string, string> = {}): T {
  if (o === undefined) return {} as T;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new RedeError(`${where}: options must be an object, got ${o === null ? 'null' : Array.isArray(o) ? 'an array' : typeof o}`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(o)) {
    const canonical = Object.prototype.hasOwnProperty.call(aliases, key) ? aliases[key] : key;
    if (!known.includes(canonical)) {
      const near = closest(key, [...known, ...Object.keys(aliases)]);
      throw new RedeError(`${where}: unknown option '${key}'${near ? ` (did you mean '${aliases[near] ?? near}'?)` : ''}; known: ${known.join(', ')}`);
    }
    if (canonical in out) throw new RedeError(`${where}: option '${canonical}' given twice (as '${key}' too)`);
    out[canonical] = value;
  }
  return out as T;
}

/** A number check in the same voice: finite, within [min, max] (or (min, max] with exclusiveMin). */
export function checkNumber(where: string, name: string, v: unknown, o: { min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean; integer?: boolean } = {}): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (!o.integer || Number.isInteger(v)) &&
    (o.min === undefined || (o.exclusiveMin ? v > o.min : v >= o.min)) && (o.max === undefined || (o.exclusiveMax ? v < o.max : v <= o.max));
  if (!ok) {
    const range = [o.min !== undefined ? `${o.exclusiveMin ? '>' : '≥'} ${o.min}` : '', o.max !== undefined ? `${o.exclusiveMax ? '<' : '≤'} ${o.max}` : ''].filter(Boolean).join(' and ');
    throw new RedeError(`${where}: ${name} must be ${o.integer ? 'an integer' : 'a finite number'}${range ? ` ${range}` : ''}, got ${typeof v === 'string' ? `'${v}'` : String(v)}`);
  }
  return v as number;
}
