// Alerts for new urgent incidents (priority 1–2) and for incidents whose deadline passes (incident.overdue): the row flashes in the queue, the tab title counts the ones not
// yet opened, and a short two-tone sound plays (made with WebAudio, no file), unless switched off with the header's
// sound button (remembered in localStorage as gridmap.sound).
import { $ } from './dom.js';
import { on, emit } from './bus.js';
import { t } from './i18n.js';

const FLASH_MS = 12000;
const fresh = new Map(); // incident id → when it arrived
const unseen = new Set();
export const isFresh = (id) => fresh.has(id) && Date.now() - fresh.get(id) < FLASH_MS;
export const soundOn = () => localStorage.getItem('gridmap.sound') !== 'off';

export function updateTitle() {
  document.title = unseen.size ? `(${unseen.size}) ${t('newAlert')} · ${t('docTitle')}` : t('docTitle');
}
export function showSoundButton() {
  const b = $('#sound');
  b.setAttribute('aria-pressed', String(soundOn()));
  // A bell, struck through when off (inline SVG: no emoji font needed).
  b.innerHTML = `<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path d="M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6zm-2 15a2 2 0 0 0 4 0z" fill="currentColor"/>${soundOn() ? '' : '<path d="M4 4l16 16" stroke="#ff8080" stroke-width="2.5"/>'}</svg>`;
  b.title = t(soundOn() ? 'soundOn' : 'soundOff');
  b.setAttribute('aria-label', b.title);
}
$('#sound').addEventListener('click', () => {
  localStorage.setItem('gridmap.sound', soundOn() ? 'off' : 'on');
  showSoundButton();
  if (soundOn()) audio(); // a click is the gesture that lets the page make sound
});

let ctx = null;
function audio() {
  ctx ??= new AudioContext();
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}
/** Two short tones (880 Hz then 660 Hz). */
export function beep() {
  if (!soundOn()) return false;
  const ac = audio();
  const at = ac.currentTime + 0.02;
  [[880, 0], [660, 0.18]].forEach(([hz, dt]) => {
    const osc = ac.createOscillator();
    const gain = ac.createGain();
    osc.type = 'sine';
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, at + dt);
    gain.gain.exponentialRampToValueAtTime(0.25, at + dt + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + dt + 0.15);
    osc.connect(gain).connect(ac.destination);
    osc.start(at + dt);
    osc.stop(at + dt + 0.16);
  });
  document.body.dataset.alertSounds = String(Number(document.body.dataset.alertSounds || 0) + 1);
  document.body.dataset.audioState = ac.state;
  return true;
}

on('live', (ev) => {
  // A new urgent incident, or one whose deadline just passed.
  const urgent = ev.type === 'incident.created' && ev.data?.priority <= 2;
  if (!urgent && ev.type !== 'incident.overdue') return;
  const id = ev.data.id;
  fresh.set(id, Date.now());
  unseen.add(id);
  updateTitle();
  beep();
  emit('alerts');
  // The flash ends by itself.
  setTimeout(() => { fresh.delete(id); emit('alerts'); }, FLASH_MS);
});
on('incident:open', (id) => { if (unseen.delete(id)) updateTitle(); });
on('lang', () => { updateTitle(); showSoundButton(); });
