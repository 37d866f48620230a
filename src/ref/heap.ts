// Reference kernels read and write the same memory as the wasm ones, through fresh typed views.
export class Heap {
  private buf: ArrayBufferLike | null = null;
  private _f32 = new Float32Array(0);
  private _i32 = new Int32Array(0);
  constructor(readonly memory: WebAssembly.Memory) {}
  private refresh(): void {
    const b = this.memory.buffer;
    if (b !== this.buf || this._f32.byteLength !== b.byteLength) {
      this.buf = b;
      this._f32 = new Float32Array(b);
      this._i32 = new Int32Array(b);
    }
  }
  /** f32 view; index with `ptr >>> 2`. Take it once per kernel call. */
  get f32(): Float32Array { this.refresh(); return this._f32; }
  get i32(): Int32Array { this.refresh(); return this._i32; }
}
