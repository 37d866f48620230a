import { load, fetchKernels, type InferenceModel, type LoadOptions } from 'rede/infer';
const o: LoadOptions = { workers: 2 };
const m: InferenceModel = await load(new Uint8Array(0), o);
const k = await fetchKernels('./', false);
console.log(m.predictClasses(new Float32Array(1)), k.file);
// @ts-expect-error misspelled
m.predictClass(new Float32Array(1));
