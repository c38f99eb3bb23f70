// The incident card: details, status changes, recommend, assign and release.
import { $, esc } from './dom.js';
import { api, post } from './api.js';
import { STATUSES, REASON, REASON_TAGS, lang, t, statusLabel, badge, catLabel, when } from './i18n.js';
import { map } from './map.js';
import { refreshQueue } from './queue.js';

export let selected = null;
export let recommendedFor = null; // incident whose candidates are on screen: kept across live refreshes
// `fly`: bring the incident into view (when the dispatcher opens it, never on a live refresh).
export async function showIncident(id, fly = false) {
  if (selected !== id) recommendedFor = null;
  selected = id;
  const inc = await api(`/incidents/${id}`);
  const names = Object.fromEntries(await Promise.all((inc.assigned || [])
    .map(async (r) => [r, await api(`/responders/${r}`).then((x) => x.name, () => `#${r}`)])));
  const card = $('#detail');
  card.hidden = false;
  card.dataset.incident = id;
  card.innerHTML = `<div class="row"><h2>#${inc.id} ${esc(catLabel(inc.category))}</h2>${badge(inc.status)}</div>
    <dl><dt>${esc(t('priority'))}</dt><dd>${inc.priority}</dd><dt>${esc(t('grid'))}</dt><dd>${esc(inc.grid_code || '—')}</dd>
    <dt>${esc(t('reported'))}</dt><dd>${esc(when(inc.reported_at))}</dd><dt>${esc(t('description'))}</dt><dd>${esc(inc.description)}</dd></dl>
    <div class="row"><button class="primary" id="recommend">${esc(t('recommend'))}</button>
    <span><select id="next-status" aria-label="status">${STATUSES.map((s) => `<option value="${s}">${esc(statusLabel(s))}</option>`).join('')}</select>
    <button id="move">${esc(t('move'))}</button></span></div><p class="error" id="detail-error" role="alert"></p>
    ${(inc.assigned || []).length ? `<h2>${esc(t('onIt'))}</h2><ul class="on-it">${inc.assigned.map((r) => `<li data-responder="${r}">${esc(names[r])}
      <button class="release" data-responder="${r}">${esc(t('release'))}</button></li>`).join('')}</ul>` : ''}
    <div id="candidates"></div>
    <h2>${esc(t('history'))}</h2><ol class="muted">${inc.history.map((h) => `<li>${esc(when(h.at))} ${esc(h.from ? statusLabel(h.from) + ' → ' : '')}${esc(statusLabel(h.to))} · ${esc(h.actor)}${h.note ? ' · ' + esc(h.note) : ''}</li>`).join('')}</ol>`;
  $('#recommend').addEventListener('click', () => recommend(inc));
  card.querySelectorAll('button.release').forEach((b) => b.addEventListener('click', () => release(inc, Number(b.dataset.responder))));
  $('#move').addEventListener('click', async () => {
    try { await post(`/incidents/${id}/status`, { status: $('#next-status').value, actor: 'console' }); showIncident(id); refreshQueue(); }
    catch (err) { $('#detail-error').textContent = err.message; }
  });
  if (fly && map && !map.getBounds().contains(inc.location)) map.easeTo({ center: inc.location });
  if (recommendedFor === id && ['reported', 'dispatched', 'on_scene'].includes(inc.status)) await recommend(inc);
}

async function recommend(inc) {
  recommendedFor = inc.id;
  const rec = await post(`/incidents/${inc.id}/recommend`, { k: 5 });
  const { candidates } = rec;
  const box = $('#candidates');
  if (!candidates.length) { box.innerHTML = `<p class="muted">${esc(t('noCandidates'))}</p>`; return; }
  const busy = (inc.assigned || []).length > 0;
  const tags = (c) => c.reasons.filter((r) => REASON_TAGS.includes(r.code))
    .map((r) => `<span class="tag tag-${r.code}">${esc(REASON[lang][r.code] || r.code)}</span>`).join('');
  const why = (c) => c.reasons.map((r) => `${REASON[lang][r.code] || r.code}: ${r.detail}`).join('\n');
  box.innerHTML = candidates.map((c) => `<div class="cand" data-responder="${c.responder_id}" title="${esc(why(c))}"><span><b>${c.rank}. ${esc(c.name)}</b> ${tags(c)}
    <br><span class="muted">${esc(t('distance'))} ${Math.round(c.distance_m)} m · ${esc(t('eta'))} ${Math.max(1, Math.round(c.eta_s / 60))} min${c.position_age_s != null ? ` · ${esc(t('fix'))} ${Math.round(c.position_age_s)} ${esc(t('ago'))}` : ''}</span></span>
    <span>${busy ? `<button class="assign" data-mode="replace" data-responder="${c.responder_id}">${esc(t('replace'))}</button>
    <button class="assign-more" data-mode="additional" data-responder="${c.responder_id}">${esc(t('additional'))}</button>`
    : `<button class="assign" data-responder="${c.responder_id}">${esc(t('assign'))}</button>`}</span></div>`).join('');
  box.querySelectorAll('button[data-responder]').forEach((b) => b.addEventListener('click', async () => {
    const body = { responder_id: Number(b.dataset.responder), actor: 'console', ranking: candidates };
    if (b.dataset.mode) body[b.dataset.mode] = true;
    try {
      await post(`/incidents/${inc.id}/assign`, body);
      recommendedFor = null;
      showIncident(inc.id);
      refreshQueue();
    } catch (err) { $('#detail-error').textContent = err.message; }
  }));
}

async function release(inc, responderId) {
  try {
    await post(`/incidents/${inc.id}/unassign`, { responder_id: responderId, actor: 'console' });
    showIncident(inc.id);
    refreshQueue();
  } catch (err) { $('#detail-error').textContent = err.message; }
}

