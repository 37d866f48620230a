// Writes rede's embedded 8,000 / 2,000 digit split (src/data/mnist.ts, in rede's fixed order) as raw bytes, so
// an independent implementation (scripts/caffe-lenet-torch.py) trains on exactly the same pixels.
// Layout: for train then test, u32le count, then count×784 pixel bytes, then count label bytes.
// Usage: node --import tsx scripts/export-digits.mts OUT.bin
import { writeFileSync } from 'node:fs';
import { mnistDigits } from '../src/data/mnist';
import type { Dataset } from '../src/data/dataset';

const out = process.argv[2];
if (!out) throw new Error('export-digits: give the output file, got no argument');
const { train, test } = await mnistDigits();
const part = (ds: Dataset): Buffer => {
  const n = ds.y.length, head = Buffer.alloc(4);
  head.writeUInt32LE(n);
  // rede stores byte/255 (exactly representable as a rounded byte), so round(x·255) recovers the byte.
  const px = Buffer.from(Uint8Array.from(ds.x, (v) => Math.round(v * 255)));
  return Buffer.concat([head, px, Buffer.from(Uint8Array.from(ds.y))]);
};
writeFileSync(out, Buffer.concat([part(train), part(test)]));
console.log(`export-digits: ${train.y.length} train + ${test.y.length} test digits -> ${out}`);
