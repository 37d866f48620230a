// Node only: the files of an exported model, each written atomically (src/io/atomic.ts), and files read with
// a size limit before a byte is allocated. A model.json is written last, after its weight files, so a reader
// that finds a model.json finds the weights it names.
import { RedeError } from '../engine/errors';
import { writeFileAtomic } from '../io/atomic';

/** Writes name → bytes into `dir` (created if missing); the names listed in `last` go after the others. */
export async function writeFiles(dir: string, files: ReadonlyMap<string, Uint8Array>, last: readonly string[] = []): Promise<string[]> {
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  try { await mkdir(dir, { recursive: true }); } catch (e) {
    throw new RedeError(`${dir}: cannot create the output directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const order = [...files.keys()].sort((a, b) => Number(last.includes(a)) - Number(last.includes(b)));
  const written: string[] = [];
  for (const name of order) {
    if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') throw new RedeError(`${dir}: '${name}' is not a plain file name`);
    const path = join(dir, name);
    await writeFileAtomic(path, files.get(name)!);
    written.push(path);
  }
  return written;
}

/** A whole file, refusing one larger than `maxBytes`; a missing file is a RedeError naming it and `what` it is. */
export async function readBounded(path: string, what: string, maxBytes = 4 * 1024 ** 3): Promise<Uint8Array> {
  const { open } = await import('node:fs/promises');
  let fh;
  try { fh = await open(path, 'r'); } catch (e) {
    throw new RedeError(`${what} '${path}' could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new RedeError(`${what} '${path}' is not a file`);
    if (st.size > maxBytes) throw new RedeError(`${what} '${path}' is ${st.size} bytes, more than the ${maxBytes} allowed`);
    const out = new Uint8Array(st.size);
    let at = 0;
    while (at < out.length) {
      const { bytesRead } = await fh.read(out, at, out.length - at, at);
      if (bytesRead === 0) throw new RedeError(`${what} '${path}' shrank while being read`);
      at += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}
