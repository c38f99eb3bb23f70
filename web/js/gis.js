// The GIS staff's page: upload a boundary file, see its own polygons on the map (GeoJSON and KML are read in the
// browser), its validation report in the page's language with each located problem pinned (pins only while this
// page is open), the diff against the served generation code by code, and the generations.
import { $, esc } from './dom.js';
import { API, api, post, authHeaders } from './api.js';
import { on } from './bus.js';
import { lang, t, tf } from './i18n.js';
import { map, mapReady, reloadSource } from './map.js';
import { area } from './areas.js';
import { showGeneration } from './live.js';

const EMPTY = { type: 'FeatureCollection', features: [] };
let gisOpen = false;

const drop = $('#drop');
['dragenter', 'dragover'].forEach((n) => drop.addEventListener(n, (e) => { e.preventDefault(); drop.classList.add('over'); }));
['dragleave', 'drop'].forEach((n) => drop.addEventListener(n, (e) => { e.preventDefault(); drop.classList.remove('over'); }));
drop.addEventListener('drop', (e) => { $('#file').files = e.dataTransfer.files; $('#file').dispatchEvent(new Event('change')); });

$('#upload').addEventListener('submit', (e) => { e.preventDefault(); upload(e.submitter?.value || 'check'); });
// A chosen file is previewed and validated at once; when its fields are not code/name/parent_code, the likeliest
// ones (from the report's `suggested`) are filled in and it is validated again with them.
$('#file').addEventListener('change', () => { previewFromServer = false; preview(); upload('check', true); });

export function fillLayerSelect() {
  const s = $('#upload [name=layer]');
  const keep = s.value || 'grids';
  s.innerHTML = ['grids', 'communities', 'streets'].map((l) => `<option value="${l}">${esc(t(l))} (${l})</option>`).join('');
  s.value = keep;
}

const MAPPING = ['code_field', 'name_field', 'parent_field', 'parent_from'];
const mainFile = (files) => files.find((f) => /\.(zip|shp|geojson|json|kml|gpkg)$/i.test(f.name)) || files[0];
let lastReport = null;
let lastOut = null;
let lastStatus = 0;
async function upload(mode, suggest = false) {
  const form = $('#upload');
  const files = [...$('#file').files];
  if (!files.length) return;
  const body = new FormData();
  // The main file first; other files of a Shapefile set go as sidecars.
  const main = mainFile(files);
  body.append('file', main, main.name);
  files.filter((f) => f !== main).forEach((f) => body.append('sidecar', f, f.name));
  // A parent taken from location or code prefix replaces the parent field (the server takes one or the other).
  for (const k of ['layer', 'code_field', 'name_field', form.parent_from.value ? 'parent_from' : 'parent_field']) if (form[k].value) body.append(k, form[k].value);
  if (mode === 'check') { body.append('dry_run', 'true'); body.append('preview', 'true'); }
  const resp = await fetch(`${API}/imports`, { method: 'POST', body, headers: authHeaders() });
  const out = await resp.json().catch(() => ({}));
  const report = out.report || out.error?.details?.report;
  showFields(report);
  const s = report?.suggested;
  if (suggest && s && MAPPING.some((k) => s[k] && !form[k].value)) {
    for (const k of MAPPING) if (s[k] && !form[k].value) form[k].value = s[k];
    $('#fields').dataset.suggested = 'true';
    return upload('check');
  }
  // The server's preview: every format, converted from the file's coordinate system to WGS84.
  if (report?.preview?.features?.length) await showPreview(report.preview, true);
  [lastReport, lastOut, lastStatus] = [report, out, resp.status];
  showReport(report, out, resp.status);
  refreshGenerations();
}

// The file's attributes with an example value each, so staff can see (and correct) which holds what.
function showFields(report) {
  const box = $('#fields');
  if (!report?.fields?.length) { box.textContent = ''; return; }
  const note = box.dataset.suggested ? ` — ${t('suggested')}` : '';
  box.textContent = `${t('fields')}${note}: ${report.fields.map((f) => (f.samples.length ? `${f.name} (${f.samples[0]})` : f.name)).join(', ')}`;
  delete box.dataset.suggested;
}

