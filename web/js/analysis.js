// Analysis: heatmap (incidents, hazards or patrols over a period) and a grid choropleth from /stats/grids.
import { $, esc, soon } from './dom.js';
import { api } from './api.js';
import { t } from './i18n.js';
import { map } from './map.js';
import { on } from './bus.js';

export const EMPTY = { type: 'FeatureCollection', features: [] };
const PERIODS = [1, 7, 30, 90, 365, null]; // days; null: all time
const METRICS = { per_km2: 'perKm2', open: 'openCount', patrol_coverage: 'patrolCoverage', reach_minutes: 'reachMinutes' };
const COVER_MINUTES = 5; // the coverage layer's "covered" time: darker beyond it, darkest at three times it
const RAMP = ['#fff5eb', '#fd8d3c', '#7f2704'];
const periodDays = () => PERIODS[Number($('#period').value)];
export const periodLabel = () => (periodDays() ? `${periodDays()} ${t('days')}` : t('allTime'));
export function periodQuery() {
  const days = periodDays();
  return days ? `from=${new Date(Date.now() - days * 86400e3).toISOString()}` : '';
}
export function fillAnalysis() {
  const keepHeat = $('#heat-source').value; const keepMetric = $('#choro-metric').value;
  $('#heat-source').innerHTML = `<option value="">${esc(t('off'))}</option>` + ['incidents', 'hazards', 'patrols'].map((s) => `<option value="${s}">${esc(t(s))}</option>`).join('');
  $('#choro-metric').innerHTML = `<option value="">${esc(t('off'))}</option>` + Object.entries(METRICS).map(([k, v]) => `<option value="${k}">${esc(t(v))}</option>`).join('');
  $('#heat-source').value = keepHeat; $('#choro-metric').value = keepMetric;
  $('#period-label').textContent = periodLabel();
}
/** The analysis layers, for the console's style (map.js): [layer, id to insert before] pairs and their sources. */
export function analysisStyle() {
  const ramp = (v) => ['interpolate', ['linear'], v, 0, RAMP[0], 0.5, RAMP[1], 1, RAMP[2]];
  return {
    sources: { heat: { type: 'geojson', data: EMPTY }, unvisited: { type: 'geojson', data: EMPTY } },
    layers: [
      [{ id: 'heat-fill', type: 'fill', source: 'heat', paint: { 'fill-color': ramp(['get', 'w']), 'fill-opacity': 0.75 } }, 'grids-line'],
      [{ id: 'grids-choropleth', type: 'fill', source: 'grids', 'source-layer': 'grids', minzoom: 10, layout: { visibility: 'none' },
        paint: { 'fill-color': ramp(['coalesce', ['feature-state', 'v'], 0]), 'fill-opacity': ['case', ['==', ['feature-state', 'v'], null], 0, 0.7] } }, 'grids-line'],
      [{ id: 'unvisited-fill', type: 'fill', source: 'unvisited', paint: { 'fill-color': '#c51b7d', 'fill-opacity': 0.45 } }, 'resources-circle'],
    ],
  };
}
export async function refreshHeat() {
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
  let grids; let max;
  if (metric === 'reach_minutes') {
    // Minutes for the nearest available unit to reach each grid, by road when a network is loaded; beyond the
    // horizon (three times the covered time) or nobody: the darkest.
    const cov = await api(`/dispatch/coverage?minutes=${COVER_MINUTES}`);
    max = cov.horizon_s / 60;
    grids = cov.grids.map((g) => ({ code: g.code, reach_minutes: g.eta_s == null ? max : Math.min(max, g.eta_s / 60) }));
    document.body.dataset.coverage = `${cov.eta_method}:${cov.covered}:${cov.uncovered}`;
  } else {
    ({ grids } = await api(`/stats/grids${q ? `?${q}` : ''}`));
    const values = grids.map((g) => g[metric]).filter((v) => typeof v === 'number');
    max = metric === 'patrol_coverage' ? 1 : Math.max(1e-9, ...values);
  }
  for (const g of grids) {
    if (typeof g[metric] !== 'number') continue;
    map.setFeatureState({ source: 'grids', sourceLayer: 'grids', id: g.code }, { v: g[metric] / max });
    choroCodes.push(g.code);
  }
  const fmt = (v) => (metric === 'patrol_coverage' ? `${Math.round(v * 100)}%` : metric === 'per_km2' ? v.toFixed(1)
    : metric === 'reach_minutes' ? `${Math.round(v)} min` : String(Math.round(v)));
  $('#legend-min').textContent = fmt(0); $('#legend-max').textContent = fmt(max);
  document.body.dataset.choropleth = `${metric}:${choroCodes.length}`;
}
export function refreshAnalysis() { refreshHeat(); refreshChoropleth(); }
$('#heat-source').addEventListener('change', refreshHeat);
$('#choro-metric').addEventListener('change', refreshChoropleth);
$('#period').addEventListener('input', () => { $('#period-label').textContent = periodLabel(); soon(refreshAnalysis, 'analysis'); });
on('live', (ev) => {
  if (ev.type.startsWith('incident.')) soon(refreshAnalysis, 'analysis');
  // The coverage map follows the units, at most once every 3 s however often they move.
  else if ($('#choro-metric').value === 'reach_minutes' && (ev.type.startsWith('responder.') || ev.type === 'roads.activated')) {
    coverTimer ||= setTimeout(() => { coverTimer = 0; refreshChoropleth(); }, 3000);
  }
});
let coverTimer = 0;
on('lang', () => fillAnalysis());
