// The map: one MapLibre map over gridmap's own tiles, its layer toggles and clicks.
import { $, esc, soon } from './dom.js';
import { api, apiKey, authHeaders } from './api.js';
import { lang, t } from './i18n.js';
import { addAnalysisLayers, refreshHeat } from './analysis.js';
import { showGeneration } from './live.js';
import { picking, pickAt } from './create.js';
import { showIncident } from './incident.js';
import { showPlace } from './place.js';

const TOGGLES = [['basemap', ['basemap']], ['streets', ['streets-line']], ['communities', ['communities-line']], ['grids', ['grids-fill', 'grids-line']],
  ['incidents', ['incidents-circle']], ['hazards', ['hazards-circle']], ['resources', ['resources-circle']], ['responders', ['responders-circle']], ['heatmap', ['heatmap-fill']]];

// The view starts on the loaded boundaries (asked for before the map exists, so tiles are fetched once).
export let map;
export async function startMap() {
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

export function reloadSource(name) {
  const src = map?.getSource(name);
  if (!src) return;
  src.setTiles([`${location.origin}/tiles/${name}/{z}/{x}/{y}.mvt?v=${Date.now()}`]);
}

export function buildToggles() {
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

// Boundary labels follow the language: name (Chinese) or name_en (the file's English name, else pinyin).
export function labelLang() {
  if (!map || !map.getStyle()) return;
  const field = lang === 'en' ? ['coalesce', ['get', 'name_en'], ['get', 'name'], ['get', 'code']] : ['coalesce', ['get', 'name'], ['get', 'code']];
  map.getStyle().layers.filter((l) => l.metadata?.['gridmap:label']).forEach((l) => map.setLayoutProperty(l.id, 'text-field', field));
}
