// Alerts and a queue that scales (issue 34, "missing for a dispatcher").
// Checks:
//  1. A new priority-1 incident (made through the API) flashes in the queue, puts "(1) 新警情" in the tab title and
//     plays the alert sound (WebAudio; counted in body[data-alert-sounds]).
//  2. The sound switch: off → a priority-2 incident plays nothing (title counts 2); the choice survives a reload
//     (localStorage); opening an alerted incident takes it off the title count.
//  3. With 130+ open incidents: the total is the server's count, 100 rows a page, the next page holds the rest.
//  4. Sorted by report time (default) the newest is first; by priority a P1 is first. Rows carry priority, address
//     and grid/community names, not 14-digit codes.
//  5. The grid filter takes a partial code (the community's 12 digits) or a grid name; the map's incident layer is
//     filtered the same way (its filter names the matching grids; only their incidents are drawn); the category
//     filter filters the map too.
//  6. Below z15 the clusters count only what the filters let through (the tiles are asked for the same filters).
//  7. An incident whose deadline passes while the console is open flashes, counts in the title and is marked 超时.
// Usage: node alerts-queue.mjs BASE_URL SHOTS_DIR FIXTURES_JSON
// FIXTURES_JSON: {"point": [lon, lat]} (optional; default [118.79, 32.02])
import { suite, call, check, idle, sleep } from './common.mjs';

const { base, fx, step, shot, open, run } = await suite('alerts-queue');
const point = fx.point || [118.79, 32.02];

