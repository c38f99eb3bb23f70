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

both_stores!(
    communities_in_pieces_import_as_one_area_each,
    grids_take_parents_from_code_prefix_or_location,
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
    // By prefix the same grid is placed in a community it lies outside: the containment check refuses it.
    let (code, report) = import_json(db, "grids", &file, &["--parent-from", "prefix", "--dry-run"]);
    assert_eq!(code, 1, "{report}");
    let outside = messages(&report, "errors", "outside_parent");
    assert!(outside.len() == 1 && outside[0].contains(&format!("outside its parent communities {other}")), "{report}");

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
}
