// gridmap dispatch console: one MapLibre map over gridmap's own tiles, the incident queue, recommend and assign,
// live updates over the WebSocket, and the GIS staff's import page. Plain JS, no framework, no network beyond
// this server.
'use strict';

const API = '/api/v1';
const T = {
  zh: {
    title: '网格调度台', dispatch: '调度', gis: '边界导入', offline: '离线', online: '实时', apiKey: '密钥', askKey: '此服务器需要 API 密钥（gridmap keys create）：', queue: '事件队列', new: '新建事件',
    pick: '在地图上点击事件位置', category: '类别', priority: '优先级', description: '描述', submit: '提交', cancel: '取消',
    gridCode: '网格编码', layers: '图层', upload: '上传边界文件', drop: '拖放文件到此处或点击选择 (zip, shp, GeoJSON, KML, GPKG)',
    layer: '图层', codeField: '编码字段', nameField: '名称字段', parentField: '上级编码字段', check: '校验', stage: '导入为新版本',
    generations: '边界版本', rollback: '回滚', status: '状态', what: '内容', allStatus: '全部状态', openStatus: '未办结',
    allCategory: '全部类别', street: '街道', community: '社区', grid: '网格', workers: '网格员', openItems: '未办结事件',
    none: '无', outside: '不在任何网格内', recommend: '推荐处置力量', assign: '指派', history: '处置记录', location: '位置',
    reported: '上报时间', distance: '距离', eta: '预计到达', sameGrid: '本网格', move: '变更状态', activate: '启用',
    valid: '校验通过', invalid: '校验未通过', errors: '错误', warnings: '警告', features: '要素', staged: '已导入为版本',
    active: '使用中', retired: '已停用', stagedS: '待启用', generation: '版本', noCandidates: '附近没有可用的处置力量',
    streets: '街道', communities: '社区', grids: '网格', incidents: '事件', hazards: '安全隐患', resources: '应急设施', responders: '处置力量', heatmap: '热力图',
    assigned: '已指派', fields: '文件字段', locate: '定位', replace: '改派', additional: '增派', release: '释放',
    onIt: '处置人员', why: '推荐理由', fix: '定位于', ago: '秒前',
    analysis: '专题分析', period: '时间范围', choropleth: '网格专题图', off: '关闭', patrols: '巡查轨迹', days: '天', allTime: '全部',
    perKm2: '事件密度 (每平方公里)', openCount: '未办结事件数', patrolCoverage: '巡查覆盖率', coverage: '巡查覆盖', cells: '个单元',
    showUnvisited: '显示未巡查区域', hideUnvisited: '隐藏未巡查区域',
    discard: '放弃', basemap: '底图', suggested: '已按文件字段填写', changes: '与当前版本相比', added: '新增', removed: '删除', renamed: '改名', reparented: '变更上级', reshaped: '边界变化', unchanged: '未变',
  },
  en: {
    title: 'Grid dispatch console', dispatch: 'Dispatch', gis: 'Boundaries', offline: 'offline', online: 'live', apiKey: 'Key', askKey: 'This server needs an API key (gridmap keys create):', queue: 'Incidents',
    new: 'New incident', pick: 'Click the map where it happened', category: 'Category', priority: 'Priority',
    description: 'Description', submit: 'Submit', cancel: 'Cancel', gridCode: 'grid code', layers: 'Layers',
    upload: 'Upload a boundary file', drop: 'Drop a file here or click to choose (zip, shp, GeoJSON, KML, GPKG)', layer: 'Layer',
    codeField: 'Code field', nameField: 'Name field', parentField: 'Parent field', check: 'Validate', stage: 'Import as new generation',
    generations: 'Generations', rollback: 'Roll back', status: 'Status', what: 'What', allStatus: 'all states', openStatus: 'open',
    allCategory: 'all categories', street: 'Street', community: 'Community', grid: 'Grid', workers: 'Grid workers',
    openItems: 'Open incidents', none: 'none', outside: 'outside every grid', recommend: 'Recommend responders', assign: 'Assign',
    history: 'History', location: 'Location', reported: 'Reported', distance: 'Distance', eta: 'ETA', sameGrid: 'same grid',
    move: 'Change status', activate: 'Activate', valid: 'Valid', invalid: 'Rejected', errors: 'Errors', warnings: 'Warnings',
    features: 'features', staged: 'Staged as generation', active: 'active', retired: 'retired', stagedS: 'staged',
    generation: 'generation', noCandidates: 'No available responder nearby', streets: 'Streets', communities: 'Communities',
    grids: 'Grids', incidents: 'Incidents', hazards: 'Hazards', resources: 'Fixed resources', responders: 'Responders', heatmap: 'Heatmap', assigned: 'Assigned', fields: 'File fields',
    locate: 'show', replace: 'Reassign', additional: 'Send also', release: 'Release', onIt: 'Assigned', why: 'Why', fix: 'fix', ago: 's ago',
    analysis: 'Analysis', period: 'Period', choropleth: 'Grid choropleth', off: 'off', patrols: 'Patrols', days: 'days', allTime: 'all time',
    perKm2: 'Incidents per km²', openCount: 'Open incidents', patrolCoverage: 'Patrol coverage', coverage: 'Patrol coverage', cells: 'cells',
    showUnvisited: 'Show unpatrolled cells', hideUnvisited: 'Hide unpatrolled cells',
    discard: 'Discard', basemap: 'Base map', suggested: 'Filled in from the file\'s fields', changes: 'Against the current generation', added: 'added', removed: 'removed', renamed: 'renamed', reparented: 'new parent', reshaped: 'reshaped', unchanged: 'unchanged',
  },
};
const STATUSES = ['reported', 'dispatched', 'on_scene', 'resolved', 'closed', 'cancelled'];
const STATUS_ZH = { reported: '已上报', dispatched: '已派遣', on_scene: '已到场', resolved: '已处置', closed: '已办结', cancelled: '已取消',
  available: '可调派', busy: '执行中', off_duty: '离岗' };
