// Names of the served streets, communities and grids, so lists show 大光路街道第5社区第7网格 rather than a 14-digit
// code. Loaded once per generation for the served extent (GET /api/v1/areas/{layer}?bbox=, three requests), cached
// here; reloaded when a generation is activated.
import { api } from './api.js';
import { emit, on } from './bus.js';

export const LAYERS = ['streets', 'communities', 'grids'];
const byCode = { streets: new Map(), communities: new Map(), grids: new Map() };
let bbox = null;
let loading = null;

export async function loadNames(extent) {
  if (extent) bbox = extent;
  if (!bbox) return;
  loading = (async () => {
    const got = await Promise.all(LAYERS.map((l) => api(`/areas/${l}?bbox=${bbox.join(',')}`).catch(() => ({ items: [] }))));
    LAYERS.forEach((l, i) => {
      byCode[l] = new Map(got[i].items.map((a) => [a.code, a]));
    });
    document.body.dataset.areaNames = String(byCode.grids.size);
    emit('names');
  })();
  return loading;
}
export const namesReady = () => loading;
on('live', (ev) => { if (ev.type === 'generation.activated') loadNames(); });

/** The area with that code in a layer ({code, name, parent_code}), if loaded. */
export const area = (layer, code) => byCode[layer].get(code);
export const gridName = (code) => (code ? byCode.grids.get(code)?.name || code : '');
/** Grid, community and street names of a grid code (walking the parent codes). */
export function gridPlace(code) {
  const g = byCode.grids.get(code);
  const c = g && byCode.communities.get(g.parent_code);
  const s = c && byCode.streets.get(c.parent_code);
  return { grid: g?.name || code || '', community: c?.name || '', street: s?.name || '' };
}
/** Areas whose code contains `q` or whose name contains it, grids last (there are many), at most `limit`. */
export function findAreas(q, limit = 20) {
  const needle = q.trim().toLowerCase();
  if (!needle) return [];
  const out = [];
  for (const layer of LAYERS) {
    for (const a of byCode[layer].values()) {
      if (a.code.toLowerCase().includes(needle) || (a.name || '').toLowerCase().includes(needle)) {
        out.push({ layer, ...a });
      }
    }
  }
  // Exact and prefix matches first.
  const rank = (a) => (a.code === needle || a.name === q.trim() ? 0 : a.code.startsWith(needle) || (a.name || '').startsWith(q.trim()) ? 1 : 2);
  out.sort((a, b) => rank(a) - rank(b) || LAYERS.indexOf(a.layer) - LAYERS.indexOf(b.layer) || a.code.localeCompare(b.code));
  return out.slice(0, limit);
}
/** Grid codes matching a partial code or a (grid, community or street) name: for the queue's grid filter. */
export function gridsMatching(q) {
  const needle = q.trim().toLowerCase();
  const hits = new Set();
  if (!needle) return hits;
  for (const g of byCode.grids.values()) {
    const p = gridPlace(g.code);
    if (g.code.toLowerCase().includes(needle) || [p.grid, p.community, p.street].some((n) => n.toLowerCase().includes(needle))) hits.add(g.code);
  }
  return hits;
}
