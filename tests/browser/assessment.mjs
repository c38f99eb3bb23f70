// The 考核 (assessment) page (issue 29): GET /api/v1/assessment as a table, downloads and a choropleth.
// Checks:
//  1. By grid (网格): the row of the grid holding the incidents reported here shows the `reported` count
//     GET /assessment?by=grid answers for the page's own period (and the last 30 days by default), which is the number
//     reported; closed and open follow the status changes; a rate is shown in %, a time to close in hours/minutes/
//     seconds, a missing value as —; numbers are right-aligned.
//  2. A click on a column's header sorts by it (highest first), a second click turns the order round.
//  3. The CSV and XLSX links ask for the page's query with format=csv / format=xlsx; the CSV answers text/csv with a
//     BOM and the table's columns.
//  4. By street (街道): the legend shows; the street layer's choropleth is visible, its colour and filter name the
//     rows' codes (the incidents' street among them) and it is drawn on the map; another column recolours it; a
//     click on a row brings that street into view.
//  5. By department (部门): the department registered here is a row, its name from the register, its three incidents
//     and the return of one of them (routed back to it) counted as the server counts them.
//  6. 上月 (last month) asks for that month and counts none of today's incidents; a category narrows the counts; an
//     incident reported while the page is open reaches the table from the live feed.
//  7. In English the headers and levels are English; back on 调度 the choropleth is gone from the map.
// Usage: node assessment.mjs BASE_URL SHOTS_DIR FIXTURES_JSON   (server with access control off)
// FIXTURES_JSON: {"point": [lon, lat], "point2": [lon, lat]} (optional; defaults [118.79, 32.02] and [118.80, 32.03])
import { suite, call, check, idle } from './common.mjs';

const { base, fx, step, shot, open, run } = await suite('assessment');
const point = fx.point || [118.79, 32.02];
const point2 = fx.point2 || [118.80, 32.03];

/** The page's table: {code: {column: text}} and the codes in their order. */
const table = (page) => page.evaluate(() => {
  const rows = [...document.querySelectorAll('#as-table tbody tr[data-code]')];
  return { order: rows.map((r) => r.dataset.code),
    cells: Object.fromEntries(rows.map((r) => [r.dataset.code, Object.fromEntries([...r.cells].map((c) => [c.dataset.key, c.textContent]))])) };
});
const answered = (page, by) => page.waitForFunction((b) => (document.body.dataset.assessment || '').startsWith(`${b}:`)
  && document.querySelector('#as-status').textContent && !document.querySelector('#as-status').textContent.includes('…'), by, { timeout: 10000 });
const pageQuery = (page) => page.evaluate(() => document.body.dataset.assessmentQuery);
const visible = (page, sel) => page.evaluate((s) => { const el = document.querySelector(s); return !!el && el.getClientRects().length > 0; }, sel);

