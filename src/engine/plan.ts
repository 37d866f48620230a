// A memory plan: named regions grouped into parts, sized before anything runs (llm.c style), then laid out
// in one contiguous arena with a single memory.grow. Every region starts on a 64-byte boundary (a cache line,
// and v128-aligned).
import { RedeError } from './errors';

export type Part = 'parameters' | 'gradients' | 'optimizer' | 'activations' | 'scratch';
export const PARTS: readonly Part[] = ['parameters', 'gradients', 'optimizer', 'activations', 'scratch'];

export const ALIGN = 64;
export const alignUp = (n: number, a = ALIGN): number => Math.ceil(n / a) * a;

interface Region { name: string; part: Part; bytes: number }

export class MemoryPlan {
  private regions: Region[] = [];
  private names = new Set<string>();

  /** Adds a region of `floats` f32 values; returns its name for lookup in the layout. */
  f32(name: string, floats: number, part: Part): string {
    return this.bytes(name, floats * 4, part);
  }

  bytes(name: string, bytes: number, part: Part): string {
    if (this.names.has(name)) throw new RedeError(`MemoryPlan: region '${name}' is planned twice`);
    // A size from an untrusted config can overflow (1e300 floats, NaN): refuse it before any layout sum.
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RedeError(`MemoryPlan: region '${name}' must be a whole number of bytes below 2^53, got ${bytes}`);
    this.names.add(name);
    this.regions.push({ name, part, bytes });
    return name;
  }

  /** Offsets relative to the arena start, regions grouped by part (parameters first, so they are contiguous). */
  layout(): { offsets: Map<string, number>; partBytes: Record<Part, number>; partStart: Record<Part, number>; total: number } {
    const offsets = new Map<string, number>();
    const partBytes = {} as Record<Part, number>;
    const partStart = {} as Record<Part, number>;
    let at = 0;
    for (const part of PARTS) {
      partStart[part] = at;
      for (const r of this.regions) {
        if (r.part !== part) continue;
        offsets.set(r.name, at);
        at += alignUp(r.bytes);
        if (!Number.isSafeInteger(at)) throw new RedeError(`MemoryPlan: the arena passes 2^53 bytes at region '${r.name}' (${r.bytes} bytes)`);
      }
      partBytes[part] = at - partStart[part];
    }
    return { offsets, partBytes, partStart, total: at };
  }
}
