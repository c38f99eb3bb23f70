// The map: one MapLibre map over gridmap's own tiles, its layer toggles, legend, selection highlights and clicks.
import { $, esc } from './dom.js';
import { api, apiKey, authHeaders } from './api.js';
import { on } from './bus.js';
import { OPEN, lang, t, statusLabel } from './i18n.js';
import { analysisStyle, refreshHeat } from './analysis.js';
import { assessmentStyle } from './assessment.js';
import { showGeneration } from './live.js';
import { loadNames } from './areas.js';
import { picking, pickAt } from './create.js';
import { showIncident } from './incident.js';
import { showPlace } from './place.js';
import { unitStyle, attachUnits, showUnit } from './units.js';

const TOGGLES = [['basemap', ['basemap']], ['streets', ['streets-line']], ['communities', ['communities-line']], ['grids', ['grids-fill', 'grids-line']],
  ['incidents', ['incidents-circle', 'incidents-count']], ['hazards', ['hazards-circle']], ['resources', ['resources-circle']],
  ['responders', ['responders-circle', 'responders-kind']], ['heatmap', ['heatmap-fill']]];
// Layers a click can pick something from, topmost first; the cursor turns into a pointer over them.
const CLICKABLE = ['candidates-ring', 'responders-circle', 'incidents-circle'];
const EMPTY = { type: 'FeatureCollection', features: [] };
const INCIDENT_COLORS = [['reported', '#d7301f'], ['dispatched', '#fc8d59'], ['on_scene', '#fdcc8a'], ['resolved', '#b30000']];

