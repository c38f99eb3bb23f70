// A tiny publish/subscribe between modules: the live feed, language switches and selections are announced here, so
// modules react without importing each other.
//   'live'      every event of the feed ({type, at, data})
//   'live:open' the feed (re)connected: reload what may have been missed
//   'lang'      the language changed
//   'names'     area names loaded (areas.js)
//   'view'      the dispatch / gis / assessment tab was chosen (the view's name)
const subs = new Map();
export function on(type, fn) {
  if (!subs.has(type)) subs.set(type, []);
  subs.get(type).push(fn);
}
export function emit(type, data) {
  for (const fn of subs.get(type) || []) {
    try { fn(data); } catch (e) { console.error(`${type} handler`, e); }
  }
}
