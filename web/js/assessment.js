// The 考核 (assessment) page: GET /assessment by street, community, grid, department or responder over a period
// (presets 本月, 上月, 近30天, or any two dates) and optionally one category, as a sortable table of every column,
// with CSV and XLSX downloads of the same query, and for the boundary levels a choropleth of one column on the map
// (the boundary layer's features coloured by a match on `code`, five classes, with a legend).
import { $, esc } from './dom.js';
import { API, api, apiKey, authHeaders } from './api.js';
import { on } from './bus.js';
import { lang, t, tf, categories, catLabel } from './i18n.js';
import { map, mapReady, highlightGrid } from './map.js';

const LEVELS = ['street', 'community', 'grid', 'department', 'responder'];
// The boundary layer (tile source and source layer) each level is drawn on; departments and responders have none.
const LAYER = { street: 'streets', community: 'communities', grid: 'grids' };
const PRESETS = ['month', 'lastMonth', 'last30', 'custom'];
// Every column of a row, how it is shown, and for the map whether more is better (green) or worse (orange).
const COLUMNS = [
  { key: 'code', kind: 'text' }, { key: 'name', kind: 'text' },
  { key: 'reported', kind: 'count' }, { key: 'closed', kind: 'count', good: true }, { key: 'open', kind: 'count' },
  { key: 'overdue', kind: 'count' }, { key: 'on_time_rate', kind: 'rate', good: true },
  { key: 'median_close_s', kind: 'duration' }, { key: 'p90_close_s', kind: 'duration' }, { key: 'returned', kind: 'count' },
  { key: 'satisfaction_mean', kind: 'score', good: true }, { key: 'satisfaction_n', kind: 'count', good: true },
  { key: 'patrol_coverage', kind: 'rate', good: true }, { key: 'per_km2', kind: 'density' },
];
const column = (key) => COLUMNS.find((c) => c.key === key);
const NUMERIC = COLUMNS.filter((c) => c.kind !== 'text');
const RAMPS = { bad: ['#fff5eb', '#fdbe85', '#fd8d3c', '#e6550d', '#a63603'], good: ['#edf8e9', '#bae4b3', '#74c476', '#31a354', '#006d2c'] };
const NO_DATA = '#d0d4d9';
const NONE = 'rgba(0,0,0,0)';

let open = false; // the page is shown
let rows = [];
let answered = null; // the answer's by/from/to/category
let sort = { key: 'code', desc: false };
let seq = 0;

// ---- the period: two dates (local days, the second included) ----
const pad = (n) => String(n).padStart(2, '0');
const dayString = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const parseDay = (s) => { const [y, m, d] = s.split('-').map(Number); return new Date(y, m - 1, d); };
function presetDays(preset, now = new Date()) {
  const y = now.getFullYear(), m = now.getMonth();
  if (preset === 'month') return [new Date(y, m, 1), now];
  if (preset === 'lastMonth') return [new Date(y, m - 1, 1), new Date(y, m, 0)];
  return [new Date(y, m, now.getDate() - 29), now]; // the last 30 days, today included
}
function applyPreset() {
  const p = $('#as-preset').value;
  if (p === 'custom') return;
  const [from, to] = presetDays(p);
  $('#as-from').value = dayString(from);
  $('#as-to').value = dayString(to);
}

/** The query of the page's choices (no format), or null when the dates make no period. */
function query() {
  const f = $('#as-from').value, tt = $('#as-to').value;
  if (!f || !tt) return null;
  const from = parseDay(f);
  const to = parseDay(tt);
  to.setDate(to.getDate() + 1); // up to the end of the last day
  if (!(from < to)) return null;
  const q = new URLSearchParams({ by: $('#as-level').value, from: from.toISOString(), to: to.toISOString() });
  if ($('#as-category').value) q.set('category', $('#as-category').value);
  return q;
}
const href = (q, format) => `${API}/assessment?${q}&format=${format}`;

