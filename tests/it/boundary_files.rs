//! Boundary files as districts keep them (issue 27), built from the bundled Qinhuai sample (itself the synthetic
//! hierarchy of `../shared/data/synthetic/qinhuai`): communities drawn in several pieces as several rows with one
//! code, Chinese field names, grids without a parent field (the parent in the code's prefix and in the polygon's
//! location), a conflicting duplicate, one message per mistake, attributes travelling to `/areas` and OGC, and a
//! zipped Shapefile whose entry names are Chinese without the zip's UTF-8 flag. After the merge, `/locate` answers
//! what PostGIS `ST_Covers` answers over the merged areas.

use std::path::{Path, PathBuf};

use geo::{BooleanOps, BoundingRect, ChamberlainDuquetteArea, MultiPolygon, Rect};
use gridmap::layers::{Feature, GenerationId, Layer};
use serde_json::{Value, json};

use crate::common::{TestDb, TestServer, gridmap, sample_dir, sample_layer};
use crate::tiles::{attr_values, fetch};

both_stores!(
    communities_in_pieces_import_as_one_area_each,
    grids_in_separate_pieces_and_the_mistakes_of_parts,
    grids_take_parents_from_code_prefix_or_location,
    parents_from_separated_codes_and_by_share,
    merged_areas_locate_like_postgis_st_covers,
    zip_entry_names_in_chinese_are_read_right,
);

/// Communities indices drawn in two pieces (split at the middle of their bbox).
const SPLIT: [usize; 3] = [0, 5, 17];

fn geometry_of(f: &Value) -> MultiPolygon<f64> {
    let g: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).expect("GeoJSON geometry");
    match geo::Geometry::<f64>::try_from(g).expect("geo geometry") {
        geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
        geo::Geometry::MultiPolygon(mp) => mp,
        other => panic!("not a polygon: {other:?}"),
    }
}

fn to_json(mp: &MultiPolygon<f64>) -> Value {
    serde_json::to_value(geojson::Geometry::from(mp)).expect("geometry JSON")
}

/// The two halves of `mp`, cut at the middle of its bbox.
fn halves(mp: &MultiPolygon<f64>) -> [MultiPolygon<f64>; 2] {
    let b = mp.bounding_rect().expect("bbox");
    let mid = (b.min().x + b.max().x) / 2.0;
    let cut = |x0: f64, x1: f64| {
        let r = Rect::new((x0, b.min().y - 0.01), (x1, b.max().y + 0.01)).to_polygon();
        mp.intersection(&MultiPolygon(vec![r]))
    };
    [cut(b.min().x - 0.01, mid), cut(mid, b.max().x + 0.01)]
}

/// The sample communities as a district keeps them: Chinese field names (社区编码, 社区, 街道编码), two more
/// attributes, and the communities of [`SPLIT`] as two rows each (same code, name and parent).
fn communities_as_kept() -> Value {
    let sample = sample_layer("communities");
    let mut rows = Vec::new();
    for (k, f) in sample["features"].as_array().expect("features").iter().enumerate() {
        let p = &f["properties"];
        let props = json!({
            "社区编码": p["code"], "社区": p["name"], "街道编码": p["parent_code"],
            "负责人": format!("网格长{}", k % 20), "户数": 300 + k,
        });
        if SPLIT.contains(&k) {
            for half in halves(&geometry_of(f)) {
                rows.push(json!({"type": "Feature", "properties": props, "geometry": to_json(&half)}));
            }
        } else {
            rows.push(json!({"type": "Feature", "properties": props, "geometry": f["geometry"]}));
        }
    }
    json!({"type": "FeatureCollection", "features": rows})
}

/// The sample grids without their parent field (the parent is in the code: `32010400100101` lies in
/// `320104001001`).
fn grids_without_parent() -> Value {
    let mut grids = sample_layer("grids");
    for f in grids["features"].as_array_mut().expect("features") {
        f["properties"].as_object_mut().expect("props").remove("parent_code");
    }
    grids
}

fn write(dir: &Path, name: &str, fc: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(fc).expect("JSON")).expect("write fixture");
    path.display().to_string()
}

fn sample(layer: &str) -> String {
    sample_dir().join(format!("{layer}.geojson")).display().to_string()
}

/// Runs `gridmap import --layer LAYER FILE EXTRA… --db DB`; (exit code, stdout + stderr).
fn import(db: &str, layer: &str, file: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["import", "--layer", layer, file, "--db", db];
    args.extend_from_slice(extra);
    let (code, out, err) = gridmap(&args);
    (code, format!("{out}{err}"))
}