// ---- the file's own polygons, before the import ----
// GeoJSON and KML are drawn at once from the file itself; every check then brings the server's preview (any format,
// in WGS84 whatever the file's coordinate system), which replaces it.
let previewFc = EMPTY;
let previewFromServer = false;
async function preview() {
  const files = [...$('#file').files];
  const main = files.length ? mainFile(files) : null;
  previewFc = EMPTY;
  const note = $('#preview-note');
  if (main && /\.(geojson|json)$/i.test(main.name)) {
    try {
      const fc = JSON.parse(await main.text());
      previewFc = fc.type === 'FeatureCollection' ? fc : { type: 'FeatureCollection', features: fc.type === 'Feature' ? [fc] : [] };
    } catch { previewFc = EMPTY; }
  } else if (main && /\.kml$/i.test(main.name)) {
    previewFc = kmlToGeoJson(await main.text());
  }
  if (!main) note.textContent = '';
  if (previewFromServer) return; // the server's answer came first
  await showPreview(previewFc, false);
}
async function showPreview(fc, fromServer) {
  previewFc = fc;
  previewFromServer = fromServer;
  const n = fc.features.filter((f) => f?.geometry).length;
  const note = $('#preview-note');
  if ([...$('#file').files].length) note.textContent = n ? tf('previewOn', { n }) : t('previewNone');
  note.dataset.features = String(n);
  note.dataset.source = fromServer ? 'server' : 'browser';
  await mapReady();
  ensureImportLayers();
  map.getSource('import-preview').setData(fc);
  const b = bounds(fc);
  if (b && gisOpen) map.fitBounds(b, { padding: 30, duration: 0 });
}
/** Polygons of a KML document (Placemark → Polygon/MultiGeometry, outer and inner rings). */
function kmlToGeoJson(text) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const ring = (el) => (el?.textContent || '').trim().split(/\s+/).map((p) => p.split(',').slice(0, 2).map(Number)).filter((c) => c.length === 2 && c.every(Number.isFinite));
  const features = [];
  for (const pm of doc.getElementsByTagName('Placemark')) {
    const polygons = [...pm.getElementsByTagName('Polygon')].map((pg) => [
      ring(pg.getElementsByTagName('outerBoundaryIs')[0]?.getElementsByTagName('coordinates')[0]),
      ...[...pg.getElementsByTagName('innerBoundaryIs')].map((ib) => ring(ib.getElementsByTagName('coordinates')[0])),
    ]).filter((p) => p[0].length >= 4);
    if (!polygons.length) continue;
    const props = { name: pm.getElementsByTagName('name')[0]?.textContent || '' };
    for (const d of pm.getElementsByTagName('SimpleData')) props[d.getAttribute('name')] = d.textContent;
    for (const d of pm.getElementsByTagName('Data')) props[d.getAttribute('name')] = d.getElementsByTagName('value')[0]?.textContent;
    features.push({ type: 'Feature', properties: props, geometry: polygons.length === 1 ? { type: 'Polygon', coordinates: polygons[0] } : { type: 'MultiPolygon', coordinates: polygons } });
  }
  return { type: 'FeatureCollection', features };
}
function bounds(fc) {
  let b = null;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      if (!b) b = [c[0], c[1], c[0], c[1]];
      else b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])];
    } else c.forEach(walk);
  };
  for (const f of fc.features) if (f?.geometry?.coordinates) walk(f.geometry.coordinates);
  return b && [[b[0], b[1]], [b[2], b[3]]];
}
function ensureImportLayers() {
  if (map.getSource('import-preview')) return;
  map.addSource('import-preview', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'import-preview-fill', type: 'fill', source: 'import-preview', layout: { visibility: gisOpen ? 'visible' : 'none' },
    paint: { 'fill-color': '#6a3d9a', 'fill-opacity': 0.12 } });
  map.addLayer({ id: 'import-preview-line', type: 'line', source: 'import-preview', layout: { visibility: gisOpen ? 'visible' : 'none' },
    paint: { 'line-color': '#6a3d9a', 'line-width': 1.5, 'line-dasharray': [2, 1.5] } });
}