// ---- values as shown ----
function fmt(kind, v) {
  if (v == null || (typeof v === 'number' && !Number.isFinite(v))) return '—';
  switch (kind) {
    case 'rate': return `${(v * 100).toFixed(1)}%`;
    case 'duration': return duration(v);
    case 'score': return v.toFixed(2);
    case 'density': return v.toFixed(2);
    case 'count': return String(v);
    default: return String(v);
  }
}
/** Seconds as hours and minutes ("3 小时 20 分", "3 h 20 min"), minutes under an hour, seconds under a minute. */
function duration(s) {
  const zh = lang === 'zh';
  if (s < 60) return zh ? `${Math.round(s)} 秒` : `${Math.round(s)} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return zh ? `${minutes} 分钟` : `${minutes} min`;
  const h = Math.floor(minutes / 60), m = minutes % 60;
  if (zh) return m ? `${h} 小时 ${m} 分` : `${h} 小时`;
  return m ? `${h} h ${m} min` : `${h} h`;
}

// ---- controls ----
export function fillAssessment() {
  const keep = (sel, html, fallback) => { const el = $(sel); const v = el.value; el.innerHTML = html; el.value = v || fallback; if (el.selectedIndex < 0) el.value = fallback; };
  keep('#as-preset', PRESETS.map((p) => `<option value="${p}">${esc(t(`preset_${p}`))}</option>`).join(''), 'last30');
  keep('#as-level', LEVELS.map((l) => `<option value="${l}">${esc(t(`level_${l}`))}</option>`).join(''), 'street');
  keep('#as-category', `<option value="">${esc(t('allCategory'))}</option>`
    + categories.map((c) => `<option value="${esc(c.code)}">${esc(catLabel(c.code))}</option>`).join(''), '');
  keep('#as-metric', NUMERIC.map((c) => `<option value="${c.key}">${esc(t(`as_${c.key}`))}</option>`).join(''), 'reported');
  if (!$('#as-from').value) applyPreset();
}
$('#as-preset').addEventListener('change', () => { applyPreset(); refresh(); });
['#as-from', '#as-to'].forEach((s) => $(s).addEventListener('change', () => { $('#as-preset').value = 'custom'; refresh(); }));
['#as-level', '#as-category'].forEach((s) => $(s).addEventListener('change', () => refresh()));
$('#as-metric').addEventListener('change', () => paint());

/** Asks the server again for the page's choices; the table, links and map follow. */
export async function refresh() {
  const q = query();
  const mine = ++seq;
  $('#as-error').textContent = '';
  for (const [id, format] of [['#as-csv', 'csv'], ['#as-xlsx', 'xlsx']]) {
    const a = $(id);
    if (q) a.href = href(q, format); else a.removeAttribute('href');
  }
  if (!q) {
    $('#as-error').textContent = t('badPeriod');
    return;
  }
  document.body.dataset.assessmentQuery = q.toString();
  $('#as-status').textContent = t('loading');
  try {
    const answer = await api(`/assessment?${q}`);
    if (mine !== seq) return;
    rows = answer.rows || [];
    answered = answer;
  } catch (err) {
    if (mine !== seq) return;
    rows = [];
    answered = null;
    $('#as-error').textContent = err.message;
    $('#as-error').title = err.serverMessage && err.serverMessage !== err.message ? err.serverMessage : '';
  }
  render();
  paint();
  document.body.dataset.assessment = `${answered?.by || ''}:${rows.length}`;
}

// ---- the table ----
function compare(key) {
  const kind = column(key).kind;
  return (a, b) => {
    const x = a[key], y = b[key];
    if (x == null || y == null) return (x == null) - (y == null); // no value last, either way
    const d = kind === 'text' ? String(x).localeCompare(String(y), 'zh-CN', { numeric: true }) : x - y;
    return sort.desc ? -d : d;
  };
}
function render() {
  $('#as-table thead').innerHTML = `<tr>${COLUMNS.map((c) => {
    const sorted = sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none';
    const mark = sorted === 'none' ? '' : sorted === 'descending' ? ' ▼' : ' ▲';
    return `<th data-key="${c.key}" aria-sort="${sorted}" class="${c.kind === 'text' ? '' : 'num'}"><button type="button">${esc(t(`as_${c.key}`))}${mark}</button></th>`;
  }).join('')}</tr>`;
  const sorted = [...rows].sort(compare(sort.key));
  const area = LAYER[answered?.by] ? ` tabindex="0" class="area" title="${esc(t('flyTo'))}"` : '';
  $('#as-table tbody').innerHTML = sorted.map((r) => `<tr data-code="${esc(r.code)}"${area}>${COLUMNS.map((c) => {
    const v = r[c.key];
    const tip = c.kind === 'duration' && v != null ? ` title="${esc(Math.round(v))} s"` : '';
    return `<td data-key="${c.key}"${tip} class="${c.kind === 'text' ? '' : 'num'}">${esc(c.kind === 'text' ? v ?? '—' : fmt(c.kind, v))}</td>`;
  }).join('')}</tr>`).join('') || `<tr><td colspan="${COLUMNS.length}" class="muted">${esc(t('noRows'))}</td></tr>`;
  // The period the server took, in local days (its `to` is the first moment after it).
  const period = answered?.from && answered?.to ? `${dayString(new Date(answered.from))} – ${dayString(new Date(Date.parse(answered.to) - 1))}` : '';
  $('#as-status').textContent = answered ? `${tf('total', { n: rows.length })}${period ? ` · ${period}` : ''}` : '';
}
$('#as-table thead').addEventListener('click', (e) => {
  const th = e.target.closest('th[data-key]');
  if (!th) return;
  const key = th.dataset.key;
  // A first click sorts numbers from the highest (who leads, who lags), text from A; a second click turns it round.
  sort = sort.key === key ? { key, desc: !sort.desc } : { key, desc: column(key).kind !== 'text' };
  render();
  $(`#as-table th[data-key="${key}"] button`)?.focus();
});

