// Dispatch on real roads in the console (issue 28): with a road network loaded (POST /roads, a street grid drawn
// around the sample's point, one street left out so the straight line is wrong), a recommendation says "by road",
// the first candidate's route is drawn on the map following the streets (its length is the route's, not the straight
// line's), and the analysis card's coverage layer colours the grids by minutes to the nearest available unit.
// Checks:
//  1. The candidate's line reads "沿路 N m" with N the road distance the API answers (≥ the straight line).
//  2. The route source holds the /route answer for that unit's profile: a LineString of more than two points whose
//     ends are the unit and the incident.
//  3. The coverage layer (网格专题图 → minutes to the nearest unit) asks /dispatch/coverage, says its ETAs are by road,
//     sets a value on the grids, and the legend reads in minutes.
// Usage: node roads.mjs BASE_URL SHOTS_DIR FIXTURES_JSON
// FIXTURES_JSON: {"point": [lon, lat]} (optional; default [118.79, 32.02])
import { suite, call, check, idle } from './common.mjs';

const { base, fx, step, shot, open, run } = await suite('roads');
const point = fx.point || [118.79, 32.02];

/** GeoJSON lines of a `n × n` street grid around `c`, `m` metres apart; the street `skip` columns east is cut. */
function streetGrid(c, n, m) {
  const dlat = m / 111195;
  const dlon = dlat / Math.cos((c[1] * Math.PI) / 180);
  const at = (i, j) => [c[0] + (i - n / 2) * dlon, c[1] + (j - n / 2) * dlat];
  const features = [];
  const line = (a, b, id) => features.push({ type: 'Feature', properties: { highway: 'residential', name: `测试路${id}` },
    geometry: { type: 'LineString', coordinates: [a, b] } });
  for (let i = 0; i <= n; i++) {
    for (let j = 0; j <= n; j++) {
      if (i < n) line(at(i, j), at(i + 1, j), `${i}-${j}e`);
      // The north–south street just east of the centre runs only along the grid's edge: the way north from the
      // middle goes round.
      if (j < n && !(i === n / 2 + 1 && j > 0 && j < n - 1)) line(at(i, j), at(i, j + 1), `${i}-${j}n`);
    }
  }
  return { type: 'FeatureCollection', features };
}

await run(async () => {
  const form = new FormData();
  form.append('file', new Blob([JSON.stringify(streetGrid(point, 12, 100))], { type: 'application/geo+json' }), 'streets.geojson');
  const imported = await fetch(`${base}/api/v1/roads`, { method: 'POST', body: form });
  check(imported.status === 201, `road import: ${imported.status} ${await imported.text()}`);
  const dlat = 100 / 111195;
  const dlon = dlat / Math.cos((point[1] * Math.PI) / 180);
  // A vehicle on the cut street, 300 m north of the incident: by road it must go round.
  const unitAt = [point[0] + dlon, point[1] + 3 * dlat];
  const incAt = [point[0] + dlon, point[1]];
  const truck = await call(base, 'POST', '/responders', { name: '巡逻车甲', kind: 'vehicle', skills: ['fire'], location: unitAt });
  const inc = await call(base, 'POST', '/incidents', { location: incAt, category: 'fire', priority: 3, description: '沿路测试' });
  const rec = await call(base, 'POST', `/incidents/${inc.id}/recommend`, { k: 5 });
  const c = rec.candidates.find((x) => x.responder_id === truck.id);
  check(c && c.eta_method === 'road' && c.road_distance_m > c.distance_m + 100, `the API's candidate: ${JSON.stringify(c)}`);

  const page = await open('A', { hash: `#16/${incAt[1]}/${incAt[0]}` });
  await page.click(`#queue li[data-incident="${inc.id}"]`);
  await page.waitForFunction((id) => document.querySelector('#detail').dataset.incident === String(id), inc.id);
  await page.click('#recommend');
  await page.waitForSelector(`#candidates .cand[data-responder="${truck.id}"]`, { timeout: 5000 });

  // 1. "By road" on the candidate's line.
  const text = await page.textContent(`#candidates .cand[data-responder="${truck.id}"]`);
  const m = text.match(/沿路\s*(\d+)\s*m/);
  check(m && Math.abs(Number(m[1]) - c.road_distance_m) <= 1, `candidate line "${text}" vs road distance ${c.road_distance_m}`);
  step(`check 1: candidate reads "${text.replace(/\s+/g, ' ').trim()}"`);

  // 2. The route on the map.
  await page.waitForFunction(() => Number(document.body.dataset.routeDrawn) > 2, null, { timeout: 5000 });
  const line = await page.evaluate(() => window.gridmapMap.getSource('route').serialize().data.features[0].geometry);
  const route = await call(base, 'GET', `/route?from=${unitAt.join(',')}&to=${incAt.join(',')}&profile=vehicle`);
  check(JSON.stringify(line.coordinates) === JSON.stringify(route.geometry.coordinates), 'the drawn route is not the /route answer');
  const near = (a, b) => Math.abs(a[0] - b[0]) < 1e-6 && Math.abs(a[1] - b[1]) < 1e-6;
  check(near(line.coordinates[0], unitAt) && near(line.coordinates.at(-1), incAt), `route ends: ${JSON.stringify([line.coordinates[0], line.coordinates.at(-1)])}`);
  check(Math.abs(route.distance_m - c.road_distance_m) < 1, `route ${route.distance_m} m vs candidate ${c.road_distance_m} m`);
  await idle(page);
  step(`check 2: route drawn, ${line.coordinates.length} points, ${route.distance_m} m, ${Math.round(route.eta_s)} s`);
  await shot(page, 'route');

  // 3. The coverage layer.
  const asked = [];
  page.on('request', (r) => { if (r.url().includes('/dispatch/coverage')) asked.push(r.url()); });
  await page.evaluate(() => window.gridmapMap.zoomTo(13, { duration: 0 }));
  await page.selectOption('#choro-metric', 'reach_minutes');
  await page.waitForFunction(() => document.body.dataset.coverage && document.body.dataset.choropleth?.startsWith('reach_minutes:'), null, { timeout: 10000 });
  const cov = await page.evaluate(() => [document.body.dataset.coverage, document.body.dataset.choropleth]);
  check(asked.length >= 1 && cov[0].startsWith('road:'), `coverage: ${cov} after ${asked}`);
  check(Number(cov[1].split(':')[1]) > 0, `no grid got a value: ${cov[1]}`);
  const legend = await page.evaluate(() => [document.querySelector('#legend').hidden, document.querySelector('#legend-max').textContent]);
  check(!legend[0] && /min$/.test(legend[1]), `legend: ${legend}`);
  await idle(page);
  step(`check 3: coverage ${cov[0]}, ${cov[1]}, legend up to ${legend[1]}`);
  await shot(page, 'coverage');
});
