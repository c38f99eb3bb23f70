// Units move on the map from the live feed, without re-downloading tiles (issue 34, "every position fix makes each
// console re-download responder tiles").
// Checks:
//  1. 40 responders created through the API are drawn on `responders-circle` after the page loads.
//  2. While they send 10 fixes each (10 batches of 40 through POST /api/v1/positions), every unit ends up drawn at
//     its last fix (queryRenderedFeatures), and the console fetched at most 2 responder tiles and at most 6 tiles of
//     any layer meanwhile (before the fix: one re-download of every visible responder tile per fix).
//  3. Fixes sent while the live feed is down are picked up after it reconnects (GET /api/v1/responders again), and
//     still without responder tile requests.
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
  check(tiles.responders <= 2, `${tiles.responders} responder tile requests during ${UNITS * ROUNDS} fixes (at most 2 expected)`);
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
  console.log(JSON.stringify({ fixes: UNITS * ROUNDS, responder_tile_requests: during.responders, tile_requests: during.all, ms_to_last_fix: moved }));
});
