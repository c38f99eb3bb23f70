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
//  6. Departments (issue 29): with a department registered (PUT /departments/{code}) for sanitation, a sanitation
//     incident's card shows it by name and 已分拨; 受理 makes it 已受理; 退回 without a reason is refused by the server
//     (its message, in Chinese, on the card; the state unchanged), with a reason it is 已退回 (退回 1 次); 分拨 sends it
//     again; a 转办 taken elsewhere (the API) reaches the card from the live feed; the history lists every step with
//     its actor, department and reason.
//  7. The department register editor (考核 page, 部门名录): a department added through the form is listed (name,
//     categories in Chinese) and stored; giving a second department a category the first has is refused
//     (category_taken, in Chinese, the server's English in the tooltip) and nothing is stored; a name changed through
//     the form is stored; a department added elsewhere (the API) reaches the list from the live feed; removing one
//     works, removing a department holding an open incident is refused (department_in_use) and it stays.
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

  // 6. Departments: the register changes under an open console (its card learns the names from the live feed).
  await call(base, 'PUT', '/departments/cg', { name: '区城管局', categories: ['sanitation'] });
  await call(base, 'PUT', '/departments/hb', { name: '区环保局', categories: ['environment'] });
  const litter = await call(base, 'POST', '/incidents', { location: point, category: 'sanitation', priority: 3, description: '垃圾堆放' });
  check(litter.department === 'cg' && litter.department_state === 'routed', `new sanitation incident: ${litter.department} ${litter.department_state}`);
  await page.waitForSelector(`#queue li[data-incident="${litter.id}"]`, { timeout: 5000 });
  await page.click(`#queue li[data-incident="${litter.id}"]`);
  const deptIs = (state, dept) => page.waitForFunction(([s, d]) => document.querySelector('#d-dept-state')?.dataset.state === s
    && document.querySelector('#d-dept')?.dataset.department === d, [state, dept], { timeout: 5000 });
  await deptIs('routed', 'cg');
  const card = () => page.evaluate(() => ({ dept: document.querySelector('#d-dept')?.textContent, state: document.querySelector('#d-dept-state')?.textContent,
    returns: document.querySelector('#d-returns')?.textContent || '', steps: document.querySelector('#d-routing').dataset.steps,
    hidden: document.querySelector('#d-routing').hidden, error: document.querySelector('#detail-error').textContent,
    tip: document.querySelector('#detail-error').title }));
  let c = await card();
  check(c.dept === '区城管局' && c.state === '已分拨' && c.steps === 'accept,return,transfer' && !c.hidden, `routed card: ${JSON.stringify(c)}`);
  step(`check 6a: the card shows "${c.dept} ${c.state}", offers ${c.steps}`);
  await shot(page, 'department-routed');

  await page.click('#d-routing button[data-step="accept"]');
  await deptIs('accepted', 'cg');
  c = await card();
  check(c.state === '已受理' && c.steps === 'return,transfer', `accepted card: ${JSON.stringify(c)}`);
  // Returned without a reason: the server refuses, the card says why and nothing changes.
  await page.fill('#d-reason', '   ');
  await page.click('#d-routing button[data-step="return"]');
  await page.waitForFunction(() => document.querySelector('#detail-error').textContent.length > 0, null, { timeout: 5000 });
  c = await card();
  const unchanged = await call(base, 'GET', `/incidents/${litter.id}`);
  check(c.error.includes('退回须填写原因') && /needs a reason/.test(c.tip) && c.state === '已受理', `return without a reason: ${JSON.stringify(c)}`);
  check(unchanged.department_state === 'accepted' && unchanged.returned === 0, `stored after the refused return: ${unchanged.department_state}, ${unchanged.returned} returns`);
  check(await page.evaluate(() => document.activeElement?.id === 'd-reason'), 'the reason field is not focused after the refusal');
  step(`check 6b: accepted; a return without a reason refused ("${c.error}", tooltip "${c.tip}"), still ${unchanged.department_state}`);
  await shot(page, 'return-refused');

  await page.fill('#d-reason', '不属本部门职责');
  await page.click('#d-routing button[data-step="return"]');
  await deptIs('returned', '');
  c = await card();
  check(c.state === '已退回' && c.returns.includes('1') && c.steps === 'route' && !c.error, `returned card: ${JSON.stringify(c)}`);
  const offered = await page.$$eval('#d-dept-to option', (os) => os.map((o) => o.value));
  check(offered.includes('cg') && offered.includes('hb') && await page.inputValue('#d-dept-to') === 'cg', `route again offers ${offered}, chosen ${await page.inputValue('#d-dept-to')}`);
  await page.click('#d-routing button[data-step="route"]');
  await deptIs('routed', 'cg');
  c = await card();
  check(c.state === '已分拨' && c.returns.includes('1'), `routed again: ${JSON.stringify(c)}`);
  step(`check 6c: returned with a reason ("${c.returns}"), routed again to ${c.dept}`);

  // A transfer taken elsewhere: the live feed brings it to the card.
  await call(base, 'POST', `/incidents/${litter.id}/routing`, { action: 'transfer', department: 'hb', reason: '属环境污染', actor: '值班长' });
  await deptIs('routed', 'hb');
  c = await card();
  check(c.dept === '区环保局', `after the transfer: ${JSON.stringify(c)}`);
  const history = await page.$$eval('#d-history li.routing-step', (ls) => ls.map((l) => ({ action: l.dataset.action, text: l.textContent })));
  const actions = history.map((h) => h.action).join(',');
  check(actions === 'routed,accepted,returned,routed,transferred', `routing steps in the history: ${actions}`);
  const [auto, accepted, returned, again, transferred] = history.map((h) => h.text);
  check(auto.includes('分拨 → 区城管局') && auto.includes('policy'), `first step: ${auto}`);
  check(accepted.includes('区城管局 受理') && accepted.includes('console'), `accept step: ${accepted}`);
  check(returned.includes('区城管局 退回') && returned.includes('原因：不属本部门职责') && returned.includes('console'), `return step: ${returned}`);
  check(again.includes('分拨 → 区城管局') && again.includes('console'), `route step: ${again}`);
  check(transferred.includes('转办 → 区环保局') && transferred.includes('值班长') && transferred.includes('属环境污染'), `transfer step: ${transferred}`);
  step(`check 6d: a transfer from elsewhere shown live ("${c.dept}"); history: ${history.map((h) => h.text.trim()).join(' | ')}`);
  await shot(page, 'department-history');

  // 7. The register editor on the 考核 page.
  const zh = new Map((await call(base, 'GET', '/incident-categories')).map((c) => [c.code, c.name]));
  const register = async () => new Map((await call(base, 'GET', '/departments')).map((d) => [d.code, d]));
  page.on('dialog', (d) => d.accept()); // the remove button asks first
  await page.click('#tab-assessment');
  await page.click('#dept-card > summary');
  await page.waitForSelector('#dept-list tr[data-code="hb"]', { timeout: 5000 });
  const row = (code) => page.evaluate((c) => {
    const tr = document.querySelector(`#dept-list tr[data-code="${c}"]`);
    return tr && { name: tr.querySelector('.name').textContent, cats: tr.querySelector('.cats').textContent, codes: tr.querySelector('.cats').dataset.categories };
  }, code);
  const deptError = () => page.evaluate(() => ({ text: document.querySelector('#dept-error').textContent, tip: document.querySelector('#dept-error').title }));
  const save = async (code, name, cats) => {
    if (code != null) await page.fill('#dept-form input[name=code]', code);
    await page.fill('#dept-form input[name=name]', name);
    await page.$$eval('#dept-cats input', (is, want) => is.forEach((i) => { i.checked = want.includes(i.value); }), cats);
    await page.click('#dept-form button[type=submit]');
  };

  await save('sw', '区水务局', ['flood']);
  await page.waitForSelector('#dept-list tr[data-code="sw"]', { timeout: 5000 });
  let r = await row('sw');
  let reg = await register();
  check(r.name === '区水务局' && r.cats === zh.get('flood') && r.codes === 'flood', `listed after the form: ${JSON.stringify(r)}`);
  check(reg.get('sw')?.name === '区水务局' && JSON.stringify(reg.get('sw').categories) === '["flood"]', `stored: ${JSON.stringify(reg.get('sw'))}`);
  step(`check 7a: added through the form, listed as "${r.name}" · ${r.cats}`);

  // A category the first has, for a second department: refused, nothing stored.
  await save('yj', '区应急管理局', ['flood', 'fire']);
  await page.waitForFunction(() => document.querySelector('#dept-error').textContent.length > 0, null, { timeout: 5000 });
  const taken = await deptError();
  reg = await register();
  check(taken.text.includes(`类别“${zh.get('flood')}”已由部门 sw 负责`) && /already handled by department "sw"/.test(taken.tip), `category_taken refusal: ${JSON.stringify(taken)}`);
  check(!reg.has('yj') && JSON.stringify(reg.get('sw').categories) === '["flood"]', `stored after the refusal: ${JSON.stringify([...reg.values()])}`);
  check(!(await row('yj')), 'the refused department is listed');
  step(`check 7b: a taken category refused ("${taken.text}", tooltip "${taken.tip}"); nothing stored`);
  await shot(page, 'department-taken');

  // The name changed through the form (the code stays, the categories as they were).
  await page.click('#dept-list tr[data-code="sw"] button[data-act="edit"]');
  check(await page.getAttribute('#dept-form', 'data-editing') === 'sw' && await page.$eval('#dept-form input[name=code]', (i) => i.readOnly && i.value === 'sw'), 'edit does not fill the form');
  check(await page.$eval('#dept-cats input[value="flood"]', (i) => i.checked), 'the edited department\'s category is not ticked');
  await page.fill('#dept-form input[name=name]', '区水务和防汛局');
  await page.click('#dept-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#dept-list tr[data-code="sw"] .name')?.textContent === '区水务和防汛局', null, { timeout: 5000 });
  reg = await register();
  check(reg.get('sw').name === '区水务和防汛局' && JSON.stringify(reg.get('sw').categories) === '["flood"]' && !(await deptError()).text, `after the rename: ${JSON.stringify(reg.get('sw'))}`);
  step(`check 7c: renamed through the form to "${reg.get('sw').name}" (categories kept)`);

  // Added elsewhere: the live feed brings it.
  await call(base, 'PUT', '/departments/jt', { name: '区交通运输局', categories: ['traffic'] });
  await page.waitForSelector('#dept-list tr[data-code="jt"]', { timeout: 5000 });
  r = await row('jt');
  check(r.name === '区交通运输局' && r.cats === zh.get('traffic'), `live-added row: ${JSON.stringify(r)}`);

  // hb holds the open sanitation incident (transferred there above): refused, it stays.
  await page.click('#dept-list tr[data-code="hb"] button[data-act="remove"]');
  await page.waitForFunction(() => document.querySelector('#dept-error').textContent.length > 0, null, { timeout: 5000 });
  const inUse = await deptError();
  reg = await register();
  check(inUse.text.includes('部门 hb 仍有 1 件未办结事件') && /still has 1 open incident/.test(inUse.tip), `department_in_use refusal: ${JSON.stringify(inUse)}`);
  check(reg.has('hb') && !!(await row('hb')), 'the department in use was removed');
  step(`check 7d: removing hb (an open incident with it) refused ("${inUse.text}"); still listed and stored`);
  await shot(page, 'department-in-use');

  await page.click('#dept-list tr[data-code="jt"] button[data-act="remove"]');
  await page.waitForFunction(() => !document.querySelector('#dept-list tr[data-code="jt"]'), null, { timeout: 5000 });
  reg = await register();
  check(!reg.has('jt') && reg.has('sw') && reg.has('hb') && reg.has('cg') && !(await deptError()).text, `after the removal: ${[...reg.keys()]}`);
  step(`check 7e: jt (added from the API, shown live) removed from the form; register now ${[...reg.keys()].join(', ')}`);
  await shot(page, 'department-register');
});
