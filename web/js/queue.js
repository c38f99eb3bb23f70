// The incident queue and its filters.
import { $, esc } from './dom.js';
import { api } from './api.js';
import { OPEN, STATUSES, t, statusLabel, badge, catLabel, categories, when } from './i18n.js';
import { showIncident } from './incident.js';
export function fillFilters() {
  $('#f-status').innerHTML = `<option value="${OPEN}">${esc(t('openStatus'))}</option><option value="">${esc(t('allStatus'))}</option>` +
    STATUSES.map((s) => `<option value="${s}">${esc(statusLabel(s))}</option>`).join('');
  const keep = $('#f-category').value;
  $('#f-category').innerHTML = `<option value="">${esc(t('allCategory'))}</option>` + categories.map((c) => `<option value="${esc(c.code)}">${esc(catLabel(c.code))}</option>`).join('');
  $('#f-category').value = keep;
  $('#create-category').innerHTML = categories.map((c) => `<option value="${esc(c.code)}">${esc(catLabel(c.code))}</option>`).join('');
}
['#f-status', '#f-category', '#f-grid'].forEach((s) => $(s).addEventListener('change', () => refreshQueue()));

export async function refreshQueue() {
  const q = new URLSearchParams({ limit: '100' });
  if ($('#f-status').value) q.set('status', $('#f-status').value);
  if ($('#f-category').value) q.set('category', $('#f-category').value);
  if ($('#f-grid').value.trim()) q.set('grid', $('#f-grid').value.trim());
  const { items } = await api(`/incidents?${q}`);
  $('#queue').innerHTML = items.map((i) => `<li tabindex="0" data-incident="${i.id}"><b>#${i.id}</b><span>${esc(catLabel(i.category))} · ${esc(i.grid_code || '—')}<br><span class="muted">${esc(when(i.reported_at))}</span></span>${badge(i.status)}</li>`).join('');
}
$('#queue').addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target.dataset.incident) showIncident(Number(e.target.dataset.incident), true); });

