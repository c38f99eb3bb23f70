// The GIS officer's page (issue 34, "missing for a dispatcher": the diff code by code, the file previewed, messages
// in the page's language).
// Checks:
//  1. A grids file with one grid renamed, one moved to another community, one shifted ~28 m, one removed and one
//     added: the diff lists each code with old and new name, old and new parent (with the community's name), the
//     shift in metres, the removed grid's name and the added grid's name from the file.
//  2. The file's own polygons are previewed on the map before any import (source import-preview holds all 756,
//     drawn in view) and hidden on the dispatch page.
//  3. Validation messages are in the page's language: Chinese by default (the server's English in the tooltip),
//     the server's English after the switch.
//  4. A KML file is previewed too (its one polygon).
//  6. A Shapefile set in CGCS2000 Gauss-Krüger is previewed from the server's dry run, in WGS84 where it belongs.
//  5. A grids file without a parent field: the console fills in the suggested "parent from code prefix" and the file
//     validates; the same mistake on eight features (no geometry) is one entry with its count, opening to the eight.
// Usage: node gis-diff.mjs BASE_URL SHOTS_DIR FIXTURES_JSON   (a server on the bundled Qinhuai sample)
// FIXTURES_JSON: {} (none needed: the file is made here from boundaries/qinhuai/grids.geojson)
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, check, idle } from './common.mjs';

const { step, shot, open, run } = await suite('gis-diff');