// ---- the report ----
const GROUP_FROM = 5; // as the CLI's text report (src/import/report.rs)
// A located problem is a pin of its own look (a warning sign, not an incident dot), shown only on this page.
let problemMarkers = [];
function pin(p, cls) {
  const el = document.createElement('div');
  el.className = `problem-pin ${cls}`;
  el.textContent = '⚠';
  el.title = `${t('problem')}: ${problemText(p.message)}`;
  el.setAttribute('aria-label', el.title);
  return new maplibregl.Marker({ element: el, anchor: 'bottom' }).setLngLat(p.location)
    .setPopup(new maplibregl.Popup({ offset: 18 }).setText(problemText(p.message)));
}
function showPins(show) {
  for (const m of problemMarkers) { if (show) m.addTo(map); else m.remove(); }
}

function showReport(report, out, status) {
  const box = $('#report');
  box.hidden = false;
  showPins(false);
  problemMarkers = [];
  const close = `<button type="button" class="close" id="report-close" aria-label="${esc(t('close'))}" title="${esc(t('close'))}">×</button>`;
  if (!report) { box.innerHTML = `<div class="row"><p class="error" role="alert">${esc(out.error?.message || `HTTP ${status}`)}</p>${close}</div>`; return; }
  const field = (f) => ({ geometry: t('fGeometry'), code: t('fCode'), name: t('fName'), parent_code: t('fParent') }[f] || f);
  const item = (p, cls) => `<li class="${cls}" title="${esc(p.message)}">${p.feature != null ? `#${p.feature} ` : ''}${p.code ? `[${esc(p.code)}] ` : ''}${p.field ? `${esc(field(p.field))}: ` : ''}${esc(problemText(p.message))}${p.location ? ` <a href="#" data-at="${p.location.join(',')}">${esc(t('locate'))}</a>` : ''}</li>`;
  // The same mistake on many features is one entry (its count and the first instance), opened to list them all.
  const items = (list, cls) => {
    const groups = new Map();
    for (const p of list) groups.set(p.kind, [...(groups.get(p.kind) || []), p]);
    return [...groups.values()].map((g) => (g.filter((p) => p.feature != null).length <= GROUP_FROM ? g.map((p) => item(p, cls)).join('')
      : `<li class="${cls} group" data-kind="${esc(g[0].kind)}"><details><summary>${esc(tf('manyOf', { n: g.length, of: report.features ?? g.length }))}: ${esc(problemText(g[0].message))}</summary>
        <ul class="problems">${g.map((p) => item(p, cls)).join('')}</ul></details></li>`)).join('');
  };
  box.innerHTML = `<div class="row"><h2>${report.valid ? `✔ ${esc(t('valid'))}` : `✖ ${esc(t('invalid'))}`} <span class="muted">${esc(report.file)} · ${report.features ?? ''} ${esc(t('features'))}</span></h2>${close}</div>
    ${report.diff ? `<p class="diff">${esc(t('changes'))} (${report.diff.before}): ${['added', 'removed', 'renamed', 'reparented', 'geometry_changed']
    .map((k) => `${esc(t(k === 'geometry_changed' ? 'reshaped' : k))} <b>${report.diff.counts[k]}</b>`).join(' · ')} · ${esc(t('unchanged'))} <b>${report.diff.unchanged}</b></p>${diffDetails(report)}` : ''}
    ${out.generation ? `<p>${esc(t('staged'))} ${out.generation} <button id="activate-staged" class="primary">${esc(t('activate'))}</button> <button id="discard-staged">${esc(t('discard'))}</button></p>` : ''}
    ${report.errors?.length ? `<h2>${esc(t('errors'))} (${report.errors.length})</h2><ul class="problems">${items(report.errors, 'err')}</ul>` : ''}
    ${report.warnings?.length ? `<h2>${esc(t('warnings'))} (${report.warnings.length})</h2><ul class="problems">${items(report.warnings, 'warn')}</ul>` : ''}`;
  $('#activate-staged')?.addEventListener('click', () => activate(out.generation));
  $('#discard-staged')?.addEventListener('click', () => discard(out.generation));
  $('#report-close').addEventListener('click', closeReport);
  // Each located problem (an overlap) is pinned on the map; its link flies there.
  for (const [list, cls] of [[report.errors || [], 'err'], [report.warnings || [], 'warn']]) {
    for (const p of list.filter((x) => x.location)) problemMarkers.push(pin(p, cls));
  }
  showPins(gisOpen);
  box.querySelectorAll('[data-at]').forEach((a) => a.addEventListener('click', (e) => {
    e.preventDefault();
    map.flyTo({ center: a.dataset.at.split(',').map(Number), zoom: 16 });
  }));
}
function closeReport() {
  $('#report').hidden = true;
  showPins(false);
  problemMarkers = [];
  lastReport = null;
}

