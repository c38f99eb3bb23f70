// The incident card's department part (issue 29): which department has the incident and how far (已分拨, 已受理,
// 已退回 with the number of returns), the steps the state allows (分拨 to a department, 受理, 退回 with a reason,
// 转办 to another department; POST /incidents/{id}/routing) and the routing steps of its history. The server checks
// every step against the stored state; the card only offers the ones that state allows and shows any refusal.
import { $, esc } from './dom.js';
import { api, post } from './api.js';
import { on } from './bus.js';
import { colon, t, tf, when } from './i18n.js';

// The department register (GET /departments), by code; reloaded when a department changes.
let register = null;
let loading = null;
let asked = 0; // the latest request: an older answer arriving late is dropped
/** Loads the register unless it is loaded or being loaded (`force`: ask again, it changed). */
export function loadDepartments(force = false) {
  if (!force && (register || loading)) return loading || Promise.resolve();
  const n = ++asked;
  const mine = api('/departments').then((list) => { if (n === asked) register = new Map(list.map((d) => [d.code, d])); })
    .catch(() => {}) // unreadable: asked again when the next card opens
    .finally(() => { if (loading === mine) loading = null; });
  loading = mine;
  return mine;
}
on('live', (ev) => {
  if (ev.type === 'department.changed' || ev.type === 'department.removed') loadDepartments(true).then(() => hooks.rerender?.());
});
export const departmentName = (code) => (code ? register?.get(code)?.name || code : '');

// Which steps each department state allows (src/departments/flow.rs): a never routed (null) or returned incident
// is routed; a routed one accepted, returned or transferred; an accepted one returned or transferred.
const STEPS = { none: ['route'], returned: ['route'], routed: ['accept', 'return', 'transfer'], accepted: ['return', 'transfer'] };
const CLOSED = ['closed', 'cancelled']; // the server routes every other incident

let shown = null; // the incident the controls were made for
let picked = ''; // the department chosen by hand for it
let hooks = {}; // from the card: refresh(id) after a step, error(msg, server), rerender()
export function attachRouting(h) { hooks = h; }

/**
 * The 责任部门 fact of the card: department, state, returns. Empty when the incident was never routed and there is no
 * register.
 */
export function departmentFact(inc) {
  const state = inc.department_state;
  if (!state && !inc.department && !register?.size) return '';
  // Returned (or never routed), it is with no department: the state says so.
  const name = inc.department ? esc(departmentName(inc.department)) : '';
  const badge = `<span class="dept-state ds-${esc(state || 'none')}" id="d-dept-state" data-state="${esc(state || '')}">${esc(t(`dept_${state || 'none'}`))}</span>`;
  const returns = inc.returned ? ` <span class="muted" id="d-returns">${esc(tf('returnedTimes', { n: inc.returned }))}</span>` : '';
  return `<span id="d-dept" data-department="${esc(inc.department || '')}">${name}</span> ${badge}${returns}`;
}

/** The routing controls for the incident shown (the elements stay; what they offer follows its state). */
export function renderRouting(inc) {
  const box = $('#d-routing');
  const steps = CLOSED.includes(inc.status) ? [] : STEPS[inc.department_state || 'none'] || [];
  const others = [...(register?.values() || [])].filter((d) => d.code !== inc.department);
  // Nothing to route to: no register, or the only department is the one it is with.
  const usable = steps.filter((s) => (s === 'route' || s === 'transfer' ? others.length > 0 : true));
  box.hidden = !usable.length;
  box.dataset.steps = usable.join(',');
  for (const s of ['route', 'accept', 'return', 'transfer']) $(`#d-routing [data-step="${s}"]`).hidden = !usable.includes(s);
  const needsDept = usable.includes('route') || usable.includes('transfer');
  const select = $('#d-dept-to');
  select.hidden = !needsDept;
  // A department the dispatcher picked stays picked across live refreshes of the incident; otherwise the one that
  // handles its category comes first.
  if (shown !== inc.id) picked = '';
  const handles = others.find((d) => d.categories.includes(inc.category))?.code;
  select.innerHTML = others.map((d) => `<option value="${esc(d.code)}">${esc(d.name)}</option>`).join('');
  select.value = others.some((d) => d.code === picked) ? picked : handles || others[0]?.code || '';
  const reason = $('#d-reason');
  reason.hidden = !usable.includes('return') && !usable.includes('transfer');
  if (shown !== inc.id) reason.value = '';
  shown = inc.id;
}

/** A routing step of the history as one line (null for status changes: the card writes those). */
export function routingStep(h) {
  if (!h.action) return null;
  const dept = esc(departmentName(h.department));
  const what = {
    routed: `${esc(t('step_routed'))} → ${dept}`,
    accepted: `${dept} ${esc(t('step_accepted'))}`,
    returned: `${dept} ${esc(t('step_returned'))}`,
    transferred: `${esc(t('step_transferred'))} → ${dept}`,
    imported: `${esc(t('step_imported'))}${dept ? ` · ${dept}` : ''}`,
  }[h.action] || esc(h.action);
  const note = h.note ? ` · ${esc(h.action === 'returned' ? `${t('reason')}${colon()}${h.note}` : h.note)}` : '';
  return `<li class="routing-step" data-action="${esc(h.action)}">${esc(when(h.at))} ${what} · ${esc(h.actor)}${note}</li>`;
}

async function take(action) {
  const id = shown;
  if (id == null) return;
  const body = { action, actor: 'console' };
  if (action === 'route' || action === 'transfer') body.department = $('#d-dept-to').value;
  const reason = $('#d-reason').value.trim();
  // An empty reason goes to the server too: it is the one that refuses (422 reason_required), the card says why.
  if (action === 'return') body.reason = reason;
  if (action === 'transfer' && reason) body.reason = reason;
  hooks.error?.('');
  try {
    await post(`/incidents/${id}/routing`, body);
    $('#d-reason').value = '';
    await hooks.refresh?.(id);
  } catch (err) {
    hooks.error?.(err.message, err.serverMessage);
    if (err.code === 'reason_required') $('#d-reason').focus();
  }
}
$('#d-routing').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-step]');
  if (b) take(b.dataset.step);
});
$('#d-dept-to').addEventListener('change', (e) => { picked = e.target.value; });
$('#d-reason').addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  e.preventDefault();
  // Enter returns it (or transfers it when only that is offered with a reason).
  const steps = $('#d-routing').dataset.steps.split(',');
  if (steps.includes('return')) take('return');
});
