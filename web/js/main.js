// gridmap dispatch console: one MapLibre map over gridmap's own tiles, the incident queue, recommend and assign,
// live updates over the WebSocket, and the GIS staff's import page. Plain JS modules, no framework, no build step,
// no network beyond this server.
import { $ } from './dom.js';
import { api, apiKey, askKey } from './api.js';
import { lang, setLang, setCategories, t } from './i18n.js';
import { registerGcj02 } from './gcj02.js';
import { startMap, buildToggles, labelLang } from './map.js';
import { fillAnalysis } from './analysis.js';
import { fillFilters, refreshQueue } from './queue.js';
import { selected, showIncident } from './incident.js';
import { connectLive } from './live.js';
import { refreshGenerations } from './gis.js';

// ---- language ----
function applyLang() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  $('#lang').textContent = lang === 'zh' ? 'EN' : '中文';
  fillFilters();
  buildToggles();
  refreshQueue();
  if (selected) showIncident(selected);
  labelLang();
  fillAnalysis();
}
$('#key').addEventListener('click', () => { if (askKey()) location.reload(); });
$('#key').classList.toggle('set', !!apiKey);
$('#lang').addEventListener('click', () => { setLang(lang === 'zh' ? 'en' : 'zh'); applyLang(); });

// ---- views ----
document.querySelectorAll('header [role=tab]').forEach((tab) => tab.addEventListener('click', () => {
  document.querySelectorAll('header [role=tab]').forEach((x) => x.setAttribute('aria-selected', String(x === tab)));
  $('#view-dispatch').hidden = tab.dataset.view !== 'dispatch';
  $('#view-gis').hidden = tab.dataset.view !== 'gis';
  if (tab.dataset.view === 'gis') refreshGenerations();
}));

// ---- start ----
registerGcj02();
(async () => {
  const started = startMap();
  setCategories(await api('/incident-categories'));
  await started;
  applyLang();
  connectLive();
})();