const OPEN = 'reported,dispatched,on_scene';
const REASON = {
  zh: { preferred: '策略优先', distance: '距离', eta: '预计到达', skill: '技能匹配', team: '队伍', home_grid: '本网格网格员',
    same_grid: '在本网格内', same_community: '在本社区内', stale: '位置过旧', position_age: '位置时效' },
  en: { preferred: 'policy', distance: 'distance', eta: 'ETA', skill: 'skill', team: 'team', home_grid: 'own grid worker',
    same_grid: 'in the grid', same_community: 'in the community', stale: 'stale position', position_age: 'position age' },
};
// Tags worth a glance; the rest stay in the tooltip.
const REASON_TAGS = ['preferred', 'home_grid', 'same_grid', 'same_community', 'stale'];
const TOGGLES = [['basemap', ['basemap']], ['streets', ['streets-line']], ['communities', ['communities-line']], ['grids', ['grids-fill', 'grids-line']],
  ['incidents', ['incidents-circle']], ['hazards', ['hazards-circle']], ['resources', ['resources-circle']], ['responders', ['responders-circle']], ['heatmap', ['heatmap-fill']]];

let lang = localStorage.getItem('gridmap.lang') || 'zh';
let categories = [];
let picking = null;
let pickMarker = null;
let selected = null;
let recommendedFor = null; // incident whose candidates are on screen: kept across live refreshes
const $ = (sel) => document.querySelector(sel);
const t = (k) => T[lang][k] || k;
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const statusLabel = (s) => (lang === 'zh' ? STATUS_ZH[s] || s : s.replace('_', ' '));
const badge = (s) => `<span class="badge s-${esc(s)}">${esc(statusLabel(s))}</span>`;
const catLabel = (code) => { const c = categories.find((x) => x.code === code); return lang === 'zh' && c ? c.name : code; };
const when = (iso) => (iso ? new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false }) : '');

// ---- API key (servers with access control on) ----
// Kept in this browser only; sent as a Bearer header, on the live feed as access_token (WebSockets take no headers).
let apiKey = localStorage.getItem('gridmap.key') || '';
const authHeaders = () => (apiKey ? { authorization: `Bearer ${apiKey}` } : {});
function askKey() {
  const k = window.prompt(t('askKey'), apiKey);
  if (k === null) return false;
  apiKey = k.trim();
  localStorage.setItem('gridmap.key', apiKey);
  $('#key').classList.toggle('set', !!apiKey);
  return true;
}

async function api(path, options = {}, retried = false) {
  const sent = apiKey;
  const resp = await fetch(API + path, { ...options, headers: { ...(options.headers || {}), ...authHeaders() } });
  // Refused: retry with a key entered meanwhile (by another call's prompt), else ask once.
  if (resp.status === 401 && !retried && (apiKey !== sent || askKey())) return api(path, options, true);
  const body = resp.status === 204 ? null : await resp.json().catch(() => null);
  if (!resp.ok) {
    const e = new Error(body?.error?.message || `HTTP ${resp.status}`);
    e.body = body;
    throw e;
  }
  return body;
}
const post = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

// ---- language ----
function applyLang() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  $('#lang').textContent = lang === 'zh' ? 'EN' : '中文';
  fillFilters();
  buildToggles();
  refreshQueue();
  if (selected) showIncident(selected);
  labelLang();
  fillAnalysis();
}
// Boundary labels follow the language: name (Chinese) or name_en (the file's English name, else pinyin).
function labelLang() {
  if (!map || !map.getStyle()) return;
  const field = lang === 'en' ? ['coalesce', ['get', 'name_en'], ['get', 'name'], ['get', 'code']] : ['coalesce', ['get', 'name'], ['get', 'code']];
  map.getStyle().layers.filter((l) => l.metadata?.['gridmap:label']).forEach((l) => map.setLayoutProperty(l.id, 'text-field', field));
}
$('#key').addEventListener('click', () => { if (askKey()) location.reload(); });
$('#key').classList.toggle('set', !!apiKey);
$('#lang').addEventListener('click', () => { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('gridmap.lang', lang); applyLang(); });

// ---- views ----
document.querySelectorAll('header [role=tab]').forEach((tab) => tab.addEventListener('click', () => {
  document.querySelectorAll('header [role=tab]').forEach((x) => x.setAttribute('aria-selected', String(x === tab)));
  $('#view-dispatch').hidden = tab.dataset.view !== 'dispatch';
  $('#view-gis').hidden = tab.dataset.view !== 'gis';
  if (tab.dataset.view === 'gis') refreshGenerations();
}));

