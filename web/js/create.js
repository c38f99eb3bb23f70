// A new incident: click the map where it happened (the grid it falls in is shown at once, from /locate), fill in
// category, priority, address, caller and description; Esc cancels.
import { $, esc } from './dom.js';
import { api, post } from './api.js';
import { t, colon } from './i18n.js';
import { map } from './map.js';
import { refreshQueue } from './queue.js';
import { showIncident } from './incident.js';

export let picking = null;
let pickMarker = null;
let pickSeq = 0;

export function startCreate() {
  $('#create').hidden = false;
  picking = true;
  $('#create-where').textContent = t('pick');
  $('#create-grid').textContent = '';
  map.getCanvas().style.cursor = 'crosshair';
  $('#create').scrollIntoView({ block: 'nearest' });
  $('#create-category').focus();
}
$('#new-incident').addEventListener('click', startCreate);

export async function pickAt(lon, lat) {
  picking = [lon, lat];
  pickMarker?.remove();
  pickMarker = new maplibregl.Marker({ color: '#d7301f' }).setLngLat([lon, lat]).addTo(map);
  $('#create-where').textContent = `${lon.toFixed(5)}, ${lat.toFixed(5)}`;
  const box = $('#create-grid');
  box.textContent = '…';
  const mine = ++pickSeq;
  const loc = await api(`/locate?lon=${lon}&lat=${lat}`).catch(() => null);
  if (mine !== pickSeq) return;
  box.dataset.grid = loc?.grid?.code || '';
  box.innerHTML = loc?.grid
    ? `${esc(t('pickedGrid'))}${colon()}<b>${esc(loc.grid.name)}</b> <span class="muted">${esc(loc.community?.name || '')} · ${esc(loc.grid.code)}</span>`
    : `<span class="error">${esc(t('outsideAll'))}</span>`;
}
export const creating = () => !$('#create').hidden;
export function endCreate() {
  // The focus leaves the form with it (back to the button that opened it).
  if ($('#create').contains(document.activeElement)) $('#new-incident').focus();
  picking = null;
  pickSeq++;
  pickMarker?.remove();
  $('#create').hidden = true;
  $('#create-error').textContent = '';
  $('#create-grid').textContent = '';
  delete $('#create-grid').dataset.grid;
  map.getCanvas().style.cursor = '';
}
$('#create-cancel').addEventListener('click', endCreate);
$('#create').addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); endCreate(); } });
$('#create').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!Array.isArray(picking)) { $('#create-error').textContent = t('pick'); return; }
  const f = new FormData(e.target);
  const caller = String(f.get('caller') || '').trim();
  const description = String(f.get('description') || '').trim();
  const address = String(f.get('address') || '').trim();
  try {
    const inc = await post('/incidents', { location: picking, category: f.get('category'), priority: Number(f.get('priority')),
      description, ...(address ? { address } : {}), ...(caller ? { caller } : {}), source: 'dispatcher', actor: 'console' });
    endCreate();
    e.target.reset();
    await refreshQueue();
    showIncident(inc.id, true);
  } catch (err) {
    $('#create-error').textContent = err.message;
  }
});
