// Keyboard and layout (issue 34, "missing for a dispatcher").
// Checks:
//  1. The first Tab reaches the skip link; following it puts the focus on the queue's first row.
//  2. j opens the newest incident, j the next, k goes back; r recommends (one request), a assigns the first
//     candidate (the incident turns dispatched), Esc closes the card, n opens the new-incident form and Esc cancels it,
//     ? shows the shortcut help (listing n, j/k, r, a, Esc) and Esc hides it.
//  3. At 1024×700 an incident opened from the queue scrolls its card into view; the card and the place card close
//     with their × buttons.
//  4. At 1700×900 the queue and the unit board stand side by side.
// Usage: node keyboard-layout.mjs BASE_URL SHOTS_DIR FIXTURES_JSON
// FIXTURES_JSON: {"point": [lon, lat]} (optional; default [118.79, 32.02])
import { suite, call, check, clickMap, idle, sleep } from './common.mjs';

const { base, fx, step, shot, open, run } = await suite('keyboard-layout');
const point = fx.point || [118.79, 32.02];

await run(async () => {
  const incs = [];
  for (let i = 0; i < 8; i++) incs.push(await call(base, 'POST', '/incidents', { location: [point[0] + i * 0.0005, point[1]], category: 'fire', priority: 3 }));
  const unit = await call(base, 'POST', '/responders', { name: '键盘测试员', kind: 'grid_worker', skills: ['fire'], location: point });
  const newest = incs.at(-1), second = incs.at(-2);

  // 1. Skip link.
  const page = await open('A', { hash: `#15/${point[1]}/${point[0]}` });
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.id) === 'skip', `first Tab focuses ${await page.evaluate(() => document.activeElement.outerHTML.slice(0, 60))}`);
  await page.keyboard.press('Enter');
  const focused = await page.evaluate(() => document.activeElement.dataset.incident);
  check(focused === String(newest.id), `after the skip link the focus is on ${focused}`);
  step('check 1: Tab → skip link → Enter → first queue row');

  // 2. Shortcuts.
  await page.evaluate(() => document.activeElement.blur());
  const recommends = [];
  page.on('request', (r) => { if (r.url().includes('/recommend')) recommends.push(r.url()); });
  await page.keyboard.press('j');
  await page.waitForFunction((id) => document.querySelector('#detail').dataset.incident === String(id), newest.id, { timeout: 5000 });
  await page.keyboard.press('j');
  await page.waitForFunction((id) => document.querySelector('#detail').dataset.incident === String(id), second.id, { timeout: 5000 });
  await page.keyboard.press('k');
  await page.waitForFunction((id) => document.querySelector('#detail').dataset.incident === String(id), newest.id, { timeout: 5000 });
  await page.keyboard.press('r');
  await page.waitForSelector(`#candidates .cand[data-responder="${unit.id}"]`, { timeout: 5000 });
  await sleep(500);
  check(recommends.length === 1, `${recommends.length} recommend requests for one r`);
  await page.keyboard.press('a');
  await page.waitForFunction(() => document.querySelector('#d-badge .s-dispatched'), null, { timeout: 5000 });
  const stored = await call(base, 'GET', `/incidents/${newest.id}`);
  check(stored.assigned.includes(unit.id), `a did not assign: ${JSON.stringify(stored.assigned)}`);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.querySelector('#detail').hidden, null, { timeout: 3000 });
  await page.keyboard.press('n');
  check(!(await page.evaluate(() => document.querySelector('#create').hidden)), 'n did not open the form');
  await page.keyboard.press('Escape');
  check(await page.evaluate(() => document.querySelector('#create').hidden), 'Esc did not cancel the form');
  await page.keyboard.press('?');
  const help = await page.evaluate(() => !document.querySelector('#help').hidden && document.querySelector('#help').textContent);
  check(help && ['n', 'j', 'k', 'r', 'a', 'Esc'].every((k) => help.includes(k)) && help.includes('推荐'), `help: ${help}`);
  await shot(page, 'help');
  await page.keyboard.press('Escape');
  check(await page.evaluate(() => document.querySelector('#help').hidden), 'Esc did not hide the help');
  step(`check 2: j/k moved ${newest.id}→${second.id}→${newest.id}; r one request; a assigned ${unit.id}; Esc, n, ? work`);

  // 3. A short screen.
  const small = await open('small', { viewport: { width: 1024, height: 700 }, hash: `#15/${point[1]}/${point[0]}` });
  await idle(small);
  await clickMap(small, [point[0] - 0.002, point[1] - 0.002]);
  await small.waitForSelector('#place-codes', { timeout: 5000 });
  const last = small.locator(`#queue li[data-incident="${incs[0].id}"]`);
  await last.scrollIntoViewIfNeeded();
  await last.click();
  await small.waitForFunction((id) => document.querySelector('#detail').dataset.incident === String(id), incs[0].id, { timeout: 5000 });
  await sleep(800);
  const inView = await small.evaluate(() => {
    const r = document.querySelector('#detail').getBoundingClientRect();
    const p = document.querySelector('#panel').getBoundingClientRect();
    return { top: r.top, bottom: Math.min(r.bottom, p.bottom), panelTop: p.top, panelBottom: p.bottom };
  });
  check(inView.top >= inView.panelTop - 1 && inView.top < inView.panelBottom - 60, `card not in view: ${JSON.stringify(inView)}`);
  await shot(small, 'small-screen');
  await small.click('#d-close');
  await small.click('#place-close');
  const closed = await small.evaluate(() => document.querySelector('#detail').hidden && document.querySelector('#place').hidden);
  check(closed, 'the × buttons did not close the cards');
  step(`check 3: at 1024×700 the card scrolled into view (top ${Math.round(inView.top)} px); × closes both cards`);

  // 4. A wide screen.
  const wide = await open('wide', { viewport: { width: 1700, height: 900 } });
  const boxes = await wide.evaluate(() => ['#queue-card', '#units-card'].map((s) => document.querySelector(s).getBoundingClientRect()).map((r) => ({ left: r.left, top: r.top, width: r.width })));
  check(Math.abs(boxes[0].top - boxes[1].top) < 2 && boxes[1].left > boxes[0].left + boxes[0].width - 2, `queue and board: ${JSON.stringify(boxes)}`);
  await shot(wide, 'wide');
  step(`check 4: at 1700 px the queue (${Math.round(boxes[0].width)} px) and the unit board stand side by side`);
});
