// @tensorflow/tfjs on its cpu backend: the independent implementation kernels and models are checked
// against. Loaded once, quietly (it greets Node users on import).
import type * as TF from '@tensorflow/tfjs';

let loaded: Promise<typeof TF> | null = null;

export function tfjs(): Promise<typeof TF> {
  loaded ??= (async () => {
    const warn = console.warn, log = console.log;
    console.warn = () => {}; console.log = () => {};
    try {
      const tf = await import('@tensorflow/tfjs');
      await tf.setBackend('cpu');
      await tf.ready();
      return tf;
    } finally {
      console.warn = warn; console.log = log;
    }
  })();
  return loaded;
}