// The diff code by code: added and removed codes, renames (old → new name), new parents, reshaped boundaries with
// how far their centre moved and how their area changed. Names of the file's features come from the preview.
const ROWS = 50;
function diffDetails(report) {
  const d = report.diff;
  const layer = report.layer || $('#upload [name=layer]').value;
  const parentLayer = { grids: 'communities', communities: 'streets' }[layer];
  const form = $('#upload');
  const codeField = form.code_field.value || 'code', nameField = form.name_field.value || 'name';
  // The server's preview names its fields code and name; the browser's keeps the file's own.
  const [cf, nf] = previewFromServer ? ['code', 'name'] : [codeField, nameField];
  const fileName = new Map(previewFc.features.map((f) => [String(f.properties?.[cf] ?? ''), f.properties?.[nf]]));
  const oldName = (code) => area(layer, code)?.name || '';
  const parentName = (code) => (parentLayer && area(parentLayer, code)?.name) || '';
  const table = (kind, heads, rows) => {
    if (!rows.length) return '';
    const cut = rows.slice(0, ROWS);
    return `<details class="diff-list" data-kind="${kind}"><summary>${esc(t(kind === 'geometry_changed' ? 'reshaped' : kind))} (${rows.length})</summary>
      <table><thead><tr>${heads.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${cut.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>
      ${rows.length > ROWS ? `<p class="muted">${esc(tf('moreRows', { n: rows.length - ROWS }))}</p>` : ''}</details>`;
  };
  const pct = (v) => `${v > 0 ? '+' : ''}${Number(v).toFixed(1)}%`;
  return `<div class="diff-details"><h3>${esc(t('diffList'))}</h3>`
    + table('added', [t('codeCol'), t('nameOf')], (d.added || []).map((c) => [c, fileName.get(c) || '']))
    + table('removed', [t('codeCol'), t('nameOf')], (d.removed || []).map((c) => [c, oldName(c)]))
    + table('renamed', [t('codeCol'), t('oldCol'), t('newCol')], (d.renamed || []).map((r) => [r.code, r.from, r.to]))
    + table('reparented', [t('codeCol'), t('nameOf'), t('oldCol'), t('newCol')], (d.reparented || []).map((r) => [r.code, oldName(r.code),
      `${r.from}${parentName(r.from) ? ` ${parentName(r.from)}` : ''}`, `${r.to}${parentName(r.to) ? ` ${parentName(r.to)}` : ''}`]))
    + table('geometry_changed', [t('codeCol'), t('nameOf'), t('moved'), t('areaChange')], (d.geometry_changed || []).map((r) => [r.code, oldName(r.code),
      `${Number(r.centroid_moved_m).toFixed(1)} m`, pct(r.area_change_pct)]))
    + '</div>';
}

