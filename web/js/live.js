// The live feed: the server's WebSocket of events.
import { $, soon } from './dom.js';
import { API, apiKey } from './api.js';
import { t } from './i18n.js';
import { reloadSource } from './map.js';
import { refreshAnalysis } from './analysis.js';
import { refreshQueue } from './queue.js';
import { selected, recommendedFor, showIncident } from './incident.js';
import { refreshGenerations } from './gis.js';
export function connectLive() {
  const token = apiKey ? `?access_token=${encodeURIComponent(apiKey)}` : '';
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${API}/live${token}`);
  ws.onopen = () => { $('#live').className = 'live on'; $('#live').dataset.i18n = 'online'; $('#live').textContent = t('online'); };
  ws.onclose = () => { $('#live').className = 'live off'; $('#live').dataset.i18n = 'offline'; $('#live').textContent = t('offline'); setTimeout(connectLive, 2000); };
  ws.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    document.body.dataset.lastEvent = ev.type;
    if (ev.type.startsWith('incident.')) {
      reloadSource('incidents'); reloadSource('heatmap');
      soon(refreshAnalysis, 'analysis');
      soon(() => { refreshQueue(); if (selected) showIncident(selected); });
    } else if (ev.type.startsWith('responder.')) {
      reloadSource('responders');
      if (selected && recommendedFor === selected) soon(() => showIncident(selected));
    } else if (ev.type === 'generation.activated') {
      ['streets', 'communities', 'grids'].forEach(reloadSource);
      showGeneration(ev.data?.generation ?? ev.data);
      refreshGenerations();
    }
  };
}

export function showGeneration(g) { $('#generation').textContent = g == null ? '' : `${t('generation')} ${g}`; }

