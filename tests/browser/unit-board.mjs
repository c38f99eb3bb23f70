// The unit board (issue 34, "missing for a dispatcher": units with kind, status, current incident, position age and
// grid; filter and sort; click → the map flies there; clicking a responder on the map shows it).
// Checks:
//  1. Each unit made here is listed with its kind's icon and label, its status, its grid's name (not the code), the
//     incident it is assigned to (#id) and its position age ("30 分钟前" for a fix 30 min old).
//  2. Kind, status and text filters narrow the list; sorting by fix age puts the oldest fix last.
//  3. An assignment made elsewhere (API) shows on the board through the live feed.
//  4. A click on a row flies the map to the unit and opens its popup; a click on the unit's dot on the map does too.
//  5. Kind icons are drawn on the map (layer responders-kind).
// Usage: node unit-board.mjs BASE_URL SHOTS_DIR FIXTURES_JSON
// FIXTURES_JSON: {"point": [lon, lat]} (optional; default [118.79, 32.02])
import { suite, call, check, clickMap, idle } from './common.mjs';

const { base, fx, step, shot, open, run } = await suite('unit-board');
const point = fx.point || [118.79, 32.02];
const rowOf = (page, id) => page.evaluate((i) => {
  const tr = document.querySelector(`#units tr[data-unit="${i}"]`);
  return tr && { text: tr.textContent.replace(/\s+/g, ' ').trim(), icon: tr.querySelector('svg.kind-icon')?.getAttribute('aria-label'), incident: tr.querySelector('a[data-incident]')?.dataset.incident };
}, id);
const listed = (page) => page.$$eval('#units tr[data-unit]', (rows) => rows.map((r) => Number(r.dataset.unit)));

await run(async () => {
  const tag = String(Date.now() % 100000);
  const make = (name, kind, at, extra = {}) => call(base, 'POST', '/responders', { name: `${name}${tag}`, kind, skills: ['fire'], location: at, ...extra });
  const walker = await make('步巡员', 'grid_worker', [point[0] + 0.002, point[1]]);
  const biker = await make('执法队员', 'enforcement', [point[0] - 0.002, point[1]]);
  const truck = await make('消防车', 'vehicle', [point[0], point[1] + 0.002]);
  const old = await make('老定位', 'grid_worker', [point[0], point[1] - 0.002], { at: new Date(Date.now() - 30 * 60e3).toISOString() });
  const inc = await call(base, 'POST', '/incidents', { location: point, category: 'fire', priority: 2 });
  await call(base, 'POST', `/incidents/${inc.id}/assign`, { responder_id: biker.id });
  const place = await call(base, 'GET', `/locate?lon=${walker.location[0]}&lat=${walker.location[1]}`);

  const page = await open('A', { hash: `#14/${point[1]}/${point[0]}` });
  await page.waitForFunction((id) => document.querySelector(`#units tr[data-unit="${id}"] a[data-incident]`), biker.id, { timeout: 10000 });
  // Grid names arrive after the first render of the map.
  await page.waitForFunction(([id, name]) => document.querySelector(`#units tr[data-unit="${id}"] td.grid`)?.textContent.includes(name), [walker.id, place.grid.name], { timeout: 10000 });

  // 1. What a row tells.
  const w = await rowOf(page, walker.id), b = await rowOf(page, biker.id), v = await rowOf(page, truck.id), o = await rowOf(page, old.id);
  check(w.icon === '网格员' && /可调派/.test(w.text) && w.text.includes(place.grid.name) && !w.text.includes(place.grid.code), `walker row: ${JSON.stringify(w)}`);
  check(b.icon.startsWith('城管执法') && /执行中/.test(b.text) && b.incident === String(inc.id), `biker row: ${JSON.stringify(b)}`);
  check(v.icon === '车辆', `vehicle row: ${JSON.stringify(v)}`);
  check(/30\s*分钟前/.test(o.text), `stale row: ${JSON.stringify(o)}`);
  step(`check 1: rows: "${w.text}" / "${b.text}" / "${o.text}"`);
  await shot(page, 'board');

  // 2. Filters and sort.
  await page.selectOption('#u-kind', 'vehicle');
  let ids = await listed(page);
  check(ids.includes(truck.id) && !ids.includes(walker.id) && !ids.includes(biker.id), `kind filter: ${ids}`);
  await page.selectOption('#u-kind', '');
  await page.selectOption('#u-status', 'busy');
  ids = await listed(page);
  check(ids.includes(biker.id) && !ids.includes(walker.id), `status filter: ${ids}`);
  await page.selectOption('#u-status', '');
  await page.fill('#u-filter', `老定位${tag}`);
  await page.waitForFunction(() => document.querySelectorAll('#units tr[data-unit]').length === 1, null, { timeout: 3000 });
  ids = await listed(page);
  check(ids.length === 1 && ids[0] === old.id, `text filter: ${ids}`);
  await page.fill('#u-filter', tag);
  await page.waitForFunction(() => document.querySelectorAll('#units tr[data-unit]').length === 4, null, { timeout: 3000 });
  await page.selectOption('#u-sort', 'age');
  ids = await listed(page);
  check(ids.at(-1) === old.id, `sorted by fix age, the oldest is not last: ${ids}`);
  step('check 2: kind, status and text filters; sort by fix age');

  // 3. Live: an assignment made elsewhere.
  const inc2 = await call(base, 'POST', '/incidents', { location: truck.location, category: 'fire', priority: 3 });
  await call(base, 'POST', `/incidents/${inc2.id}/assign`, { responder_id: truck.id });
  await page.waitForFunction(([u, i]) => document.querySelector(`#units tr[data-unit="${u}"] a[data-incident="${i}"]`), [truck.id, inc2.id], { timeout: 8000 });
  step(`check 3: the vehicle's new incident #${inc2.id} shown through the live feed`);

  // 4. Row click → map; dot click → popup.
  await page.click(`#units tr[data-unit="${walker.id}"]`);
  await page.waitForFunction((ll) => { const c = window.gridmapMap.getCenter(); return Math.abs(c.lng - ll[0]) < 3e-4 && Math.abs(c.lat - ll[1]) < 3e-4 && !window.gridmapMap.isMoving(); }, walker.location, { timeout: 5000 });
  const popup = await page.textContent('.maplibregl-popup .unit-card');
  check(popup.includes(walker.name), `popup: ${popup}`);
  await page.keyboard.press('Escape');
  await idle(page);
  await clickMap(page, truck.location);
  await page.waitForFunction((n) => document.querySelector('.maplibregl-popup .unit-card')?.textContent.includes(n), truck.name, { timeout: 5000 });
  check(await page.evaluate(() => document.body.dataset.unit) === String(truck.id), 'the clicked unit is not selected');
  step('check 4: a row click flies to the unit with its popup; a click on its dot shows it');

  // 5. Kind icons on the map.
  const icons = await page.evaluate(() => window.gridmapMap.queryRenderedFeatures({ layers: ['responders-kind'] }).map((f) => f.properties.kind));
  check(icons.includes('vehicle') && icons.includes('grid_worker'), `kind icons drawn: ${icons}`);
  step(`check 5: ${icons.length} kind icons drawn`);
  await shot(page, 'unit-popup');
});