fn import_json(db: &str, layer: &str, file: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = extra.to_vec();
    args.push("--json");
    let (code, text) = import(db, layer, file, &args);
    let start = text.find('{').unwrap_or_else(|| panic!("no JSON report: {text}"));
    let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
    (code, stream.next().expect("a report").expect("JSON report"))
}

fn activate_sample(db: &str, layers: &[&str]) {
    for layer in layers {
        let (code, text) = import(db, layer, &sample(layer), &["--activate"]);
        assert_eq!(code, 0, "{layer}: {text}");
    }
}

async fn stored(db: &str, generation: i64, layer: Layer) -> Vec<Feature> {
    let store = gridmap::store::open(db).await.expect("open store");
    store.layer_features(GenerationId(generation), layer).await.expect("features")
}

fn messages<'a>(report: &'a Value, list: &str, kind: &str) -> Vec<&'a str> {
    report[list]
        .as_array()
        .expect("list")
        .iter()
        .filter(|p| p["kind"] == kind)
        .map(|p| p["message"].as_str().expect("message"))
        .collect()
}

async fn communities_in_pieces_import_as_one_area_each(db: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    activate_sample(db, &["streets"]);
    let kept = communities_as_kept();
    let rows = kept["features"].as_array().expect("rows").len();
    assert_eq!(rows, 108 + SPLIT.len());
    let file = write(dir.path(), "社区.geojson", &kept);

    // Without the field names: one message for the one mistake, with the fields and the suggestion.
    let (code, text) = import(db, "communities", &file, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(&format!("error: {rows} of {rows} features: no code; the first five:")), "{text}");
    assert_eq!(text.matches("no code: attribute \"code\" is missing").count(), 5, "{text}");
    assert!(text.contains("suggested: --code-field 社区编码 --name-field 社区 --parent-field 街道编码"), "{text}");
    let (_, report) = import_json(db, "communities", &file, &[]);
    assert_eq!(messages(&report, "errors", "no_code").len(), rows, "the JSON report keeps every instance");
    assert_eq!(report["suggested"]["code_field"], "社区编码");

    // With them: the pieces become one area per code, with a warning naming them.
    let fields = ["--code-field", "社区编码", "--name-field", "社区", "--parent-field", "街道编码", "--activate"];
    let (code, report) = import_json(db, "communities", &file, &fields);
    assert_eq!(code, 0, "{report}");
    let merged = messages(&report, "warnings", "parts_merged");
    assert_eq!(merged.len(), 1, "{report}");
    assert!(merged[0].starts_with("3 code(s) came as several rows (320104001001: rows 0, 1; "), "{}", merged[0]);
    assert!(merged[0].ends_with("each imported as one multi-part area"), "{}", merged[0]);
    let g = report["generation"].as_i64().expect("written");
    let communities = stored(db, g, Layer::Communities).await;
    assert_eq!(communities.len(), 108, "one area per code");
    let original = sample_layer("communities");
    for &k in &SPLIT {
        let f = &original["features"][k];
        let code = f["properties"]["code"].as_str().expect("code");
        let mine = communities.iter().find(|c| c.code == code).expect("stored");
        let (a, b) =
            (geometry_of(f).chamberlain_duquette_unsigned_area(), mine.geometry.chamberlain_duquette_unsigned_area());
        assert!((a - b).abs() / a < 1e-6, "{code}: area {a:.1} m² before the split, {b:.1} m² merged");
        assert_eq!(mine.geometry.0.len(), geometry_of(f).0.len(), "{code}: touching halves are unioned back");
        assert_eq!(mine.parent_code.as_deref(), f["properties"]["parent_code"].as_str());
    }

    // The district's own columns travel: /areas, OGC items and the OGC schema.
    let server = TestServer::start(db, false).await;
    let code = original["features"][0]["properties"]["code"].as_str().expect("code");
    let (status, area) = crate::common::get(&server, &format!("/api/v1/areas/communities/{code}")).await;
    assert_eq!(status, 200, "{area}");
    assert_eq!(area["properties"]["负责人"], "网格长0", "{area}");
    let item: Value = reqwest::get(server.url(&format!("/ogc/collections/communities/items/{code}")))
        .await
        .expect("item")
        .json()
        .await
        .expect("JSON");
    assert_eq!((&item["properties"]["负责人"], &item["properties"]["户数"]), (&json!("网格长0"), &json!(300)));
    let schema = reqwest::get(server.url("/ogc/collections/communities/schema")).await.expect("schema");
    assert_eq!(schema.headers()["content-type"], "application/schema+json");
    let schema: Value = schema.json().await.expect("JSON");
    assert_eq!(schema["properties"]["负责人"]["type"], "string", "{schema}");
    assert_eq!(schema["properties"]["户数"]["type"], "integer", "{schema}");
    let queryables: Value = reqwest::get(server.url("/ogc/collections/communities/queryables"))
        .await
        .expect("q")
        .json()
        .await
        .expect("JSON");
    let keys: Vec<&String> = queryables["properties"].as_object().expect("properties").keys().collect();
    assert_eq!(keys, ["code", "name", "parent_code"], "only what items can be filtered on");

    // Rows sharing a code that disagree: an error naming both rows and the field; nothing written.
    let mut conflicting = kept.clone();
    let mut odd = conflicting["features"][3].clone();
    odd["properties"]["社区"] = json!("另一个名字");
    conflicting["features"].as_array_mut().expect("rows").push(odd);
    let file = write(dir.path(), "conflict.geojson", &conflicting);
    let (code, report) = import_json(db, "communities", &file, &fields);
    assert_eq!(code, 1, "{report}");
    let conflicts = messages(&report, "errors", "code_conflict");
    assert_eq!(conflicts.len(), 1, "{report}");
    assert!(
        conflicts[0].contains(&format!("rows 3 and {rows} share code")) && conflicts[0].contains("disagree on name"),
        "{}",
        conflicts[0]
    );
    assert_eq!(report["generation"], Value::Null);
}

