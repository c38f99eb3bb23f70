// A GCJ-02 base map in the console (driven by tests/console.rs): the vendor's tiles are answered by playwright's
// router, each a grey tile with a red 11-pixel square where a GCJ-02 vendor draws FIXTURES.point. The console must
// show the square on the point, and nothing red where the vendor coordinates would fall read as WGS84.
// With "archive" (the name of a --basemap-pmtiles archive on the same server), its layers are checked too: placed
// between the raster base map and the boundaries, drawn from the archive's tiles, switched off with the base map.
// Usage: node basemap.mjs BASE_URL SHOTS_DIR FIXTURES_JSON ({"point", "mark_gcj02", "vendor", "archive"?})
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

const [base, shots, fixturesJson] = process.argv.slice(2);
const fx = JSON.parse(fixturesJson);
mkdirSync(shots, { recursive: true });
const step = (msg) => console.log(`[basemap] ${msg}`);

/** A 256×256 RGBA PNG; `paint(px, py)` gives each pixel's [r, g, b]. */
function png(paint) {
  const size = 256, raw = Buffer.alloc(size * (size * 4 + 1));
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const [r, g, b] = paint(px, py), o = py * (size * 4 + 1) + 1 + px * 4;
      raw[o] = r; raw[o + 1] = g; raw[o + 2] = b; raw[o + 3] = 255;
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
const mercX = (lon) => (lon + 180) / 360;
const mercY = (lat) => { const s = Math.sin(lat * Math.PI / 180); return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI); };

const args = ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args });
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); process.exitCode = 1; });
  let vendorTiles = 0;
  await page.route(`${fx.vendor}/**`, (route) => {
    const [z, x, y] = new URL(route.request().url()).pathname.replace('.png', '').split('/').slice(1).map(Number);
    const n = 2 ** z;
    const mx = mercX(fx.mark_gcj02[0]) * n * 256 - x * 256, my = mercY(fx.mark_gcj02[1]) * n * 256 - y * 256;
    vendorTiles++;
    route.fulfill({ status: 200, contentType: 'image/png',
      body: png((px, py) => (Math.abs(px + 0.5 - mx) <= 5.5 && Math.abs(py + 0.5 - my) <= 5.5 ? [255, 0, 0] : [200, 200, 200])) });
  });
  await page.goto(`${base}/#16/${fx.point[1]}/${fx.point[0]}`, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.dataset.mapReady, null, { timeout: 15000 });
  const layers = await page.evaluate(() => window.gridmapMap.getStyle().layers.map((l) => l.id));
  if (layers[1] !== 'basemap') throw new Error(`the base map is not the lowest layer: ${layers}`);
  // Only the base map, so what is read is its pixels.
  await page.evaluate(() => new Promise((ok) => {
    const m = window.gridmapMap;
    for (const l of m.getStyle().layers) if (l.id !== 'basemap') m.setLayoutProperty(l.id, 'visibility', 'none');
    m.once('idle', ok);
  }));
  const px = await page.evaluate(([at, raw]) => new Promise((ok) => {
    const m = window.gridmapMap;
    m.once('render', () => {
      const gl = m.getCanvas().getContext('webgl2') || m.getCanvas().getContext('webgl');
      const r = window.devicePixelRatio;
      const read = (ll) => {
        const p = m.project(ll), out = new Uint8Array(4);
        gl.readPixels(Math.round(p.x * r), Math.round(gl.drawingBufferHeight - p.y * r), 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, out);
        return [...out.slice(0, 3)];
      };
      ok({ at: read(at), raw: read(raw) });
    });
    m.triggerRepaint();
  }), [fx.point, fx.mark_gcj02]);
  await page.screenshot({ path: `${shots}/01-gcj02-basemap.png` });
  const red = ([r, g, b]) => r > 180 && g < 90 && b < 90;
  step(`${vendorTiles} vendor tiles; pixel at the point ${px.at}, at the vendor coordinates read as WGS84 ${px.raw}`);
  if (!vendorTiles) throw new Error('no vendor tile was requested');
  if (!red(px.at)) throw new Error(`the vendor's mark is not on the point: ${px.at}`);
  if (red(px.raw)) throw new Error(`the base map was not shifted: red at the uncorrected position ${px.raw}`);

  // An offline base map from a PMTiles archive (--basemap-pmtiles FILE, here an export-tiles archive of the sample):
  // its layers lie above the raster base map and under the boundaries, draw features read from the archive, follow
  // the layer switch, and every request stays on the server.
  if (fx.archive) {
    const requested = [];
    const foreign = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith(`/tiles/${fx.archive}/`)) requested.push(u.pathname);
      if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== new URL(base).origin && !r.url().startsWith(fx.vendor)) foreign.push(r.url());
    });
    await page.reload({ waitUntil: 'load' });
    await page.waitForFunction(() => document.body.dataset.mapReady, null, { timeout: 15000 });
    await page.evaluate((c) => window.gridmapMap.jumpTo({ center: c, zoom: 14 }), fx.point);
    await page.evaluate(() => new Promise((ok) => { window.gridmapMap.once('idle', ok); window.gridmapMap.triggerRepaint(); }));
    const ids = await page.evaluate(() => window.gridmapMap.getStyle().layers.map((l) => l.id));
    const mine = ids.filter((id) => id.startsWith(`basemap-${fx.archive}-`));
    const at = (id) => ids.indexOf(id);
    if (!mine.length) throw new Error(`no layer of the archive in the style: ${ids}`);
    if (!(at(mine[0]) > at('basemap') && at(mine.at(-1)) < at('grids-fill'))) throw new Error(`archive layers misplaced: ${ids}`);
    const drawn = await page.evaluate((l) => window.gridmapMap.queryRenderedFeatures({ layers: l }).length, mine);
    if (!drawn) throw new Error(`nothing of the archive drawn (${requested.length} archive tiles requested)`);
    await page.screenshot({ path: `${shots}/02-pmtiles-basemap.png` });
    await page.evaluate(() => {
      const box = document.querySelector('#layer-toggles input[data-layer=basemap]');
      box.checked = false;
      box.dispatchEvent(new Event('change'));
    });
    const hidden = await page.evaluate((l) => l.every((id) => window.gridmapMap.getLayoutProperty(id, 'visibility') === 'none'), mine);
    if (!hidden) throw new Error('the layer switch does not hide the archive\'s layers');
    if (foreign.length) throw new Error(`requests left the machine: ${foreign.slice(0, 5)}`);
    step(`PMTiles base map "${fx.archive}": ${mine.length} layers under the boundaries, ${drawn} features drawn from ${requested.length} archive tiles; hidden by the switch`);
  }
} finally {
  await browser.close();
}
