// gridmap dispatch console: one MapLibre map over gridmap's own tiles, the incident queue, the unit board, recommend
// and assign, live updates over the WebSocket, and the GIS staff's import page. Plain JS modules, no framework, no
// build step, no network beyond this server.
import { $ } from './dom.js';
import { API, api, apiKey, askKey } from './api.js';
import { emit } from './bus.js';
import { lang, setLang, setCategories, t } from './i18n.js';
import { registerGcj02 } from './gcj02.js';
import { startMap } from './map.js';
import { refreshQueue } from './queue.js';
import { showIncident } from './incident.js';
import { loadRoster, showUnit } from './units.js';
import { connectLive, dropLive } from './live.js';
import { showSoundButton, updateTitle } from './alerts.js';
import './analysis.js';
import './assessment.js';
import './departments.js';
import './gis.js';
import './search.js';
import './keys.js';

// ---- language ----
function applyLang() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  document.querySelectorAll('[data-i18n-label]').forEach((el) => { el.setAttribute('aria-label', t(el.dataset.i18nLabel)); });
  document.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
  $('#lang').textContent = lang === 'zh' ? 'EN' : '中文';
  $('#lang').setAttribute('aria-label', lang === 'zh' ? 'English' : '中文');
  const g = $('#generation').dataset.generation;
  if (g) $('#generation').textContent = `${t('generation')} ${g}`;
  showAuth();
  updateTitle();
  emit('lang', lang);
}
$('#lang').addEventListener('click', () => { setLang(lang === 'zh' ? 'en' : 'zh'); applyLang(); });

// ---- access control: the key button only where keys are needed ----
// With access control off every call succeeds without a key: the button gives way to an "open access" note.
let auth = null; // 'on' | 'off'
async function probeAuth() {
  const r = await fetch(`${API}/responders`).catch(() => null);
  auth = r?.ok ? 'off' : 'on';
  document.body.dataset.auth = auth;
  showAuth();
}
function showAuth() {
  const b = $('#key');
  b.hidden = auth !== 'on';
  $('#open-access').hidden = auth !== 'off';
  b.classList.toggle('set', !!apiKey);
  b.title = apiKey ? t('keySetTip') : t('askKey');
}
$('#key').addEventListener('click', () => { if (askKey()) location.reload(); });

// ---- views ----
document.querySelectorAll('header [role=tab]').forEach((tab) => tab.addEventListener('click', () => {
  document.querySelectorAll('header [role=tab]').forEach((x) => x.setAttribute('aria-selected', String(x === tab)));
  document.querySelectorAll('#panel > section[id^="view-"]').forEach((v) => { v.hidden = v.id !== `view-${tab.dataset.view}`; });
  document.body.dataset.view = tab.dataset.view;
  emit('view', tab.dataset.view);
}));

// Links to incidents anywhere in the panel or a popup (the queue's rows, the place card, the unit board). The
// incident card itself carries data-incident but is no link: clicks inside it stay inside it.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-incident], #queue li[data-incident]');
  if (!a) return;
  e.preventDefault();
  showIncident(Number(a.dataset.incident), true);
});

// For tests and debugging from the browser's console.
window.gridmapDebug = { dropLive, showUnit };

// ---- start ----
registerGcj02();
showSoundButton();
document.body.dataset.view = 'dispatch';
(async () => {
  const started = startMap();
  probeAuth();
  setCategories(await api('/incident-categories'));
  applyLang();
  await Promise.all([refreshQueue(), loadRoster()]);
  await started;
  connectLive();
})();