/// Two grids of one community whose boxes do not meet: (index of A, index of B) in the sample's grids.
fn separate_pair(grids: &[Value]) -> (usize, usize) {
    let boxes: Vec<Rect<f64>> = grids.iter().map(|f| geometry_of(f).bounding_rect().expect("bbox")).collect();
    let apart = |a: &Rect<f64>, b: &Rect<f64>| {
        a.max().x < b.min().x || b.max().x < a.min().x || a.max().y < b.min().y || b.max().y < a.min().y
    };
    for a in 0..grids.len() {
        for b in a + 1..grids.len() {
            if grids[a]["properties"]["parent_code"] == grids[b]["properties"]["parent_code"]
                && apart(&boxes[a], &boxes[b])
            {
                return (a, b);
            }
        }
    }
    panic!("no community with two grids apart");
}

/// What PostGIS answers, independently of gridmap's merge: the file's rows loaded as they are, `ST_Union` per code,
/// then `ST_Covers` with the lowest code winning, per point (only the one layer).
async fn postgis_union_of_rows(url: &str, rows: &[Value], pts: &[[f64; 2]]) -> Vec<Option<String>> {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    for sql in ["CREATE EXTENSION IF NOT EXISTS postgis", "CREATE TABLE raw_rows (code text, geom geometry)"] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    for f in rows {
        sqlx::query("INSERT INTO raw_rows VALUES ($1, ST_SetSRID(ST_GeomFromGeoJSON($2), 4326))")
            .bind(f["properties"]["code"].as_str().expect("code"))
            .bind(f["geometry"].to_string())
            .execute(&pool)
            .await
            .expect("row");
    }
    for sql in [
        "CREATE TABLE merged AS SELECT code, ST_Union(geom) AS geom FROM raw_rows GROUP BY code",
        "CREATE INDEX ON merged USING gist (geom)",
        "ANALYZE merged",
    ] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    let xs: Vec<f64> = pts.iter().map(|p| p[0]).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p[1]).collect();
    sqlx::query_scalar(
        "SELECT (SELECT min(m.code COLLATE \"C\") FROM merged m WHERE ST_Covers(m.geom, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326))) \
         FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t(x, y, i) ORDER BY t.i",
    )
    .bind(&xs)
    .bind(&ys)
    .fetch_all(&pool)
    .await
    .expect("reference query")
}