// A row of a street, community or grid brings it into view (and outlines a grid, as a click on the map does).
async function flyTo(code) {
  const layer = LAYER[answered?.by];
  if (!layer || !map) return;
  const a = await api(`/areas/${layer}/${encodeURIComponent(code)}`).catch(() => null);
  if (!a?.bbox) return;
  map.fitBounds(a.bbox, { padding: 40, maxZoom: 16 });
  highlightGrid(layer === 'grids' ? code : null);
}
$('#as-table tbody').addEventListener('click', (e) => { const tr = e.target.closest('tr.area'); if (tr) flyTo(tr.dataset.code); });
$('#as-table tbody').addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target.matches('tr.area')) flyTo(e.target.dataset.code); });

// ---- the map ----
/** The choropleth layers, for the console's style (map.js): one per boundary level, hidden until used. */
export function assessmentStyle() {
  const layer = (level) => [{ id: `assessment-${LAYER[level]}`, type: 'fill', source: LAYER[level], 'source-layer': LAYER[level],
    ...(level === 'grid' ? { minzoom: 10 } : {}), layout: { visibility: 'none' }, filter: ['in', ['get', 'code'], ['literal', []]],
    paint: { 'fill-color': NONE, 'fill-opacity': 0.75, 'fill-outline-color': '#5b6775' } }, 'grids-line'];
  return { sources: {}, layers: Object.keys(LAYER).map(layer) };
}
/**
 * Equal-interval classes of the values, [lower bound, colour] each. Counts get whole-number bounds (fewer classes
 * when there are fewer distinct counts); a single value gets the darkest colour.
 */
