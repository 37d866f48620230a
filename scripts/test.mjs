// Runs every test: as-pect (AssemblyScript-level unit tests) first, then node:test over test/**/*.test.ts
// (through tsx), whose closing summary is the last thing printed.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

if (only.length === 0 && existsSync(join(root, 'as-pect.config.cjs'))) {
  const r = spawnSync('npx', ['asp', '--config', 'as-pect.config.cjs'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const files = (only.length ? only : find(join(root, 'test'))).sort();
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter', 'spec', ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
