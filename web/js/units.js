// Units (responders): their positions on the map and the unit board.
// Positions come from GET /api/v1/responders when the console starts and again after every reconnect of the live
// feed; in between, `responder.moved` events update a GeoJSON source in place (updateData), batched per animation
// frame, so no tile is fetched again however many fixes arrive. The board lists every unit with its kind, status,
// current incident (from the incidents' `assigned` lists), position age and grid name; a click flies there.
import { $, esc } from './dom.js';
import { api, post } from './api.js';
import { on } from './bus.js';
import { t, tf, badge, kindLabel, KINDS, ago, statusLabel, OPEN_STATES } from './i18n.js';
import { gridPlace } from './areas.js';

export const units = new Map(); // id → responder, as GET /responders answers, kept current from the feed
const incidentOf = new Map(); // responder id → incident id it is assigned to
let map = null;
let onMap = new Set(); // ids drawn in the source
const dirty = new Set(); // ids changed since the last frame
let reset = true; // next frame replaces the whole source
let frame = 0;

// ---- kind icons (person, e-bike, vehicle): inline SVG in lists, the same paths drawn into map images ----
// Each part: an SVG path, filled or stroked.
const ICONS = {
  grid_worker: [{ d: 'M8.8 5a3.2 3.2 0 1 0 6.4 0a3.2 3.2 0 1 0 -6.4 0z' }, { d: 'M7.5 10h9l-1.4 6.5H13.8V22h-3.6v-5.5H8.9z' }],
  enforcement: [{ d: 'M1.9 16.5a3.6 3.6 0 1 0 7.2 0a3.6 3.6 0 1 0 -7.2 0z', stroke: true }, { d: 'M14.9 16.5a3.6 3.6 0 1 0 7.2 0a3.6 3.6 0 1 0 -7.2 0z', stroke: true },
    { d: 'M5.5 16.5 9.5 9h6l3 7.5M9.5 9l3.5 7.5M13.5 5.5h3.2l1 3.5', stroke: true }],
  vehicle: [{ d: 'M2.5 13.5 5 7.5h14l2.5 6V19h-2.2a2.3 2.3 0 0 1-4.6 0H9.3a2.3 2.3 0 0 1-4.6 0H2.5z' }, { d: 'M6.3 9h11.4l1.5 3.8H4.8z', window: true }],
};
export const kindIcon = (kind, cls = 'kind-icon') => `<svg class="${cls}" viewBox="0 0 24 24" width="16" height="16" role="img" aria-label="${esc(kindLabel(kind))}"><title>${esc(kindLabel(kind))}</title>${
  (ICONS[kind] || ICONS.grid_worker).map((p) => (p.stroke ? `<path d="${p.d}" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>`
    : `<path d="${p.d}" fill="${p.window ? '#fff' : 'currentColor'}"/>`)).join('')}</svg>`;

/** Draws a kind icon (white, 32 px for 16 px on screen) into the map as image kind-<kind>, when the map asks for it. */
function addKindImage(m, id) {
  const kind = id.replace(/^kind-/, '');
  if (!id.startsWith('kind-') || m.hasImage(id)) return;
  const c = document.createElement('canvas');
  c.width = 32; c.height = 32;
  const ctx = c.getContext('2d');
  ctx.scale(32 / 24, 32 / 24);
  ctx.lineWidth = 2;
  ctx.lineJoin = 'round';
  for (const p of ICONS[kind] || ICONS.grid_worker) {
    const path = new Path2D(p.d);
    if (p.stroke) { ctx.strokeStyle = '#ffffff'; ctx.stroke(path); } else { ctx.fillStyle = p.window ? 'rgba(0,0,0,0.35)' : '#ffffff'; ctx.fill(path); }
  }
  m.addImage(id, ctx.getImageData(0, 0, 32, 32), { pixelRatio: 2 });
}

const STATUS_COLOR = ['match', ['get', 'status'], 'available', '#1a9850', 'busy', '#2c7fb8', 'off_duty', '#999999', '#2c7fb8'];
const EMPTY_FC = { type: 'FeatureCollection', features: [] };

/**
 * The unit layers, for the console's style (map.js): the style's tile-fed responder layer is replaced by one of the
 * same id (responders-circle, so toggles and tests keep working) on a GeoJSON source, with the kind icons and a
 * recommendation's candidates (a purple ring, the kind and the rank).
 */
