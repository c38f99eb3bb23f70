// The live feed: the server's WebSocket of events, announced on the bus ('live' per event, 'live:open' on every
// (re)connect so modules reload what they may have missed). Reconnects 2 s after a drop.
import { $ } from './dom.js';
import { API, apiKey } from './api.js';
import { t } from './i18n.js';
import { emit } from './bus.js';

let ws = null;
let opened = 0;
function mark(on) {
  const el = $('#live');
  el.className = `live ${on ? 'on' : 'off'}`;
  el.dataset.i18n = on ? 'online' : 'offline';
  el.textContent = t(el.dataset.i18n);
}
export function connectLive() {
  const token = apiKey ? `?access_token=${encodeURIComponent(apiKey)}` : '';
  ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${API}/live${token}`);
  ws.onopen = () => { mark(true); emit('live:open', { first: opened++ === 0 }); };
  ws.onclose = () => { mark(false); setTimeout(connectLive, 2000); };
  ws.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    document.body.dataset.lastEvent = ev.type;
    emit('live', ev);
  };
}
/** Drops the connection (it reconnects by itself): for tests of what a reconnect reloads. */
export function dropLive() { ws?.close(); }

export function showGeneration(g) {
  const el = $('#generation');
  el.dataset.generation = g == null ? '' : String(g);
  el.textContent = g == null ? '' : `${t('generation')} ${g}`;
}
