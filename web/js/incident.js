// The incident card: details, status changes, recommend, assign and release; its department part is routing.js.
// The card's frame is in index.html; opening an incident fills its parts, and a change of that incident (from the
// live feed or an action here) updates them in place: the status dropdown is the same element throughout (its
// options change only when the status does), an error stays until the next action, and one click on 推荐 sends one
// request.
import { $, esc } from './dom.js';
import { api, post } from './api.js';
import { on, emit } from './bus.js';
import { REASON, REASON_TAGS, LIFECYCLE, OPEN_STATES, lang, t, tf, statusLabel, badge, catLabel, when, kindLabel, isOverdue } from './i18n.js';
import { map, highlightIncident } from './map.js';
import { gridPlace } from './areas.js';
import { units, kindIcon, showCandidates, showRoute } from './units.js';
import { attachRouting, departmentFact, loadDepartments, renderRouting, routingStep } from './routing.js';

export let selected = null;
let current = null; // the incident shown, as GET /incidents/{id} answered
let shownStatus = null; // the status the dropdown's options were made for
let candidates = []; // the recommendation on screen
let recommendedFor = null; // incident whose candidates are on screen: kept fresh while units move
let generation = 0; // guards against answers to an older showIncident arriving late

const card = $('#detail');
const error = (msg, server) => { $('#detail-error').textContent = msg || ''; $('#detail-error').title = server && server !== msg ? server : ''; };

/** Opens (or refreshes) an incident. `fly`: bring it into view (when the dispatcher opens it, not on a live update). */
export async function showIncident(id, fly = false) {
  const mine = ++generation;
  if (selected !== id) {
    selected = id;
    current = null;
    shownStatus = null;
    recommendedFor = null;
    candidates = [];
    error('');
    $('#candidates').innerHTML = '';
    showCandidates([]);
  }
  const [inc] = await Promise.all([api(`/incidents/${id}`), loadDepartments()]);
  if (mine !== generation) return;
  current = inc;
  render(inc);
  card.hidden = false;
  card.dataset.incident = String(id);
  document.querySelectorAll('#queue li.current').forEach((li) => li.classList.remove('current'));
  document.querySelector(`#queue li[data-incident="${id}"]`)?.classList.add('current');
  highlightIncident(inc.location);
  emit('incident:open', id);
  if (fly) {
    if (map && !map.getBounds().contains(inc.location)) map.easeTo({ center: inc.location });
    // On a short screen the card sits below the queue: bring it into view.
    card.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }
}

export function closeIncident() {
  generation++;
  selected = null;
  current = null;
  recommendedFor = null;
  card.hidden = true;
  delete card.dataset.incident;
  showCandidates([]);
  highlightIncident(null);
  document.querySelectorAll('#queue li.current').forEach((li) => li.classList.remove('current'));
}
$('#d-close').addEventListener('click', closeIncident);

function render(inc) {
  const place = gridPlace(inc.grid_code);
  $('#d-title').textContent = `#${inc.id} ${catLabel(inc.category)}`;
  $('#d-badge').innerHTML = badge(inc.status);
  const row = (k, v) => (v ? `<dt>${esc(t(k))}</dt><dd>${v}</dd>` : '');
  $('#d-facts').innerHTML = row('priority', `<span class="prio p${esc(inc.priority)}">P${esc(inc.priority)}</span>`)
    + row('grid', inc.grid_code ? `${esc(place.grid)}<br><span class="muted">${esc(place.community)} · ${esc(inc.grid_code)}</span>` : '—')
    + row('address', esc(inc.address)) + row('callerNote', esc(inc.caller)) + row('reported', esc(when(inc.reported_at)))
    + row('department', departmentFact(inc))
    + row('dueAt', inc.due_at ? `${esc(when(inc.due_at))}${isOverdue(inc) ? ` <span class="overdue">${esc(t('overdue'))}</span>` : ''}` : '')
    + row('description', esc(inc.description));
  // Only the moves the lifecycle allows; the element itself stays.
  if (shownStatus !== inc.status) fillMoves(inc.status);
  const open = OPEN_STATES.includes(inc.status);
  $('#recommend').hidden = !open;
  if (!open) {
    recommendedFor = null;
    candidates = [];
    $('#candidates').innerHTML = '';
    showCandidates([]);
  }
  const onIt = inc.assigned || [];
  $('#d-onit').innerHTML = onIt.length ? `<h2>${esc(t('onIt'))}</h2><ul class="on-it">${onIt.map((r) => {
    const u = units.get(r);
    return `<li data-responder="${r}">${u ? `${kindIcon(u.kind)} ${esc(u.name)}` : `#${r}`}
      <button class="release" data-responder="${r}">${esc(t('release'))}</button></li>`;
  }).join('')}</ul>` : '';
  // 回访: once resolved or closed, the reporter's satisfaction is recorded (and may be corrected).
  const rateable = ['resolved', 'closed'].includes(inc.status);
  $('#d-rating').hidden = !rateable;
  const sat = inc.satisfaction;
  $('#d-rated').textContent = sat ? tf('rated', { rating: sat.rating, by: sat.recorded_by, at: when(sat.recorded_at) }) : '';
  $('#d-rating').dataset.rated = sat ? String(sat.rating) : '';
  if (rateable && ratingFor !== inc.id) {
    ratingFor = inc.id;
    $('#d-rating').rating.value = String(sat?.rating ?? 5);
    $('#d-rating').comment.value = sat?.comment || '';
  }
  renderRouting(inc);
  // Status changes, and the department's steps (分拨, 受理, 退回, 转办) in their own words.
  $('#d-history').innerHTML = inc.history.map((h) => routingStep(h)
    ?? `<li>${esc(when(h.at))} ${esc(h.from ? `${statusLabel(h.from)} → ` : '')}${esc(statusLabel(h.to))} · ${esc(h.actor)}${h.note ? ` · ${esc(h.note)}` : ''}</li>`).join('');
  if (candidates.length) renderCandidates();
}