await run(async () => {
  const g = JSON.parse(readFileSync(new URL('../../boundaries/qinhuai/grids.geojson', import.meta.url), 'utf8'));
  const f = g.features;
  const renamed = { code: f[0].properties.code, from: f[0].properties.name, to: '测试改名网格' };
  f[0].properties.name = renamed.to;
  const reparented = { code: f[1].properties.code, from: f[1].properties.parent_code, to: f[10].properties.parent_code };
  f[1].properties.parent_code = reparented.to;
  const shift = (c) => (typeof c[0] === 'number' ? [c[0] + 0.0003, c[1]] : c.map(shift));
  const shifted = f[2].properties.code;
  f[2].geometry.coordinates = shift(f[2].geometry.coordinates);
  const removed = { code: f[3].properties.code, name: f[3].properties.name };
  f.splice(3, 1);
  const added = { code: '32010499999901', name: '测试新增网格' };
  f.push({ type: 'Feature', properties: { code: added.code, name: added.name, parent_code: f[5].properties.parent_code },
    geometry: { type: 'Polygon', coordinates: [[[118.80, 32.00], [118.801, 32.00], [118.801, 32.001], [118.80, 32.001], [118.80, 32.00]]] } });
  const dir = mkdtempSync(join(tmpdir(), 'gridmap-gis-'));
  const file = join(dir, 'grids-changed.geojson');
  writeFileSync(file, JSON.stringify(g));
  const kml = join(dir, 'one.kml');
  const noParent = join(dir, 'grids-no-parent.geojson');
  const bare = JSON.parse(readFileSync(new URL('../../boundaries/qinhuai/grids.geojson', import.meta.url), 'utf8'));
  bare.features.forEach((x) => delete x.properties.parent_code);
  writeFileSync(noParent, JSON.stringify(bare));
  const noGeometry = join(dir, 'grids-no-geometry.geojson');
  writeFileSync(noGeometry, JSON.stringify({ type: 'FeatureCollection', features: bare.features.slice(0, 8).map((x) => ({ ...x, geometry: null })) }));
  writeFileSync(kml, `<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>测试</name>
    <ExtendedData><SchemaData><SimpleData name="code">32010400100101</SimpleData></SchemaData></ExtendedData>
    <Polygon><outerBoundaryIs><LinearRing><coordinates>118.80,32.00 118.801,32.00 118.801,32.001 118.80,32.001 118.80,32.00</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>`);

  const page = await open('A');
  await page.waitForFunction(() => Number(document.body.dataset.areaNames) > 0, null, { timeout: 10000 });
  await page.click('#tab-gis');
  await page.setInputFiles('#file', file);
  await page.waitForSelector('#report .diff-details', { timeout: 20000 });

  // 1. The diff, code by code.
  const rows = (kind) => page.$$eval(`#report .diff-list[data-kind="${kind}"] tbody tr`, (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const ren = await rows('renamed');
  check(ren.some((r) => r[0] === renamed.code && r[1] === renamed.from && r[2] === renamed.to), `renamed rows: ${JSON.stringify(ren)}`);
  const rep = await rows('reparented');
  check(rep.some((r) => r[0] === reparented.code && r[2].startsWith(reparented.from) && r[3].startsWith(reparented.to) && /社区/.test(r[3])), `reparented rows: ${JSON.stringify(rep)}`);
  const geo = await rows('geometry_changed');
  check(geo.some((r) => r[0] === shifted && /^2\d\.\d m$/.test(r[2])), `reshaped rows: ${JSON.stringify(geo)}`);
  const rem = await rows('removed');
  check(rem.some((r) => r[0] === removed.code && r[1] === removed.name), `removed rows: ${JSON.stringify(rem)}`);
  const add = await rows('added');
  check(add.some((r) => r[0] === added.code && r[1] === added.name), `added rows: ${JSON.stringify(add)}`);
  step(`check 1: renamed ${ren[0].join(' ')}; new parent ${rep[0].join(' ')}; reshaped ${geo[0].join(' ')}; removed ${rem[0].join(' ')}; added ${add[0].join(' ')}`);

  // 2. Preview.
  const note = await page.textContent('#preview-note');
  check(note.includes(String(f.length)), `preview note: ${note}`);
  check(await page.evaluate(() => window.gridmapMap.getSource('import-preview').serialize().data.features.length) === f.length, 'not every feature in the preview source');
  await idle(page);
  const drawn = await page.evaluate(() => window.gridmapMap.queryRenderedFeatures({ layers: ['import-preview-line'] }).length);
  check(drawn > 0, 'the preview is not drawn');
  await page.evaluate(() => document.querySelectorAll('#report details').forEach((d) => { d.open = true; }));
  await shot(page, 'diff-and-preview');
  await page.click('#tab-dispatch');
  check(await page.evaluate(() => window.gridmapMap.getLayoutProperty('import-preview-fill', 'visibility')) === 'none', 'the preview stays on the dispatch map');
  await page.click('#tab-gis');
  step(`check 2: "${note}", ${drawn} preview features drawn, hidden on the dispatch page`);

  // 3. Messages in the page's language.
  const zh = await page.$eval('#report ul.problems li.err:not(.group)', (li) => ({ text: li.textContent, title: li.title }));
  check(/[重叠超出]/.test(zh.text) && /overlaps|extends/.test(zh.title) && !/overlaps|extends/.test(zh.text), `Chinese problem: ${JSON.stringify(zh)}`);
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#report ul.problems li.err:not(.group)')?.textContent.match(/overlaps|extends/), null, { timeout: 5000 });
  const en = await page.$eval('#report ul.problems li.err:not(.group)', (li) => li.textContent);
  check(!/\p{Script=Han}/u.test(en.replace(/\[[^\]]*\]/g, '')), `English problem: ${en}`);
  const summary = await page.$eval('#report .diff-list summary', (s) => s.textContent);
  check(/^(added|removed|renamed|new parent|reshaped) \(\d+\)$/.test(summary.trim()), `English diff heading: ${summary}`);
  step(`check 3: "${zh.text.trim().slice(0, 50)}…" ↔ "${en.trim().slice(0, 50)}…"`);
  await page.click('#lang');

  // 4. KML.
  await page.setInputFiles('#file', kml);
  await page.waitForFunction(() => document.querySelector('#preview-note').dataset.features === '1', null, { timeout: 5000 });
  check(await page.evaluate(() => window.gridmapMap.getSource('import-preview').serialize().data.features[0].geometry.type) === 'Polygon', 'KML polygon not previewed');
  step('check 4: a KML polygon is previewed');

  // 5. Parents from the code prefix, suggested and filled in; one entry for one mistake on many features.
  await page.setInputFiles('#file', noParent);
  await page.waitForFunction(() => document.querySelector('#report h2')?.textContent.includes('✔'), null, { timeout: 20000 })
    .catch(() => {});
  const filled = await page.evaluate(() => ({ from: document.querySelector('#upload [name=parent_from]').value, head: document.querySelector('#report h2')?.textContent }));
  check(filled.from === 'prefix' && filled.head.includes('✔'), `parent from: ${JSON.stringify(filled)}`);
  await page.setInputFiles('#file', noGeometry);
  await page.waitForSelector('#report li.group[data-kind="unreadable_geometry"]', { timeout: 20000 });
  const group = await page.$eval('#report li.group', (li) => ({ summary: li.querySelector('summary').textContent, items: li.querySelectorAll('li').length, all: document.querySelectorAll('#report > ul.problems > li').length }));
  check(group.summary.startsWith('8 / 8 个要素') && group.items === 8 && group.all === 1, `grouped: ${JSON.stringify(group)}`);
  step(`check 5: parent from "${filled.from}" filled in and valid; "${group.summary.slice(0, 40)}…" one entry for ${group.items}`);

  // 6. A Shapefile set in CGCS2000 Gauss-Krüger (metres) is previewed too: the server's preview, in WGS84.
  await page.selectOption('#upload [name=layer]', 'streets');
  await page.fill('#upload [name=code_field]', 'district_a');
  await page.fill('#upload [name=name_field]', 'district_n');
  await page.fill('#upload [name=parent_field]', '');
  await page.selectOption('#upload [name=parent_from]', '');
  const gk = ['shp', 'shx', 'dbf', 'prj', 'cpg'].map((e) => new URL(`../fixtures/qinhuai_gk/qinhuai_cgcs2000_gk120.${e}`, import.meta.url).pathname);
  await page.setInputFiles('#file', gk);
  await page.waitForFunction(() => document.querySelector('#preview-note').dataset.source === 'server', null, { timeout: 20000 });
  const first = await page.evaluate(() => {
    const fc = window.gridmapMap.getSource('import-preview').serialize().data;
    return { n: fc.features.length, code: fc.features[0]?.properties.code, at: fc.features[0]?.geometry.coordinates[0][0] };
  });
  // The first vertex of 320104 in the WGS84 outline the file was made from (as the import test checks).
  check(first.n === 1 && first.code === '320104' && Math.abs(first.at[0] - 118.875608) < 1e-5 && Math.abs(first.at[1] - 32.017034) < 1e-5,
    `Gauss-Krüger preview: ${JSON.stringify(first)}`);
  await idle(page);
  await shot(page, 'preview-shapefile-gk');
  step(`check 6: a Gauss-Krüger Shapefile set previewed from the server in WGS84 (first vertex ${first.at.map((v) => v.toFixed(6))})`);
});