// ---- validation messages in the page's language ----
// The server words its findings in English (src/import/validate.rs and friends); these patterns say the same in
// Chinese. A message no pattern knows is shown as the server wrote it (and always in the item's tooltip).
const LAYER_ZH = { streets: '街道', communities: '社区', grids: '网格' };
const lz = (l) => LAYER_ZH[l] || l;
const PROBLEMS_ZH = [
  [/^overlaps feature (\d+) \(code (.+?)\) by ([\d.]+) m² \(([\d.]+) m wide on average\) around \[(.+)\]$/, (m) => `与要素 ${m[1]}（编码 ${m[2]}）重叠 ${m[3]} m²（平均宽 ${m[4]} m），位置 [${m[5]}]`],
  [/^extends (\d+) m² \(([\d.]+) % of its area\) outside its parent (\w+) (\S*) around \[(.+)\]$/, (m) => `超出上级${lz(m[3])} ${m[4]} 共 ${m[1]} m²（占自身面积 ${m[2]}%），位置 [${m[5]}]`],
  [/^gap of (\d+) m² inside (\w+) (\S+) that no (\w+) covers, around \[(.+)\]$/, (m) => `${lz(m[2])} ${m[3]} 内有 ${m[1]} m² 未被任何${lz(m[4])}覆盖，位置 [${m[5]}]`],
  [/^(\d+) pair\(s\) of neighbours overlap in slivers narrower than ([\d.]+) m on average .*; accepted$/, (m) => `${m[1]} 对相邻要素在共用边界上有平均宽度小于 ${m[2]} m 的细小重叠（节点不完全一致），已接受`],
  [/^(\d+) sliver\(s\) under ([\d.]+) m² outside parents or uncovered inside them .*; accepted$/, (m) => `${m[1]} 处小于 ${m[2]} m² 的碎片超出上级或未被覆盖（节点不完全一致），已接受`],
  [/^rows (\d+) and (\d+) share code (\S+) but disagree on (\w+) \((.*)\); rows of one area must agree/, (m) => `第 ${m[1]} 行与第 ${m[2]} 行编码同为 ${m[3]}，但${m[4] === 'name' ? '名称' : '上级编码'}不一致（${m[5]}）；同一区域的各行须一致（第 ${m[2]} 行未导入）`],
  [/^(\d+) code\(s\) came as several rows \((.*)\); each imported as one multi-part area$/, (m) => `${m[1]} 个编码由多行组成（${m[2].replace(/rows/g, '行')}）；每个编码按一个多部件区域导入`],
  [/^overlaps row (\d+) of the same area (\S+) by ([\d.]+) m²$/, (m) => `与同一区域 ${m[2]} 的第 ${m[1]} 行重叠 ${m[3]} m²`],
  [/^invalid geometry \(a part of the area in rows (.*)\): (.*)$/, (m) => `几何无效（该区域由第 ${m[1]} 行组成，此为其一部分）：${m[2]}`],
  [/^no (\w+) code is a prefix of (\S+)/, (m) => `没有哪个${lz(m[1])}编码是 ${m[2]} 的前缀（按编码前缀）`],
  [/^no (\w+) covers half of it: the most is (\S+) with (\d+) % of its area/, (m) => `没有哪个${lz(m[1])}覆盖其一半以上面积：最多的是 ${m[2]}，占 ${m[3]}%（按位置）`],
  [/^lies outside every (\w+)/, (m) => `不在任何${lz(m[1])}之内（按位置）`],
  [/^(\d+) (\w+): the code names another (\w+) than the one holding the polygon: (.*); the location was used$/, (m) => `${m[1]} 个${lz(m[2])}的编码所示上级与其所在${lz(m[3])}不同：${m[4]}；已按位置确定上级`],
  [/^parent code (\S+) does not exist in layer (\w+)$/, (m) => `上级编码 ${m[1]} 在${lz(m[2])}图层中不存在`],
  [/^layer (\w+) is empty in the generation this import builds on/, (m) => `本次导入所基于的版本中${lz(m[1])}图层为空：请先导入${lz(m[1])}`],
  [/^no code: attribute "(.*)" is missing or empty \(attributes present: (.*)\)/, (m) => `缺少编码：属性“${m[1]}”不存在或为空（现有属性：${m[2]}）；请另选编码字段`],
  [/^no name; the code is used as name$/, () => '缺少名称；以编码作为名称'],
  [/^no parent code: attribute "(.*)" is missing or empty; every (\w+) names its parent$/, (m) => `缺少上级编码：属性“${m[1]}”不存在或为空；每个要素都须注明上级`],
  [/^invalid geometry: (.*)$/, (m) => `几何无效：${m[1]}`],
  [/^geometry is empty/, () => '几何为空'],
  [/^geometry is a (.+); a boundary must be a Polygon or MultiPolygon$/, (m) => `几何类型为 ${m[1]}；边界必须是 Polygon 或 MultiPolygon`],
  [/^… and (\d+) more (.+)$/, (m) => `…… 另有 ${m[1]} 条（${m[2]}）`],
  [/^(\d+) vertices; at most (\d+) per feature are accepted/, (m) => `${m[1]} 个顶点；每个要素最多接受 ${m[2]} 个（请先简化）`],
  [/^fixed: (.*)$/, (m) => `已自动修复：${m[1]}`],
  [/^not fixed: (.*)$/, (m) => `未修复：${m[1]}`],
  [/^the features sit a median (\d+) m .*?, and ([\d.]+) m once read as (\S+): .* --crs (\w+)$/, (m) => `要素与现有边界的中位偏移为 ${m[1]} m，按 ${m[3]} 读取后为 ${m[2]} m：文件很可能是 ${m[3]} 坐标（国内地图厂商的偏移），请以 crs=${m[4]} 重新导入`],
  [/^(\d+) (\w+) of the current generation name a parent code this file lacks \(e\.g\. (.*)\)/, (m) => `当前版本中有 ${m[1]} 个${lz(m[2])}的上级编码不在此文件中（如 ${m[3]}）；启用前请把${lz(m[2])}也导入此版本（--base）`],
];
export function problemText(message) {
  if (lang !== 'zh') return message;
  for (const [re, say] of PROBLEMS_ZH) {
    const m = re.exec(message);
    if (m) return say(m);
  }
  return message;
}