// ---- GCJ-02 base maps ----
// Amap and Tencent draw their tiles in GCJ-02, WGS84 deliberately offset by 300–700 m. A base map configured with
// --basemap-crs gcj02 comes as gcj02://{z}/{x}/{y}/{vendor template}: each WGS84 tile is cut from the vendor tiles
// at the place the vendor draws it (the offset at the tile's centre; within one tile it varies by less than a pixel
// from z11 on), so gridmap's WGS84 data sits on the base map where it belongs. Same formulas as src/crs/chinese.rs.
function wgs84ToGcj02(lon, lat) {
  if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return [lon, lat];
  const { PI, sin, sqrt, abs, cos } = Math;
  const x = lon - 105, y = lat - 35;
  let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x));
  dLat += (20 * sin(6 * x * PI) + 20 * sin(2 * x * PI)) * 2 / 3 + (20 * sin(y * PI) + 40 * sin(y / 3 * PI)) * 2 / 3
    + (160 * sin(y / 12 * PI) + 320 * sin(y * PI / 30)) * 2 / 3;
  let dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x));
  dLon += (20 * sin(6 * x * PI) + 20 * sin(2 * x * PI)) * 2 / 3 + (20 * sin(x * PI) + 40 * sin(x / 3 * PI)) * 2 / 3
    + (150 * sin(x / 12 * PI) + 300 * sin(x / 30 * PI)) * 2 / 3;
  const a = 6378245.0, ee = 0.006693421622965943, rad = lat / 180 * PI;
  const magic = 1 - ee * sin(rad) * sin(rad), sm = sqrt(magic);
  return [lon + (dLon * 180) / (a / sm * cos(rad) * PI), lat + (dLat * 180) / ((a * (1 - ee)) / (magic * sm) * PI)];
}
const mercX = (lon) => (lon + 180) / 360;
const mercY = (lat) => { const s = Math.sin(lat * Math.PI / 180); return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI); };
async function gcj02Tile(params, abort) {
  const [, z, x, y, encoded] = /^gcj02:\/\/(\d+)\/(\d+)\/(\d+)\/(.+)$/.exec(params.url).map((v, i) => (i > 0 && i < 4 ? Number(v) : v));
  const template = decodeURIComponent(encoded), n = 2 ** z, size = 256;
  const lon = ((x + 0.5) / n) * 360 - 180, lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * (y + 0.5)) / n))) * 180) / Math.PI;
  const [glon, glat] = wgs84ToGcj02(lon, lat);
  // Where this tile's pixels are in the vendor's pixel space.
  const left = x * size + (mercX(glon) - mercX(lon)) * n * size, top = y * size + (mercY(glat) - mercY(lat)) * n * size;
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d');
  const jobs = [];
  for (let tx = Math.floor(left / size); tx <= Math.floor((left + size - 1) / size); tx++) {
    for (let ty = Math.floor(top / size); ty <= Math.floor((top + size - 1) / size); ty++) {
      if (ty < 0 || ty >= n) continue;
      const url = template.replace('{z}', z).replace('{x}', ((tx % n) + n) % n).replace('{y}', ty);
      jobs.push(fetch(url, { signal: abort.signal }).then((r) => (r.ok ? r.blob() : null))
        .then((b) => b && createImageBitmap(b)).then((img) => img && ctx.drawImage(img, tx * size - left, ty * size - top))
        .catch(() => {}));
    }
  }
  await Promise.all(jobs);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return { data: await blob.arrayBuffer() };
}
maplibregl.addProtocol('gcj02', gcj02Tile);

