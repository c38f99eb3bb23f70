#!/usr/bin/env python3
"""Seed corpora for scripts/fuzz from the real files of ../shared/data and tests/fixtures (one directory per target)."""
import io, json, pathlib, struct, sys, zipfile

out = pathlib.Path(sys.argv[1])
root = pathlib.Path(__file__).resolve().parent.parent
sources = [root / "tests" / "fixtures", root.parent / "shared" / "data"]
MAX = 1 << 20


def files(*exts):
    for base in sources:
        if base.is_dir():
            for p in sorted(base.rglob("*")):
                if p.is_file() and p.suffix.lower() in exts and "synthetic" not in p.parts and p.stat().st_size <= MAX:
                    yield p


def put(target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data[:MAX])


for i, p in enumerate(files(".geojson", ".json")):
    put("geojson", f"{i}-{p.stem}", p.read_bytes())
for i, p in enumerate(files(".shp")):
    shp = p.read_bytes()[:0xFFFF]
    dbf = p.with_suffix(".dbf")
    put("shapefile", f"{i}-{p.stem}", struct.pack("<H", len(shp)) + shp + (dbf.read_bytes() if dbf.exists() else b""))
    # The same set zipped, with its sidecars.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for side in p.parent.glob(p.stem + ".*"):
            z.write(side, f"{p.stem}/{side.name}")
    put("zip", f"{i}-{p.stem}", buf.getvalue())
for i, p in enumerate(files(".zip")):
    put("zip", f"z{i}-{p.stem}", p.read_bytes())
for i, p in enumerate(files(".kml")):
    put("kml", f"{i}-{p.stem}", p.read_bytes())
for i, p in enumerate(files(".gpkg")):
    put("gpkg", f"{i}-{p.stem}", p.read_bytes())
for i, p in enumerate(files(".prj")):
    put("prj", f"{i}-{p.stem}", p.read_bytes())
for i, p in enumerate(files(".gpx")):
    put("gpx", f"{i}-{p.stem}", p.read_bytes())
bodies = [
    (0, {"points": [[118.79, 32.02], [118.8, 32.03]]}),
    (0, {"points": [[118.7952, 32.0181]], "crs": "gcj02", "layers": "grids"}),
    (1, {"positions": [{"responder_id": 1, "location": [118.79, 32.02], "at": "2026-11-28T10:00:00Z"}]}),
    (2, {"location": [118.79, 32.02], "at": "2026-11-28T10:00:00Z", "crs": "wgs84"}),
    (3, {"location": [118.79, 32.02], "category": "fire", "priority": 2, "description": "烟"}),
    (4, {"status": "dispatched", "actor": "fuzz", "note": "x"}),
]
for i, (pick, body) in enumerate(bodies):
    put("http_bodies", f"{i}", bytes([pick]) + json.dumps(body, ensure_ascii=False).encode())
for t in sorted(d.name for d in out.iterdir()):
    print(f"fuzz seeds: {t}: {len(list((out / t).iterdir()))}")