await run(async () => {
  const here = await call(base, 'GET', `/locate?lon=${point[0]}&lat=${point[1]}`);
  const there = await call(base, 'GET', `/locate?lon=${point2[0]}&lat=${point2[1]}`);
  const grid = here.grid.code;
  await call(base, 'PUT', '/departments/cg', { name: '区城管局', categories: ['sanitation'] });
  // Four incidents in one grid (three sanitation, routed to 城管局, one of them returned and routed again), one in
  // another.
  const made = [];
  for (const category of ['sanitation', 'sanitation', 'sanitation', 'fire']) {
    made.push(await call(base, 'POST', '/incidents', { location: point, category, priority: 3 }));
  }
  await call(base, 'POST', '/incidents', { location: point2, category: 'fire', priority: 3 });
  for (const status of ['dispatched', 'on_scene', 'resolved']) await call(base, 'POST', `/incidents/${made[0].id}/status`, { status });
  for (const status of ['resolved', 'closed']) await call(base, 'POST', `/incidents/${made[3].id}/status`, { status, note: '已处理' });
  // Returned and routed back: the department holding an incident is the one its returns are counted for.
  await call(base, 'POST', `/incidents/${made[1].id}/routing`, { action: 'return', reason: '不属本部门' });
  await call(base, 'POST', `/incidents/${made[1].id}/routing`, { action: 'route', department: 'cg' });

  const page = await open('A', { hash: `#13/${point[1]}/${point[0]}` });
  await page.click('#tab-assessment');
  await answered(page, 'street');
  check(await visible(page, '#as-table') && !(await visible(page, '#queue')), 'the 考核 page is not the one shown');

  // 1. By grid: the table says what the server says.
  await page.selectOption('#as-level', 'grid');
  await answered(page, 'grid');
  const q = new URLSearchParams(await pageQuery(page));
  check(q.get('by') === 'grid' && q.get('from') && q.get('to'), `the page's query: ${q}`);
  const server = await call(base, 'GET', `/assessment?${q}`);
  const byDefault = await call(base, 'GET', '/assessment?by=grid');
  const want = server.rows.find((r) => r.code === grid);
  check(want?.reported === 4 && byDefault.rows.find((r) => r.code === grid)?.reported === 4, `the server counts ${want?.reported} reported in ${grid} (4 made)`);
  let t = await table(page);
  const row = t.cells[grid];
  check(row && Number(row.reported) === want.reported, `table row of ${grid}: ${JSON.stringify(row)}, server ${want.reported}`);
  check(t.order.length === server.rows.length, `${t.order.length} rows in the table, ${server.rows.length} in the answer`);
  check(Number(row.closed) === want.closed && Number(row.open) === want.open && want.closed === 2 && want.open === 2,
    `closed/open: table ${row.closed}/${row.open}, server ${want.closed}/${want.open}`);
  check(/^\d+(\.\d)?%$/.test(row.on_time_rate) && want.on_time_rate != null, `on-time rate shown as "${row.on_time_rate}"`);
  check(/秒|分钟|小时/.test(row.median_close_s), `median time to close shown as "${row.median_close_s}"`);
  check(row.name === want.name, `name "${row.name}", server "${want.name}"`);
  const empty = server.rows.find((r) => r.reported === 0 && r.on_time_rate == null);
  check(empty && t.cells[empty.code].on_time_rate === '—', `a missing rate is shown as "${empty && t.cells[empty.code].on_time_rate}"`);
  const align = await page.evaluate((g) => getComputedStyle(document.querySelector(`#as-table tr[data-code="${g}"] td[data-key="reported"]`)).textAlign, grid);
  check(align === 'right', `numbers are aligned ${align}`);
  step(`check 1: ${grid} reported ${row.reported} (server ${want.reported}), closed ${row.closed}, open ${row.open}, on time ${row.on_time_rate}, median ${row.median_close_s}; empty rate "—"`);
  await shot(page, 'by-grid');

  // 2. Sorting.
  const column = async (key) => page.$$eval(`#as-table tbody td[data-key="${key}"]`, (tds) => tds.map((td) => Number(td.textContent)));
  await page.click('#as-table th[data-key="reported"] button');
  let values = await column('reported');
  check(values.every((v, i) => i === 0 || values[i - 1] >= v) && values[0] === 4, `sorted by reported (highest first): ${values.slice(0, 5)}`);
  t = await table(page);
  check(t.order[0] === grid, `first row after sorting: ${t.order[0]}`);
  check(await page.getAttribute('#as-table th[data-key="reported"]', 'aria-sort') === 'descending', 'the header does not say it sorts');
  await page.click('#as-table th[data-key="reported"] button');
  values = await column('reported');
  check(values.every((v, i) => i === 0 || values[i - 1] <= v) && values.at(-1) === 4, `sorted by reported, lowest first: …${values.slice(-3)}`);
  await page.click('#as-table th[data-key="code"] button');
  t = await table(page);
  check(t.order.join() === [...t.order].sort().join(), 'not sorted by code');
  step(`check 2: sorted by reported both ways (${values.at(-1)} last ascending), then by code`);

  // 3. Downloads.
  const links = await page.evaluate(() => ({ csv: document.querySelector('#as-csv').href, xlsx: document.querySelector('#as-xlsx').href }));
  const csvUrl = new URL(links.csv);
  check(csvUrl.searchParams.get('format') === 'csv' && csvUrl.searchParams.get('by') === 'grid' && csvUrl.searchParams.get('from') === q.get('from'),
    `CSV link ${links.csv}`);
  check(new URL(links.xlsx).searchParams.get('format') === 'xlsx', `XLSX link ${links.xlsx}`);
  const csv = await fetch(links.csv);
  const bytes = new Uint8Array(await csv.arrayBuffer());
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  check(csv.ok && /text\/csv/.test(csv.headers.get('content-type')) && /attachment/.test(csv.headers.get('content-disposition') || ''),
    `CSV answer ${csv.status} ${csv.headers.get('content-type')} ${csv.headers.get('content-disposition')}`);
  check(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf && text.slice(1).startsWith('code,name,reported') && text.includes(grid), `CSV starts ${JSON.stringify(text.slice(0, 60))}`);
  step(`check 3: CSV link ${csvUrl.pathname}?…format=csv answers ${csv.headers.get('content-type')} with a BOM; XLSX link format=xlsx`);

  // 4. By street: the choropleth.
  await page.selectOption('#as-level', 'street');
  await answered(page, 'street');
  await page.waitForFunction(() => (document.body.dataset.assessmentMap || '').startsWith('assessment-streets:reported:'), null, { timeout: 5000 });
  check(await visible(page, '#as-legend'), 'no legend with the street choropleth');
  const legend = await page.$$eval('#as-legend span', (s) => s.map((x) => x.textContent));
  const streets = await call(base, 'GET', `/assessment?${await pageQuery(page)}`);
  const paint = await page.evaluate(() => { const m = window.gridmapMap; return { visibility: m.getLayoutProperty('assessment-streets', 'visibility'),
    color: m.getPaintProperty('assessment-streets', 'fill-color'), filter: m.getFilter('assessment-streets'), grids: m.getLayoutProperty('assessment-grids', 'visibility') }; });
  const colour = JSON.stringify(paint.color);
  check(paint.visibility === 'visible' && paint.grids === 'none', `street layer ${paint.visibility}, grid layer ${paint.grids}`);
  check(paint.color[0] === 'match' && streets.rows.every((r) => colour.includes(`"${r.code}"`)) && colour.includes(here.street.code), `fill colour ${colour.slice(0, 200)}`);
  check(JSON.stringify(paint.filter).includes(here.street.code) && JSON.stringify(paint.filter).includes(there.street.code), `filter ${JSON.stringify(paint.filter).slice(0, 200)}`);
  // The busiest street gets the darkest class; it is drawn.
  const darkest = paint.color[paint.color.indexOf(here.street.code) + 1];
  const others = streets.rows.filter((r) => r.code !== here.street.code).map((r) => paint.color[paint.color.indexOf(r.code) + 1]);
  check(!others.includes(darkest), `the street with 4 incidents shares its colour ${darkest} with another`);
  await idle(page);
  const drawn = await page.evaluate((code) => window.gridmapMap.queryRenderedFeatures({ layers: ['assessment-streets'] }).filter((f) => f.properties.code === code).length, here.street.code);
  check(drawn > 0, `the street ${here.street.code} is not drawn on the choropleth`);
  step(`check 4: by street: legend ${legend.join(' | ')}; ${streets.rows.length} codes in the layer's match, ${here.street.code} drawn in ${darkest}`);
  await shot(page, 'by-street');
  await page.selectOption('#as-metric', 'on_time_rate');
  await page.waitForFunction(() => (document.body.dataset.assessmentMap || '').includes(':on_time_rate:'), null, { timeout: 5000 });
  const legend2 = await page.$$eval('#as-legend span', (s) => s.map((x) => x.textContent));
  check(legend2.some((s) => s.includes('%')) && legend2.some((s) => s.includes('无数据')), `on-time legend: ${legend2}`);
  step(`check 4b: the map's column changed to the on-time rate: legend ${legend2.join(' | ')}`);
  const far = await call(base, 'GET', `/areas/streets/${there.street.code}`);
  await page.click(`#as-table tr[data-code="${there.street.code}"]`);
  await page.waitForFunction((b) => { const m = window.gridmapMap; const c = m.getCenter();
    return !m.isMoving() && c.lng > b[0] && c.lng < b[2] && c.lat > b[1] && c.lat < b[3]; }, far.bbox, { timeout: 5000 });
  step(`check 4c: a click on the row of ${far.name} brings it into view`);

  // 5. By department.
  await page.selectOption('#as-level', 'department');
  await answered(page, 'department');
  t = await table(page);
  const depts = await call(base, 'GET', `/assessment?${await pageQuery(page)}`);
  const cg = depts.rows.find((r) => r.code === 'cg');
  check(t.cells.cg?.name === '区城管局' && cg && Number(t.cells.cg.returned) === cg.returned && cg.returned >= 1
    && Number(t.cells.cg.reported) === cg.reported && cg.reported === 3, `department row: ${JSON.stringify(t.cells.cg)}, server ${JSON.stringify(cg)}`);
  check(await page.evaluate(() => window.gridmapMap.getLayoutProperty('assessment-streets', 'visibility')) === 'none', 'a choropleth stays for departments');
  check(!(await visible(page, '#as-legend')), 'a legend stays for departments');
  step(`check 5: by department: 区城管局 reported ${t.cells.cg.reported}, returned ${t.cells.cg.returned}; no map`);

  // 6. Period, category, live.
  await page.selectOption('#as-level', 'grid');
  await page.selectOption('#as-preset', 'lastMonth');
  await answered(page, 'grid');
  const last = new URLSearchParams(await pageQuery(page));
  const now = new Date();
  const first = new Date(now.getFullYear(), now.getMonth() - 1, 1);
  check(new Date(last.get('from')).getTime() === first.getTime() && new Date(last.get('to')).getTime() === new Date(now.getFullYear(), now.getMonth(), 1).getTime(),
    `上月 asks for ${last.get('from')} – ${last.get('to')}`);
  t = await table(page);
  check(t.cells[grid]?.reported === '0', `last month ${grid} reported ${t.cells[grid]?.reported}`);
  await page.selectOption('#as-preset', 'month');
  await page.selectOption('#as-category', 'sanitation');
  await answered(page, 'grid');
  check(new URLSearchParams(await pageQuery(page)).get('category') === 'sanitation', 'the category is not asked for');
  t = await table(page);
  check(t.cells[grid]?.reported === '3', `sanitation in ${grid}: ${t.cells[grid]?.reported}`);
  await call(base, 'POST', '/incidents', { location: point, category: 'sanitation', priority: 3 });
  await page.waitForFunction((g) => document.querySelector(`#as-table tr[data-code="${g}"] td[data-key="reported"]`)?.textContent === '4', grid, { timeout: 10000 });
  step(`check 6: 上月 ${last.get('from').slice(0, 10)} – ${last.get('to').slice(0, 10)} counts 0; 本月 sanitation 3, then 4 from the live feed`);
  await shot(page, 'sanitation-this-month');

  // 7. English; leaving the page.
  await page.selectOption('#as-level', 'street');
  await answered(page, 'street');
  await page.click('#lang');
  const en = await page.evaluate(() => ({ heads: [...document.querySelectorAll('#as-table th')].map((th) => th.textContent).join(' | '),
    levels: [...document.querySelectorAll('#as-level option')].map((o) => o.textContent).join(' | '), tab: document.querySelector('#tab-assessment').textContent,
    legend: document.querySelector('#as-legend').textContent }));
  const han = /\p{Script=Han}/u;
  check(!han.test(en.heads) && !han.test(en.levels) && en.tab === 'Assessment' && !han.test(en.legend), `English: ${JSON.stringify(en)}`);
  step(`check 7: English headers "${en.heads.slice(0, 60)}…", levels ${en.levels}`);
  await shot(page, 'english');
  await page.click('#tab-dispatch');
  const gone = await page.evaluate(() => ['streets', 'communities', 'grids'].map((l) => window.gridmapMap.getLayoutProperty(`assessment-${l}`, 'visibility')));
  check(gone.every((v) => v === 'none'), `choropleths on the dispatch page: ${gone}`);
  step('check 7b: back on 调度 no assessment choropleth is drawn');
});
