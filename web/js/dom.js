// DOM helpers shared by every module.
export const $ = (sel) => document.querySelector(sel);
export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

// Debounce per key: the last call within 150 ms wins.
const timers = {};
export function soon(fn, key = 'queue') { clearTimeout(timers[key]); timers[key] = setTimeout(fn, 150); }
