// The engine: one WebAssembly.Memory, the kernels instantiated on it, and a bump arena above heap_base.
// Models plan their memory once (MemoryPlan) and get one allocation; nothing is allocated per step.
import type { Kernels } from './generated/kernels';
import { compileKernels, pickVariant, type Variant, type VariantRequest } from './wasm';
import { RedeError } from './errors';
import { ALIGN, alignUp, type MemoryPlan, type Part } from './plan';
import { refKernels } from '../ref/index';
import { numel, type Tensor } from './tensor';

export type { Kernels };
export type EngineVariant = Variant | 'ref';

const PAGE = 65536;
const isNode = typeof process !== 'undefined' && !!process.versions?.node;

export interface EngineOptions {
  /** 'auto' (default): relaxed SIMD, else SIMD, else the TypeScript reference kernels. */
  variant?: VariantRequest | 'ref';
  /** Shared memory (for worker threads). Default false. */
  shared?: boolean;
  /** Upper bound on memory, bytes (default 4 GiB in Node, 1 GiB in browsers). */
  maxBytes?: number;
  /** Join an existing engine's memory (a worker): its compiled module and memory. */
  module?: WebAssembly.Module;
  memory?: WebAssembly.Memory;
  variantOfModule?: EngineVariant;
  /** Start the arena here instead of at heap_base (a worker replaying another engine's allocations). */
  arenaStart?: number;
}

export interface Layout {
  base: number;
  total: number;
  ptr: Record<string, number>;
  partBytes: Record<Part, number>;
  partStart: Record<Part, number>;
}

export class Engine {
  private top: number;
  private views: { buf: ArrayBufferLike | null; f32: Float32Array; i32: Int32Array; u8: Uint8Array } =
    { buf: null, f32: new Float32Array(0), i32: new Int32Array(0), u8: new Uint8Array(0) };

  private constructor(
    readonly k: Kernels,
    readonly memory: WebAssembly.Memory,
    readonly variant: EngineVariant,
    readonly shared: boolean,
    readonly module: WebAssembly.Module | null,
    readonly maxBytes: number,
    /** First arena byte: heap_base rounded up to ALIGN. */
    readonly base: number,
  ) {
    this.top = base;
  }

  static async create(opts: EngineOptions = {}): Promise<Engine> {
    const shared = opts.shared ?? (opts.memory ? isSharedMemory(opts.memory) : false);
    const maxBytes = opts.maxBytes ?? (isNode ? 4 * 1024 ** 3 : 1024 ** 3);
    const maxPages = Math.min(65536, Math.floor(maxBytes / PAGE));
    const memory = opts.memory ?? new WebAssembly.Memory({ initial: 1, maximum: maxPages, shared } as WebAssembly.MemoryDescriptor);
    const variant = opts.module ? (opts.variantOfModule ?? 'simd') : await pickVariant(opts.variant === 'ref' ? 'auto' : opts.variant ?? 'auto');
    if (opts.variant === 'ref' || variant === 'ref') {
      const k = refKernels(memory);
      return new Engine(k, memory, 'ref', shared, null, maxPages * PAGE, alignUp(k.heap_base()));
    }
    const module = opts.module ?? (await compileKernels(variant, shared));
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const k = instance.exports as unknown as Kernels;
    const eng = new Engine(k, memory, variant, shared, module, maxPages * PAGE, alignUp(k.heap_base()));
    if (opts.arenaStart !== undefined) eng.release(opts.arenaStart);
    return eng;
  }

  /** Current views over memory; refreshed when memory has grown (old views detach or go stale). */
  get f32(): Float32Array { return this.refresh().f32; }
  get i32(): Int32Array { return this.refresh().i32; }
  get u8(): Uint8Array { return this.refresh().u8; }

  private refresh() {
    const buf = this.memory.buffer;
    if (this.views.buf !== buf || this.views.u8.byteLength !== buf.byteLength) {
      this.views = { buf, f32: new Float32Array(buf), i32: new Int32Array(buf), u8: new Uint8Array(buf) };
    }
    return this.views;
  }

  /** Bytes in use by the arena (from base). */
  get used(): number { return this.top - this.base; }
  get end(): number { return this.top; }

  /** Reserves `bytes` (ALIGN-aligned) at the arena top, growing memory if needed. Returns the address. */
  reserve(bytes: number, what = 'region'): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RedeError(`rede engine: cannot reserve ${bytes} bytes for ${what}: size must be a non-negative integer`);
    const at = this.top;
    const end = at + alignUp(bytes);
    this.ensure(end, what);
    this.top = end;
    return at;
  }

  /** Grows memory so that [0, end) is addressable, or throws naming the need and the limit. */
  ensure(end: number, what = 'region'): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (end > this.maxBytes) {
      throw new RedeError(`rede engine: ${what} needs memory up to ${end} bytes, but the limit is ${this.maxBytes} bytes (maxBytes)`);
    }
    try {
      this.memory.grow(Math.ceil((end - have) / PAGE));
    } catch (e) {
      throw new RedeError(`rede engine: could not grow memory to ${end} bytes for ${what} (have ${have}, limit ${this.maxBytes}): ${(e as Error).message}`);
    }
  }

  /** Mark and release: scoped temporaries (tests, one-off ops). Releasing does not shrink memory. */
  mark(): number { return this.top; }
  release(mark: number): void {
    if (mark < this.base || mark % ALIGN || mark > Math.max(this.top, this.memory.buffer.byteLength)) throw new RedeError(`rede engine: invalid release mark ${mark}`);
    this.top = mark;
  }

  /** Lays out a plan in one reservation (one grow) and returns each region's address. */
  allocate(plan: MemoryPlan, what = 'plan'): Layout {
    const l = plan.layout();
    const base = this.reserve(l.total, what);
    const ptr: Record<string, number> = {};
    for (const [name, off] of l.offsets) ptr[name] = base + off;
    const partStart = { ...l.partStart };
    for (const p of Object.keys(partStart) as Part[]) partStart[p] += base;
    return { base, total: l.total, ptr, partBytes: l.partBytes, partStart };
  }

  /** A new tensor in the arena, optionally filled. */
  tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor {
    const n = numel(shape);
    if (data && data.length !== n) throw new RedeError(`rede engine: tensor of shape [${shape.join(', ')}] needs ${n} values, got ${data.length}`);
    const ptr = this.reserve(n * 4, `tensor [${shape.join(', ')}]`);
    if (data) this.f32.set(data, ptr >>> 2);
    return { shape: [...shape], ptr };
  }

  /** A copy of `n` floats at `ptr`. */
  read(ptr: number, n: number): Float32Array { return this.f32.slice(ptr >>> 2, (ptr >>> 2) + n); }
  write(ptr: number, data: ArrayLike<number>): void { this.f32.set(data, ptr >>> 2); }

  /** Throws unless [ptr, ptr + bytes) lies inside the arena and is 4-byte aligned. */
  checkRegion(where: string, name: string, ptr: number, bytes: number): void {
    if (!Number.isInteger(ptr) || ptr % 4 || ptr < this.base || ptr + bytes > this.memory.buffer.byteLength) {
      throw new RedeError(`${where}: ${name} at byte ${ptr} (+${bytes}) is outside the arena [${this.base}, ${this.memory.buffer.byteLength}) or misaligned`);
    }
  }
}

function isSharedMemory(m: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && m.buffer instanceof SharedArrayBuffer;
}

export const createEngine = (opts?: EngineOptions): Promise<Engine> => Engine.create(opts);
