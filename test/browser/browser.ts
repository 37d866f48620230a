// Shared by the browser tests: build the demo (with the library bundled fresh from src/, into build/, so the
// tests never write dist/), serve it on 127.0.0.1 with or without COOP/COEP, drive Debian's Chromium
// through playwright-core with a fresh profile, and collect each page's console.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { buildDemo, formatSizes, type InferenceSizes } from '../../scripts/build-demo.mjs';
import { startServer } from '../../scripts/demo-server.mjs';

export const root = new URL('../../', import.meta.url).pathname;
export const CHROMIUM = process.env.REDE_CHROMIUM ?? '/usr/bin/chromium';

/** Builds the demo into build/browser-test/<name>; returns its folder and the inference sizes. */
export async function buildForTest(name: string): Promise<{ dir: string; sizes: InferenceSizes; sizeLine: string }> {
  const dir = join(root, 'build/browser-test', name);
  const sizes = await buildDemo({ out: dir, freshLib: true });
  return { dir, sizes, sizeLine: formatSizes(sizes) };
}

export interface Served { url: string; close(): Promise<void> }

export function serve(dir: string, coop: boolean, pages: Record<string, string> = {}): Promise<Served> {
  return startServer({ root: dir, coop, pages });
}

export interface Browser { context: BrowserContext; close(): Promise<void> }

/** Headless Chromium with a fresh user-data dir (removed on close). */
export async function launch(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'rede-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: 1400, height: 1100 },
  });
  return {
    context,
    close: async () => { await context.close().catch(() => {}); await rm(profile, { recursive: true, force: true }); },
  };
}

export interface Console { errors: string[]; warnings: string[]; all: string[] }

/** A new page whose console errors, warnings and uncaught exceptions are recorded. */
export async function openPage(b: Browser): Promise<{ page: Page; console: Console }> {
  const page = await b.context.newPage();
  const log: Console = { errors: [], warnings: [], all: [] };
  page.on('console', (m: ConsoleMessage) => {
    const line = `${m.type()}: ${m.text()}`;
    log.all.push(line);
    if (m.type() === 'error') log.errors.push(m.text());
    if (m.type() === 'warning') log.warnings.push(m.text());
  });
  page.on('pageerror', (e) => { log.errors.push(`uncaught: ${e.message}`); log.all.push(`pageerror: ${e.stack ?? e.message}`); });
  // Workers' own uncaught errors do not reach the page's console: record them too.
  page.on('worker', (w) => w.on('close', () => log.all.push(`worker closed: ${w.url()}`)));
  return { page, console: log };
}

/** Polls `expr` (a page expression) until it is truthy; returns its value, or throws with `what` and the console. */
export async function waitFor<T>(page: Page, expr: string, what: string, timeoutMs: number, log?: Console): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await page.evaluate(expr) as T;
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${log ? `\npage console:\n${log.all.slice(-30).join('\n')}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
