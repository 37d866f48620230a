// A memory plan: named regions grouped into parts, sized before anything runs (llm.c style), then laid out
// in one contiguous arena with a single memory.grow. Every region starts on a 64-byte boundary (a cache line,
// and v128-aligned).

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
    if (this.names.has(name)) throw new Error(`MemoryPlan: region '${name}' planned twice`);
    if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`MemoryPlan: region '${name}' has invalid size ${bytes} bytes`);
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
      }
      partBytes[part] = at - partStart[part];
    }
    return { offsets, partBytes, partStart, total: at };
  }
}
