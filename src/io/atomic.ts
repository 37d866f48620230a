// Node only: replace a file so that readers (and a crash at any moment) see either the old contents or
// the new, never a mix: write a temporary file in the same directory, fsync it, rename it over the target
// (atomic on POSIX within one file system), then fsync the directory so the rename itself is durable.
import { RedeError } from '../engine/errors';

export interface AtomicWriteOptions {
  /** Test hook, awaited after the temporary file is complete and before the rename (simulates a crash). */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

/**
 * Write `data` to `path` atomically. On failure the temporary file is removed and `path` is untouched;
 * only a hard kill between write and rename can leave a `.<name>.tmp-<pid>-<n>` file behind.
 */
export async function writeFileAtomic(path: string, data: Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const fs = await import('node:fs/promises');
  const { dirname, basename, join } = await import('node:path');
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.tmp-${process.pid}-${(tempCounter++).toString(36)}${Date.now().toString(36)}`);
  try {
    const fh = await fs.open(temp, 'wx');
    try {
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await fh.write(data, written, data.length - written);
        written += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.beforeRename) await opts.beforeRename(temp);
    await fs.rename(temp, path);
  } catch (e) {
    await fs.rm(temp, { force: true }).catch(() => {});
    throw new RedeError(`${path}: atomic write failed, the file is unchanged (${(e as Error).message})`);
  }
  await syncDirectory(dir);
}

let tempCounter = 0;

async function syncDirectory(dir: string): Promise<void> {
  const fs = await import('node:fs/promises');
  try {
    const fh = await fs.open(dir, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
  } catch {
    // Windows cannot open or fsync a directory; the rename is still atomic there.
  }
}
