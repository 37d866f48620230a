// A gzipped IDX file inflates to at most the size its own header declares: a 2 MB file whose header says
// 10 bytes, followed by 512 MiB of zeros, is refused without inflating the zeros (peak RSS measured in a
// child process); a header that declares more than the gzip data can hold is refused before inflating.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGzip, gzipSync } from 'node:zlib';
import { RedeError } from '../../src/engine/errors';
import { encodeIdx, gunzipIdx, parseIdx, readIdxFile } from '../../src/data/idx';

const root = new URL('../..', import.meta.url).pathname;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rede-idx-bounds-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

/** gzip of `head` followed by `mib` MiB of zeros, compressed as a stream (never held inflated here). */
async function gzipWithZeros(head: Uint8Array, mib: number): Promise<Uint8Array> {
  const gz = createGzip({ level: 1 });
  const parts: Buffer[] = [];
  gz.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise((resolve) => gz.on('end', resolve));
  gz.write(head);
  const zeros = Buffer.alloc(1 << 20);
  for (let i = 0; i < mib; i++) gz.write(zeros);
  gz.end();
  await done;
  return Buffer.concat(parts);
}

const isRede = (re: RegExp) => (e: unknown) => e instanceof RedeError && re.test(e.message);

test('a gzipped IDX whose header says 10 bytes is not inflated past them (512 MiB of padding, peak RSS < 256 MB)', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'bomb-labels-idx1-ubyte.gz');
    const bomb = await gzipWithZeros(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0), 512);
    await writeFile(path, bomb);
    const child = join(dir, 'read.mts');
    await writeFile(child, `import { readIdxFile } from ${JSON.stringify(pathToFileURL(join(root, 'src/data/idx.ts')).href)};
let message = '';
try { await readIdxFile(process.argv[2]); message = 'accepted'; } catch (e) { message = e.name + ': ' + e.message; }
console.log(JSON.stringify({ message, maxRss: process.resourceUsage().maxRSS * 1024 }));
`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, path], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { message, maxRss } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.ok(maxRss < 256 * 2 ** 20, `peak RSS ${(maxRss / 2 ** 20).toFixed(0)} MB reading a ${(bomb.length / 1e6).toFixed(1)} MB file`);
    assert.match(message, /^RedeError: .*bomb-labels-idx1-ubyte\.gz: trailing bytes: the gzip data inflates to more than the 18 bytes its IDX header declares$/);
  });
});

test('a gzipped IDX header that declares more than the gzip data can hold is refused before inflating', async () => {
  // [2^32 − 1, 9] bytes declared in 32 bytes of gzip: deflate inflates at most 1032:1.
  const gz = gzipSync(Uint8Array.of(0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9));
  await assert.rejects(gunzipIdx(gz, 'huge.gz'), isRede(/^huge\.gz: truncated: the IDX header declares 38654705667 bytes, more than \d+ bytes of gzip data can hold$/));
  // A cut stream and a corrupt one: RedeErrors naming the file.
  const ok = gzipSync(encodeIdx({ dtype: 'u8', dims: [3, 4], data: new Uint8Array(12).fill(5) }));
  await assert.rejects(gunzipIdx(ok.subarray(0, ok.length - 6), 'cut.gz'), isRede(/^cut\.gz: gzip data is corrupt or truncated/));
  const corrupt = ok.slice();
  corrupt[corrupt.length - 5] ^= 0xff; // the CRC
  await assert.rejects(gunzipIdx(corrupt, 'crc.gz'), isRede(/^crc\.gz: gzip data is corrupt or truncated/));
  // Fewer bytes than declared: parseIdx reports it as before.
  const short = gzipSync(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 10, 1, 2));
  assert.throws(() => parseIdx(Buffer.alloc(0), 'x'), isRede(/truncated/));
  await withDir(async (dir) => {
    await writeFile(join(dir, 'short.gz'), short);
    await assert.rejects(readIdxFile(join(dir, 'short.gz')), isRede(/short\.gz: truncated: dims \[10\] × 1 byte\(s\) \(u8\) = 10 data bytes expected, found 2/));
  });
});

test('gunzipIdx reads what gunzip reads: every dtype, a long FNAME before the data, two gzip members', async () => {
  const a = encodeIdx({ dtype: 'f64', dims: [2, 3], data: Float64Array.of(1, -2, 3.5, NaN, 0, 1e300) });
  const same = (x: Uint8Array, y: Uint8Array) => assert.deepEqual(new Uint8Array(x), new Uint8Array(y));
  same(await gunzipIdx(gzipSync(a)), a);
  // FLG.FNAME with a 300-byte name: the header spans several of the first prefixes read.
  const gz = gzipSync(a);
  const named = Buffer.concat([gz.subarray(0, 3), Uint8Array.of(gz[3] | 8), gz.subarray(4, 10), Buffer.from(`${'n'.repeat(300)}\0`), gz.subarray(10)]);
  same(await gunzipIdx(named), a);
  // Two members (as `cat a.gz b.gz` makes) inflate to their concatenation.
  const half = a.length >> 1;
  same(await gunzipIdx(Buffer.concat([gzipSync(a.subarray(0, half)), gzipSync(a.subarray(half))])), a);
  // A large, legitimate file: 60,000 × 28 × 28 u8 at the maximum ratio.
  const big = await gzipWithZeros(Uint8Array.of(0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28), 0);
  await assert.rejects(gunzipIdx(big), isRede(/more than \d+ bytes of gzip data can hold/));
  const images = new Uint8Array(16 + 60000 * 784);
  images.set([0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]);
  assert.deepEqual(parseIdx(await gunzipIdx(gzipSync(images, { level: 9 }))).dims, [60000, 28, 28]);
});
