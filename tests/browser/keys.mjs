// The console on a server with access control on (driven by tests/console.rs): without a stored key the console
// asks for one when the first call is refused, then shows the incident queue, draws item tiles with the key and
// joins the live feed with it.
// Usage: node keys.mjs BASE_URL SHOTS_DIR KEY INCIDENT_ID
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, shots, key, incidentId] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const args = ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  '--disable-dev-shm-usage'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args });
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); process.exitCode = 1; });
  let asked = 0;
  page.on('dialog', (d) => { asked += 1; d.accept(key); });
  const statuses = { incidents: [], tiles: [] };
  page.on('response', (r) => {
    const u = r.url();
    if (u.includes('/api/v1/incidents?')) statuses.incidents.push(r.status());
    if (u.includes('/tiles/incidents/')) statuses.tiles.push(r.status());
  });
  await page.goto(base + '/', { waitUntil: 'load' });
  await page.waitForFunction((id) => document.querySelector('#queue')?.textContent.includes(`#${id}`) ||
    [...document.querySelectorAll('#queue li')].some((li) => li.dataset.id === id), incidentId, { timeout: 15000 });
  await page.waitForFunction(() => document.querySelector('#live')?.classList.contains('on'), null, { timeout: 10000 });
  await page.waitForFunction(() => document.body.dataset.firstIdleMs, null, { timeout: 15000 });
  await page.screenshot({ path: `${shots}/01-keyed-console.png` });
  const stored = await page.evaluate(() => localStorage.getItem('gridmap.key'));
  console.log(JSON.stringify({ asked, stored_matches: stored === key, ...statuses }));
  if (asked !== 1 || stored !== key || !statuses.incidents.includes(401) || !statuses.incidents.includes(200)) {
    console.error('the console did not ask for the key once and then load the queue');
    process.exitCode = 1;
  }
  if (statuses.tiles.some((s) => s === 401 || s === 403) && !statuses.tiles.some((s) => s === 200 || s === 204)) {
    console.error('incident tiles were refused');
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