/// A grid drawn in two separate pieces (grid B's row carries grid A's code and name): one area of two polygons
/// everywhere downstream (store, diff, `/layers`, OGC, tiles, `/locate`, which equals PostGIS over the union of the
/// file's rows); a part overlapping another part of its area is refused naming both rows; `--fix` repairs a broken
/// part before the merge.
async fn grids_in_separate_pieces_and_the_mistakes_of_parts(db: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    activate_sample(db, &["streets", "communities"]);
    let mut grids = sample_layer("grids");
    let rows = grids["features"].as_array().expect("features").clone();
    let (a, b) = separate_pair(&rows);
    let code_a = rows[a]["properties"]["code"].as_str().expect("code").to_owned();
    let code_b = rows[b]["properties"]["code"].as_str().expect("code").to_owned();
    grids["features"][b]["properties"]["code"] = json!(code_a);
    grids["features"][b]["properties"]["name"] = rows[a]["properties"]["name"].clone();
    let file = write(dir.path(), "grids.geojson", &grids);

    let (code, report) = import_json(db, "grids", &file, &["--activate"]);
    assert_eq!(code, 0, "{report}");
    let merged = messages(&report, "warnings", "parts_merged");
    assert_eq!(
        merged,
        [format!("1 code(s) came as several rows ({code_a}: rows {a}, {b}); each imported as one multi-part area")]
    );
    let diff = &report["diff"];
    assert_eq!((diff["before"].as_u64(), diff["after"].as_u64()), (Some(0), Some(755)), "{diff}");
    let g = report["generation"].as_i64().expect("written");
    let stored_grids = stored(db, g, Layer::Grids).await;
    assert_eq!(stored_grids.len(), 755);
    let area_a = stored_grids.iter().find(|f| f.code == code_a).expect("stored");
    assert_eq!(area_a.geometry.0.len(), 2, "two separate pieces stay two polygons of one area");

    let server = TestServer::start(db, false).await;
    let (_, layers) = crate::common::get(&server, "/api/v1/layers").await;
    let count =
        layers["layers"].as_array().expect("layers").iter().find(|l| l["name"] == "grids").expect("grids")["features"]
            .clone();
    assert_eq!(count, json!(755), "{layers}");
    let item: Value = reqwest::get(server.url(&format!("/ogc/collections/grids/items/{code_a}")))
        .await
        .expect("item")
        .json()
        .await
        .expect("JSON");
    assert_eq!(item["geometry"]["type"], "MultiPolygon");
    assert_eq!(item["geometry"]["coordinates"].as_array().expect("polygons").len(), 2);
    let inside_b = {
        use geo::InteriorPoint;
        geometry_of(&rows[b]).interior_point().expect("interior point")
    };
    let (_, here) =
        crate::common::get(&server, &format!("/api/v1/locate?lon={}&lat={}", inside_b.x(), inside_b.y())).await;
    assert_eq!(here["grid"]["code"], json!(code_a), "B's ground belongs to A now: {here}");
    let (tx, ty) = {
        let n = f64::from(1u32 << 15);
        let lat = inside_b.y().to_radians();
        let x = ((inside_b.x() + 180.0) / 360.0 * n).floor();
        let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
        (x as u32, y as u32)
    };
    let (status, mvt, _) = fetch(&server.base, &format!("/tiles/grids/15/{tx}/{ty}.mvt"), &[]).await;
    assert_eq!(status, 200);
    let codes = attr_values(&mvt, "code");
    assert!(codes.contains(&code_a) && !codes.contains(&code_b), "{codes:?}");

    // PostGIS over the union of the file's own rows agrees at every probe.
    if let Some(reference_db) = TestDb::postgres().await {
        let mut pts: Vec<[f64; 2]> = Vec::new();
        for k in [a, b] {
            for c in geometry_of(&rows[k]).0[0].exterior().0.iter().step_by(3) {
                pts.push([c.x, c.y]);
            }
        }
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(28);
        pts.extend((0..2000).map(|_| [rng.random_range(118.758..118.876), rng.random_range(31.976..32.045)]));
        let raw = grids["features"].as_array().expect("rows");
        let reference = postgis_union_of_rows(&reference_db.url, raw, &pts).await;
        let ours = crate::acceptance_locate::located(db, &pts).await;
        let ours: Vec<Option<String>> = ours.into_iter().map(|[_, _, g]| g).collect();
        assert!(reference.iter().filter(|r| r.as_deref() == Some(code_a.as_str())).count() > 20, "probes in A");
        let differ: Vec<usize> = (0..pts.len()).filter(|&i| ours[i] != reference[i]).collect();
        assert!(
            differ.is_empty(),
            "{} of {} probes differ, e.g. {:?}",
            differ.len(),
            pts.len(),
            differ.first().map(|&i| (pts[i], &ours[i], &reference[i]))
        );
        reference_db.cleanup().await;
    }
    drop(server);

    // A part overlapping another part of its area: an error naming both rows; nothing written.
    let generations_before = gridmap(&["generations", "--json", "--db", db]).1;
    let mut overlapping = grids.clone();
    let mut again = rows[a].clone();
    let shifted: MultiPolygon<f64> = {
        use geo::Translate;
        let g = geometry_of(&rows[a]);
        let w = g.bounding_rect().expect("bbox").width();
        g.translate(w / 3.0, 0.0)
    };
    again["geometry"] = to_json(&shifted);
    overlapping["features"].as_array_mut().expect("rows").push(again);
    let file = write(dir.path(), "overlapping.geojson", &overlapping);
    let (code, report) = import_json(db, "grids", &file, &[]);
    assert_eq!(code, 1, "{report}");
    let overlaps = messages(&report, "errors", "parts_overlap");
    assert!(
        overlaps.iter().any(|m| m.starts_with(&format!("overlaps row {a} of the same area {code_a}"))),
        "{overlaps:?}"
    );
    let last = rows.len();
    assert!(
        report["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|p| p["kind"] == "parts_overlap" && p["feature"] == json!(last)),
        "{report}"
    );
    assert_eq!(gridmap(&["generations", "--json", "--db", db]).1, generations_before, "nothing written");

    // A broken part (two neighbouring vertices of B's ring swapped: a small bow tie) is refused, and `--fix`
    // repairs it before the parts are merged.
    let mut broken = grids.clone();
    let ring = broken["features"][b]["geometry"]["coordinates"][0].as_array().expect("ring").clone();
    let crossed = (1..ring.len() - 2)
        .map(|k| {
            let mut r = ring.clone();
            r.swap(k, k + 1);
            r
        })
        .find(|r| {
            use geo::Validation;
            let g = json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [r]}});
            !geometry_of(&g).is_valid()
        })
        .expect("some swap of neighbouring vertices crosses the ring");
    broken["features"][b]["geometry"]["coordinates"][0] = json!(crossed);
    let file = write(dir.path(), "broken.geojson", &broken);
    let (code, report) = import_json(db, "grids", &file, &["--dry-run"]);
    assert_eq!(code, 1, "{report}");
    let invalid =
        report["errors"].as_array().expect("errors").iter().find(|p| p["kind"] == "invalid_geometry").cloned();
    assert_eq!(invalid.as_ref().map(|p| p["feature"].clone()), Some(json!(b)), "{report}");
    let (code, report) = import_json(db, "grids", &file, &["--dry-run", "--fix"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(messages(&report, "warnings", "parts_merged").len(), 1, "{report}");
    assert!(
        report["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|p| p["feature"] == json!(b) && p["kind"] == "fixed"),
        "{report}"
    );
}

/// Codes with separators (`SQ-3` → `SQ-3-2`) place every grid by prefix as by location, end to end; a grid
/// straddling the district's edge has no community covering half of it: an error naming the best one and its share.
async fn parents_from_separated_codes_and_by_share(db: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    activate_sample(db, &["streets"]);
    let mut communities = sample_layer("communities");
    let mut renamed: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for (k, f) in communities["features"].as_array_mut().expect("features").iter_mut().enumerate() {
        let sq = format!("SQ-{k}");
        renamed.insert(f["properties"]["code"].as_str().expect("code").to_owned(), sq.clone());
        f["properties"]["code"] = json!(sq);
    }
    let file = write(dir.path(), "communities.geojson", &communities);
    let (code, text) = import(db, "communities", &file, &["--activate"]);
    assert_eq!(code, 0, "{text}");

    let mut grids = grids_without_parent();
    let original = sample_layer("grids");
    let mut expected = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (f, o) in grids["features"]
        .as_array_mut()
        .expect("features")
        .iter_mut()
        .zip(original["features"].as_array().expect("features"))
    {
        let parent = renamed[o["properties"]["parent_code"].as_str().expect("parent")].clone();
        let j = seen.entry(parent.clone()).or_default();
        *j += 1;
        let code = format!("{parent}-{j}");
        f["properties"]["code"] = json!(code);
        expected.push((code, parent));
    }
    let file = write(dir.path(), "grids.geojson", &grids);
    let (code, text) = import(db, "grids", &file, &[]);
    assert_eq!(code, 1);
    assert!(text.contains("--parent-from prefix"), "the prefix is suggested: {text}");
    for how in ["prefix", "location"] {
        let (code, report) = import_json(db, "grids", &file, &["--parent-from", how]);
        assert_eq!(code, 0, "{how}: {report}");
        assert!(messages(&report, "warnings", "parent_mismatch").is_empty(), "{how}: {report}");
        let stored_grids = stored(db, report["generation"].as_i64().expect("written"), Layer::Grids).await;
        let got: std::collections::HashMap<&str, Option<&str>> =
            stored_grids.iter().map(|g| (g.code.as_str(), g.parent_code.as_deref())).collect();
        for (code, parent) in &expected {
            assert_eq!(got[code.as_str()], Some(parent.as_str()), "{how}: {code}");
        }
    }

    // A square centred on the district's westernmost vertex: its western half lies outside every community.
    let west = communities["features"]
        .as_array()
        .expect("features")
        .iter()
        .flat_map(|f| geometry_of(f).0.into_iter().flat_map(|p| p.exterior().0.clone()))
        .min_by(|p, q| p.x.total_cmp(&q.x))
        .expect("a vertex");
    let d = 0.001;
    let square = json!({"type": "Polygon", "coordinates": [[
        [west.x - d, west.y - d], [west.x + d, west.y - d], [west.x + d, west.y + d], [west.x - d, west.y + d], [west.x - d, west.y - d]
    ]]});
    let mut edge = grids.clone();
    edge["features"].as_array_mut().expect("rows").push(json!({
        "type": "Feature", "properties": {"code": "EDGE-1", "name": "边缘网格"}, "geometry": square
    }));
    let file = write(dir.path(), "edge.geojson", &edge);
    let (code, report) = import_json(db, "grids", &file, &["--parent-from", "location", "--dry-run"]);
    assert_eq!(code, 1, "{report}");
    let low = messages(&report, "errors", "parent_share_low");
    assert_eq!(low.len(), 1, "{report}");
    let pct: f64 = low[0]
        .split(" with ")
        .nth(1)
        .and_then(|s| s.split(" %").next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("a share in: {}", low[0]));
    assert!(
        low[0].starts_with("no communities covers half of it: the most is SQ-") && pct < 50.0 && pct > 0.0,
        "{}",
        low[0]
    );
}

async fn grids_take_parents_from_code_prefix_or_location(db: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    activate_sample(db, &["streets", "communities"]);
    let original = sample_layer("grids");
    let parent_of =
        |k: usize| original["features"][k]["properties"]["parent_code"].as_str().expect("parent").to_owned();
    let file = write(dir.path(), "grids.geojson", &grids_without_parent());

    // No parent field: one message, and the prefix suggested (every code starts with its community's).
    let (code, text) = import(db, "grids", &file, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("error: 756 of 756 features: no parent code; the first five:"), "{text}");
    assert!(text.contains("suggested: --code-field code --name-field name --parent-from prefix"), "{text}");

    // --parent-from prefix: every grid gets its community back.
    let (code, report) = import_json(db, "grids", &file, &["--parent-from", "prefix"]);
    assert_eq!(code, 0, "{report}");
    let grids = stored(db, report["generation"].as_i64().expect("written"), Layer::Grids).await;
    assert_eq!(grids.len(), 756);
    for (k, f) in original["features"].as_array().expect("features").iter().enumerate() {
        let mine = grids.iter().find(|g| g.code == f["properties"]["code"].as_str().expect("code")).expect("stored");
        assert_eq!(mine.parent_code.as_deref(), Some(parent_of(k).as_str()), "{}", mine.code);
    }

    // --parent-from location gives the same, and lists a grid whose code names another community.
    let mut moved = grids_without_parent();
    let (other, lies_in) = (parent_of(700), parent_of(0));
    assert_ne!(other, lies_in);
    let renamed = format!("{other}99");
    moved["features"][0]["properties"]["code"] = json!(renamed);
    let file = write(dir.path(), "moved.geojson", &moved);
    let (code, report) = import_json(db, "grids", &file, &["--parent-from", "location", "--dry-run"]);
    assert_eq!(code, 0, "{report}");
    let mismatch = messages(&report, "warnings", "parent_mismatch");
    assert_eq!(mismatch.len(), 1, "{report}");
    assert!(mismatch[0].starts_with("1 grids: "), "{}", mismatch[0]);
    assert!(mismatch[0].contains(&format!("{renamed} (code says {other}, lies in {lies_in})")), "{}", mismatch[0]);
    // By prefix the same grid is placed in a community it lies outside: listed the same way, and the containment
    // check refuses it.
    let (code, report) = import_json(db, "grids", &file, &["--parent-from", "prefix", "--dry-run"]);
    assert_eq!(code, 1, "{report}");
    let outside = messages(&report, "errors", "outside_parent");
    assert!(outside.len() == 1 && outside[0].contains(&format!("outside its parent communities {other}")), "{report}");
    let mismatch = messages(&report, "warnings", "parent_mismatch");
    assert!(
        mismatch.len() == 1 && mismatch[0].contains(&format!("{renamed} (code says {other}, lies in {lies_in})")),
        "{report}"
    );
    assert!(mismatch[0].ends_with("the code was used"), "{}", mismatch[0]);
    // Without either option the report suggests one and lists the disagreement before the user chooses.
    let (code, report) = import_json(db, "grids", &file, &["--dry-run"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["suggested"]["parent_from"], "prefix", "{report}");
    let mismatch = messages(&report, "warnings", "parent_mismatch");
    assert!(
        mismatch.len() == 1 && mismatch[0].contains(&format!("{renamed} (code says {other}, lies in {lies_in})")),
        "{report}"
    );

    // A grid in no community, and a code with no community prefix.
    let mut stray = grids_without_parent();
    let far =
        json!({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.001, 30.0], [120.001, 30.001], [120.0, 30.0]]]});
    stray["features"].as_array_mut().expect("rows").push(json!({
        "type": "Feature", "properties": {"code": "X-1", "name": "远处网格"}, "geometry": far
    }));
    let file = write(dir.path(), "stray.geojson", &stray);
    let (code, report) = import_json(db, "grids", &file, &["--parent-from", "location", "--dry-run"]);
    assert_eq!(code, 1);
    assert_eq!(
        messages(&report, "errors", "parent_not_found"),
        ["lies outside every communities (--parent-from location)"]
    );
    let (code, report) = import_json(db, "grids", &file, &["--parent-from", "prefix", "--dry-run"]);
    assert_eq!(code, 1);
    assert_eq!(
        messages(&report, "errors", "parent_not_found"),
        ["no communities code is a prefix of X-1 (--parent-from prefix)"]
    );

    // The exclusive options, on the CLI and over HTTP; the HTTP form takes parent_from too.
    let (code, text) = import(db, "grids", &file, &["--parent-from", "prefix", "--parent-field", "p"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--parent-from") && text.contains("--parent-field"), "{text}");
    let server = TestServer::start(db, false).await;
    let bytes = std::fs::read(dir.path().join("grids.geojson")).expect("read");
    let send = |extra: Vec<(&'static str, &'static str)>| {
        let mut form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name("grids.geojson"))
            .text("layer", "grids")
            .text("dry_run", "true");
        for (k, v) in extra {
            form = form.text(k, v);
        }
        reqwest::Client::new().post(server.url("/api/v1/imports")).multipart(form).send()
    };
    let r = send(vec![("parent_from", "prefix")]).await.expect("POST");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(body["report"]["valid"], true, "{body}");
    let r = send(vec![("parent_from", "location"), ("parent_field", "p")]).await.expect("POST");
    assert_eq!(r.status(), 400);
    let r = send(vec![("parent_from", "nearby")]).await.expect("POST");
    let body: Value = r.json().await.expect("JSON");
    assert!(body["error"]["message"].as_str().expect("message").contains("not location or prefix"), "{body}");
}

/// Points for the comparison: on the cut lines of the split communities, their vertices, and a seeded spread over
/// the district.
fn probe_points(kept: &Value) -> Vec<[f64; 2]> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(27);
    let mut pts: Vec<[f64; 2]> =
        (0..3000).map(|_| [rng.random_range(118.758..118.876), rng.random_range(31.976..32.045)]).collect();
    for f in kept["features"].as_array().expect("rows") {
        let mp = geometry_of(f);
        for p in &mp.0 {
            for c in p.exterior().0.iter().step_by(7) {
                pts.push([c.x, c.y]);
            }
        }
    }
    for &k in &SPLIT {
        let b = geometry_of(&sample_layer("communities")["features"][k]).bounding_rect().expect("bbox");
        let mid = (b.min().x + b.max().x) / 2.0;
        for i in 0..=40 {
            pts.push([mid, b.min().y + (b.max().y - b.min().y) * f64::from(i) / 40.0]);
        }
    }
    pts
}

