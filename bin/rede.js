#!/usr/bin/env node
// The `rede` command. From an installed package it runs the bundle dist/esm/cli.js. In a checkout (src/ is
// there; the package ships no src/) it runs src/cli/main.ts through tsx, like `npm run rede`, so that
// `npx rede` right after `npm ci` is the current source and never a stale dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  // npm ci's `prepare` generates this; a checkout installed with --ignore-scripts has not.
  if (!existsSync(new URL('../src/engine/generated/wasm-bytes.ts', import.meta.url))) {
    process.stderr.write('rede: the kernels are not built in this checkout (src/engine/generated/ is missing); run: npm run build:wasm\n');
    process.exit(1);
  }
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/esm/cli.js'));
}
process.exitCode = await main(process.argv.slice(2));