// ---- map ----
// The view starts on the loaded boundaries (asked for before the map exists, so tiles are fetched once).
let map;
async function startMap() {
  const layers = await api('/layers');
  const streets = layers.layers.find((l) => l.name === 'streets');
  const view = streets?.bbox && !location.hash ? { bounds: streets.bbox, fitBoundsOptions: { padding: 20 } } : { center: [118.79, 32.02], zoom: 12 };
  map = new maplibregl.Map({ container: 'map', style: `/tiles/style.json?lang=${lang}`, hash: true, attributionControl: false,
    // Item tiles need the key; other hosts (a raster base map) never see it.
    transformRequest: (url) => (apiKey && url.startsWith(location.origin) ? { url, headers: authHeaders() } : { url }),
    localIdeographFontFamily: "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif", ...view });
  map.addControl(new maplibregl.NavigationControl(), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  window.gridmapMap = map;
  // First complete render (style, tiles, paint), in ms since navigation start: the console's load-time figure.
  map.once('idle', () => { document.body.dataset.firstIdleMs = String(Math.round(performance.now())); });
  map.once('load', () => { buildToggles(); addAnalysisLayers(); document.body.dataset.mapReady = 'true'; });
  map.on('moveend', () => { if ($('#heat-source').value) soon(refreshHeat, 'heat'); });
  map.on('click', onMapClick);
  showGeneration(layers.generation);
}

function reloadSource(name) {
  const src = map?.getSource(name);
  if (!src) return;
  src.setTiles([`${location.origin}/tiles/${name}/{z}/{x}/{y}.mvt?v=${Date.now()}`]);
}

function buildToggles() {
  const box = $('#layer-toggles');
  box.innerHTML = '';
  for (const [name, ids] of TOGGLES) {
    if (name === 'basemap' && !map?.getLayer('basemap')) continue; // only when the server has one configured
    const label = document.createElement('label');
    const on = map?.getLayer(ids[0]) ? map.getLayoutProperty(ids[0], 'visibility') !== 'none' : name !== 'heatmap';
    label.innerHTML = `<input type="checkbox" ${on ? 'checked' : ''}> <span>${esc(t(name))}</span>`;
    label.querySelector('input').addEventListener('change', (e) => {
      for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', e.target.checked ? 'visible' : 'none');
    });
    box.append(label);
  }
}

async function onMapClick(e) {
  const { lng, lat } = e.lngLat;
  if (picking) return pickAt(lng, lat);
  const hit = map.queryRenderedFeatures(e.point, { layers: ['incidents-circle'] }).find((f) => f.properties.id);
  if (hit) return showIncident(hit.properties.id);
  await showPlace(lng, lat);
}

async function showPlace(lon, lat) {
  const card = $('#place');
  const loc = await api(`/locate?lon=${lon}&lat=${lat}`);
  const row = (k, v) => `<dt>${esc(t(k))}</dt><dd>${v ? `${esc(v.name)} <span class="muted">${esc(v.code)}</span>` : esc(t('none'))}</dd>`;
  let html = `<h2>${esc(t('location'))} <span class="muted">${lon.toFixed(5)}, ${lat.toFixed(5)}</span></h2>`;
  html += `<dl id="place-codes">${row('street', loc.street)}${row('community', loc.community)}${row('grid', loc.grid)}</dl>`;
  if (loc.grid) {
    const [roster, open] = await Promise.all([api('/responders'), api(`/incidents?grid=${encodeURIComponent(loc.grid.code)}&status=${OPEN}&limit=50`)]);
    const list = (roster.items || roster).filter((r) => r.home_grid === loc.grid.code);
    html += `<h2>${esc(t('workers'))}</h2>` + (list.length ? list.map((r) => `<div>${esc(r.name)} ${badge(r.status)}</div>`).join('') : `<p class="muted">${esc(t('none'))}</p>`);
    html += `<h2>${esc(t('openItems'))}</h2>` + (open.items.length ? open.items.map((i) => `<div><a href="#" data-incident="${i.id}">#${i.id} ${esc(catLabel(i.category))}</a> ${badge(i.status)}</div>`).join('') : `<p class="muted">${esc(t('none'))}</p>`);
    const cov = await api(`/grids/${encodeURIComponent(loc.grid.code)}/patrol-coverage?${periodQuery() || 'from=1970-01-01T00:00:00Z'}`);
    placeCoverage = cov;
    html += `<div class="coverage" id="place-coverage">${esc(t('coverage'))} <b>${Math.round(cov.share * 100)}%</b> <span class="muted">(${cov.cells_visited}/${cov.cells_total} ${esc(t('cells'))}, ${esc(periodLabel())})</span>` +
      (cov.cells_visited < cov.cells_total ? `<button type="button" id="unvisited">${esc(t('showUnvisited'))}</button>` : '') + '</div>';
  } else {
    html += `<p class="muted">${esc(t('outside'))}</p>`;
  }
  card.innerHTML = html;
  card.hidden = false;
  card.dataset.grid = loc.grid?.code || '';
  map.getSource('unvisited')?.setData(EMPTY);
}
let placeCoverage = null;
$('#place').addEventListener('click', (e) => {
  if (e.target.id !== 'unvisited' || !placeCoverage) return;
  const shown = e.target.dataset.shown === '1';
  map.getSource('unvisited').setData(shown ? EMPTY : placeCoverage.unvisited);
  e.target.dataset.shown = shown ? '' : '1';
  e.target.textContent = t(shown ? 'showUnvisited' : 'hideUnvisited');
});

// ---- analysis: heatmap (incidents, hazards or patrols over a period) and a grid choropleth from /stats/grids ----
const EMPTY = { type: 'FeatureCollection', features: [] };
const PERIODS = [1, 7, 30, 90, 365, null]; // days; null: all time
const METRICS = { per_km2: 'perKm2', open: 'openCount', patrol_coverage: 'patrolCoverage' };
const RAMP = ['#fff5eb', '#fd8d3c', '#7f2704'];
const periodDays = () => PERIODS[Number($('#period').value)];
const periodLabel = () => (periodDays() ? `${periodDays()} ${t('days')}` : t('allTime'));
function periodQuery() {
  const days = periodDays();
  return days ? `from=${new Date(Date.now() - days * 86400e3).toISOString()}` : '';
}
function fillAnalysis() {
  const keepHeat = $('#heat-source').value; const keepMetric = $('#choro-metric').value;
  $('#heat-source').innerHTML = `<option value="">${esc(t('off'))}</option>` + ['incidents', 'hazards', 'patrols'].map((s) => `<option value="${s}">${esc(t(s))}</option>`).join('');
  $('#choro-metric').innerHTML = `<option value="">${esc(t('off'))}</option>` + Object.entries(METRICS).map(([k, v]) => `<option value="${k}">${esc(t(v))}</option>`).join('');
  $('#heat-source').value = keepHeat; $('#choro-metric').value = keepMetric;
  $('#period-label').textContent = periodLabel();
}
function addAnalysisLayers() {
  const ramp = (v) => ['interpolate', ['linear'], v, 0, RAMP[0], 0.5, RAMP[1], 1, RAMP[2]];
  map.addSource('heat', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'heat-fill', type: 'fill', source: 'heat', paint: { 'fill-color': ramp(['get', 'w']), 'fill-opacity': 0.75 } }, 'grids-line');
  map.addLayer({ id: 'grids-choropleth', type: 'fill', source: 'grids', 'source-layer': 'grids', minzoom: 10, layout: { visibility: 'none' },
    paint: { 'fill-color': ramp(['coalesce', ['feature-state', 'v'], 0]), 'fill-opacity': ['case', ['==', ['feature-state', 'v'], null], 0, 0.7] } }, 'grids-line');
  map.addSource('unvisited', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'unvisited-fill', type: 'fill', source: 'unvisited', paint: { 'fill-color': '#c51b7d', 'fill-opacity': 0.45 } });
  fillAnalysis();
}
async function refreshHeat() {
  const source = $('#heat-source').value;
  if (!source) { map.getSource('heat')?.setData(EMPTY); return; }
  const b = map.getBounds();
  const q = new URLSearchParams({ source, zoom: String(Math.min(15, Math.max(0, Math.round(map.getZoom())))),
    bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(',') });
  const days = periodDays();
  if (days) q.set('from', new Date(Date.now() - days * 86400e3).toISOString());
  const fc = await api(`/heatmap?${q}`);
  const max = Math.max(1, ...fc.features.map((f) => f.properties.count));
  fc.features.forEach((f) => { f.properties.w = f.properties.count / max; });
  map.getSource('heat').setData(fc);
  document.body.dataset.heatCells = String(fc.features.length);
}
let choroCodes = [];
async function refreshChoropleth() {
  const metric = $('#choro-metric').value;
  for (const code of choroCodes) map.removeFeatureState({ source: 'grids', sourceLayer: 'grids', id: code });
  choroCodes = [];
  map.setLayoutProperty('grids-choropleth', 'visibility', metric ? 'visible' : 'none');
  $('#legend').hidden = !metric;
  if (!metric) return;
  const q = periodQuery();
  const { grids } = await api(`/stats/grids${q ? `?${q}` : ''}`);
  const values = grids.map((g) => g[metric]).filter((v) => typeof v === 'number');
  const max = metric === 'patrol_coverage' ? 1 : Math.max(1e-9, ...values);
  for (const g of grids) {
    if (typeof g[metric] !== 'number') continue;
    map.setFeatureState({ source: 'grids', sourceLayer: 'grids', id: g.code }, { v: g[metric] / max });
    choroCodes.push(g.code);
  }
  const fmt = (v) => (metric === 'patrol_coverage' ? `${Math.round(v * 100)}%` : metric === 'per_km2' ? v.toFixed(1) : String(Math.round(v)));
  $('#legend-min').textContent = fmt(0); $('#legend-max').textContent = fmt(max);
  document.body.dataset.choropleth = `${metric}:${choroCodes.length}`;
}
function refreshAnalysis() { refreshHeat(); refreshChoropleth(); }
$('#heat-source').addEventListener('change', refreshHeat);
$('#choro-metric').addEventListener('change', refreshChoropleth);
$('#period').addEventListener('input', () => { $('#period-label').textContent = periodLabel(); soon(refreshAnalysis, 'analysis'); });
$('#panel').addEventListener('click', (e) => {
  const a = e.target.closest('[data-incident]');
  if (a) { e.preventDefault(); showIncident(Number(a.dataset.incident), true); }
});

