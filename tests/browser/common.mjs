// Shared helpers of the browser tests: one headless chromium (Debian's, SwiftShader), pages that report page
// errors, map helpers and HTTP calls to the server under test.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required'];

/** Arguments, browser and helpers of one suite. `name` prefixes the log lines. */
export async function suite(name) {
  const [base, shots, fixturesJson] = process.argv.slice(2);
  if (!base || !shots) {
    console.error(`usage: node ${name}.mjs BASE_URL SHOTS_DIR [FIXTURES_JSON]`);
    process.exit(2);
  }
  const fx = fixturesJson ? JSON.parse(fixturesJson) : {};
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const pages = [];
  // The console works offline: every request of every page must go to the server under test (no CDN, no tile
  // service, no font host); any other is a failure of the suite.
  const origin = new URL(base).origin;
  const foreign = [];
  let n = 0;
  const step = (msg) => console.log(`[${name}] ${msg}`);
  const shot = (page, label) => page.screenshot({ path: `${shots}/${String(++n).padStart(2, '0')}-${label}.png` });

  /** A console page, loaded until the map is idle and the live feed is on. */
  async function open(label, { viewport = { width: 1366, height: 768 }, lang = null, hash = '' } = {}) {
    const page = await browser.newPage({ viewport });
    pages.push(page);
    page.on('pageerror', (e) => { console.error(`[${name}:${label}] page error: ${e.message}`); process.exitCode = 1; });
    page.on('request', (r) => {
      const u = r.url();
      if (!/^(data|blob):/.test(u) && new URL(u).origin !== origin) foreign.push(u);
    });
    if (lang) await page.addInitScript((l) => localStorage.setItem('gridmap.lang', l), lang);
    await page.goto(`${base}/${hash}`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.body.dataset.firstIdleMs, null, { timeout: 20000 });
    await page.waitForFunction(() => document.querySelector('#live')?.classList.contains('on'), null, { timeout: 10000 });
    return page;
  }

  /** Runs `body`; on failure leaves a picture of every open page, always closes the browser. */
  async function run(body) {
    try {
      await body();
      check(!foreign.length, `${foreign.length} request(s) left the server under test: ${foreign.slice(0, 5).join(', ')}`);
      step(`all checks passed (every request to ${origin})`);
    } catch (e) {
      for (const [i, p] of pages.entries()) await p.screenshot({ path: `${shots}/failure-${i}.png` }).catch(() => {});
      console.error(`[${name}] FAILED: ${e.stack || e}`);
      process.exitCode = 1;
    } finally {
      await browser.close();
    }
  }
  return { base, shots, fx, browser, step, shot, open, run };
}

/** JSON call to the server under test; throws on a non-2xx answer. */
export async function call(base, method, path, body) {
  const r = await fetch(`${base}/api/v1${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return json;
}

export function check(ok, message) {
  if (!ok) throw new Error(message);
}

/** Waits until the map is idle (triggering a repaint when it already is). */
export const idle = (page) => page.evaluate(() => new Promise((ok) => {
  const m = window.gridmapMap;
  if (m.loaded() && !m.isMoving()) { m.once('idle', ok); m.triggerRepaint(); } else m.once('idle', ok);
}));

export async function clickMap(page, lonlat) {
  const p = await page.evaluate((ll) => window.gridmapMap.project(ll), lonlat);
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + p.x, box.y + p.y);
}

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
