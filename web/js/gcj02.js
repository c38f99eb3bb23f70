// GCJ-02 base maps.
// Amap and Tencent draw their tiles in GCJ-02, WGS84 deliberately offset by 300–700 m. A base map configured with
// --basemap-crs gcj02 comes as gcj02://{z}/{x}/{y}/{vendor template}: each WGS84 tile is cut from the vendor tiles
// at the place the vendor draws it (the offset at the tile's centre; within one tile it varies by less than a pixel
// from z11 on), so gridmap's WGS84 data sits on the base map where it belongs. Same formulas as src/crs/chinese.rs.
export function wgs84ToGcj02(lon, lat) {
  if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return [lon, lat];
  const { PI, sin, sqrt, abs, cos } = Math;
  const x = lon - 105, y = lat - 35;
  let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x));
  dLat += (20 * sin(6 * x * PI) + 20 * sin(2 * x * PI)) * 2 / 3 + (20 * sin(y * PI) + 40 * sin(y / 3 * PI)) * 2 / 3
    + (160 * sin(y / 12 * PI) + 320 * sin(y * PI / 30)) * 2 / 3;
  let dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x));
  dLon += (20 * sin(6 * x * PI) + 20 * sin(2 * x * PI)) * 2 / 3 + (20 * sin(x * PI) + 40 * sin(x / 3 * PI)) * 2 / 3
    + (150 * sin(x / 12 * PI) + 300 * sin(x / 30 * PI)) * 2 / 3;
  const a = 6378245.0, ee = 0.006693421622965943, rad = lat / 180 * PI;
  const magic = 1 - ee * sin(rad) * sin(rad), sm = sqrt(magic);
  return [lon + (dLon * 180) / (a / sm * cos(rad) * PI), lat + (dLat * 180) / ((a * (1 - ee)) / (magic * sm) * PI)];
}
const mercX = (lon) => (lon + 180) / 360;
const mercY = (lat) => { const s = Math.sin(lat * Math.PI / 180); return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI); };
async function gcj02Tile(params, abort) {
  const [, z, x, y, encoded] = /^gcj02:\/\/(\d+)\/(\d+)\/(\d+)\/(.+)$/.exec(params.url).map((v, i) => (i > 0 && i < 4 ? Number(v) : v));
  const template = decodeURIComponent(encoded), n = 2 ** z, size = 256;
  const lon = ((x + 0.5) / n) * 360 - 180, lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * (y + 0.5)) / n))) * 180) / Math.PI;
  const [glon, glat] = wgs84ToGcj02(lon, lat);
  // Where this tile's pixels are in the vendor's pixel space.
  const left = x * size + (mercX(glon) - mercX(lon)) * n * size, top = y * size + (mercY(glat) - mercY(lat)) * n * size;
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d');
  const jobs = [];
  for (let tx = Math.floor(left / size); tx <= Math.floor((left + size - 1) / size); tx++) {
    for (let ty = Math.floor(top / size); ty <= Math.floor((top + size - 1) / size); ty++) {
      if (ty < 0 || ty >= n) continue;
      const url = template.replace('{z}', z).replace('{x}', ((tx % n) + n) % n).replace('{y}', ty);
      jobs.push(fetch(url, { signal: abort.signal }).then((r) => (r.ok ? r.blob() : null))
        .then((b) => b && createImageBitmap(b)).then((img) => img && ctx.drawImage(img, tx * size - left, ty * size - top))
        .catch(() => {}));
    }
  }
  await Promise.all(jobs);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return { data: await blob.arrayBuffer() };
}
export function registerGcj02() { maplibregl.addProtocol('gcj02', gcj02Tile); }