let ratingFor = null; // the incident whose rating form was filled (a live refresh keeps what is being typed)
$('#d-rating').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!current) return;
  const id = current.id, f = e.target;
  error('');
  try {
    const comment = f.comment.value.trim();
    await api(`/incidents/${id}/satisfaction`, { method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rating: Number(f.rating.value), ...(comment ? { comment } : {}), actor: 'console' }) });
    ratingFor = null;
    if (selected === id) await showIncident(id);
  } catch (err) { error(err.message, err.serverMessage); }
});

function fillMoves(status) {
  shownStatus = status;
  const moves = LIFECYCLE[status] || [];
  const select = $('#next-status');
  select.innerHTML = moves.map((s) => `<option value="${s}">${esc(statusLabel(s))}</option>`).join('');
  $('#d-move').hidden = !moves.length;
  $('#d-final').textContent = moves.length ? '' : t('noStatus');
}

$('#move').addEventListener('click', async () => {
  if (!current) return;
  const id = current.id, to = $('#next-status').value;
  error('');
  try {
    await post(`/incidents/${id}/status`, { status: to, actor: 'console' });
    if (selected === id) await showIncident(id);
  } catch (err) {
    error(err.message, err.serverMessage);
    // "… from X it can go to: a, b": the server's table wins over ours.
    const m = /from (\w+) it can go to: ?([\w, ]*)$/.exec(err.serverMessage || err.message);
    if (m) {
      LIFECYCLE[m[1]] = m[2].split(',').map((s) => s.trim()).filter(Boolean);
      if (current?.status === m[1]) fillMoves(m[1]);
    }
  }
});

// ---- recommend and assign ----
let policy = null;
export async function recommend() {
  if (!current || !OPEN_STATES.includes(current.status)) return;
  const inc = current;
  recommendedFor = inc.id;
  const rec = await post(`/incidents/${inc.id}/recommend`, { k: 5 });
  if (selected !== inc.id) return;
  candidates = rec.candidates;
  document.body.dataset.recommendations = String(Number(document.body.dataset.recommendations || 0) + 1);
  if (!candidates.length) {
    showCandidates([]);
    $('#candidates').innerHTML = `<p class="muted" id="no-candidates">${esc(t('noCandidates'))}${await whyEmpty(rec)}</p>`;
    return;
  }
  renderCandidates();
  showCandidates(candidates);
  drawRoute(inc, candidates[0]).catch(() => showRoute(null));
}

// ---- the first candidate's route along the roads ----
let routeKey = '';
/** Draws the way the first candidate would take (GET /route with their kind's profile) when ETAs are by road. */
async function drawRoute(inc, c) {
  const from = c && units.get(c.responder_id)?.location;
  if (!from || c.eta_method !== 'road') { routeKey = ''; showRoute(null); return; }
  policy ??= await api('/dispatch/policy').catch(() => ({}));
  const profile = policy.roads?.kinds?.[c.kind] || 'walk';
  const key = `${inc.id}:${c.responder_id}:${from.join(',')}:${profile}`;
  if (key === routeKey) return;
  routeKey = key;
  const q = new URLSearchParams({ from: from.join(','), to: inc.location.join(','), profile });
  const r = await api(`/route?${q}`);
  if (routeKey !== key || selected !== inc.id) return;
  showRoute(r.geometry);
  card.dataset.routeEtaS = String(r.eta_s);
}
$('#recommend').addEventListener('click', () => { error(''); recommend().catch((e) => error(e.message, e.serverMessage)); });

/**
 * Why a recommendation came back empty, from what the console knows: the roster (kinds, skills, status, fix times)
 * and the dispatch policy (stale_after_s). The answer itself names the skill it needed but not what it left out.
 */
