// Fixtures for running the browser tests by hand against a server you started yourself (the Rust harness,
// tests/console.rs, computes the same ones). Writes the two boundary files console.mjs uploads into OUT_DIR and
// prints the FIXTURES_JSON every test in this folder accepts (each test reads only the keys it needs).
// Usage: node fixtures.mjs BASE_URL OUT_DIR
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [base, out] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node fixtures.mjs BASE_URL OUT_DIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const POINT = [118.79, 32.02];
const POINT2 = [118.80, 32.03];
const locate = async ([lon, lat]) => (await (await fetch(`${base}/api/v1/locate?lon=${lon}&lat=${lat}`)).json()).grid.code;
const grid = await locate(POINT);
const grid2 = await locate(POINT2);
const sample = () => JSON.parse(readFileSync(join(root, 'boundaries/qinhuai/grids.geojson'), 'utf8'));

// As tests/console.rs: the second feature drawn over the first (rejected, naming the overlap) …
const bad = sample();
bad.features[1].geometry = bad.features[0].geometry;
const badFile = join(out, 'grids-duplicate-code.geojson');
writeFileSync(badFile, JSON.stringify(bad));
// … and every code with a suffix, in a Chinese survey file's field names.
const good = sample();
for (const f of good.features) {
  const p = f.properties;
  f.properties = { WGBM: `${p.code}N`, WGMC: p.name, SQBM: p.parent_code, BZ: '' };
}
const goodFile = join(out, 'grids-renamed.geojson');
writeFileSync(goodFile, JSON.stringify(good));

console.log(JSON.stringify({ point: POINT, grid, point2: POINT2, new_grid2: `${grid2}N`, bad_file: badFile,
  bad_code: bad.features[1].properties.code, good_file: goodFile }));