async fn merged_areas_locate_like_postgis_st_covers(db: &str) {
    let Some(reference_db) = TestDb::postgres().await else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let kept = communities_as_kept();
    let file = write(dir.path(), "社区.geojson", &kept);
    let fields = ["--code-field", "社区编码", "--name-field", "社区", "--parent-field", "街道编码", "--activate"];
    for url in [db, reference_db.url.as_str()] {
        activate_sample(url, &["streets"]);
        let (code, text) = import(url, "communities", &file, &fields);
        assert_eq!(code, 0, "{text}");
        activate_sample(url, &["grids"]);
    }
    let pts = probe_points(&kept);
    let reference = crate::acceptance_locate::postgis_reference(&reference_db.url, &pts).await;
    let ours = crate::acceptance_locate::located(db, &pts).await;
    let on_split = reference.iter().filter(|r| r[1].is_some()).count();
    assert!(on_split > 2000, "most probes fall in a community: {on_split}");
    crate::acceptance_locate::compare(db, &ours, &reference, &pts);
    reference_db.cleanup().await;
}

/// A zip of the UTF-8 Nanjing Shapefile whose entries are named `秦淮区网格.*` in UTF-8 bytes or `南京市.*` in GBK
/// bytes, without the UTF-8 flag (as Linux zip tools and Chinese Windows write them).
fn zip_with_raw_names(files: &[(Vec<u8>, PathBuf)]) -> Vec<u8> {
    use std::io::Write;
    let placeholders: Vec<String> =
        files.iter().enumerate().map(|(k, (n, _))| format!("{k}{}", "x".repeat(n.len() - 1))).collect();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (p, (_, path)) in placeholders.iter().zip(files) {
        w.start_file(p.as_str(), opts).expect("start");
        w.write_all(&std::fs::read(path).expect("read fixture")).expect("write");
    }
    let mut z = w.finish().expect("finish").into_inner();
    for (p, (raw, _)) in placeholders.iter().zip(files) {
        let mut at = 0;
        while let Some(k) = z[at..].windows(p.len()).position(|w| w == p.as_bytes()) {
            z[at + k..at + k + p.len()].copy_from_slice(raw);
            at += k + p.len();
        }
    }
    z
}

