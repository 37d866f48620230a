// Atomic saves under hard kills: leftover temporary files of killed writes are removed by the next save
// (only rede's own, for that target, older than the save, whose writer is gone), and a child process saving
// a model in a loop, killed with SIGKILL at random moments, always leaves a file that loads bit for bit as
// the version before or after the kill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic';
import { encodeRedeFile, loadRedeFile, saveRedeFile } from '../../src/io/file';
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import { Rng } from '../helpers/rand';
import { versionFile } from './save-loop';

const root = new URL('../..', import.meta.url).pathname;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rede-atomic-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

/** A pid that is not running: a child that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const temps = (names: string[]) => names.filter((n) => /^\.model\.rede\.tmp-/.test(n));

test('a save removes stale temp files of its target only: own pattern, older than the save, writer gone', async () => {
  await withDir(async (dir) => {
    const dead = deadPid();
    const old = new Date(Date.now() - 60_000);
    const files: Record<string, boolean> = { // name → removed by the next save of model.rede
      [`.model.rede.tmp-${dead}-a1b2c3`]: true, // a killed writer's leftover
      [`.model.rede.tmp-${dead}-zz`]: true,
      [`.model.rede.tmp-${process.pid}-k9`]: true, // this process, no such write in flight (an earlier crash of a reused pid)
      [`.model.rede.tmp-${process.ppid}-old1`]: false, // a running process (our parent) may be writing it
      [`.other.rede.tmp-${dead}-a1`]: false, // another target
      [`.model.rede.tmp-${dead}-UPPER`]: false, // not rede's pattern
      [`model.rede.tmp-${dead}-a1`]: false,
      [`.model.rede.tmp-${dead}-a1.bak`]: false,
      ['.model.rede.tmp-x-a1']: false,
      ['notes.txt']: false,
    };
    for (const name of Object.keys(files)) {
      await writeFile(join(dir, name), 'leftover');
      await utimes(join(dir, name), old, old);
    }
    // Young: written after the save started; not stale even with a dead writer.
    const young = `.model.rede.tmp-${dead}-young`;
    let youngWritten = false;
    await writeFileAtomic(join(dir, 'model.rede'), Uint8Array.of(1, 2, 3), {
      beforeRename: async () => { await writeFile(join(dir, young), 'new'); youngWritten = true; },
    });
    assert.ok(youngWritten);
    const left = new Set(await readdir(dir));
    assert.ok(left.has('model.rede'));
    assert.ok(left.has(young), 'a temp file younger than the save stays');
    for (const [name, removed] of Object.entries(files)) assert.equal(!left.has(name), removed, name);
    assert.deepEqual(new Uint8Array(await readFile(join(dir, 'model.rede'))), Uint8Array.of(1, 2, 3));
  });
});

test('kill -9 loop: 24 SIGKILLs of a saving child; the file is always the version before or after, bit for bit; the next save leaves no stale temp file', async (t) => {
  await withDir(async (dir) => {
    const path = join(dir, 'model.rede');
    const rng = new Rng(12);
    const bytesOf = (v: number) => encodeRedeFile(versionFile(v));
    await saveRedeFile(path, versionFile(0));
    let version = 0, leftovers = 0, kills = 0;
    for (; kills < 24; kills++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/io/save-loop.ts'), path, String(version + 1)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const firstSave = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => { out += d; if (out.includes('\n')) resolve(); }));
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      try {
        await Promise.race([firstSave, exited]);
        assert.ok(out.includes('\n'), `child ${kills} exited before its first save`);
        // One save has returned: every temp file of an earlier, killed child is gone.
        const stale = temps(await readdir(dir)).filter((n) => !n.startsWith(`.model.rede.tmp-${child.pid}-`));
        assert.deepEqual(stale, [], `after child ${kills}'s first save`);
        await new Promise((resolve) => setTimeout(resolve, rng.next() * 40));
      } finally {
        child.kill('SIGKILL'); // also when an assertion failed: a saving child left running would hang the run
        await exited;
      }
      const saved = out.trim().split('\n').map(Number);
      const last = saved[saved.length - 1];
      const bytes = new Uint8Array(await readFile(path));
      const isLast = Buffer.compare(bytes, bytesOf(last)) === 0;
      assert.ok(isLast || Buffer.compare(bytes, bytesOf(last + 1)) === 0, `after kill ${kills}: the file is neither version ${last} nor ${last + 1}`);
      version = isLast ? last : last + 1;
      assert.equal((await loadRedeFile(path)).header.version, version);
      if (temps(await readdir(dir)).length) leftovers++;
    }
    t.diagnostic(`${kills} kills, ${leftovers} left a temp file behind, last version ${version}`);
    const e = await Engine.create();
    const m = await Model.load(path, { engine: e });
    assert.equal(m.e.f32[(m.params >> 2) + 7], version, 'a weight of the loaded model');
    await saveRedeFile(path, versionFile(version + 1));
    assert.deepEqual(await readdir(dir), ['model.rede'], 'no temp file after a save');
  });
});
