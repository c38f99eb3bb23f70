// The search box: a grid, community or street by (partial) code or name, or a point as "lon,lat" (WGS84, or GCJ-02
// with the toggle, as Amap and Tencent give them): the map flies there and the place is shown.
import { $, esc } from './dom.js';
import { api } from './api.js';
import { on } from './bus.js';
import { t } from './i18n.js';
import { findAreas } from './areas.js';
import { wgs84ToGcj02 } from './gcj02.js';
import { map, highlightGrid } from './map.js';
import { showPlace } from './place.js';

const input = $('#search');
const list = $('#search-results');
let hits = [];

/** GCJ-02 → WGS84 by inverting the forward transform (a few fixed-point steps; well under a metre). */
export function gcj02ToWgs84(lon, lat) {
  let [x, y] = [lon, lat];
  for (let i = 0; i < 6; i++) {
    const [gx, gy] = wgs84ToGcj02(x, y);
    x -= gx - lon;
    y -= gy - lat;
  }
  return [x, y];
}
/** [lon, lat] when the text is a coordinate pair ("118.79,32.02", "118.79 32.02", "118.79，32.02"). */
export function parseCoords(text) {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function showHits() {
  const q = input.value;
  const coords = parseCoords(q);
  hits = coords ? [] : findAreas(q, 12);
  list.hidden = !q.trim() || !!coords;
  list.innerHTML = hits.length ? hits.map((a, i) => `<li role="option" id="sr-${i}" data-i="${i}" tabindex="-1">
      <span class="tag">${esc(t(a.layer === 'grids' ? 'grid' : a.layer === 'communities' ? 'community' : 'street'))}</span> ${esc(a.name)} <span class="muted">${esc(a.code)}</span></li>`).join('')
    : `<li class="muted">${esc(t('noMatch'))}</li>`;
}
input.addEventListener('input', showHits);
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') { e.preventDefault(); go(0); }
  if (e.key === 'Escape') { list.hidden = true; input.blur(); }
  if (e.key === 'ArrowDown' && hits.length) { e.preventDefault(); list.querySelector('li[data-i]')?.focus(); }
});
list.addEventListener('keydown', (e) => {
  const li = e.target.closest('li[data-i]');
  if (!li) return;
  if (e.key === 'Enter') { e.preventDefault(); go(Number(li.dataset.i)); }
  if (e.key === 'ArrowDown') { e.preventDefault(); li.nextElementSibling?.focus(); }
  if (e.key === 'ArrowUp') { e.preventDefault(); (li.previousElementSibling || input).focus(); }
  if (e.key === 'Escape') { list.hidden = true; input.focus(); }
});
list.addEventListener('click', (e) => { const li = e.target.closest('li[data-i]'); if (li) go(Number(li.dataset.i)); });
$('#search-form').addEventListener('submit', (e) => { e.preventDefault(); go(0); });

async function go(i) {
  const coords = parseCoords(input.value);
  const out = $('#search-status');
  out.textContent = '';
  if (coords) {
    const [lon, lat] = $('#search-gcj').checked ? gcj02ToWgs84(...coords) : coords;
    if (!(Math.abs(lon) <= 180 && Math.abs(lat) <= 90)) { out.textContent = t('badCoords'); return; }
    list.hidden = true;
    map.flyTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 16), duration: 600 });
    document.body.dataset.searchHit = `point:${lon.toFixed(6)},${lat.toFixed(6)}`;
    await showPlace(lon, lat);
    return;
  }
  if (!hits.length) showHits();
  const a = hits[i];
  if (!a) { out.textContent = t('noMatch'); return; }
  list.hidden = true;
  input.value = a.name;
  const full = await api(`/areas/${a.layer}/${encodeURIComponent(a.code)}?geometry=false`);
  const [x0, y0, x1, y1] = full.bbox;
  map.fitBounds([[x0, y0], [x1, y1]], { padding: 40, maxZoom: 17, duration: 600 });
  if (a.layer === 'grids') highlightGrid(a.code);
  document.body.dataset.searchHit = `${a.layer}:${a.code}`;
}
on('lang', () => { if (!list.hidden) showHits(); });
document.addEventListener('click', (e) => { if (!e.target.closest('#search-form')) list.hidden = true; });