// ---- incident queue ----
function fillFilters() {
  $('#f-status').innerHTML = `<option value="${OPEN}">${esc(t('openStatus'))}</option><option value="">${esc(t('allStatus'))}</option>` +
    STATUSES.map((s) => `<option value="${s}">${esc(statusLabel(s))}</option>`).join('');
  const keep = $('#f-category').value;
  $('#f-category').innerHTML = `<option value="">${esc(t('allCategory'))}</option>` + categories.map((c) => `<option value="${esc(c.code)}">${esc(catLabel(c.code))}</option>`).join('');
  $('#f-category').value = keep;
  $('#create-category').innerHTML = categories.map((c) => `<option value="${esc(c.code)}">${esc(catLabel(c.code))}</option>`).join('');
}
['#f-status', '#f-category', '#f-grid'].forEach((s) => $(s).addEventListener('change', () => refreshQueue()));

async function refreshQueue() {
  const q = new URLSearchParams({ limit: '100' });
  if ($('#f-status').value) q.set('status', $('#f-status').value);
  if ($('#f-category').value) q.set('category', $('#f-category').value);
  if ($('#f-grid').value.trim()) q.set('grid', $('#f-grid').value.trim());
  const { items } = await api(`/incidents?${q}`);
  $('#queue').innerHTML = items.map((i) => `<li tabindex="0" data-incident="${i.id}"><b>#${i.id}</b><span>${esc(catLabel(i.category))} · ${esc(i.grid_code || '—')}<br><span class="muted">${esc(when(i.reported_at))}</span></span>${badge(i.status)}</li>`).join('');
}
$('#queue').addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target.dataset.incident) showIncident(Number(e.target.dataset.incident), true); });

