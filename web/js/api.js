// The HTTP API and the API key (servers with access control on).
// The key is kept in this browser only; sent as a Bearer header, on the live feed as access_token (WebSockets take no
// headers).
import { $ } from './dom.js';
import { t, errorText } from './i18n.js';

export const API = '/api/v1';
export let apiKey = localStorage.getItem('gridmap.key') || '';
export const authHeaders = () => (apiKey ? { authorization: `Bearer ${apiKey}` } : {});
export function askKey() {
  const k = window.prompt(t('askKey'), apiKey);
  if (k === null) return false;
  apiKey = k.trim();
  localStorage.setItem('gridmap.key', apiKey);
  $('#key').classList.toggle('set', !!apiKey);
  return true;
}

export async function api(path, options = {}, retried = false) {
  const sent = apiKey;
  const resp = await fetch(API + path, { ...options, headers: { ...(options.headers || {}), ...authHeaders() } });
  // Refused: retry with a key entered meanwhile (by another call's prompt), else ask once.
  if (resp.status === 401 && !retried && (apiKey !== sent || askKey())) return api(path, options, true);
  const body = resp.status === 204 ? null : await resp.json().catch(() => null);
  if (!resp.ok) {
    const server = body?.error?.message || `HTTP ${resp.status}`;
    const e = new Error(errorText(body?.error?.code, body?.error?.details, server));
    e.body = body;
    e.code = body?.error?.code;
    e.serverMessage = server;
    throw e;
  }
  return body;
}
export const post = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
