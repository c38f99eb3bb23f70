// The map: one MapLibre map over gridmap's own tiles, its layer toggles, legend, selection highlights and clicks.
import { $, esc } from './dom.js';
import { api, apiKey, authHeaders } from './api.js';
import { on } from './bus.js';
import { lang, t, statusLabel } from './i18n.js';
import { addAnalysisLayers, refreshHeat } from './analysis.js';
import { showGeneration } from './live.js';
import { loadNames } from './areas.js';
import { picking, pickAt } from './create.js';
import { showIncident } from './incident.js';
import { showPlace } from './place.js';
import { addUnitLayers, showUnit } from './units.js';

const TOGGLES = [['basemap', ['basemap']], ['streets', ['streets-line']], ['communities', ['communities-line']], ['grids', ['grids-fill', 'grids-line']],
  ['incidents', ['incidents-circle', 'incidents-count']], ['hazards', ['hazards-circle']], ['resources', ['resources-circle']],
  ['responders', ['responders-circle', 'responders-kind']], ['heatmap', ['heatmap-fill']]];
// Layers a click can pick something from, topmost first; the cursor turns into a pointer over them.
const CLICKABLE = ['candidates-ring', 'responders-circle', 'incidents-circle'];
const EMPTY = { type: 'FeatureCollection', features: [] };
const INCIDENT_COLORS = [['reported', '#d7301f'], ['dispatched', '#fc8d59'], ['on_scene', '#fdcc8a'], ['resolved', '#b30000']];