export function unitStyle() {
  return {
    drop: { sources: ['responders'], layers: ['responders-circle'] },
    sources: { units: { type: 'geojson', data: EMPTY_FC }, candidates: { type: 'geojson', data: EMPTY_FC },
      route: { type: 'geojson', data: EMPTY_FC } },
    layers: [
      [{ id: 'route-line', type: 'line', source: 'route', layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': '#7b3294', 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 3, 16, 6], 'line-opacity': 0.85 } }],
      [{ id: 'responders-circle', type: 'circle', source: 'units',
        paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 5, 15, 9], 'circle-color': STATUS_COLOR,
          'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5 } }],
      [{ id: 'responders-kind', type: 'symbol', source: 'units', minzoom: 13,
        layout: { 'icon-image': ['concat', 'kind-', ['get', 'kind']], 'icon-size': ['interpolate', ['linear'], ['zoom'], 13, 0.6, 16, 0.85],
          'icon-allow-overlap': true, 'icon-ignore-placement': true } }],
      [{ id: 'candidates-ring', type: 'circle', source: 'candidates',
        paint: { 'circle-radius': 14, 'circle-color': STATUS_COLOR, 'circle-opacity': 0.9, 'circle-stroke-color': '#7b3294', 'circle-stroke-width': 3 } }],
      [{ id: 'candidates-kind', type: 'symbol', source: 'candidates',
        layout: { 'icon-image': ['concat', 'kind-', ['get', 'kind']], 'icon-size': 0.9, 'icon-allow-overlap': true,
          'text-field': ['to-string', ['get', 'rank']], 'text-offset': [1.3, -1.1], 'text-size': 13, 'text-allow-overlap': true },
        paint: { 'text-color': '#7b3294', 'text-halo-color': '#ffffff', 'text-halo-width': 2 } }],
    ],
  };
}
/** Once the map exists: icons on demand, and the units drawn. */
export function attachUnits(m) {
  map = m;
  map.on('styleimagemissing', (e) => addKindImage(map, e.id));
  map.once('load', () => { reset = true; schedule(); });
}

// ---- the source, updated once per animation frame ----
function schedule() { if (!frame) frame = requestAnimationFrame(flush); }
const feature = (u) => ({ type: 'Feature', id: u.id, geometry: { type: 'Point', coordinates: u.location },
  properties: { id: u.id, name: u.name, kind: u.kind, status: u.status } });
function flush() {
  frame = 0;
  const src = map?.getSource('units');
  if (!src) return;
  if (reset) {
    reset = false;
    dirty.clear();
    const drawn = [...units.values()].filter((u) => Array.isArray(u.location));
    onMap = new Set(drawn.map((u) => u.id));
    src.setData({ type: 'FeatureCollection', features: drawn.map(feature) });
  } else if (dirty.size) {
    const diff = { add: [], update: [], remove: [] };
    for (const id of dirty) {
      const u = units.get(id);
      if (!u || !Array.isArray(u.location)) {
        if (onMap.delete(id)) diff.remove.push(id);
      } else if (onMap.has(id)) {
        diff.update.push({ id, newGeometry: { type: 'Point', coordinates: u.location },
          addOrUpdateProperties: [{ key: 'status', value: u.status }, { key: 'name', value: u.name }, { key: 'kind', value: u.kind }] });
      } else {
        onMap.add(id);
        diff.add.push(feature(u));
      }
    }
    dirty.clear();
    src.updateData(diff);
  }
  document.body.dataset.unitsDrawn = String(onMap.size);
  boardSoon();
}
function changed(id) {
  dirty.add(id);
  schedule();
  const u = units.get(id);
  if (u && Array.isArray(u.location) && !u.grid_code) locateSoon(id);
}

// Units created or updated without a grid (events carry none): their grid from one batched POST /locate.
const toLocate = new Set();
let locateTimer = 0;
function locateSoon(id) {
  toLocate.add(id);
  if (!locateTimer) locateTimer = setTimeout(locateUnits, 300);
}
async function locateUnits() {
  locateTimer = 0;
  const ids = [...toLocate].filter((id) => Array.isArray(units.get(id)?.location));
  toLocate.clear();
  if (!ids.length) return;
  const { results } = await post('/locate', { points: ids.map((id) => units.get(id).location), layers: 'grids' }).catch(() => ({ results: [] }));
  ids.forEach((id, i) => { const g = results[i]?.grid; if (g && units.get(id)) units.get(id).grid_code = g.code; });
  boardSoon();
}

export async function loadRoster() {
  const r = await api('/responders');
  units.clear();
  for (const u of r.items || r) {
    units.set(u.id, u);
    if (Array.isArray(u.location) && !u.grid_code) locateSoon(u.id);
  }
  reset = true;
  schedule();
  loadAssignments();
}

// ---- who is on which incident ----
let assignmentsTimer = 0;
async function loadAssignments() {
  clearTimeout(assignmentsTimer);
  const list = [];
  let cursor = null;
  do {
    const page = await api(`/incidents?status=dispatched,on_scene&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    list.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && list.length < 5000);
  incidentOf.clear();
  // A few at a time: each incident's `assigned` list comes with the incident alone.
  for (let i = 0; i < list.length; i += 6) {
    await Promise.all(list.slice(i, i + 6).map((inc) => refreshAssigned(inc.id, false)));
  }
  boardSoon();
}
async function refreshAssigned(incidentId, render = true) {
  const inc = await api(`/incidents/${incidentId}`).catch(() => null);
  if (!inc) return;
  for (const [r, i] of incidentOf) if (i === incidentId) incidentOf.delete(r);
  if (OPEN_STATES.includes(inc.status)) for (const r of inc.assigned || []) incidentOf.set(r, incidentId);
  if (render) boardSoon();
}
export const currentIncident = (responderId) => incidentOf.get(responderId);

on('live', (ev) => {
  const d = ev.data || {};
  switch (ev.type) {
    case 'responder.moved': {
      const u = units.get(d.id);
      if (!u) return;
      u.location = d.location;
      u.position_at = d.at;
      if ('grid_code' in d) u.grid_code = d.grid_code;
      changed(d.id);
      break;
    }
    case 'responder.created':
    case 'responder.updated': {
      if (d.id == null) return;
      // Two status changes can arrive in the other order than they were stored: the higher version is newer.
      if ((units.get(d.id)?.status_version ?? -1) > (d.status_version ?? Infinity)) return;
      units.set(d.id, { ...(units.get(d.id) || {}), ...d });
      if (d.status !== 'busy') incidentOf.delete(d.id);
      else if (!incidentOf.has(d.id)) { clearTimeout(assignmentsTimer); assignmentsTimer = setTimeout(loadAssignments, 400); }
      changed(d.id);
      break;
    }
    case 'responders.loaded':
      loadRoster();
      break;
    case 'incident.created':
    case 'incident.updated':
      if (d.id == null) return;
      if (OPEN_STATES.includes(d.status) && d.status !== 'reported') refreshAssigned(d.id);
      else {
        for (const [r, i] of incidentOf) if (i === d.id) incidentOf.delete(r);
        boardSoon();
      }
      break;
    default:
  }
});
// Events missed while the feed was down: start again from the roster.
on('live:open', ({ first }) => { if (!first) loadRoster(); });

// ---- the unit board ----
const SORTS = { name: 'sortName', status: 'sortStatus', age: 'sortAge', kind: 'sortKind' };
const STATUS_ORDER = ['available', 'busy', 'off_duty'];
export function fillUnitFilters() {
  const keep = [$('#u-kind').value, $('#u-status').value, $('#u-sort').value];
  $('#u-kind').innerHTML = `<option value="">${esc(t('allKinds'))}</option>` + KINDS.map((k) => `<option value="${k}">${esc(kindLabel(k))}</option>`).join('');
  $('#u-status').innerHTML = `<option value="">${esc(t('allUnitStatus'))}</option>` + STATUS_ORDER.map((s) => `<option value="${s}">${esc(statusLabel(s))}</option>`).join('');
  $('#u-sort').innerHTML = Object.entries(SORTS).map(([k, v]) => `<option value="${k}">${esc(t(v))}</option>`).join('');
  [$('#u-kind').value, $('#u-status').value, $('#u-sort').value] = [keep[0], keep[1], keep[2] || 'status'];
  renderBoard();
}
['#u-kind', '#u-status', '#u-sort'].forEach((s) => $(s).addEventListener('change', () => renderBoard()));
$('#u-filter').addEventListener('input', () => boardSoon());

let boardTimer = 0;
function boardSoon() { if (!boardTimer) boardTimer = setTimeout(() => { boardTimer = 0; renderBoard(); }, 250); }

// One collator for every comparison: localeCompare with a locale sets one up per call (sorting 2 040 names: 18 ms
// against 2.5 ms in node 20; the board re-sorts every 250 ms under a stream of fixes).
const byName = new Intl.Collator('zh-CN').compare;
function rows() {
  const kind = $('#u-kind').value, status = $('#u-status').value, q = $('#u-filter').value.trim().toLowerCase();
  const list = [...units.values()].filter((u) => (!kind || u.kind === kind) && (!status || u.status === status) && (!q || [
    u.name, u.grid_code, gridPlace(u.grid_code).grid, gridPlace(u.grid_code).community, incidentOf.has(u.id) ? `#${incidentOf.get(u.id)}` : '',
  ].some((v) => String(v || '').toLowerCase().includes(q))));
  const by = $('#u-sort').value || 'status';
  const age = (u) => (u.position_at ? Date.parse(u.position_at) : 0);
  const cmp = {
    name: (a, b) => byName(a.name, b.name),
    status: (a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) || byName(a.name, b.name),
    age: (a, b) => age(b) - age(a),
    kind: (a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || byName(a.name, b.name),
  }[by];
  return list.sort(cmp);
}

// The board draws at most this many rows (a district's thousands of units stay a filter away, and a re-render under
// a stream of fixes stays cheap); the count says how many match.
const BOARD_ROWS = 200;
export function renderBoard() {
  const list = rows();
  const cut = list.length > BOARD_ROWS;
  $('#units-count').textContent = cut ? tf('unitsCountCut', { n: list.length, k: BOARD_ROWS }) : tf('unitsCount', { n: list.length });
  $('#units-count').dataset.total = String(list.length);
  const now = Date.now();
  $('#units tbody').innerHTML = list.slice(0, BOARD_ROWS).map((u) => {
    const inc = incidentOf.get(u.id);
    const place = gridPlace(u.grid_code);
    return `<tr data-unit="${u.id}" tabindex="0" class="${selectedUnit === u.id ? 'selected' : ''}">
      <td class="kind k-${esc(u.kind)}">${kindIcon(u.kind)}</td>
      <td><b>${esc(u.name)}</b><br><span class="muted">${esc(kindLabel(u.kind))}</span></td>
      <td>${badge(u.status)}${inc ? `<br><a href="#" data-incident="${inc}">#${inc}</a>` : ''}</td>
      <td class="age" data-at="${esc(u.position_at || '')}">${esc(ago(u.position_at, now))}</td>
      <td class="grid" title="${esc(u.grid_code || '')}">${esc(place.grid || '—')}${place.community ? `<br><span class="muted">${esc(place.community)}</span>` : ''}</td></tr>`;
  }).join('');
}
// Ages move on by themselves.
setInterval(() => {
  const now = Date.now();
  document.querySelectorAll('#units td.age').forEach((td) => { td.textContent = ago(td.dataset.at, now); });
}, 15000);
on('names', () => boardSoon());
on('lang', () => fillUnitFilters());

let selectedUnit = null;
let popup = null;
/** Selects a unit: highlighted on the board, the map flies to it with a popup. */
export function showUnit(id, fly = true) {
  const u = units.get(id);
  if (!u) return;
  selectedUnit = id;
  document.querySelectorAll('#units tr.selected').forEach((r) => r.classList.remove('selected'));
  const row = document.querySelector(`#units tr[data-unit="${id}"]`);
  row?.classList.add('selected');
  document.body.dataset.unit = String(id);
  if (!Array.isArray(u.location) || !map) return;
  if (fly) map.flyTo({ center: u.location, zoom: Math.max(map.getZoom(), 16), duration: 600 });
  popup?.remove();
  const inc = incidentOf.get(id);
  const place = gridPlace(u.grid_code);
  popup = new maplibregl.Popup({ offset: 12, className: 'unit-popup' }).setLngLat(u.location).setHTML(
    `<div class="unit-card" data-unit="${u.id}"><b>${kindIcon(u.kind)} ${esc(u.name)}</b> ${badge(u.status)}
    <dl><dt>${esc(t('kind'))}</dt><dd>${esc(kindLabel(u.kind))}</dd>
    <dt>${esc(t('incident'))}</dt><dd>${inc ? `<a href="#" data-incident="${inc}">#${inc}</a>` : esc(t('none'))}</dd>
    <dt>${esc(t('position'))}</dt><dd>${esc(ago(u.position_at))}</dd>
    <dt>${esc(t('grid'))}</dt><dd>${esc(place.grid || '—')}</dd></dl></div>`).addTo(map);
}
$('#units').addEventListener('click', (e) => {
  if (e.target.closest('a[data-incident]')) return; // the panel's handler opens the incident
  const tr = e.target.closest('tr[data-unit]');
  if (tr) showUnit(Number(tr.dataset.unit));
});
$('#units').addEventListener('keydown', (e) => {
  const tr = e.target.closest('tr[data-unit]');
  if (tr && e.key === 'Enter') showUnit(Number(tr.dataset.unit));
});

/** Draws a recommendation's candidates (from units' positions when fresher than the answer's). */
export function showCandidates(candidates) {
  if (!candidates?.length) showRoute(null);
  const src = map?.getSource('candidates');
  if (!src) return;
  src.setData({ type: 'FeatureCollection', features: (candidates || []).map((c) => {
    const u = units.get(c.responder_id);
    const at = u?.location || c.location;
    return at && { type: 'Feature', geometry: { type: 'Point', coordinates: at },
      properties: { id: c.responder_id, rank: c.rank, kind: c.kind || u?.kind, status: c.status || u?.status } };
  }).filter(Boolean) });
}

/** Draws a route (a GeoJSON LineString) on the map, or clears it. */
export function showRoute(geometry) {
  map?.getSource('route')?.setData(geometry ? { type: 'FeatureCollection', features: [
    { type: 'Feature', geometry, properties: {} }] } : EMPTY_FC);
  document.body.dataset.routeDrawn = geometry ? String(geometry.coordinates.length) : '0';
}