async function whyEmpty(rec) {
  policy ??= await api('/dispatch/policy').catch(() => ({}));
  const staleS = policy.stale_after_s ?? 600;
  const skill = rec.skill;
  const fit = [...units.values()].filter((u) => !skill || (u.skills || []).includes(skill));
  const colon = lang === 'zh' ? '：' : ': ';
  if (!fit.length) return `${colon}${tf('noSkillWhy', { skill })}`;
  const available = fit.filter((u) => u.status === 'available');
  const stale = available.filter((u) => !u.position_at || (Date.now() - Date.parse(u.position_at)) / 1000 > staleS);
  const why = [];
  if (stale.length) why.push(tf('staleWhy', { n: stale.length, skill: skill ? tf('withSkill', { skill }) : '', m: Math.round(staleS / 60) }));
  if (fit.length > available.length) why.push(tf('busyWhy', { n: fit.length - available.length }));
  return why.length ? `${colon}${why.join(lang === 'zh' ? '；' : '; ')}` : '';
}

function renderCandidates() {
  const inc = current;
  const busy = (inc.assigned || []).length > 0;
  const tags = (c) => c.reasons.filter((r) => REASON_TAGS.includes(r.code))
    .map((r) => `<span class="tag tag-${r.code}">${esc(REASON[lang][r.code] || r.code)}</span>`).join('');
  const why = (c) => c.reasons.map((r) => `${REASON[lang][r.code] || r.code}: ${r.detail}`).join('\n');
  $('#candidates').innerHTML = candidates.map((c) => `<div class="cand" data-responder="${c.responder_id}" title="${esc(why(c))}"><span>${kindIcon(c.kind)} <b>${c.rank}. ${esc(c.name)}</b> <span class="muted">${esc(kindLabel(c.kind))}</span> ${tags(c)}
    <br><span class="muted">${esc(t('distance'))} ${Math.round(c.distance_m)} m${c.eta_method === 'road' ? ` · ${esc(t('byRoad'))} ${Math.round(c.road_distance_m)} m` : ''} · ${esc(t('eta'))} ${Math.max(1, Math.round(c.eta_s / 60))} min${c.position_age_s != null ? ` · ${esc(t('fix'))} ${Math.round(c.position_age_s)} ${esc(t('ago'))}` : ''}</span></span>
    <span>${busy ? `<button class="assign" data-mode="replace" data-responder="${c.responder_id}">${esc(t('replace'))}</button>
    <button class="assign-more" data-mode="additional" data-responder="${c.responder_id}">${esc(t('additional'))}</button>`
    : `<button class="assign" data-responder="${c.responder_id}">${esc(t('assign'))}</button>`}</span></div>`).join('');
}

export async function assign(responderId, mode) {
  if (!current) return;
  const inc = current;
  const body = { responder_id: responderId, actor: 'console', ranking: candidates };
  if (mode) body[mode] = true;
  error('');
  try {
    await post(`/incidents/${inc.id}/assign`, body);
    recommendedFor = null;
    candidates = [];
    $('#candidates').innerHTML = '';
    showCandidates([]);
    if (selected === inc.id) await showIncident(inc.id);
  } catch (err) { error(err.message, err.serverMessage); }
}
/** The first candidate of the recommendation on screen (the 'a' shortcut). */
export function assignFirst() {
  const b = $('#candidates button.assign');
  if (b) assign(Number(b.dataset.responder), b.dataset.mode);
}
$('#candidates').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-responder]');
  if (b) assign(Number(b.dataset.responder), b.dataset.mode);
});

$('#d-onit').addEventListener('click', async (e) => {
  const b = e.target.closest('button.release');
  if (!b || !current) return;
  const id = current.id;
  error('');
  try {
    await post(`/incidents/${id}/unassign`, { responder_id: Number(b.dataset.responder), actor: 'console' });
    if (selected === id) await showIncident(id);
  } catch (err) { error(err.message, err.serverMessage); }
});

// ---- departments: routing steps re-read the incident (its history) ----
attachRouting({
  refresh: (id) => (selected === id ? showIncident(id) : null),
  error,
  rerender: () => { if (current) render(current); },
});

// ---- live updates: only changes of the incident shown re-render it ----
let recTimer = 0;
let fetching = null; // updated_at of the change being read: a routing step comes as incident.updated and incident.routed
on('live', (ev) => {
  if (!selected) return;
  if (ev.type.startsWith('incident.') && ev.data?.id === selected) {
    const at = ev.data.updated_at;
    if (current && at && (at === current.updated_at || at === fetching)) return;
    fetching = at;
    showIncident(selected).catch(() => {}).finally(() => { if (fetching === at) fetching = null; });
  } else if (ev.type.startsWith('responder.') && recommendedFor === selected) {
    // Candidates follow the units, at most once a second (a steady stream of fixes must not keep postponing it).
    recTimer ||= setTimeout(() => { recTimer = 0; if (recommendedFor === selected) recommend().catch(() => {}); }, 1000);
  }
});
on('lang', () => {
  if (!current) return;
  shownStatus = null;
  render(current);
});
on('names', () => { if (current) render(current); });
