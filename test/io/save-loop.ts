// A child process for the kill -9 test (atomic.test.ts): saves version v, v+1, … of a 2 MB model file to
// argv[2] with saveRedeFile, printing each version once its save has returned, until it is killed.
// Imported (not run) for versionFile: version v's file, whose every weight is v.
import { fileURLToPath } from 'node:url';
import { saveRedeFile, type RedeFile } from '../../src/io/file';

const IN = 512, OUT = 1024;

/** A loadable model file (dense 512 → 1024, 2 MB of weights) whose every weight and bias is v. */
export function versionFile(v: number): RedeFile {
  return {
    header: { format: 'rede-model', config: { input: [IN], layers: [{ type: 'dense', name: 'fc', units: OUT }] }, seed: 0, version: v },
    tensors: { 'fc/kernel': new Float32Array(IN * OUT).fill(v), 'fc/bias': new Float32Array(OUT).fill(v) },
    shapes: { 'fc/kernel': [IN, OUT] },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = process.argv[2];
  for (let v = Number(process.argv[3]); ; v++) {
    await saveRedeFile(path, versionFile(v));
    process.stdout.write(`${v}\n`);
  }
}