// The view starts on the loaded boundaries (asked for before the map exists, so tiles are fetched once).
export let map;
let ready;
export const mapReady = () => ready;
export async function startMap() {
  const layers = await api('/layers');
  const streets = layers.layers.find((l) => l.name === 'streets');
  // Names after the first render: the map comes first.
  const extent = streets?.bbox;
  const view = streets?.bbox && !location.hash ? { bounds: streets.bbox, fitBoundsOptions: { padding: 20 } } : { center: [118.79, 32.02], zoom: 12 };
  map = new maplibregl.Map({ container: 'map', style: `/tiles/style.json?lang=${lang}`, hash: true, attributionControl: false,
    // Item tiles need the key; other hosts (a raster base map) never see it.
    transformRequest: (url) => (apiKey && url.startsWith(location.origin) ? { url, headers: authHeaders() } : { url }),
    localIdeographFontFamily: "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif", ...view });
  map.addControl(new maplibregl.NavigationControl(), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  window.gridmapMap = map;
  // First complete render (style, tiles, paint), in ms since navigation start: the console's load-time figure.
  map.once('idle', () => { document.body.dataset.firstIdleMs = String(Math.round(performance.now())); loadNames(extent); });
  ready = new Promise((ok) => map.once('load', async () => {
    addAnalysisLayers();
    addSelectionLayers();
    await addUnitLayers(map);
    addPointerLayers();
    buildToggles();
    renderLegend();
    if (incidentFilter !== undefined) map.setFilter('incidents-circle', incidentFilter);
    document.body.dataset.mapReady = 'true';
    ok(map);
  }));
  map.on('moveend', () => { if ($('#heat-source').value) refreshHeat(); });
  map.on('click', onMapClick);
  map.on('mousemove', onMouseMove);
  showGeneration(layers.generation);
  return ready;
}

export function reloadSource(name) {
  const src = map?.getSource(name);
  if (!src || !src.setTiles) return;
  src.setTiles([`${location.origin}/tiles/${name}/{z}/{x}/{y}.mvt?v=${Date.now()}`]);
}

// ---- selection: the clicked grid and the open incident ----
function addSelectionLayers() {
  map.addLayer({ id: 'grids-selected', type: 'line', source: 'grids', 'source-layer': 'grids', filter: ['==', ['get', 'code'], ''],
    paint: { 'line-color': '#0b5cad', 'line-width': 3.5 } }, 'communities-line');
  map.addLayer({ id: 'grids-selected-fill', type: 'fill', source: 'grids', 'source-layer': 'grids', filter: ['==', ['get', 'code'], ''],
    paint: { 'fill-color': '#0b5cad', 'fill-opacity': 0.12 } }, 'grids-line');
  map.addSource('selection', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'incident-selected', type: 'circle', source: 'selection',
    paint: { 'circle-radius': 13, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#111111', 'circle-stroke-width': 3 } });
}
export function highlightGrid(code) {
  if (!map?.getLayer('grids-selected')) return;
  const f = ['==', ['get', 'code'], code || ''];
  map.setFilter('grids-selected', f);
  map.setFilter('grids-selected-fill', f);
  document.body.dataset.selectedGrid = code || '';
}
export function highlightIncident(location) {
  map?.getSource('selection')?.setData(location ? { type: 'FeatureCollection', features: [
    { type: 'Feature', geometry: { type: 'Point', coordinates: location }, properties: {} }] } : EMPTY);
}

// ---- incidents: cluster counts, the queue's filters ----
function addPointerLayers() {
  // Features merged at low zoom (cluster = 1, count) show their count; a click zooms in.
  map.addLayer({ id: 'incidents-count', type: 'symbol', source: 'incidents', 'source-layer': 'incidents', filter: ['has', 'cluster'],
    layout: { 'text-field': ['to-string', ['get', 'count']], 'text-size': 11, 'text-allow-overlap': true },
    paint: { 'text-color': '#ffffff' } });
  // The open incident's ring above everything.
  map.moveLayer('incident-selected');
}
let incidentFilter; // undefined: never set
export function setIncidentFilter({ statuses, category, grids }) {
  const cond = ['all'];
  if (statuses?.length) cond.push(['in', ['get', 'status'], ['literal', statuses]]);
  if (category) cond.push(['==', ['get', 'category'], category]);
  if (grids) cond.push(['in', ['get', 'grid_code'], ['literal', grids]]);
  // Clusters carry no attributes to filter on: they stay.
  const f = cond.length > 1 ? ['any', ['has', 'cluster'], cond] : null;
  if (JSON.stringify(f) === JSON.stringify(incidentFilter ?? null) && incidentFilter !== undefined) return;
  incidentFilter = f;
  if (map?.getLayer('incidents-circle')) map.setFilter('incidents-circle', f);
}

export function buildToggles() {
  const box = $('#layer-toggles');
  box.innerHTML = '';
  for (const [name, ids] of TOGGLES) {
    if (name === 'basemap' && !map?.getLayer('basemap')) continue; // only when the server has one configured
    const label = document.createElement('label');
    const on = map?.getLayer(ids[0]) ? map.getLayoutProperty(ids[0], 'visibility') !== 'none' : name !== 'heatmap';
    label.innerHTML = `<input type="checkbox" data-layer="${name}" ${on ? 'checked' : ''}> <span>${esc(t(name))}</span>`;
    label.querySelector('input').addEventListener('change', (e) => {
      for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', e.target.checked ? 'visible' : 'none');
    });
    box.append(label);
  }
}

export function renderLegend() {
  const dot = (c, extra = '') => `<i class="dot" style="background:${c};${extra}"></i>`;
  $('#map-legend').innerHTML = `<b>${esc(t('incidents'))}</b>`
    + INCIDENT_COLORS.map(([s, c]) => `<span data-status="${s}">${dot(c)}${esc(statusLabel(s))}</span>`).join('')
    + `<span>${dot('#d7301f', 'width:14px;height:14px')}${esc(t('cluster'))}</span>`
    + `<span>${dot('transparent', 'border:3px solid #111')}${esc(t('selectedInc'))}</span>`
    + `<b>${esc(t('responders'))}</b>`
    + [['available', '#1a9850'], ['busy', '#2c7fb8'], ['off_duty', '#999999']].map(([s, c]) => `<span>${dot(c)}${esc(statusLabel(s))}</span>`).join('')
    + `<span>${dot('#ffffff', 'border:3px solid #7b3294')}${esc(t('candidate'))}</span>`;
}

// ---- clicks and the pointer ----
function hitAt(point) {
  const box = [[point.x - 4, point.y - 4], [point.x + 4, point.y + 4]];
  const layers = CLICKABLE.filter((l) => map.getLayer(l));
  const hits = map.queryRenderedFeatures(box, { layers });
  // Topmost layer first, as CLICKABLE lists them.
  hits.sort((a, b) => CLICKABLE.indexOf(a.layer.id) - CLICKABLE.indexOf(b.layer.id));
  return hits[0];
}
function onMouseMove(e) {
  if (picking) { map.getCanvas().style.cursor = 'crosshair'; return; }
  map.getCanvas().style.cursor = hitAt(e.point) ? 'pointer' : '';
}
async function onMapClick(e) {
  const { lng, lat } = e.lngLat;
  if (picking) return pickAt(lng, lat);
  const hit = hitAt(e.point);
  if (hit && hit.layer.id !== 'incidents-circle') return showUnit(hit.properties.id, false);
  if (hit?.properties.cluster) {
    map.easeTo({ center: hit.geometry.coordinates, zoom: Math.min(map.getZoom() + 2, 16) });
    return;
  }
  if (hit?.properties.id) return showIncident(hit.properties.id);
  await showPlace(lng, lat);
}

// Boundary labels follow the language: name (Chinese) or name_en (the file's English name, else pinyin).
export function labelLang() {
  if (!map || !map.getStyle()) return;
  const field = lang === 'en' ? ['coalesce', ['get', 'name_en'], ['get', 'name'], ['get', 'code']] : ['coalesce', ['get', 'name'], ['get', 'code']];
  map.getStyle().layers.filter((l) => l.metadata?.['gridmap:label']).forEach((l) => map.setLayoutProperty(l.id, 'text-field', field));
}

// Incident tiles are re-fetched when incidents change (at most every 300 ms); boundaries on activation.
let incidentTimer = 0;
on('live', (ev) => {
  if (ev.type.startsWith('incident.')) {
    clearTimeout(incidentTimer);
    incidentTimer = setTimeout(() => { reloadSource('incidents'); reloadSource('heatmap'); }, 300);
  } else if (ev.type === 'generation.activated') {
    ['streets', 'communities', 'grids'].forEach(reloadSource);
    showGeneration(ev.data?.generation ?? ev.data);
  }
});
on('live:open', ({ first }) => { if (!first) reloadSource('incidents'); });
on('lang', () => { buildToggles(); renderLegend(); labelLang(); });