// ---- create ----
$('#new-incident').addEventListener('click', () => {
  $('#create').hidden = false;
  picking = true;
  $('#create-where').textContent = t('pick');
  map.getCanvas().style.cursor = 'crosshair';
});
function pickAt(lon, lat) {
  picking = [lon, lat];
  pickMarker?.remove();
  pickMarker = new maplibregl.Marker({ color: '#d7301f' }).setLngLat([lon, lat]).addTo(map);
  $('#create-where').textContent = `${lon.toFixed(5)}, ${lat.toFixed(5)}`;
}
function endCreate() {
  picking = null;
  pickMarker?.remove();
  $('#create').hidden = true;
  $('#create-error').textContent = '';
  map.getCanvas().style.cursor = '';
}
$('#create-cancel').addEventListener('click', endCreate);
$('#create').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!Array.isArray(picking)) { $('#create-error').textContent = t('pick'); return; }
  const f = new FormData(e.target);
  try {
    const inc = await post('/incidents', { location: picking, category: f.get('category'), priority: Number(f.get('priority')),
      description: f.get('description'), source: 'dispatcher', actor: 'console' });
    endCreate();
    e.target.reset();
    await refreshQueue();
    showIncident(inc.id);
  } catch (err) {
    $('#create-error').textContent = err.message;
  }
});

// ---- incident detail, recommend, assign ----
// `fly`: bring the incident into view (when the dispatcher opens it, never on a live refresh).
async function showIncident(id, fly = false) {
  if (selected !== id) recommendedFor = null;
  selected = id;
  const inc = await api(`/incidents/${id}`);
  const names = Object.fromEntries(await Promise.all((inc.assigned || [])
    .map(async (r) => [r, await api(`/responders/${r}`).then((x) => x.name, () => `#${r}`)])));
  const card = $('#detail');
  card.hidden = false;
  card.dataset.incident = id;
  card.innerHTML = `<div class="row"><h2>#${inc.id} ${esc(catLabel(inc.category))}</h2>${badge(inc.status)}</div>
    <dl><dt>${esc(t('priority'))}</dt><dd>${inc.priority}</dd><dt>${esc(t('grid'))}</dt><dd>${esc(inc.grid_code || '—')}</dd>
    <dt>${esc(t('reported'))}</dt><dd>${esc(when(inc.reported_at))}</dd><dt>${esc(t('description'))}</dt><dd>${esc(inc.description)}</dd></dl>
    <div class="row"><button class="primary" id="recommend">${esc(t('recommend'))}</button>
    <span><select id="next-status" aria-label="status">${STATUSES.map((s) => `<option value="${s}">${esc(statusLabel(s))}</option>`).join('')}</select>
    <button id="move">${esc(t('move'))}</button></span></div><p class="error" id="detail-error" role="alert"></p>
    ${(inc.assigned || []).length ? `<h2>${esc(t('onIt'))}</h2><ul class="on-it">${inc.assigned.map((r) => `<li data-responder="${r}">${esc(names[r])}
      <button class="release" data-responder="${r}">${esc(t('release'))}</button></li>`).join('')}</ul>` : ''}
    <div id="candidates"></div>
    <h2>${esc(t('history'))}</h2><ol class="muted">${inc.history.map((h) => `<li>${esc(when(h.at))} ${esc(h.from ? statusLabel(h.from) + ' → ' : '')}${esc(statusLabel(h.to))} · ${esc(h.actor)}${h.note ? ' · ' + esc(h.note) : ''}</li>`).join('')}</ol>`;
  $('#recommend').addEventListener('click', () => recommend(inc));
  card.querySelectorAll('button.release').forEach((b) => b.addEventListener('click', () => release(inc, Number(b.dataset.responder))));
  $('#move').addEventListener('click', async () => {
    try { await post(`/incidents/${id}/status`, { status: $('#next-status').value, actor: 'console' }); showIncident(id); refreshQueue(); }
    catch (err) { $('#detail-error').textContent = err.message; }
  });
  if (fly && map && !map.getBounds().contains(inc.location)) map.easeTo({ center: inc.location });
  if (recommendedFor === id && ['reported', 'dispatched', 'on_scene'].includes(inc.status)) await recommend(inc);
}

