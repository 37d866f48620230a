// Node only: replace a file so that readers (and a crash at any moment) see either the old contents or
// the new, never a mix: write a temporary file in the same directory, fsync it, rename it over the target
// (atomic on POSIX within one file system), then fsync the directory so the rename itself is durable.
// A hard kill between write and rename leaves the temporary file behind; the next write to the same target
// removes such leftovers (see removeStaleTemps).
import { RedeError } from '../engine/errors';

export interface AtomicWriteOptions {
  /** Test hook, awaited after the temporary file is complete and before the rename (simulates a crash). */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

/** `.<name>.tmp-<pid>-<n>`: the temporary files of target `name`, with the writing process's id. */
const tempName = (name: string, pid: number, n: string) => `.${name}.tmp-${pid}-${n}`;
const TEMP = /^\.(.+)\.tmp-(\d+)-[0-9a-z]+$/;

/** Temporary files being written by this process: never stale, whatever their age. */
const inFlight = new Set<string>();
let tempCounter = 0;

/**
 * Write `data` to `path` atomically. On failure the temporary file is removed and `path` is untouched;
 * only a hard kill between write and rename can leave a `.<name>.tmp-<pid>-<n>` file behind, and the next
 * successful write to `path` removes it.
 */
export async function writeFileAtomic(path: string, data: Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const fs = await import('node:fs/promises');
  const { dirname, basename, join } = await import('node:path');
  const dir = dirname(path);
  const temp = join(dir, tempName(basename(path), process.pid, `${(tempCounter++).toString(36)}${Date.now().toString(36)}`));
  inFlight.add(temp);
  // When this write began, on the file system's own clock (coarser than Date.now(), so compare like with like).
  let born = 0;
  try {
    const fh = await fs.open(temp, 'wx');
    try {
      born = (await fh.stat()).mtimeMs;
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
  } finally {
    inFlight.delete(temp);
  }
  await syncDirectory(dir);
  await removeStaleTemps(path, born);
}

/**
 * Removes the leftovers of earlier, killed writes to `path`: files named like rede's own temporary files
 * for this target, last modified before `before` (an mtime, ms), whose writer is not running (a dead pid, or this
 * process with no such write in flight). Other files, and another live process's temp files, are left
 * alone. Best effort: a file that cannot be listed or removed is skipped. Returns the paths removed.
 */
export async function removeStaleTemps(path: string, before: number): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const { dirname, basename, join } = await import('node:path');
  const dir = dirname(path), name = basename(path);
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const m = TEMP.exec(entry);
    if (!m || m[1] !== name) continue;
    const p = join(dir, entry), pid = Number(m[2]);
    if (inFlight.has(p) || (pid !== process.pid && isRunning(pid))) continue;
    try {
      const st = await fs.lstat(p);
      if (!st.isFile() || st.mtimeMs >= before) continue;
      await fs.rm(p);
      removed.push(p);
    } catch {
      // Gone already (another writer cleaned it) or not ours to remove.
    }
  }
  return removed;
}

/** Whether a process with this id exists (EPERM: it does, under another user). */
function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const fs = await import('node:fs/promises');
  try {
    const fh = await fs.open(dir, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
  } catch {
    // Windows cannot open or fsync a directory; the rename is still atomic there.
  }
}