async function openCount() {
  let n = 0, cursor = null;
  do {
    const page = await call(base, 'GET', `/incidents?status=reported,dispatched,on_scene&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    n += page.items.length;
    cursor = page.next_cursor;
  } while (cursor);
  return n;
}

await run(async () => {
  // 130 ordinary incidents around the point, priorities 3–5.
  const made = [];
  for (let i = 0; i < 130; i++) {
    const at = [point[0] - 0.01 + (i % 13) * 0.0016, point[1] - 0.008 + Math.floor(i / 13) * 0.0016];
    made.push(await call(base, 'POST', '/incidents', { location: at, category: i % 4 ? 'sanitation' : 'traffic', priority: 3 + (i % 3), address: `测试路 ${i} 号` }));
  }
  const page = await open('A', { hash: `#15/${point[1]}/${point[0]}` });
  await page.waitForFunction(() => Number(document.querySelector('#queue-total').dataset.total) >= 130, null, { timeout: 10000 });
  await page.waitForFunction(() => Number(document.body.dataset.areaNames) > 0, null, { timeout: 10000 });

  // 1. An urgent incident.
  const sounds = async () => Number(await page.evaluate(() => document.body.dataset.alertSounds || 0));
  const before = await sounds();
  const p1 = await call(base, 'POST', '/incidents', { location: point, category: 'fire', priority: 1, address: '紧急路 1 号' });
  await page.waitForSelector(`#queue li.flash[data-incident="${p1.id}"]`, { timeout: 5000 });
  const title1 = await page.title();
  check(title1.startsWith('(1) 新警情'), `title after a P1: ${title1}`);
  check(await sounds() === before + 1, 'no sound for the P1 incident');
  step(`check 1: P1 #${p1.id} flashes, title "${title1}", sound played (audio ${await page.evaluate(() => document.body.dataset.audioState)})`);
  await shot(page, 'alert');

  // 2. Sound off, remembered; opening takes it off the count.
  await page.click('#sound');
  check(await page.getAttribute('#sound', 'aria-pressed') === 'false', 'the sound switch did not turn off');
  const p2 = await call(base, 'POST', '/incidents', { location: point, category: 'medical', priority: 2 });
  await page.waitForSelector(`#queue li.flash[data-incident="${p2.id}"]`, { timeout: 5000 });
  check((await page.title()).startsWith('(2)'), `title after a P2: ${await page.title()}`);
  check(await sounds() === before + 1, 'a sound played with the sound switched off');
  await page.click(`#queue li[data-incident="${p1.id}"]`);
  await page.waitForFunction(() => document.title.startsWith('(1)'), null, { timeout: 3000 });
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.firstIdleMs && document.querySelector('#live.on') && Number(document.body.dataset.areaNames) > 0, null, { timeout: 20000 });
  check(await page.getAttribute('#sound', 'aria-pressed') === 'false', 'the sound switch was not remembered');
  step('check 2: sound off is silent and remembered after a reload; opening an alert takes it off the title');

  // 3. Total and pages.
  const total = await openCount();
  await page.waitForFunction((n) => Number(document.querySelector('#queue-total').dataset.total) === n, total, { timeout: 10000 });
  const label = await page.textContent('#queue-total');
  check(label.includes(String(total)), `total label ${label} (server ${total})`);
  const rows1 = await page.$$eval('#queue li', (l) => l.length);
  check(rows1 === 100, `${rows1} rows on the first page`);
  await page.click('#q-next');
  const rows2 = await page.$$eval('#queue li', (l) => l.length);
  check(rows2 === total - 100, `${rows2} rows on the second page (expected ${total - 100})`);
  await page.click('#q-prev');
  step(`check 3: "${label}", pages of ${rows1} + ${rows2}`);

  // 4. Sort and what a row shows.
  const first = () => page.$eval('#queue li', (li) => ({ id: Number(li.dataset.incident), priority: Number(li.dataset.priority), text: li.textContent.replace(/\s+/g, ' ') }));
  const newest = await first();
  check(newest.id === p2.id, `newest first: #${newest.id}, expected #${p2.id}`);
  await page.selectOption('#q-sort', 'priority');
  const top = await first();
  check(top.priority === 1 && top.id === p1.id, `by priority the first row is #${top.id} P${top.priority}`);
  check(/P1/.test(top.text) && top.text.includes('紧急路 1 号') && /社区第\d+网格/.test(top.text) && !/\d{14}/.test(top.text), `row text: ${top.text}`);
  await page.selectOption('#q-sort', 'time');
  step(`check 4: newest first #${newest.id}; by priority #${top.id}; row "${top.text.trim().slice(0, 70)}…"`);

  // 5. Grid filter by partial code and by name; the map follows.
  const here = await call(base, 'GET', `/locate?lon=${point[0]}&lat=${point[1]}`);
  const community = here.grid.code.slice(0, 12);
  await page.fill('#f-grid', community);
  await sleep(300);
  const codes = await page.$$eval('#queue li .place', (l) => l.map((s) => s.title));
  check(codes.length > 0 && codes.every((c) => c.startsWith(community)), `partial code ${community}: ${codes.slice(0, 5)}`);
  await page.fill('#f-grid', here.grid.name);
  await sleep(300);
  const byName = await page.$$eval('#queue li .place', (l) => l.map((s) => s.title));
  check(byName.length > 0 && byName.every((c) => c === here.grid.code), `grid name ${here.grid.name}: ${byName}`);
  await idle(page);
  const filter = JSON.stringify(await page.evaluate(() => window.gridmapMap.getFilter('incidents-circle')));
  check(filter.includes(here.grid.code) && filter.includes('grid_code'), `map filter: ${filter}`);
  const drawn = await page.evaluate(() => window.gridmapMap.queryRenderedFeatures({ layers: ['incidents-circle'] }).filter((f) => !f.properties.cluster).map((f) => f.properties.grid_code));
  check(drawn.length > 0 && drawn.every((c) => c === here.grid.code), `incidents drawn with the grid filter: ${[...new Set(drawn)]}`);
  await shot(page, 'grid-filter');
  await page.fill('#f-grid', '');
  await page.selectOption('#f-category', 'traffic');
  await page.waitForFunction(() => JSON.stringify(window.gridmapMap.getFilter('incidents-circle')).includes('traffic'), null, { timeout: 5000 });
  await idle(page);
  const cats = await page.evaluate(() => window.gridmapMap.queryRenderedFeatures({ layers: ['incidents-circle'] }).filter((f) => !f.properties.cluster).map((f) => f.properties.category));
  check(cats.length > 0 && cats.every((c) => c === 'traffic'), `incidents drawn with the category filter: ${[...new Set(cats)]}`);
  step(`check 5: partial code → ${codes.length} rows, name → ${byName.length} rows, map drawn ${drawn.length} of that grid; category filter on the map`);

  // 6. Below z15 incidents merge into clusters: the tiles are asked for the queue's filters, so the clusters count
  //    only the traffic incidents (33 of the 130), not every open one.
  const urls = [];
  page.on('request', (r) => { if (r.url().includes('/tiles/incidents/')) urls.push(r.url()); });
  const onMap = () => page.evaluate(() => window.gridmapMap.queryRenderedFeatures({ layers: ['incidents-circle'] })
    .reduce((n, f) => n + (f.properties.cluster ? Number(f.properties.count) : 1), 0));
  await page.evaluate((c) => window.gridmapMap.jumpTo({ center: c, zoom: 12.5 }), point);
  await idle(page);
  const traffic = await onMap();
  check(urls.some((u) => u.includes('category=traffic')), `incident tiles asked for the category: ${urls.slice(0, 3)}`);
  await page.selectOption('#f-category', '');
  await page.waitForFunction(() => !JSON.stringify(window.gridmapMap.getFilter('incidents-circle')).includes('traffic'), null, { timeout: 5000 });
  await sleep(300);
  await idle(page);
  const every = await onMap();
  check(traffic >= 33 && traffic < every * 0.6, `z12 clusters count ${traffic} with the traffic filter, ${every} without`);
  await shot(page, 'clusters-filtered');
  step(`check 6: at z12.5 the clusters count ${traffic} incidents with the traffic filter and ${every} without`);

  // 7. A deadline passing (the default policy gives priority 3 a day): reported a day minus 4 s ago, the incident
  //    raises no alert when it arrives, then flashes, counts in the title and is marked 超时 once its due time passes
  //    (the server's incident.overdue, looked for every 15 s).
  // Reported a day ago it sorts last: the sanitation filter keeps the queue to one page (97 of them).
  await page.selectOption('#f-category', 'sanitation');
  await page.waitForFunction(() => Number(document.querySelector('#queue-total').dataset.total) < 100, null, { timeout: 5000 });
  const titleBefore = await page.title();
  const reportedAt = new Date(Date.now() - 24 * 3600e3 + 4000).toISOString();
  const late = await call(base, 'POST', '/incidents', { location: point, category: 'sanitation', priority: 3, reported_at: reportedAt });
  check(late.due_at && !late.overdue, `due_at ${late.due_at}, overdue ${late.overdue}`);
  await sleep(1000);
  check(!(await page.$(`#queue li.flash[data-incident="${late.id}"]`)), 'a priority-3 incident alerted on arrival');
  await page.waitForSelector(`#queue li.flash[data-incident="${late.id}"] .overdue`, { timeout: 25000 });
  const titleAfter = await page.title();
  check(titleAfter !== titleBefore && /^\(\d+\)/.test(titleAfter), `title after the deadline: "${titleAfter}" (before "${titleBefore}")`);
  await shot(page, 'overdue');
  step(`check 7: #${late.id} due ${late.due_at}: flashed and marked 超时 when it passed; title "${titleAfter}"`);
});
