// The department register (部门名录) on the 考核 page, a collapsible card: every department with its code, name and
// the categories it handles (GET /departments), a form to add one or change one (PUT /departments/{code}: code,
// name, category checkboxes) and a remove button per department (DELETE /departments/{code}). These are admin
// operations (a gis_admin key with access control on); the server checks everything (a category belongs to one
// department, a department with open incidents stays) and the card shows its refusals in the page's language, the
// server's words in the tooltip. The list follows the live feed (department.changed / department.removed).
import { $, esc } from './dom.js';
import { api } from './api.js';
import { on } from './bus.js';
import { categories, catLabel, colon, t, tf } from './i18n.js';

const card = $('#dept-card');
const form = $('#dept-form');
let list = []; // the register as last read
let editing = null; // the code of the department in the form, null for a new one
let asked = 0; // the latest read: an older answer arriving late is dropped

const error = (msg, server) => { $('#dept-error').textContent = msg || ''; $('#dept-error').title = server && server !== msg ? server : ''; };
const note = (msg) => { $('#dept-note').textContent = msg || ''; };

/** Reads the register again; the list and the form's category hints follow. */
async function refresh() {
  const mine = ++asked;
  try {
    const answer = await api('/departments');
    if (mine !== asked) return;
    list = answer;
  } catch (err) {
    if (mine !== asked) return;
    error(err.message, err.serverMessage);
  }
  render();
}

const holder = (cat) => list.find((d) => d.categories.includes(cat));

function render() {
  $('#dept-count').textContent = list.length ? tf('total', { n: list.length }) : '';
  $('#dept-list tbody').innerHTML = list.map((d) => `<tr data-code="${esc(d.code)}">
    <td class="code">${esc(d.code)}</td><td class="name">${esc(d.name)}</td>
    <td class="cats" data-categories="${esc(d.categories.join(','))}">${esc(d.categories.map(catLabel).join('、')) || '—'}</td>
    <td class="acts"><button type="button" data-act="edit">${esc(t('edit'))}</button>
      <button type="button" data-act="remove">${esc(t('removeDept'))}</button></td></tr>`).join('')
    || `<tr><td colspan="4" class="muted">${esc(t('noDepartments'))}</td></tr>`;
  card.dataset.count = String(list.length);
  renderCategories();
}

/** The category checkboxes (their ticks kept), each with the department that handles it now. */
function renderCategories() {
  const box = $('#dept-cats');
  const ticked = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
  box.innerHTML = categories.map((c) => {
    const by = holder(c.code);
    const other = by && by.code !== editing ? ` <span class="muted">(${esc(by.name)})</span>` : '';
    return `<label><input type="checkbox" name="category" value="${esc(c.code)}"${ticked.has(c.code) ? ' checked' : ''}> ${esc(catLabel(c.code))}${other}</label>`;
  }).join('');
}

/** The form for a new department (null) or for changing one. */
function edit(code) {
  const d = code == null ? null : list.find((x) => x.code === code);
  editing = d ? d.code : null;
  form.elements.code.value = d?.code || '';
  form.elements.code.readOnly = !!d; // another code is another department
  form.elements.name.value = d?.name || '';
  $('#dept-form-title').textContent = t(d ? 'editDept' : 'newDept');
  form.dataset.editing = editing || '';
  $('#dept-cats').querySelectorAll('input').forEach((i) => { i.checked = false; });
  renderCategories();
  if (d) $('#dept-cats').querySelectorAll('input').forEach((i) => { i.checked = d.categories.includes(i.value); });
  error('');
  (d ? form.elements.name : form.elements.code).focus();
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const code = form.elements.code.value.trim();
  const body = { name: form.elements.name.value.trim(), categories: [...$('#dept-cats').querySelectorAll('input:checked')].map((i) => i.value) };
  error('');
  note('');
  if (!code) { // no path to send it to: the server's rule, said here
    error(t('deptCodeRule'));
    form.elements.code.focus();
    return;
  }
  try {
    await api(`/departments/${encodeURIComponent(code)}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    note(`${t('deptSaved')}${colon()}${code}`);
    await refresh();
    edit(null);
  } catch (err) {
    error(err.message, err.serverMessage);
    if (err.code === 'invalid_department_code') form.elements.code.focus();
    if (err.code === 'invalid_department_name') form.elements.name.focus();
  }
});
$('#dept-new').addEventListener('click', () => { note(''); edit(null); });

async function remove(code) {
  const d = list.find((x) => x.code === code);
  if (!window.confirm(tf('removeDeptAsk', { name: d?.name || code, code }))) return;
  error('');
  note('');
  try {
    await api(`/departments/${encodeURIComponent(code)}`, { method: 'DELETE' });
    note(`${t('deptRemoved')}${colon()}${code}`);
    if (editing === code) edit(null);
  } catch (err) {
    error(err.message, err.serverMessage);
  }
  await refresh();
}
$('#dept-list tbody').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-act]');
  const code = b?.closest('tr[data-code]')?.dataset.code;
  if (code == null) return;
  if (b.dataset.act === 'edit') { note(''); edit(code); } else remove(code);
});

// Read when opened; while open, again on every change of the register and when the feed reconnects.
card.addEventListener('toggle', () => { if (card.open) refresh(); });
on('live', (ev) => { if (card.open && (ev.type === 'department.changed' || ev.type === 'department.removed')) refresh(); });
on('live:open', () => { if (card.open) refresh(); });
on('lang', () => {
  render();
  $('#dept-form-title').textContent = t(editing ? 'editDept' : 'newDept');
});
