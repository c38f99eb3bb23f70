// The GIS staff's page: upload a boundary file, its validation report, generations.
import { $, esc } from './dom.js';
import { API, api, post, authHeaders } from './api.js';
import { t } from './i18n.js';
import { map, reloadSource } from './map.js';
import { showGeneration } from './live.js';
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

export async function refreshGenerations() {
  const gens = await api('/generations');
  const list = gens.generations || gens;
  $('#generations tbody').innerHTML = list.map((g) => `<tr><td>${g.id}</td><td>${esc(t(g.status === 'staged' ? 'stagedS' : g.status))}</td>
    <td>${esc(g.description)}<br><span class="muted">${g.layers.map((l) => `${l.layer} ${l.features}`).join(' · ')}</span></td>
    <td>${g.status !== 'active' ? `<button data-activate="${g.id}">${esc(t('activate'))}</button>` : ''}
      ${g.status === 'staged' ? `<button data-discard="${g.id}">${esc(t('discard'))}</button>` : ''}</td></tr>`).join('');
  $('#generations').querySelectorAll('[data-activate]').forEach((b) => b.addEventListener('click', () => activate(Number(b.dataset.activate))));
  $('#generations').querySelectorAll('[data-discard]').forEach((b) => b.addEventListener('click', () => discard(Number(b.dataset.discard))));
}

