// The place card: street, community and grid at a clicked point, its grid workers, open incidents and patrol coverage.
import { $, esc } from './dom.js';
import { api } from './api.js';
import { OPEN, t, badge, catLabel } from './i18n.js';
import { map, highlightGrid } from './map.js';
import { on } from './bus.js';
import { EMPTY, periodQuery, periodLabel } from './analysis.js';

let shownAt = null;
export async function showPlace(lon, lat) {
  const card = $('#place');
  shownAt = [lon, lat];
  const loc = await api(`/locate?lon=${lon}&lat=${lat}`);
  const row = (k, v) => `<dt>${esc(t(k))}</dt><dd>${v ? `${esc(v.name)} <span class="muted">${esc(v.code)}</span>` : esc(t('none'))}</dd>`;
  let html = `<div class="row"><h2>${esc(t('location'))} <span class="muted">${lon.toFixed(5)}, ${lat.toFixed(5)}</span></h2><button type="button" class="close" id="place-close" aria-label="${esc(t('close'))}" title="${esc(t('close'))}">×</button></div>`;
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
  highlightGrid(loc.grid?.code);
  map.getSource('unvisited')?.setData(EMPTY);
}
let placeCoverage = null;
$('#place').addEventListener('click', (e) => {
  if (e.target.id === 'place-close') { closePlace(); return; }
  if (e.target.id !== 'unvisited' || !placeCoverage) return;
  const shown = e.target.dataset.shown === '1';
  map.getSource('unvisited').setData(shown ? EMPTY : placeCoverage.unvisited);
  e.target.dataset.shown = shown ? '' : '1';
  e.target.textContent = t(shown ? 'showUnvisited' : 'hideUnvisited');
});

export function closePlace() {
  shownAt = null;
  $('#place').hidden = true;
  highlightGrid(null);
  map.getSource('unvisited')?.setData(EMPTY);
}
// The card is written in the page's language: written again on a switch.
on('lang', () => { if (shownAt && !$('#place').hidden) showPlace(...shownAt); });