// The view starts on the loaded boundaries (asked for before the map exists, so tiles are fetched once). The style
// is fetched here and completed with the console's own layers before the map is made, so nothing added later makes
// the map reload tiles, and the responder tiles the console replaces are never fetched.
export let map;
let ready;
export const mapReady = () => ready;
export async function startMap() {
  const [layers, style] = await Promise.all([api('/layers'), fetch(`/tiles/style.json?lang=${lang}`).then((r) => r.json())]);
  const streets = layers.layers.find((l) => l.name === 'streets');
  const view = streets?.bbox && !location.hash ? { bounds: streets.bbox, fitBoundsOptions: { padding: 20 } } : { center: [118.79, 32.02], zoom: 12 };
  map = new maplibregl.Map({ container: 'map', style: consoleStyle(style), hash: true, attributionControl: false,
    // Item tiles need the key; other hosts (a raster base map) never see it.
    transformRequest: (url) => (apiKey && url.startsWith(location.origin) ? { url, headers: authHeaders() } : { url }),
    localIdeographFontFamily: "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif", ...view });
  map.addControl(new maplibregl.NavigationControl(), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  window.gridmapMap = map;
  attachUnits(map);
  // First complete render (style, tiles, paint), in ms since navigation start: the console's load-time figure. The
  // area names come after it: the map first.
  map.once('idle', () => { document.body.dataset.firstIdleMs = String(Math.round(performance.now())); loadNames(streets?.bbox); });
  ready = new Promise((ok) => map.once('load', () => {
    buildToggles();
    renderLegend();
    document.body.dataset.mapReady = 'true';
    ok(map);
  }));
  map.on('moveend', () => { if ($('#heat-source').value) refreshHeat(); });
  map.on('click', onMapClick);
  map.on('mousemove', onMouseMove);
  showGeneration(layers.generation);
  return ready;
}

/**
 * The server's style with the console's layers: analysis (heatmap, choropleth, unpatrolled cells), the 考核
 * choropleths, selection (the clicked grid, the open incident), cluster counts, units and candidates; the incident
 * layer starts with the queue's default filter (open incidents).
 */
function consoleStyle(style) {
  const parts = [analysisStyle(), assessmentStyle(), unitStyle(), {
    sources: { selection: { type: 'geojson', data: EMPTY } },
    layers: [
      [{ id: 'grids-selected-fill', type: 'fill', source: 'grids', 'source-layer': 'grids', filter: ['==', ['get', 'code'], ''],
        paint: { 'fill-color': '#0b5cad', 'fill-opacity': 0.12 } }, 'grids-line'],
      [{ id: 'grids-selected', type: 'line', source: 'grids', 'source-layer': 'grids', filter: ['==', ['get', 'code'], ''],
        paint: { 'line-color': '#0b5cad', 'line-width': 3.5 } }, 'communities-line'],
      // Features merged at low zoom (cluster = 1, count) show their count; a click zooms in.
      [{ id: 'incidents-count', type: 'symbol', source: 'incidents', 'source-layer': 'incidents', filter: ['has', 'cluster'],
        layout: { 'text-field': ['to-string', ['get', 'count']], 'text-size': 11, 'text-allow-overlap': true },
        paint: { 'text-color': '#ffffff' } }],
      [{ id: 'incident-selected', type: 'circle', source: 'selection',
        paint: { 'circle-radius': 13, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#111111', 'circle-stroke-width': 3 } }],
    ],
  }];
  for (const p of parts) {
    for (const id of p.drop?.sources || []) delete style.sources[id];
    style.layers = style.layers.filter((l) => !(p.drop?.layers || []).includes(l.id));
  }
  for (const p of parts) {
    Object.assign(style.sources, p.sources);
    for (const [layer, before] of p.layers) {
      const at = before ? style.layers.findIndex((l) => l.id === before) : -1;
      if (at >= 0) style.layers.splice(at, 0, layer); else style.layers.push(layer);
    }
  }
  const incidents = style.layers.find((l) => l.id === 'incidents-circle');
  if (incidents) {
    incidentFilter = filterFor({ statuses: OPEN.split(',') });
    incidents.filter = incidentFilter;
  }
  return style;
}

export function reloadSource(name) {
  const src = map?.getSource(name);
  if (!src || !src.setTiles) return;
  const extra = name === 'incidents' && incidentQuery ? `&${incidentQuery}` : '';
  src.setTiles([`${location.origin}/tiles/${name}/{z}/{x}/{y}.mvt?v=${Date.now()}${extra}`]);
}

// ---- selection: the clicked grid and the open incident ----
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

// ---- incidents: the queue's filters ----
// Points are filtered in the map (instantly); the tiles are asked for the same filters too, so that the clusters
// below z15 count only what the queue lists.
let incidentFilter; // undefined: never set
let incidentQuery = ''; // the filters as the incident tiles' query string
const MAX_TILE_GRIDS = 500; // the server's limit for grid=; a longer list filters points only
function filterFor({ statuses, category, grids }) {
  if (grids && !grids.length) return ['==', 1, 0]; // a search that matches no grid: nothing on the map either
  const cond = ['all'];
  if (statuses?.length) cond.push(['in', ['get', 'status'], ['literal', statuses]]);
  if (category) cond.push(['==', ['get', 'category'], category]);
  if (grids) cond.push(['in', ['get', 'grid_code'], ['literal', grids]]);
  // Clusters carry no attributes to filter on: they stay.
  return cond.length > 1 ? ['any', ['has', 'cluster'], cond] : null;
}
/** The queue's filters on the map's incident layer (only when they change: a new filter re-lays the tiles). */
export function setIncidentFilter(filters) {
  const f = filterFor(filters);
  if (JSON.stringify(f) === JSON.stringify(incidentFilter ?? null)) return;
  incidentFilter = f;
  if (map?.getLayer('incidents-circle')) map.setFilter('incidents-circle', f);
  if (map?.getLayer('incidents-count')) map.setFilter('incidents-count', f ? ['all', ['has', 'cluster'], f] : ['has', 'cluster']);
  const q = new URLSearchParams();
  if (filters.statuses?.length) q.set('status', filters.statuses.join(','));
  if (filters.category) q.set('category', filters.category);
  if (filters.grids?.length && filters.grids.length <= MAX_TILE_GRIDS) q.set('grid', filters.grids.join(','));
  if (q.toString() !== incidentQuery) { incidentQuery = q.toString(); reloadSource('incidents'); }
}

export function buildToggles() {
  const box = $('#layer-toggles');
  box.innerHTML = '';
  for (const [name, fixed] of TOGGLES) {
    // The base map: the raster one (--basemap-url) and every PMTiles archive's layers (basemap-<name>-…).
    const ids = name === 'basemap' ? (map?.getStyle()?.layers || []).map((l) => l.id).filter((id) => id.startsWith('basemap')) : fixed;
    if (name === 'basemap' && !ids.length) continue; // only when the server has one configured
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
  // Only when it changes: a layout change re-lays the tiles.
  map.getStyle().layers.filter((l) => l.metadata?.['gridmap:label'] && JSON.stringify(map.getLayoutProperty(l.id, 'text-field')) !== JSON.stringify(field))
    .forEach((l) => map.setLayoutProperty(l.id, 'text-field', field));
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
