// Selection on the map (issue 34, "missing for a dispatcher").
// Checks:
//  1. A click on the map highlights the clicked grid (layer grids-selected drawn for that code only).
//  2. The open incident is ringed (layer incident-selected at its location); closing the card removes the ring.
//  3. The pointer turns into a hand over an incident dot and back off it.
//  4. The legend names the incident and unit colours.
//  5. Incidents merged at low zoom (tile features with cluster/count) show their count (layer incidents-count) and
//     a click on one zooms in.
// Usage: node map-select.mjs BASE_URL SHOTS_DIR FIXTURES_JSON
// FIXTURES_JSON: {"point": [lon, lat], "point2": [lon, lat]} (optional; defaults [118.79, 32.02], [118.80, 32.03])
import { suite, call, check, clickMap, idle, sleep } from './common.mjs';

const { base, fx, step, shot, open, run } = await suite('map-select');
const point = fx.point || [118.79, 32.02];
const point2 = fx.point2 || [118.80, 32.03];

await run(async () => {
  const inc = await call(base, 'POST', '/incidents', { location: point, category: 'fire', priority: 3 });
  // A tight bunch: one cluster below z15.
  for (let i = 0; i < 12; i++) await call(base, 'POST', '/incidents', { location: [point2[0] + (i % 4) * 0.0002, point2[1] + Math.floor(i / 4) * 0.0002], category: 'other' });
  const page = await open('A', { hash: `#15/${point[1]}/${point[0]}` });

  // 1. Grid highlight.
  const spot = [point[0] + 0.0015, point[1] - 0.0015];
  const there = await call(base, 'GET', `/locate?lon=${spot[0]}&lat=${spot[1]}`);
  await idle(page);
  await clickMap(page, spot);
  await page.waitForFunction((g) => document.body.dataset.selectedGrid === g, there.grid.code, { timeout: 5000 });
  await idle(page);
  const hl = await page.evaluate(() => [...new Set(window.gridmapMap.queryRenderedFeatures({ layers: ['grids-selected'] }).map((f) => f.properties.code))]);
  check(hl.length === 1 && hl[0] === there.grid.code, `highlighted grids: ${hl}`);
  step(`check 1: grid ${there.grid.code} highlighted`);

  // 2. The open incident's ring.
  await page.click(`#queue li[data-incident="${inc.id}"]`);
  await page.waitForFunction(() => window.gridmapMap.getSource('selection').serialize().data.features.length === 1, null, { timeout: 5000 });
  await idle(page);
  const ring = await page.evaluate(() => window.gridmapMap.queryRenderedFeatures({ layers: ['incident-selected'] }).map((f) => f.geometry.coordinates));
  check(ring.length === 1 && Math.abs(ring[0][0] - point[0]) < 1e-4 && Math.abs(ring[0][1] - point[1]) < 1e-4, `ring at ${JSON.stringify(ring)}`);
  await shot(page, 'selected');
  await page.click('#d-close');
  await idle(page);
  const gone = await page.evaluate(() => window.gridmapMap.queryRenderedFeatures({ layers: ['incident-selected'] }).length);
  check(gone === 0 && await page.evaluate(() => document.querySelector('#detail').hidden), 'the card or ring stayed after closing');
  step('check 2: the open incident is ringed; closing the card clears it');

  // 3. Pointer over an incident dot.
  const p = await page.evaluate((ll) => window.gridmapMap.project(ll), point);
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.move(box.x + p.x, box.y + p.y);
  await sleep(150);
  const over = await page.evaluate(() => window.gridmapMap.getCanvas().style.cursor);
  await page.mouse.move(box.x + 30, box.y + box.height - 30);
  await sleep(150);
  const off = await page.evaluate(() => window.gridmapMap.getCanvas().style.cursor);
  check(over === 'pointer' && off === '', `cursor over a dot "${over}", off it "${off}"`);
  step('check 3: pointer over incident dots');

  // 4. Legend.
  const legend = await page.textContent('#map-legend');
  check(['已上报', '已派遣', '已到场', '可调派', '执行中', '聚合'].every((w) => legend.includes(w)), `legend: ${legend}`);
  step('check 4: legend lists incident and unit colours');

  // 5. Clusters.
  await page.evaluate((ll) => window.gridmapMap.jumpTo({ center: ll, zoom: 12.5 }), point2);
  await idle(page);
  const clusters = await page.evaluate(() => window.gridmapMap.queryRenderedFeatures({ layers: ['incidents-count'] })
    .map((f) => ({ count: f.properties.count, at: f.geometry.coordinates })));
  const big = clusters.sort((a, b) => b.count - a.count)[0];
  // The 12 incidents fall into one or two merge squares.
  const sum = clusters.filter((c) => Math.abs(c.at[0] - point2[0]) < 0.003 && Math.abs(c.at[1] - point2[1]) < 0.003).reduce((n, c) => n + c.count, 0);
  check(big && big.count >= 2 && sum === 12, `cluster counts drawn: ${JSON.stringify(clusters)}`);
  await shot(page, 'cluster');
  const z0 = await page.evaluate(() => window.gridmapMap.getZoom());
  await clickMap(page, big.at);
  await page.waitForFunction((z) => window.gridmapMap.getZoom() > z + 1 && !window.gridmapMap.isMoving(), z0, { timeout: 5000 });
  step(`check 5: a cluster of ${big.count} shows its count; a click zooms from ${z0.toFixed(1)} to ${(await page.evaluate(() => window.gridmapMap.getZoom())).toFixed(1)}`);
});