async fn zip_entry_names_in_chinese_are_read_right(db: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nanjing_utf8");
    let gbk = |s: &str| encoding_rs::GBK.encode(s).0.into_owned();
    let mut entries = Vec::new();
    for ext in ["shp", "shx", "dbf"] {
        let file = src.join(format!("南京市.{ext}"));
        entries.push((format!("秦淮区网格.{ext}").into_bytes(), file.clone()));
        entries.push((gbk(&format!("南京市.{ext}")), file));
    }
    let zipped = dir.path().join("layers.zip");
    std::fs::write(&zipped, zip_with_raw_names(&entries)).expect("write zip");
    let zipped = zipped.display().to_string();
    let args = ["--code-field", "adcode", "--dry-run", "--crs", "gcj02"];
    let (code, text) = import(db, "streets", &zipped, &args);
    assert_eq!(code, 1, "two layers: {text}");
    assert!(text.contains("[\"南京市\", \"秦淮区网格\"]") || text.contains("[\"秦淮区网格\", \"南京市\"]"), "{text}");
    for member in ["秦淮区网格", "南京市"] {
        let mut with = args.to_vec();
        with.extend(["--member", member]);
        let (code, report) = import_json(db, "streets", &zipped, &with);
        assert_eq!(code, 0, "{report}");
        assert_eq!(report["file"], format!("{zipped}/{member}.shp"));
        assert_eq!(report["features"], 11);
    }

    // The same over HTTP (the console's upload): the listing and the member names read right.
    let server = TestServer::start(db, false).await;
    let bytes = std::fs::read(&zipped).expect("read zip");
    let upload = |member: Option<&'static str>| {
        let mut form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name("layers.zip"))
            .text("layer", "streets")
            .text("code_field", "adcode")
            .text("crs", "gcj02")
            .text("dry_run", "true");
        if let Some(m) = member {
            form = form.text("member", m);
        }
        reqwest::Client::new().post(server.url("/api/v1/imports")).multipart(form).send()
    };
    let r = upload(None).await.expect("POST");
    let text = r.text().await.expect("body");
    assert!(text.contains("秦淮区网格") && text.contains("南京市"), "both members named in Chinese: {text}");
    assert!(!text.contains('τ'), "no CP437 reading: {text}");
    for member in ["秦淮区网格", "南京市"] {
        let r = upload(Some(member)).await.expect("POST");
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("JSON");
        assert_eq!(body["report"]["file"], format!("layers.zip/{member}.shp"), "{body}");
        assert_eq!(body["report"]["features"], 11);
    }
}