// ---- generations ----
// A staged generation that was never active can be thrown away (the server refuses others with 409).
async function discard(g) {
  try {
    await api(`/generations/${g}`, { method: 'DELETE' });
    closeReport();
  } catch (e) {
    alert(e.message);
  }
  refreshGenerations();
}

async function activate(g) {
  await post(`/generations/${g}/activate`, {});
  ['streets', 'communities', 'grids'].forEach(reloadSource);
  showGeneration(g);
  refreshGenerations();
}
$('#rollback').addEventListener('click', async () => { await post('/generations/rollback', {}); refreshGenerations(); });

export async function refreshGenerations() {
  const gens = await api('/generations');
  const list = gens.generations || gens;
  $('#generations tbody').innerHTML = list.map((g) => `<tr><td>${g.id}</td><td>${esc(t(g.status === 'staged' ? 'stagedS' : g.status))}</td>
    <td>${esc(g.description)}<br><span class="muted">${g.layers.map((l) => `${esc(t(l.layer))} ${l.features}`).join(' · ')}</span></td>
    <td>${g.status !== 'active' ? `<button data-activate="${g.id}">${esc(t('activate'))}</button>` : ''}
      ${g.status === 'staged' ? `<button data-discard="${g.id}">${esc(t('discard'))}</button>` : ''}</td></tr>`).join('');
  $('#generations').querySelectorAll('[data-activate]').forEach((b) => b.addEventListener('click', () => activate(Number(b.dataset.activate))));
  $('#generations').querySelectorAll('[data-discard]').forEach((b) => b.addEventListener('click', () => discard(Number(b.dataset.discard))));
}

// Entering and leaving the page: pins and the preview belong to it.
on('view', (view) => {
  gisOpen = view === 'gis';
  showPins(gisOpen);
  if (map?.getLayer('import-preview-fill')) {
    for (const id of ['import-preview-fill', 'import-preview-line']) map.setLayoutProperty(id, 'visibility', gisOpen ? 'visible' : 'none');
  }
  if (gisOpen) refreshGenerations();
});
on('lang', () => {
  fillLayerSelect();
  if (gisOpen) refreshGenerations();
  if (lastReport || lastOut) showReport(lastReport, lastOut, lastStatus);
  const n = Number($('#preview-note').dataset.features || 0);
  if ([...$('#file').files].length) $('#preview-note').textContent = n ? tf('previewOn', { n }) : t('previewNone');
});
