// Model-level test helpers: the engines a model runs on (each wasm variant and the TypeScript reference),
// models whose memory goes back to the arena afterwards, and finite differences through the public
// forward()/backward() of a whole model (the kernel-level gradcheck driven over the model's regions).
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { numelOf } from '../../src/layers/layer';
import { testEngines } from './engines';
import { gradcheck } from './gradcheck';

export interface ModelEngine { name: string; e: Engine }

let refEngine: Promise<Engine> | null = null;

/** Every wasm variant this runtime validates, plus an engine on the reference kernels ('ref'). */
export async function modelEngines(): Promise<ModelEngine[]> {
  refEngine ??= Engine.create({ variant: 'ref' });
  const wasm = (await testEngines()).map(({ name, e }) => ({ name, e }));
  return [...wasm, { name: 'ref', e: await refEngine }];
}

/** Builds a model on `e`, runs `fn`, then returns the model's memory (and anything fn reserved) to the arena. */
export async function withModel<T>(e: Engine, config: ModelConfig, fn: (m: Model) => T | Promise<T>, seed = 1): Promise<T> {
  const mark = e.mark();
  try {
    return await fn(await Model.create(config, { engine: e, seed }));
  } finally {
    e.release(mark);
  }
}

export interface ModelGradCheckOptions {
  /** Forward mode (batch norm statistics, dropout). Default true. */
  training?: boolean;
  /** Step passed to forward/backward (fixes dropout masks). Default 3. */
  step?: number;
  eps?: number;
  rtol?: number;
  atol?: number;
  samples?: number;
  seed?: number;
}

/**
 * Central finite differences of L = Σ y·r through m.forward()/m.backward() for the model input and every
 * parameter: the inputs perturbed in place are the model's input region and each parameter's region of the
 * flat buffer; the analytic gradients are what backward() leaves at the input gradient and gradient slice 0.
 */
export function gradcheckModel(m: Model, x: Float32Array, o: ModelGradCheckOptions = {}): void {
  const e = m.e, training = o.training ?? true, step = o.step ?? 3;
  m.forward(x, { training, step }); // plans memory and writes the input
  const nIn = x.length, nOut = (nIn / numelOf(m.inputShape)) * numelOf(m.outputShape);
  const inputs = [
    { name: 'input', ptr: m.inputAct, n: nIn, grad: m.inputGrad },
    ...m.entries.map((en) => ({ name: `${en.layer.name}.${en.name}`, ptr: m.params + en.offset * 4, n: en.n, grad: m.grads + en.offset * 4 })),
  ];
  gradcheck({
    e, inputs, y: { ptr: m.outputAct, n: nOut }, dy: m.outputGrad,
    // Round-trips through the public API: forward() copies the (perturbed) input in, backward() copies dy in.
    forward: () => { m.forward(e.read(m.inputAct, nIn), { training, step }); },
    backward: () => { m.backward(e.read(m.outputGrad, nOut), { step }); },
    eps: o.eps, rtol: o.rtol, atol: o.atol, samples: o.samples, seed: o.seed,
  });
}
