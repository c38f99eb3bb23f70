// The incident queue: every incident matching the status and category filters is loaded (pages of 1 000 through
// next_cursor, at most 5 000), kept current from the live feed, filtered by a partial grid code or a grid, community
// or street name, sorted by report time (newest first) or priority, and shown 100 rows a page with grid and community
// names, priority and address. The same filters apply to the map's incident layer.
import { $, esc } from './dom.js';
import { api } from './api.js';
import { on } from './bus.js';
import { OPEN, STATUSES, t, tf, statusLabel, badge, catLabel, categories, when, isOverdue } from './i18n.js';
import { gridPlace, gridsMatching } from './areas.js';
import { isFresh } from './alerts.js';
import { setIncidentFilter } from './map.js';
import { selected, showIncident } from './incident.js';

const PAGE = 100;
const CAP = 5000;
let all = []; // incidents matching the server-side filters (status, category)
let complete = true; // false when more than CAP matched
let page = 0;
let shown = []; // the filtered, sorted list the pages are cut from
let loadSeq = 0;

export function fillFilters() {
  const keepStatus = $('#f-status').value;
  $('#f-status').innerHTML = `<option value="${OPEN}">${esc(t('openStatus'))}</option><option value="">${esc(t('allStatus'))}</option>` +
    STATUSES.map((s) => `<option value="${s}">${esc(statusLabel(s))}</option>`).join('');
  if (keepStatus !== '' || $('#f-status').dataset.touched) $('#f-status').value = keepStatus;
  const keep = $('#f-category').value;
  $('#f-category').innerHTML = `<option value="">${esc(t('allCategory'))}</option>` + categories.map((c) => `<option value="${esc(c.code)}">${esc(catLabel(c.code))}</option>`).join('');
  $('#f-category').value = keep;
  const keepCreate = $('#create-category').value;
  $('#create-category').innerHTML = categories.map((c) => `<option value="${esc(c.code)}">${esc(catLabel(c.code))}</option>`).join('');
  if (keepCreate) $('#create-category').value = keepCreate;
  const keepSort = $('#q-sort').value || 'time';
  $('#q-sort').innerHTML = `<option value="time">${esc(t('sortTime'))}</option><option value="priority">${esc(t('sortPriority'))}</option>`;
  $('#q-sort').value = keepSort;
}
['#f-status', '#f-category'].forEach((s) => $(s).addEventListener('change', (e) => { e.target.dataset.touched = '1'; refreshQueue(); }));
$('#f-grid').addEventListener('input', () => { page = 0; render(); });
$('#q-sort').addEventListener('change', () => { page = 0; render(); });
$('#q-prev').addEventListener('click', () => { page = Math.max(0, page - 1); render(); });
$('#q-next').addEventListener('click', () => { page += 1; render(); });

const statusFilter = () => $('#f-status').value.split(',').filter(Boolean);

/** Reloads the queue from the server (filters changed, start, reconnect). */
export async function refreshQueue() {
  const seq = ++loadSeq;
  const q = new URLSearchParams({ limit: '1000' });
  if ($('#f-status').value) q.set('status', $('#f-status').value);
  if ($('#f-category').value) q.set('category', $('#f-category').value);
  const got = [];
  let cursor = null;
  do {
    if (cursor) q.set('cursor', cursor);
    const { items, next_cursor: next } = await api(`/incidents?${q}`);
    if (seq !== loadSeq) return;
    got.push(...items);
    cursor = next;
  } while (cursor && got.length < CAP);
  all = got;
  complete = !cursor;
  render();
}

function matches(i) {
  const st = statusFilter();
  return (!st.length || st.includes(i.status)) && (!$('#f-category').value || i.category === $('#f-category').value);
}

