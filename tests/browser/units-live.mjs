// Units move on the map from the live feed, without re-downloading tiles (issue 34, "every position fix makes each
// console re-download responder tiles").
// Checks:
//  1. 40 responders created through the API are drawn on `responders-circle` after the page loads.
//  2. While they send 10 fixes each (10 batches of 40 through POST /api/v1/positions), every unit ends up drawn at
//     its last fix (queryRenderedFeatures), and the console fetched no responder tile and at most 6 tiles of any
//     layer meanwhile (before the fix: one re-download of every visible responder tile per fix).
//  3. Fixes sent while the live feed is down are picked up after it reconnects (GET /api/v1/responders again), and
//     still without responder tile requests.
//  4. 2 000 more units (a drill roster) send 3 rounds of fixes: all drawn at their last fix, no responder tile, the
//     board counts every unit and draws 200 rows; the main thread's long tasks are reported.
// Usage: node units-live.mjs BASE_URL SHOTS_DIR FIXTURES_JSON
// FIXTURES_JSON: {"point": [lon, lat]} (optional; default [118.79, 32.02]: inside the sample boundaries)
import { suite, call, check, idle, sleep } from './common.mjs';

const { base, fx, step, shot, open, run } = await suite('units-live');
const point = fx.point || [118.79, 32.02];
const UNITS = 40, ROUNDS = 10, STEP = 0.0002;
const KINDS = ['grid_worker', 'enforcement', 'vehicle'];

/** Where the test's units are drawn: id → [lon, lat]. */
const drawn = (page, ids) => page.evaluate((want) => {
  const out = {};
  for (const f of window.gridmapMap.queryRenderedFeatures({ layers: ['responders-circle'] })) {
    if (want.includes(f.properties.id)) out[f.properties.id] = f.geometry.coordinates;
  }
  return out;
}, ids);
const near = (a, b) => a && Math.abs(a[0] - b[0]) < 6e-5 && Math.abs(a[1] - b[1]) < 6e-5;

