// A new incident: click the map where it happened, then fill in the form.
import { $ } from './dom.js';
import { post } from './api.js';
import { t } from './i18n.js';
import { map } from './map.js';
import { refreshQueue } from './queue.js';
import { showIncident } from './incident.js';

export let picking = null;
let pickMarker = null;
$('#new-incident').addEventListener('click', () => {
  $('#create').hidden = false;
  picking = true;
  $('#create-where').textContent = t('pick');
  map.getCanvas().style.cursor = 'crosshair';
});
export function pickAt(lon, lat) {
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