function render() {
  const text = $('#f-grid').value.trim();
  const grids = text ? gridsMatching(text) : null;
  // A typed code not among the loaded names (another generation, a code without a name) still matches by substring.
  const hit = (i) => !grids || grids.has(i.grid_code) || (i.grid_code || '').includes(text);
  shown = all.filter(hit);
  const byTime = (a, b) => Date.parse(b.reported_at) - Date.parse(a.reported_at) || b.id - a.id;
  shown.sort($('#q-sort').value === 'priority' ? (a, b) => a.priority - b.priority || byTime(a, b) : byTime);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  page = Math.min(page, pages - 1);
  const rows = shown.slice(page * PAGE, page * PAGE + PAGE);
  $('#queue').innerHTML = rows.map((i) => {
    const p = gridPlace(i.grid_code);
    return `<li tabindex="0" data-incident="${i.id}" data-priority="${i.priority}" class="${isFresh(i.id) ? 'flash' : ''}${i.id === selected ? ' current' : ''}">
      <span class="qid"><b>#${i.id}</b><br><span class="prio p${esc(i.priority)}" title="${esc(t('priority'))} ${esc(i.priority)}">P${esc(i.priority)}</span></span>
      <span><b>${esc(catLabel(i.category))}</b>${i.address ? ` · ${esc(i.address)}` : ''}<br>
      <span class="place" title="${esc(i.grid_code || '')}">${esc(p.grid || '—')}${p.community ? ` · ${esc(p.community)}` : ''}</span><br>
      <span class="muted">${esc(when(i.reported_at))}</span>${isOverdue(i) ? ` <span class="overdue" title="${esc(t('dueAt'))} ${esc(when(i.due_at))}">${esc(t('overdue'))}</span>` : ''}</span>${badge(i.status)}</li>`;
  }).join('');
  const total = $('#queue-total');
  total.dataset.total = String(shown.length);
  total.textContent = complete || text ? tf('total', { n: shown.length }) : tf('totalMore', { n: shown.length });
  $('#q-pager').hidden = shown.length <= PAGE;
  $('#q-page').textContent = tf('page', { a: page * PAGE + (rows.length ? 1 : 0), b: page * PAGE + rows.length });
  $('#q-prev').disabled = page === 0;
  $('#q-next').disabled = page >= pages - 1;
  setIncidentFilter({ statuses: statusFilter(), category: $('#f-category').value, grids: text ? [...new Set(shown.map((i) => i.grid_code).filter(Boolean))] : null });
}
// Deadlines pass without an event for rows already drawn as due: the overdue marks are redrawn every half minute.
setInterval(() => renderSoon(), 30000);
let renderTimer = 0;
export function renderSoon() { if (!renderTimer) renderTimer = setTimeout(() => { renderTimer = 0; render(); }, 100); }

/** Opens the next (+1) or previous (-1) incident of the queue, turning pages as needed (the j/k shortcuts). */
export function step(delta) {
  if (!shown.length) return;
  const at = shown.findIndex((i) => i.id === selected);
  const next = at < 0 ? (delta > 0 ? 0 : shown.length - 1) : Math.min(shown.length - 1, Math.max(0, at + delta));
  const id = shown[next].id;
  if (Math.floor(next / PAGE) !== page) { page = Math.floor(next / PAGE); render(); }
  showIncident(id, true);
  const li = document.querySelector(`#queue li[data-incident="${id}"]`);
  li?.focus({ preventScroll: true });
  li?.scrollIntoView({ block: 'nearest' });
}

$('#queue').addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target.dataset.incident) showIncident(Number(e.target.dataset.incident), true); });

// The feed carries the whole incident: kept in place, no reload (re-geocoding after an activation reloads).
let reloadTimer = 0;
on('live', (ev) => {
  if (ev.type === 'incident.regeocoded') { clearTimeout(reloadTimer); reloadTimer = setTimeout(refreshQueue, 300); return; }
  if (!['incident.created', 'incident.updated', 'incident.overdue'].includes(ev.type) || ev.data?.id == null) return;
  const i = ev.data;
  const at = all.findIndex((x) => x.id === i.id);
  if (matches(i)) { if (at >= 0) all[at] = { ...all[at], ...i }; else all.push(i); } else if (at >= 0) all.splice(at, 1);
  renderSoon();
});
on('live:open', ({ first }) => { if (!first) refreshQueue(); });
on('names', () => renderSoon());
on('alerts', () => renderSoon());
on('lang', () => { fillFilters(); renderSoon(); });