await run(async () => {
  const start = new Map();
  const ids = [];
  const tag = Date.now() % 100000;
  for (let i = 0; i < UNITS; i++) {
    const at = [point[0] - 0.008 + (i % 8) * 0.002, point[1] - 0.004 + Math.floor(i / 8) * 0.002];
    const r = await call(base, 'POST', '/responders', { name: `测试单位${tag}-${i}`, kind: KINDS[i % 3], skills: [], location: at });
    ids.push(r.id);
    start.set(r.id, at);
  }
  step(`${UNITS} responders created (ids ${ids[0]}…${ids.at(-1)})`);

  const page = await open('A', { hash: `#15/${point[1]}/${point[0]}` });
  await page.waitForFunction((want) => {
    const got = new Set(window.gridmapMap.queryRenderedFeatures({ layers: ['responders-circle'] }).map((f) => f.properties.id));
    return want.every((id) => got.has(id));
  }, ids, { timeout: 15000, polling: 250 });
  step(`check 1: all ${UNITS} units drawn`);
  await idle(page);

  const tiles = { all: 0, responders: 0 };
  let roster = 0;
  page.on('request', (r) => {
    const u = r.url();
    if (u.includes('/tiles/') && u.includes('.mvt')) {
      tiles.all++;
      if (u.includes('/tiles/responders/')) tiles.responders++;
    }
    if (/\/api\/v1\/responders(\?|$)/.test(u)) roster++;
  });
  const t0 = Date.now();
  for (let round = 1; round <= ROUNDS; round++) {
    const positions = ids.map((id) => ({ responder_id: id, location: [start.get(id)[0] + round * STEP, start.get(id)[1]] }));
    await call(base, 'POST', '/positions', { positions });
    await sleep(100);
  }
  const last = (id) => [start.get(id)[0] + ROUNDS * STEP, start.get(id)[1]];
  await page.waitForFunction(([want, fin]) => {
    const got = {};
    for (const f of window.gridmapMap.queryRenderedFeatures({ layers: ['responders-circle'] })) got[f.properties.id] = f.geometry.coordinates;
    return want.every((id, i) => got[id] && Math.abs(got[id][0] - fin[i][0]) < 6e-5 && Math.abs(got[id][1] - fin[i][1]) < 6e-5);
  }, [ids, ids.map(last)], { timeout: 15000, polling: 100 });
  const moved = Date.now() - t0;
  await idle(page);
  await sleep(500);
  const where = await drawn(page, ids);
  const off = ids.filter((id) => !near(where[id], last(id)));
  check(!off.length, `units not at their last fix: ${off.join(', ')}`);
  step(`check 2: ${UNITS * ROUNDS} fixes from ${UNITS} units drawn in place (${moved} ms for all); tile requests meanwhile: `
    + `${tiles.responders} responder tiles, ${tiles.all} tiles in all`);
  check(tiles.responders === 0, `${tiles.responders} responder tile requests during ${UNITS * ROUNDS} fixes (none expected)`);
  check(tiles.all <= 6, `${tiles.all} tile requests during ${UNITS * ROUNDS} fixes (at most 6 expected)`);
  const during = { ...tiles };
  await shot(page, 'units-moved');

  // 3. Reconnect: fixes sent while the feed is down come from GET /responders once it is back.
  const rosterBefore = roster;
  const respondersBefore = tiles.responders;
  await page.evaluate(() => window.gridmapDebug.dropLive());
  await page.waitForFunction(() => document.querySelector('#live').classList.contains('off'), null, { timeout: 5000 });
  const offline = ids.slice(0, 5).map((id) => ({ responder_id: id, location: [start.get(id)[0], start.get(id)[1] + 0.001] }));
  await call(base, 'POST', '/positions', { positions: offline });
  await page.waitForFunction(() => document.querySelector('#live').classList.contains('on'), null, { timeout: 10000 });
  await page.waitForFunction((want) => {
    const got = {};
    for (const f of window.gridmapMap.queryRenderedFeatures({ layers: ['responders-circle'] })) got[f.properties.id] = f.geometry.coordinates;
    return want.every((p) => got[p.responder_id] && Math.abs(got[p.responder_id][1] - p.location[1]) < 6e-5);
  }, offline, { timeout: 10000, polling: 100 });
  check(roster > rosterBefore, 'the roster was not fetched again after the reconnect');
  // Incident tiles may be fetched again (incident events may have been missed too); responder tiles never.
  check(tiles.responders === respondersBefore, `${tiles.responders - respondersBefore} responder tile requests on reconnect`);
  step(`check 3: after a reconnect the 5 units moved while offline are drawn at their fixes (roster fetched ${roster - rosterBefore}×)`);

  // 4. A district's fleet: 2 000 more units (a drill roster through POST /responders/load) reporting 3 rounds of
  //    fixes: every one drawn at its last fix, still no responder tile, the board counts them all but draws 200 rows.
  const BIG = 2000, BIG_ROUNDS = 3, side = Math.ceil(Math.sqrt(BIG));
  const spot = (i) => [point[0] - 0.009 + (i % side) * 0.0004, point[1] - 0.006 + Math.floor(i / side) * 0.0003];
  const csv = ['name,kind,skills,team,home_grid,status,lon,lat,at']
    .concat(Array.from({ length: BIG }, (_, i) => `演练${tag}-${i},${KINDS[i % 3]},,,,available,${spot(i)[0]},${spot(i)[1]},`)).join('\n');
  const loaded = await fetch(`${base}/api/v1/responders/load`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
  check(loaded.ok, `roster load: ${loaded.status} ${await loaded.text()}`);
  const roster2 = await call(base, 'GET', '/responders');
  const big = roster2.items.filter((r) => r.name.startsWith(`演练${tag}-`)).map((r) => r.id);
  check(big.length === BIG, `${big.length} drill units stored`);
  const total = roster2.items.length;
  await page.waitForFunction((n) => Number(document.querySelector('#units-count').dataset.total) === n, total, { timeout: 15000 });
  const tilesBefore = tiles.responders;
  // Every drill unit in view (the panels leave the map less than the window).
  await page.evaluate(([a, b]) => window.gridmapMap.fitBounds([a, b], { padding: 40, duration: 0 }),
    [[spot(0)[0] - 0.001, spot(0)[1] - 0.001], [spot(BIG - 1)[0] + 0.002, spot(BIG - 1)[1] + 0.001]]);
  await idle(page);
  await page.evaluate(() => {
    window.gridmapLongTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.gridmapLongTasks.push(e.duration); }).observe({ type: 'longtask' });
  });
  const t1 = Date.now();
  for (let round = 1; round <= BIG_ROUNDS; round++) {
    const positions = big.map((id, i) => ({ responder_id: id, location: [spot(i)[0] + round * 0.0001, spot(i)[1]] }));
    await call(base, 'POST', '/positions', { positions });
  }
  const lastBig = big.map((_, i) => [spot(i)[0] + BIG_ROUNDS * 0.0001, spot(i)[1]]);
  const placed = ([want, fin]) => {
    const got = {};
    for (const f of window.gridmapMap.queryRenderedFeatures({ layers: ['responders-circle'] })) got[f.properties.id] = f.geometry.coordinates;
    const drawnNow = want.filter((id) => got[id]).length;
    const there = want.filter((id, i) => got[id] && Math.abs(got[id][0] - fin[i][0]) < 6e-5).length;
    return { drawn: drawnNow, there, live: document.querySelector('#live').className };
  };
  await page.waitForFunction(([want, fin, f]) => {
    const r = new Function(`return (${f})`)()([want, fin]);
    return r.there === want.length;
  }, [big, lastBig, placed.toString()], { timeout: 30000, polling: 250 }).catch(async (e) => {
    throw new Error(`${e.message}: ${JSON.stringify(await page.evaluate(placed, [big, lastBig]))} of ${big.length}`);
  });
  const bigMoved = Date.now() - t1;
  const rows = await page.$$eval('#units tbody tr', (l) => l.length);
  check(rows === 200, `${rows} board rows for ${total} units (200 expected)`);
  check(tiles.responders === tilesBefore, `${tiles.responders - tilesBefore} responder tile requests during ${BIG * BIG_ROUNDS} fixes`);
  const tasks = await page.evaluate(() => window.gridmapLongTasks);
  await shot(page, 'units-2000');
  step(`check 4: ${BIG * BIG_ROUNDS} fixes from ${BIG} more units all drawn at their last fix in ${bigMoved} ms; board ${rows} rows of ${total}; `
    + `0 responder tiles; main-thread tasks over 50 ms: ${tasks.length} (longest ${Math.round(Math.max(0, ...tasks))} ms)`);
  console.log(JSON.stringify({ fixes: UNITS * ROUNDS, responder_tile_requests: during.responders, tile_requests: during.all, ms_to_last_fix: moved,
    big_units: BIG, big_fixes: BIG * BIG_ROUNDS, big_ms_to_last_fix: bigMoved, long_tasks: tasks.length, longest_task_ms: Math.round(Math.max(0, ...tasks)) }));
});
