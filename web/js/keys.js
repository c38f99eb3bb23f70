// Keyboard shortcuts (not while typing in a field, except Esc): n new incident, j/k next/previous in the queue,
// r recommend, a assign the first candidate, / search, ? this list, Esc cancel or close.
import { $ } from './dom.js';
import { creating, startCreate, endCreate } from './create.js';
import { step } from './queue.js';
import { selected, recommend, assignFirst, closeIncident } from './incident.js';
import { closePlace } from './place.js';

const typing = (el) => el && (el.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName));
const help = $('#help');
export function toggleHelp(show = help.hidden) {
  help.hidden = !show;
  $('#help-btn').setAttribute('aria-expanded', String(show));
}
// Hovering shows it; a click (or ?) pins it open until the next click, ? or Esc.
let pinned = false;
const pin = (on = !pinned) => { pinned = on; toggleHelp(on); };
$('#help-btn').addEventListener('click', () => pin());
$('#help-btn').addEventListener('mouseenter', () => toggleHelp(true));
$('#help-btn').addEventListener('mouseleave', () => { if (!pinned) toggleHelp(false); });
$('#help-btn').addEventListener('focus', () => toggleHelp(true));
$('#help-btn').addEventListener('blur', () => { if (!pinned) toggleHelp(false); });

document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === 'Escape') {
    if (!help.hidden) return pin(false);
    if (creating()) return endCreate();
    if (document.querySelector('.maplibregl-popup')) { document.querySelectorAll('.maplibregl-popup').forEach((p) => p.remove()); return; }
    if (typing(document.activeElement)) { document.activeElement.blur(); return; }
    if (selected) return closeIncident();
    return closePlace();
  }
  if (typing(e.target) || $('#view-dispatch').hidden) return;
  const act = {
    n: () => startCreate(),
    j: () => step(1),
    k: () => step(-1),
    r: () => recommend().catch((err) => { $('#detail-error').textContent = err.message; }),
    a: () => assignFirst(),
    '/': () => $('#search').focus(),
    '?': () => pin(),
  }[e.key];
  if (act) { e.preventDefault(); act(); }
});

// The skip link (first in the tab order) goes to the queue's first row (or the queue itself when empty).
$('#skip').addEventListener('click', (e) => {
  e.preventDefault();
  ($('#queue li[data-incident]') || $('#queue')).focus();
});