function classes(values, ramp, whole) {
  const min = Math.min(...values), max = Math.max(...values);
  if (min === max) return [[min, ramp[ramp.length - 1]]];
  const n = ramp.length;
  let bounds = ramp.map((_, i) => min + ((max - min) * i) / n);
  if (whole) bounds = [...new Set(bounds.map((b, i) => (i ? Math.ceil(b) : b)))];
  // Fewer classes than colours: spread over the ramp, the lowest palest and the highest darkest.
  return bounds.map((b, i) => [b, ramp[Math.round((i * (n - 1)) / (bounds.length - 1))]]);
}
async function paint() {
  await mapReady();
  if (!map?.getLayer('assessment-grids')) return;
  const level = answered?.by;
  const key = $('#as-metric').value;
  const col = column(key);
  const target = open && LAYER[level] ? `assessment-${LAYER[level]}` : null;
  for (const l of Object.values(LAYER)) if (`assessment-${l}` !== target) map.setLayoutProperty(`assessment-${l}`, 'visibility', 'none');
  const legend = $('#as-legend');
  if (!target || !col) { legend.hidden = true; delete document.body.dataset.assessmentMap; return; }
  const values = rows.map((r) => r[key]).filter((v) => typeof v === 'number' && Number.isFinite(v));
  const whole = col.kind === 'count';
  const steps = values.length ? classes(values, RAMPS[col.good ? 'good' : 'bad'], whole) : [];
  const colour = (v) => (typeof v !== 'number' || !Number.isFinite(v) ? NO_DATA : [...steps].reverse().find(([lo]) => v >= lo)[1]);
  const pairs = rows.flatMap((r) => [r.code, colour(r[key])]);
  map.setPaintProperty(target, 'fill-color', pairs.length ? ['match', ['get', 'code'], ...pairs, NONE] : NONE);
  map.setFilter(target, ['in', ['get', 'code'], ['literal', rows.map((r) => r.code)]]);
  map.setLayoutProperty(target, 'visibility', 'visible');
  // The legend: one swatch per class with its lower bound, and one for rows without a value.
  const max = values.length ? Math.max(...values) : null;
  const swatch = (c, label) => `<span><i style="background:${c}"></i>${esc(label)}</span>`;
  const range = (lo, i) => {
    if (steps.length === 1) return fmt(col.kind, lo);
    // Whole numbers: "2 – 3" holds 2 and 3; otherwise a class runs up to the next one's lower bound.
    const hi = i + 1 < steps.length ? steps[i + 1][0] - (whole ? 1 : 0) : max;
    return hi === lo ? fmt(col.kind, lo) : `${fmt(col.kind, lo)} – ${fmt(col.kind, hi)}`;
  };
  legend.innerHTML = `<b>${esc(t(`as_${key}`))}</b>`
    + steps.map(([lo, c], i) => swatch(c, range(lo, i))).join('')
    + (values.length < rows.length ? swatch(NO_DATA, t('noData')) : '');
  legend.hidden = false;
  legend.dataset.classes = String(steps.length);
  document.body.dataset.assessmentMap = `${target}:${key}:${rows.length}`;
}

// ---- downloads: plain links; with an API key the file is fetched with it (a link cannot send the header) ----
for (const id of ['#as-csv', '#as-xlsx']) {
  $(id).addEventListener('click', async (e) => {
    const a = e.currentTarget;
    if (!apiKey || !a.href) return;
    e.preventDefault();
    try {
      const resp = await fetch(a.href, { headers: authHeaders() });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(resp.headers.get('content-disposition') || '')?.[1];
      const url = URL.createObjectURL(await resp.blob());
      const save = Object.assign(document.createElement('a'), { href: url, download: name ? decodeURIComponent(name) : `assessment.${id.slice(4)}` });
      save.click();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) { $('#as-error').textContent = err.message; }
  });
}

// ---- entering and leaving the page; live changes while it is open (at most every 2 s) ----
let liveTimer = 0;
on('view', (view) => {
  open = view === 'assessment';
  if (open) { applyPreset(); refresh(); } else paint(); // a preset's days move on with the date
});
on('live', (ev) => {
  if (!open || !ev.type.startsWith('incident.')) return;
  liveTimer ||= setTimeout(() => { liveTimer = 0; if (open) refresh(); }, 2000);
});
on('lang', () => {
  fillAssessment();
  render();
  if (open) paint();
});