async function recommend(inc) {
  recommendedFor = inc.id;
  const rec = await post(`/incidents/${inc.id}/recommend`, { k: 5 });
  const { candidates } = rec;
  const box = $('#candidates');
  if (!candidates.length) { box.innerHTML = `<p class="muted">${esc(t('noCandidates'))}</p>`; return; }
  const busy = (inc.assigned || []).length > 0;
  const tags = (c) => c.reasons.filter((r) => REASON_TAGS.includes(r.code))
    .map((r) => `<span class="tag tag-${r.code}">${esc(REASON[lang][r.code] || r.code)}</span>`).join('');
  const why = (c) => c.reasons.map((r) => `${REASON[lang][r.code] || r.code}: ${r.detail}`).join('\n');
  box.innerHTML = candidates.map((c) => `<div class="cand" data-responder="${c.responder_id}" title="${esc(why(c))}"><span><b>${c.rank}. ${esc(c.name)}</b> ${tags(c)}
    <br><span class="muted">${esc(t('distance'))} ${Math.round(c.distance_m)} m · ${esc(t('eta'))} ${Math.max(1, Math.round(c.eta_s / 60))} min${c.position_age_s != null ? ` · ${esc(t('fix'))} ${Math.round(c.position_age_s)} ${esc(t('ago'))}` : ''}</span></span>
    <span>${busy ? `<button class="assign" data-mode="replace" data-responder="${c.responder_id}">${esc(t('replace'))}</button>
    <button class="assign-more" data-mode="additional" data-responder="${c.responder_id}">${esc(t('additional'))}</button>`
    : `<button class="assign" data-responder="${c.responder_id}">${esc(t('assign'))}</button>`}</span></div>`).join('');
  box.querySelectorAll('button[data-responder]').forEach((b) => b.addEventListener('click', async () => {
    const body = { responder_id: Number(b.dataset.responder), actor: 'console', ranking: candidates };
    if (b.dataset.mode) body[b.dataset.mode] = true;
    try {
      await post(`/incidents/${inc.id}/assign`, body);
      recommendedFor = null;
      showIncident(inc.id);
      refreshQueue();
    } catch (err) { $('#detail-error').textContent = err.message; }
  }));
}

async function release(inc, responderId) {
  try {
    await post(`/incidents/${inc.id}/unassign`, { responder_id: responderId, actor: 'console' });
    showIncident(inc.id);
    refreshQueue();
  } catch (err) { $('#detail-error').textContent = err.message; }
}

