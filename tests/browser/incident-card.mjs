// The incident card (issue 34, "any click inside the incident card rebuilds the card"; "status changes").
// Checks:
//  1. The status dropdown offers exactly the moves the lifecycle allows from the incident's status (reported:
//     dispatched, resolved, cancelled).
//  2. A refused status change (a dropdown made stale: "closed" added by hand, as after a change in another console)
//     shows the server's 409 in Chinese (its English in the tooltip); the error is still there after clicks inside
//     the card, and the <select> is the same element after it was clicked.
//  3. One click on 推荐 sends exactly one POST …/recommend; its candidates are listed and drawn on the map
//     (source `candidates`, with their kind).
//  4. After moves to dispatched, on_scene, resolved and closed, the card hides 推荐 and the dropdown on the closed
//     incident and says it is finished.
//  4b. A closed incident's card records the reporter's satisfaction (1–5 and a comment), stored and shown.
//  5. An empty recommendation caused by stale positions says so ("1 个 … 超过 10 分钟未更新").
// Usage: node incident-card.mjs BASE_URL SHOTS_DIR FIXTURES_JSON
// FIXTURES_JSON: {"point": [lon, lat], "point2": [lon, lat]} (optional; defaults [118.79, 32.02] and [118.80, 32.03])
import { suite, call, check, sleep } from './common.mjs';

const { base, fx, step, shot, open, run } = await suite('incident-card');
const point = fx.point || [118.79, 32.02];
const point2 = fx.point2 || [118.80, 32.03];

const options = (page) => page.$$eval('#next-status option', (os) => os.map((o) => o.value));

