// The new-incident form and the search box (issue 34, "missing for a dispatcher").
// Checks:
//  1. 新建事件 then a click on the map shows the grid the point falls in (name and code, from /locate) before anything
//     is saved; Esc cancels (form and marker gone, nothing created).
//  2. Address and caller are filled in and saved: the stored incident has them in their own fields, and the card
//     that opens on it shows both.
//  3. Search: a grid code, a grid name, a community name and a street name each fly the map to that area (its centre
//     inside the area's bbox; a grid is highlighted).
//  4. Search: "lon,lat" in WGS84 flies there and shows the place card of that point; the same point given in GCJ-02
//     with the GCJ-02 toggle lands on the same WGS84 point (within 1 m).
// Usage: node create-search.mjs BASE_URL SHOTS_DIR FIXTURES_JSON
// FIXTURES_JSON: {"point": [lon, lat], "point2": [lon, lat]} (optional; defaults [118.79, 32.02], [118.80, 32.03])
import { suite, call, check, clickMap, idle, sleep } from './common.mjs';
import { wgs84ToGcj02 } from '../../web/js/gcj02.js';

const { base, fx, step, shot, open, run } = await suite('create-search');
const point = fx.point || [118.79, 32.02];
const point2 = fx.point2 || [118.80, 32.03];
const count = async () => (await call(base, 'GET', '/incidents?limit=1000')).items.length;

await run(async () => {
  const page = await open('A', { hash: `#15/${point[1]}/${point[0]}` });
  const here = await call(base, 'GET', `/locate?lon=${point[0]}&lat=${point[1]}`);

  // 1. The grid before saving; Esc cancels.
  const n0 = await count();
  await page.click('#new-incident');
  await idle(page);
  await clickMap(page, point);
  await page.waitForFunction((g) => document.querySelector('#create-grid').dataset.grid === g, here.grid.code, { timeout: 5000 });
  const shown = await page.textContent('#create-grid');
  check(shown.includes(here.grid.name) && shown.includes(here.grid.code), `grid shown before saving: ${shown}`);
  check(await count() === n0, 'an incident was created by picking the point');
  await shot(page, 'picked');
  await page.focus('#create input[name=address]');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.querySelector('#create').hidden && !document.querySelector('.maplibregl-marker'), null, { timeout: 3000 });
  check(await count() === n0, 'Esc created an incident');
  step(`check 1: picked point shows "${shown.trim()}" before saving; Esc cancels`);

  // 2. Address and caller.
  await page.click('#new-incident');
  await clickMap(page, point);
  await page.waitForFunction((g) => document.querySelector('#create-grid').dataset.grid === g, here.grid.code, { timeout: 5000 });
  await page.selectOption('#create-category', 'dispute');
  await page.fill('#create input[name=address]', '秦淮区中华路 88 号');
  await page.fill('#create input[name=caller]', '王女士 13800000000');
  await page.fill('#create input[name=description]', '邻里纠纷');
  await page.click('#create button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#detail').dataset.incident && document.querySelector('#create').hidden, null, { timeout: 5000 });
  const id = Number(await page.evaluate(() => document.querySelector('#detail').dataset.incident));
  const saved = await call(base, 'GET', `/incidents/${id}`);
  check(saved.address === '秦淮区中华路 88 号' && saved.caller === '王女士 13800000000' && saved.description === '邻里纠纷', `saved: ${JSON.stringify(saved)}`);
  const facts = await page.textContent('#d-facts');
  check(facts.includes('秦淮区中华路 88 号') && facts.includes('王女士 13800000000'), `the card does not show the address and caller: ${facts}`);
  step(`check 2: #${id} saved with address "${saved.address}", caller "${saved.caller}" and description "${saved.description}"`);

  // 3. Search areas.
  await page.waitForFunction(() => Number(document.body.dataset.areaNames) > 0, null, { timeout: 5000 });
  const grid = await call(base, 'GET', `/areas/grids/${here.grid.code}?geometry=false`);
  const community = await call(base, 'GET', `/areas/communities/${here.community.code}?geometry=false`);
  const street = await call(base, 'GET', `/areas/streets/${here.street.code}?geometry=false`);
  const other = await call(base, 'GET', `/locate?lon=${point2[0]}&lat=${point2[1]}`);
  const cases = [[here.grid.code, 'grids', grid], [other.grid.name, 'grids', await call(base, 'GET', `/areas/grids/${other.grid.code}?geometry=false`)],
    [community.name, 'communities', community], [street.name, 'streets', street]];
  for (const [q, layer, a] of cases) {
    await page.fill('#search', q);
    await page.press('#search', 'Enter');
    await page.waitForFunction((want) => document.body.dataset.searchHit === want, `${layer}:${a.code}`, { timeout: 5000 });
    await page.waitForFunction(() => !window.gridmapMap.isMoving(), null, { timeout: 5000 });
    const c = await page.evaluate(() => window.gridmapMap.getCenter().toArray());
    const [x0, y0, x1, y1] = a.bbox;
    check(c[0] >= x0 && c[0] <= x1 && c[1] >= y0 && c[1] <= y1, `search "${q}": centre ${c} outside ${a.bbox}`);
    if (layer === 'grids') check(await page.evaluate(() => document.body.dataset.selectedGrid) === a.code, `search "${q}" did not highlight ${a.code}`);
  }
  await shot(page, 'search-area');
  step(`check 3: search by grid code, grid name, community "${community.name}" and street "${street.name}"`);

  // 4. Coordinates, WGS84 and GCJ-02.
  const target = [point2[0] + 0.0013, point2[1] - 0.0011];
  const at = await call(base, 'GET', `/locate?lon=${target[0]}&lat=${target[1]}`);
  await page.fill('#search', `${target[0]},${target[1]}`);
  await page.press('#search', 'Enter');
  await page.waitForFunction((g) => document.querySelector('#place-codes')?.textContent.includes(g), at.grid.code, { timeout: 5000 });
  await page.waitForFunction(() => !window.gridmapMap.isMoving(), null, { timeout: 5000 });
  let c = await page.evaluate(() => window.gridmapMap.getCenter().toArray());
  check(Math.abs(c[0] - target[0]) < 1e-5 && Math.abs(c[1] - target[1]) < 1e-5, `WGS84 search centre ${c}, wanted ${target}`);
  const [gx, gy] = wgs84ToGcj02(...target);
  await page.check('#search-gcj');
  await page.fill('#search', `${gx.toFixed(7)}, ${gy.toFixed(7)}`);
  await page.press('#search', 'Enter');
  await sleep(200);
  await page.waitForFunction(() => !window.gridmapMap.isMoving(), null, { timeout: 5000 });
  c = await page.evaluate(() => window.gridmapMap.getCenter().toArray());
  const off = Math.hypot((c[0] - target[0]) * 94000, (c[1] - target[1]) * 111000);
  check(off < 1, `GCJ-02 search lands ${off.toFixed(2)} m from the point`);
  check((await page.textContent('#place-codes')).includes(at.grid.code), 'no place card for the GCJ-02 point');
  await shot(page, 'search-coords');
  step(`check 4: WGS84 coordinates fly there with the place card; GCJ-02 ${gx.toFixed(5)},${gy.toFixed(5)} lands ${off.toFixed(2)} m from the WGS84 point`);
});