// ---- live feed ----
const timers = {};
function soon(fn, key = 'queue') { clearTimeout(timers[key]); timers[key] = setTimeout(fn, 150); }
function connectLive() {
  const token = apiKey ? `?access_token=${encodeURIComponent(apiKey)}` : '';
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${API}/live${token}`);
  ws.onopen = () => { $('#live').className = 'live on'; $('#live').dataset.i18n = 'online'; $('#live').textContent = t('online'); };
  ws.onclose = () => { $('#live').className = 'live off'; $('#live').dataset.i18n = 'offline'; $('#live').textContent = t('offline'); setTimeout(connectLive, 2000); };
  ws.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    document.body.dataset.lastEvent = ev.type;
    if (ev.type.startsWith('incident.')) {
      reloadSource('incidents'); reloadSource('heatmap');
      soon(refreshAnalysis, 'analysis');
      soon(() => { refreshQueue(); if (selected) showIncident(selected); });
    } else if (ev.type.startsWith('responder.')) {
      reloadSource('responders');
      if (selected && recommendedFor === selected) soon(() => showIncident(selected));
    } else if (ev.type === 'generation.activated') {
      ['streets', 'communities', 'grids'].forEach(reloadSource);
      showGeneration(ev.data?.generation ?? ev.data);
      refreshGenerations();
    }
  };
}

function showGeneration(g) { $('#generation').textContent = g == null ? '' : `${t('generation')} ${g}`; }

// ---- GIS: upload, report, generations ----
const drop = $('#drop');
['dragenter', 'dragover'].forEach((n) => drop.addEventListener(n, (e) => { e.preventDefault(); drop.classList.add('over'); }));
['dragleave', 'drop'].forEach((n) => drop.addEventListener(n, (e) => { e.preventDefault(); drop.classList.remove('over'); }));
drop.addEventListener('drop', (e) => { $('#file').files = e.dataTransfer.files; });

$('#upload').addEventListener('submit', (e) => { e.preventDefault(); upload(e.submitter?.value || 'check'); });
// A chosen file is validated at once; when its fields are not code/name/parent_code, the likeliest ones (from the
// report's `suggested`) are filled in and it is validated again with them.
$('#file').addEventListener('change', () => upload('check', true));

const MAPPING = ['code_field', 'name_field', 'parent_field'];
async function upload(mode, suggest = false) {
  const form = $('#upload');
  const files = [...$('#file').files];
  if (!files.length) return;
  const body = new FormData();
  // The main file first; other files of a Shapefile set go as sidecars.
  const main = files.find((f) => /\.(zip|shp|geojson|json|kml|gpkg)$/i.test(f.name)) || files[0];
  body.append('file', main, main.name);
  files.filter((f) => f !== main).forEach((f) => body.append('sidecar', f, f.name));
  for (const k of ['layer', 'code_field', 'name_field', 'parent_field']) if (form[k].value) body.append(k, form[k].value);
  if (mode === 'check') body.append('dry_run', 'true');
  const resp = await fetch(`${API}/imports`, { method: 'POST', body, headers: authHeaders() });
  const out = await resp.json().catch(() => ({}));
  const report = out.report || out.error?.details?.report;
  showFields(report);
  const s = report?.suggested;
  if (suggest && s && MAPPING.some((k) => s[k] && !form[k].value)) {
    for (const k of MAPPING) if (s[k] && !form[k].value) form[k].value = s[k];
    $('#fields').dataset.suggested = 'true';
    return upload('check');
  }
  showReport(report, out, resp.status);
  refreshGenerations();
}

// The file's attributes with an example value each, so staff can see (and correct) which holds what.
function showFields(report) {
  const box = $('#fields');
  if (!report?.fields?.length) { box.textContent = ''; return; }
  const note = box.dataset.suggested ? ` — ${t('suggested')}` : '';
  box.textContent = `${t('fields')}${note}: ${report.fields.map((f) => (f.samples.length ? `${f.name} (${f.samples[0]})` : f.name)).join(', ')}`;
  delete box.dataset.suggested;
}

let problemMarkers = [];
function showReport(report, out, status) {
  const box = $('#report');
  box.hidden = false;
  problemMarkers.forEach((m) => m.remove());
  problemMarkers = [];
  if (!report) { box.innerHTML = `<p class="error" role="alert">${esc(out.error?.message || `HTTP ${status}`)}</p>`; return; }
  const item = (p, cls) => `<li class="${cls}">${p.feature != null ? `#${p.feature} ` : ''}${p.code ? `[${esc(p.code)}] ` : ''}${p.field ? `${esc(p.field)}: ` : ''}${esc(p.message)}${p.location ? ` <a href="#" data-at="${p.location.join(',')}">${esc(t('locate'))}</a>` : ''}</li>`;
  box.innerHTML = `<h2>${report.valid ? `✔ ${esc(t('valid'))}` : `✖ ${esc(t('invalid'))}`} <span class="muted">${esc(report.file)} · ${report.features ?? ''} ${esc(t('features'))}</span></h2>
    ${report.diff ? `<p class="diff">${esc(t('changes'))} (${report.diff.before}): ${['added', 'removed', 'renamed', 'reparented', 'geometry_changed']
    .map((k) => `${esc(t(k === 'geometry_changed' ? 'reshaped' : k))} <b>${report.diff.counts[k]}</b>`).join(' · ')} · ${esc(t('unchanged'))} <b>${report.diff.unchanged}</b></p>` : ''}
    ${out.generation ? `<p>${esc(t('staged'))} ${out.generation} <button id="activate-staged" class="primary">${esc(t('activate'))}</button> <button id="discard-staged">${esc(t('discard'))}</button></p>` : ''}
    ${report.errors?.length ? `<h2>${esc(t('errors'))} (${report.errors.length})</h2><ul class="problems">${report.errors.map((p) => item(p, 'err')).join('')}</ul>` : ''}
    ${report.warnings?.length ? `<h2>${esc(t('warnings'))} (${report.warnings.length})</h2><ul class="problems">${report.warnings.map((p) => item(p, 'warn')).join('')}</ul>` : ''}`;
  $('#activate-staged')?.addEventListener('click', () => activate(out.generation));
  $('#discard-staged')?.addEventListener('click', () => discard(out.generation));
  // Each located problem (an overlap) is marked on the map; its link flies there.
  for (const p of [...(report.errors || []), ...(report.warnings || [])].filter((p) => p.location)) {
    problemMarkers.push(new maplibregl.Marker({ color: '#b3261e' }).setLngLat(p.location)
      .setPopup(new maplibregl.Popup().setText(p.message)).addTo(map));
  }
  box.querySelectorAll('[data-at]').forEach((a) => a.addEventListener('click', (e) => {
    e.preventDefault();
    map.flyTo({ center: a.dataset.at.split(',').map(Number), zoom: 16 });
  }));
}

// A staged generation that was never active can be thrown away (the server refuses others with 409).
async function discard(g) {
  try {
    await api(`/generations/${g}`, { method: 'DELETE' });
    $('#report').hidden = true;
  } catch (e) {
    alert(e.message);
  }
  refreshGenerations();
}

async function activate(g) {
  await post(`/generations/${g}/activate`, {});
  ['streets', 'communities', 'grids'].forEach(reloadSource);
  showGeneration(g);
  refreshGenerations();
}
$('#rollback').addEventListener('click', async () => { await post('/generations/rollback', {}); refreshGenerations(); });

async function refreshGenerations() {
  const gens = await api('/generations');
  const list = gens.generations || gens;
  $('#generations tbody').innerHTML = list.map((g) => `<tr><td>${g.id}</td><td>${esc(t(g.status === 'staged' ? 'stagedS' : g.status))}</td>
    <td>${esc(g.description)}<br><span class="muted">${g.layers.map((l) => `${l.layer} ${l.features}`).join(' · ')}</span></td>
    <td>${g.status !== 'active' ? `<button data-activate="${g.id}">${esc(t('activate'))}</button>` : ''}
      ${g.status === 'staged' ? `<button data-discard="${g.id}">${esc(t('discard'))}</button>` : ''}</td></tr>`).join('');
  $('#generations').querySelectorAll('[data-activate]').forEach((b) => b.addEventListener('click', () => activate(Number(b.dataset.activate))));
  $('#generations').querySelectorAll('[data-discard]').forEach((b) => b.addEventListener('click', () => discard(Number(b.dataset.discard))));
}

// ---- start ----
(async () => {
  const started = startMap();
  categories = await api('/incident-categories');
  await started;
  applyLang();
  connectLive();
})();