await run(async () => {
  const inc = await call(base, 'POST', '/incidents', { location: point, category: 'fire', priority: 3, description: '卡片测试', address: '中山南路 1 号' });
  const fireman = await call(base, 'POST', '/responders', { name: '消防员甲', kind: 'vehicle', skills: ['fire'], location: [point[0] + 0.001, point[1]] });
  // A first-aid unit whose last fix is an hour old: excluded from recommendations as stale.
  const hourAgo = new Date(Date.now() - 3600e3).toISOString();
  await call(base, 'POST', '/responders', { name: '急救员乙', kind: 'grid_worker', skills: ['first_aid'], location: point2, at: hourAgo });
  const medical = await call(base, 'POST', '/incidents', { location: point2, category: 'medical', priority: 2 });

  const page = await open('A', { hash: `#15/${point[1]}/${point[0]}` });
  const recommends = [];
  page.on('request', (r) => { if (r.url().includes('/recommend')) recommends.push(r.url()); });
  await page.click(`#queue li[data-incident="${inc.id}"]`);
  await page.waitForFunction((id) => document.querySelector('#detail').dataset.incident === String(id) && document.querySelector('#next-status option'), inc.id);

  // 1. Only the lifecycle's moves.
  const moves = await options(page);
  check(JSON.stringify(moves) === JSON.stringify(['dispatched', 'resolved', 'cancelled']), `moves offered from reported: ${moves}`);
  step(`check 1: from reported the dropdown offers ${moves.join(', ')}`);

  // 2. A refused change: its error survives clicks inside the card; the select stays the same element.
  const select = await page.$('#next-status');
  await page.evaluate(() => {
    const s = document.querySelector('#next-status');
    s.add(new Option('closed', 'closed'));
    s.value = 'closed';
  });
  await page.click('#move');
  await page.waitForFunction(() => document.querySelector('#detail-error').textContent.length > 0, null, { timeout: 5000 });
  const refusal = await page.textContent('#detail-error');
  // In the page's language (Chinese by default), the server's English in the tooltip.
  const tip = await page.getAttribute('#detail-error', 'title');
  check(refusal.includes('不能从“已上报”变更为“已办结”') && refusal.includes('已派遣') && /cannot go from reported to closed/.test(tip),
    `the refusal "${refusal}" (tooltip "${tip}") is not in Chinese with the server's words in the tooltip`);
  await page.click('#d-facts');
  await page.click('#d-title');
  await page.click('#next-status');
  await page.keyboard.press('Escape');
  await sleep(800);
  const after = await page.textContent('#detail-error');
  check(after === refusal && after.length > 0, `the refusal "${refusal}" became "${after}" after clicks in the card`);
  const same = await page.evaluate((el) => el.isConnected && el === document.querySelector('#next-status'), select);
  check(same, 'the status dropdown was replaced by a click');
  const movesAfter = await options(page);
  check(!movesAfter.includes('closed'), `after the refusal the dropdown still offers ${movesAfter}`);
  step(`check 2: the refusal, in Chinese ("${refusal.trim()}"), stays after 3 clicks in the card; same <select> element`);
  await shot(page, 'refusal-stays');

  // 3. One request per click.
  await page.click('#recommend');
  await page.waitForSelector(`#candidates .cand[data-responder="${fireman.id}"]`, { timeout: 5000 });
  await sleep(1200);
  check(recommends.length === 1, `${recommends.length} recommend requests for one click`);
  await page.waitForFunction(() => window.gridmapMap.getSource('candidates')?.serialize().data.features?.length > 0, null, { timeout: 5000 });
  const drawn = await page.evaluate(() => window.gridmapMap.getSource('candidates').serialize().data.features.map((f) => f.properties));
  check(drawn.some((p) => p.id === fireman.id && p.kind === 'vehicle' && p.rank === 1), `candidates on the map: ${JSON.stringify(drawn)}`);
  step(`check 3: one click, ${recommends.length} recommend request; candidate drawn on the map as ${drawn[0].kind}`);
  await shot(page, 'candidates');

  // 4. Along the lifecycle to closed.
  for (const to of ['dispatched', 'on_scene', 'resolved', 'closed']) {
    await page.selectOption('#next-status', to);
    await page.click('#move');
    await page.waitForFunction((s) => document.querySelector('#d-badge .badge')?.classList.contains(`s-${s}`), to, { timeout: 5000 });
    const sameNode = await page.evaluate((el) => el === document.querySelector('#next-status'), select);
    check(sameNode, `the dropdown was replaced on the move to ${to}`);
    if (to === 'dispatched') {
      const m = await options(page);
      check(JSON.stringify(m) === JSON.stringify(['on_scene', 'resolved', 'reported', 'cancelled']), `moves from dispatched: ${m}`);
    }
  }
  const closed = await page.evaluate(() => ({ recommend: document.querySelector('#recommend').hidden, move: document.querySelector('#d-move').hidden,
    final: document.querySelector('#d-final').textContent, error: document.querySelector('#detail-error').textContent }));
  check(closed.recommend && closed.move && closed.final.length > 0 && !closed.error, `closed incident card: ${JSON.stringify(closed)}`);
  step(`check 4: closed: recommend and status hidden, "${closed.final}"`);
  await shot(page, 'closed');

  // 4b. 回访: the closed incident takes the reporter's satisfaction, stored and shown on the card.
  check(await page.isVisible('#d-rating'), 'no satisfaction form on a closed incident');
  await page.selectOption('#d-rating select[name=rating]', '3');
  await page.fill('#d-rating input[name=comment]', '到场较慢');
  await page.click('#d-rating button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#d-rating').dataset.rated === '3', null, { timeout: 5000 });
  const stored = await call(base, 'GET', `/incidents/${inc.id}`);
  check(stored.satisfaction?.rating === 3 && stored.satisfaction.comment === '到场较慢', `stored satisfaction: ${JSON.stringify(stored.satisfaction)}`);
  step(`check 4b: satisfaction 3 recorded from the card ("${(await page.textContent('#d-rated')).trim()}")`);

  // 5. Stale positions explained.
  await page.evaluate((id) => { document.querySelector('#f-status').value = ''; }, medical.id);
  await page.evaluate(() => document.querySelector('#f-status').dispatchEvent(new Event('change')));
  await page.click(`#queue li[data-incident="${medical.id}"]`);
  await page.waitForFunction((id) => document.querySelector('#detail').dataset.incident === String(id), medical.id);
  await page.click('#recommend');
  await page.waitForSelector('#no-candidates', { timeout: 5000 });
  const why = await page.textContent('#no-candidates');
  check(/1 个.*10 分钟/.test(why), `empty recommendation: "${why}"`);
  step(`check 5: "${why}"`);
  await shot(page, 'stale');
});
