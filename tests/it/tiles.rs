//! Vector tiles and heatmaps through HTTP, on both stores:
//! - grids tiles over Qinhuai at z12–16 decode and hold the same grid codes as PostGIS `ST_AsMVT` over
//!   `ST_TileEnvelope` with the same 64-pixel buffer (exterior rings wound as the spec says, coordinates in range);
//! - activating a generation changes the next tile (no stale tile), and only the layers it changed;
//! - 204 for empty tiles, ETag/304, gzip, TileJSON and the style;
//! - heatmap hexagon counts equal a direct count of the stored incidents per H3 cell, as GeoJSON and as tiles.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use crate::common::{TestDb, TestServer, call, pg_admin_url, sample_layer};
use geozero::mvt::{Message, Tile};
use reqwest::Method;
use serde_json::{Value, json};

both_stores!(
    grids_tiles_match_postgis_st_asmvt,
    activation_changes_exactly_the_affected_tiles,
    tile_headers_and_documents,
    heatmap_counts_equal_a_direct_count,
    incident_and_responder_tiles_follow_writes,
    incident_tiles_follow_the_queue_filters,
    pmtiles_base_maps_are_served_and_styled,
);

/// The slippy-map tile of a point, by the textbook formula (independent of the server's code).
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = (lon + 180.0) / 360.0 * n;
    let lat = lat.to_radians();
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (x as u32, y as u32)
}

fn grids_bbox() -> [f64; 4] {
    let grids = sample_layer("grids");
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    let mut visit = |c: &Value| {
        let (x, y) = (c[0].as_f64().expect("x"), c[1].as_f64().expect("y"));
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    };
    for f in grids["features"].as_array().expect("features") {
        let g = &f["geometry"];
        let polys: Vec<&Value> = if g["type"] == "MultiPolygon" {
            g["coordinates"].as_array().expect("mp").iter().collect()
        } else {
            vec![&g["coordinates"]]
        };
        for ring in polys.iter().flat_map(|p| p.as_array().expect("rings")) {
            ring.as_array().expect("ring").iter().for_each(&mut visit);
        }
    }
    b
}

/// Every tile at `z` touching the bbox.
fn tiles_over(b: [f64; 4], z: u8) -> Vec<(u8, u32, u32)> {
    let (x0, y0) = tile_of(b[0], b[3], z);
    let (x1, y1) = tile_of(b[2], b[1], z);
    (x0..=x1).flat_map(|x| (y0..=y1).map(move |y| (z, x, y))).collect()
}

/// Fetches a tile: status, raw bytes (gunzipped when the server gzipped), headers.
pub(crate) async fn fetch(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
    let mut req = reqwest::Client::builder().no_gzip().build().expect("client").get(format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("GET tile");
    let status = resp.status().as_u16();
    let h = resp.headers().clone();
    let body = resp.bytes().await.expect("body").to_vec();
    let body = if h.get("content-encoding").is_some_and(|v| v == "gzip") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body.as_slice()).read_to_end(&mut out).expect("gunzip");
        out
    } else {
        body
    };
    (status, body, h)
}

/// The values of a string attribute over all features of the tile's only layer.
pub(crate) fn attr_values(mvt: &[u8], key: &str) -> BTreeSet<String> {
    if mvt.is_empty() {
        return BTreeSet::new();
    }
    let tile = Tile::decode(mvt).expect("tile decodes as MVT");
    assert_eq!(tile.layers.len(), 1);
    let l = &tile.layers[0];
    let Some(k) = l.keys.iter().position(|x| x == key) else { return BTreeSet::new() };
    l.features
        .iter()
        .filter_map(|f| {
            f.tags.chunks(2).find(|t| t[0] as usize == k).and_then(|t| l.values[t[1] as usize].string_value.clone())
        })
        .collect()
}

/// Decodes polygon geometry and checks it: rings of ≥ 3 points, the first ring of each feature with positive area
/// (the spec's exterior), every coordinate within the 64-pixel buffer.
fn check_polygons(mvt: &[u8]) {
    if mvt.is_empty() {
        return;
    }
    let tile = Tile::decode(mvt).expect("decodes");
    for f in &tile.layers[0].features {
        let mut cur = [0i64; 2];
        let mut rings: Vec<Vec<[i64; 2]>> = Vec::new();
        let mut ring: Vec<[i64; 2]> = Vec::new();
        let mut g = f.geometry.iter().copied();
        let unzig = |v: u32| i64::from((v >> 1) as i32 ^ -((v & 1) as i32));
        while let Some(cmd) = g.next() {
            let (id, count) = (cmd & 7, cmd >> 3);
            match id {
                1 | 2 => {
                    for _ in 0..count {
                        let (dx, dy) = (unzig(g.next().expect("dx")), unzig(g.next().expect("dy")));
                        cur = [cur[0] + dx, cur[1] + dy];
                        assert!((-64..=4160).contains(&cur[0]) && (-64..=4160).contains(&cur[1]), "{cur:?} off tile");
                        ring.push(cur);
                    }
                }
                7 => rings.push(std::mem::take(&mut ring)),
                other => panic!("unexpected command {other}"),
            }
        }
        assert!(!rings.is_empty() && rings.iter().all(|r| r.len() >= 3));
        let area: i64 = (0..rings[0].len())
            .map(|i| {
                let (a, b) = (rings[0][i], rings[0][(i + 1) % rings[0].len()]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum();
        assert!(area > 0, "first ring must be an exterior (positive area)");
    }
}

/// A scratch PostGIS database holding the sample grids, for `ST_AsMVT` reference tiles.
async fn reference_grids() -> Option<(TestDb, sqlx::PgPool)> {
    pg_admin_url()?;
    let db = TestDb::postgres().await?;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
    sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis").execute(&pool).await.expect("postgis");
    sqlx::query("CREATE TABLE ref_grids (code text NOT NULL, geom geometry(MultiPolygon, 3857) NOT NULL)")
        .execute(&pool)
        .await
        .expect("table");
    for f in sample_layer("grids")["features"].as_array().expect("features") {
        sqlx::query(
            "INSERT INTO ref_grids VALUES ($1, ST_Transform(ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($2), 4326)), 3857))",
        )
        .bind(f["properties"]["code"].as_str().expect("code"))
        .bind(f["geometry"].to_string())
        .execute(&pool)
        .await
        .expect("insert");
    }
    Some((db, pool))
}

async fn postgis_tile(pool: &sqlx::PgPool, (z, x, y): (u8, u32, u32)) -> Vec<u8> {
    let bytes: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT ST_AsMVT(q, 'grids', 4096, 'geom') FROM ( \
           SELECT code, ST_AsMVTGeom(geom, ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom FROM ref_grids \
           WHERE geom && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)) q WHERE q.geom IS NOT NULL",
    )
    .bind(i32::from(z))
    .bind(x as i32)
    .bind(y as i32)
    .fetch_one(pool)
    .await
    .expect("ST_AsMVT");
    bytes.unwrap_or_default()
}

async fn grids_tiles_match_postgis_st_asmvt(url: &str) {
    let Some((refdb, pool)) = reference_grids().await else {
        eprintln!("no PostGIS: skipping the ST_AsMVT reference comparison");
        return;
    };
    let s = TestServer::start(url, true).await;
    let (mut compared, mut non_empty, mut mismatches) = (0, 0, Vec::new());
    for z in 12..=16 {
        for t in tiles_over(grids_bbox(), z) {
            let (status, ours, _) = fetch(&s.base, &format!("/tiles/grids/{}/{}/{}.mvt", t.0, t.1, t.2), &[]).await;
            assert!(status == 200 || status == 204, "tile {t:?}: {status}");
            assert_eq!(status == 204, ours.is_empty());
            check_polygons(&ours);
            let theirs = postgis_tile(&pool, t).await;
            let (a, b) = (attr_values(&ours, "code"), attr_values(&theirs, "code"));
            if a != b {
                let only_ours: Vec<_> = a.difference(&b).collect();
                let only_theirs: Vec<_> = b.difference(&a).collect();
                mismatches.push(format!("{t:?}: only gridmap {only_ours:?}, only PostGIS {only_theirs:?}"));
            }
            compared += 1;
            non_empty += usize::from(!a.is_empty());
        }
    }
    eprintln!("compared {compared} tiles with PostGIS ST_AsMVT, {non_empty} holding grids");
    assert!(compared > 300 && non_empty > 200, "compared {compared} tiles, {non_empty} with grids");
    assert!(mismatches.is_empty(), "{} of {compared} tiles differ:\n{}", mismatches.len(), mismatches.join("\n"));
    pool.close().await;
    refdb.cleanup().await;
}

/// The sample's grids with every code given a suffix (parents unchanged): a valid replacement layer.
fn renamed_grids() -> Vec<u8> {
    let mut grids = sample_layer("grids");
    for f in grids["features"].as_array_mut().expect("features") {
        let code = f["properties"]["code"].as_str().expect("code").to_owned();
        f["properties"]["code"] = json!(format!("{code}N"));
    }
    grids.to_string().into_bytes()
}

async fn activation_changes_exactly_the_affected_tiles(url: &str) {
    let s = TestServer::start(url, true).await;
    let b = grids_bbox();
    let (x, y) = tile_of((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 14);
    let grids_path = format!("/tiles/grids/14/{x}/{y}.mvt");
    let streets_path = format!("/tiles/streets/14/{x}/{y}.mvt");
    let (_, before, h) = fetch(&s.base, &grids_path, &[]).await;
    let old_codes = attr_values(&before, "code");
    assert!(!old_codes.is_empty() && old_codes.iter().all(|c| !c.ends_with('N')));
    let grids_etag = h["etag"].to_str().expect("etag").to_owned();
    let (_, _, h) = fetch(&s.base, &streets_path, &[]).await;
    let streets_etag = h["etag"].to_str().expect("etag").to_owned();

    let file = gridmap::catalog::ImportFile {
        name: "grids-renamed.geojson".into(),
        bytes: renamed_grids(),
        options: gridmap::import::ReadOptions::new(gridmap::layers::Layer::Grids),
    };
    let reports = s
        .catalog
        .import(vec![file], gridmap::catalog::ImportMode { activate: true, ..Default::default() })
        .await
        .expect("import");
    assert!(reports.iter().all(|r| r.valid));

    let (status, after, h) = fetch(&s.base, &grids_path, &[("if-none-match", &grids_etag)]).await;
    assert_eq!(status, 200, "the old ETag must not match after activation");
    let new_codes = attr_values(&after, "code");
    let expected: BTreeSet<String> = old_codes.iter().map(|c| format!("{c}N")).collect();
    assert_eq!(new_codes, expected, "the next tile after activation holds the new generation's grids");
    assert_ne!(h["etag"].to_str().expect("etag"), grids_etag);
    // Streets did not change: the cached tile is still valid, so its ETag still matches.
    let (status, _, _) = fetch(&s.base, &streets_path, &[("if-none-match", &streets_etag)]).await;
    assert_eq!(status, 304);

    // Rolling back serves the old grids again.
    s.catalog.rollback().await.expect("rollback");
    let (_, again, _) = fetch(&s.base, &grids_path, &[]).await;
    assert_eq!(attr_values(&again, "code"), old_codes);
}

async fn tile_headers_and_documents(url: &str) {
    let s = TestServer::start(url, true).await;
    let b = grids_bbox();
    let (x, y) = tile_of((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 15);
    let path = format!("/tiles/communities/15/{x}/{y}.mvt");
    let (status, plain, h) = fetch(&s.base, &path, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(h["content-type"], "application/vnd.mapbox-vector-tile");
    assert_eq!(h["cache-control"], "no-cache");
    assert!(h.get("content-encoding").is_none());
    let (status, gunzipped, h) = fetch(&s.base, &path, &[("accept-encoding", "gzip")]).await;
    assert_eq!((status, h["content-encoding"].to_str().expect("enc")), (200, "gzip"));
    assert_eq!(gunzipped, plain);
    let etag = h["etag"].to_str().expect("etag").to_owned();
    let (status, body, _) = fetch(&s.base, &path, &[("if-none-match", &etag)]).await;
    assert_eq!((status, body.len()), (304, 0));
    // Every name attribute is there and non-empty.
    assert!(attr_values(&plain, "name").iter().all(|n| !n.is_empty()));
    assert!(!attr_values(&plain, "parent_code").is_empty());
    // English names beside them: pinyin with the administrative word translated (the sample has no English names).
    let english = attr_values(&plain, "name_en");
    assert!(!english.is_empty() && english.iter().all(|n| n.contains(" Community")), "{english:?}");

    // Far from Nanjing: empty → 204.
    let (status, body, _) = fetch(&s.base, "/tiles/grids/14/0/0.mvt", &[]).await;
    assert_eq!((status, body.len()), (204, 0));
    for (bad, want) in [
        ("/tiles/grids/3/8/0.mvt", 400),
        ("/tiles/grids/x/0/0.mvt", 400),
        ("/tiles/nowhere/1/0/0.mvt", 404),
        ("/tiles/grids/19/0/0.mvt", 404),
        ("/tiles/grids/1/0/0.png", 404),
    ] {
        let (status, body) = call(Method::GET, s.url(bad), None).await;
        assert_eq!(status, want, "{bad}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{bad}: {body}");
    }

    let (status, tj) = call(Method::GET, s.url("/tiles/grids.json"), None).await;
    assert_eq!(status, 200);
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["tiles"][0], format!("{}/tiles/grids/{{z}}/{{x}}/{{y}}.mvt", s.base));
    assert_eq!(tj["vector_layers"][0]["id"], "grids");
    assert_eq!(tj["vector_layers"][0]["fields"]["code"], "String");
    let tb: Vec<f64> = tj["bounds"].as_array().expect("bounds").iter().map(|v| v.as_f64().expect("n")).collect();
    assert!((tb[0] - b[0]).abs() < 1e-9 && (tb[3] - b[3]).abs() < 1e-9, "{tb:?} vs {b:?}");
    let (status, style) = call(Method::GET, s.url("/tiles/style.json"), None).await;
    assert_eq!(status, 200);
    assert_eq!(style["version"], 8);
    assert_eq!(style["sources"]["grids"]["tiles"], tj["tiles"], "sources carry their TileJSON inline");
    let layers = style["layers"].as_array().expect("layers");
    for l in layers.iter().filter(|l| l.get("source").is_some()) {
        let src = l["source"].as_str().expect("source");
        assert!(style["sources"].get(src).is_some(), "layer {} uses unknown source {src}", l["id"]);
    }
    // Labels: Chinese names by default, English with lang=en; no glyphs URL (the browser's fonts draw them).
    let labels = |style: &Value| -> Vec<String> {
        let layers = style["layers"].as_array().expect("layers");
        layers.iter().filter(|l| l["type"] == "symbol").map(|l| l["layout"]["text-field"].to_string()).collect()
    };
    assert!(style.get("glyphs").is_none());
    let zh = labels(&style);
    assert_eq!(zh.len(), 3, "street, community and grid labels");
    assert!(zh.iter().all(|f| f.contains("\"name\"") && !f.contains("name_en")), "{zh:?}");
    let (status, en) = call(Method::GET, s.url("/tiles/style.json?lang=en"), None).await;
    assert_eq!(status, 200);
    assert!(labels(&en).iter().all(|f| f.contains("name_en")), "{:?}", labels(&en));
    let (status, body) = call(Method::GET, s.url("/tiles/style.json?lang=fr"), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_lang")), "{body}");
}

/// Seeded incident locations over the sample's bbox.
fn incident_points(n: usize) -> Vec<[f64; 2]> {
    use rand::{Rng, SeedableRng};
    let b = grids_bbox();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    (0..n).map(|_| [rng.random_range(b[0]..b[2]), rng.random_range(b[1]..b[3])]).collect()
}

async fn heatmap_counts_equal_a_direct_count(url: &str) {
    let s = TestServer::start(url, true).await;
    let mut stored = Vec::new();
    for (i, p) in incident_points(300).into_iter().enumerate() {
        let category = if i % 3 == 0 { "fire" } else { "traffic" };
        let (status, inc) =
            call(Method::POST, s.url("/api/v1/incidents"), Some(json!({"location": p, "category": category}))).await;
        if status == 201 {
            stored.push(inc);
        } else {
            assert_eq!(inc["error"]["code"], "outside_service_area", "{inc}");
        }
    }
    assert!(stored.len() > 150);
    let street = stored[0]["street_code"].as_str().expect("street").to_owned();
    // From memory (category, status, time) and, with a code filter, from the store's GROUP BY.
    type Keep<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let cases: [(u8, String, Keep<'_>); 4] = [
        (8, String::new(), Box::new(|_| true)),
        (9, "&category=fire".into(), Box::new(|i| i["category"] == "fire")),
        (10, "&status=reported&from=2020-01-01T00:00:00Z".into(), Box::new(|_| true)),
        (9, format!("&street={street}"), Box::new(|i| i["street_code"] == street.as_str())),
    ];
    for (res, q, keep) in cases {
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for inc in stored.iter().filter(|i| keep(i)) {
            let cell: h3o::CellIndex = inc["h3"].as_str().expect("h3").parse().expect("cell");
            let parent = cell.parent(h3o::Resolution::try_from(res).expect("res")).expect("parent");
            *want.entry(parent.to_string()).or_default() += 1;
        }
        let (status, fc) =
            call(Method::GET, s.url(&format!("/api/v1/heatmap?source=incidents&resolution={res}{q}")), None).await;
        assert_eq!(status, 200, "{fc}");
        let got: BTreeMap<String, u64> = fc["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| {
                (
                    f["properties"]["cell"].as_str().expect("cell").to_owned(),
                    f["properties"]["count"].as_u64().expect("count"),
                )
            })
            .collect();
        assert!(!want.is_empty());
        assert_eq!(got, want, "resolution {res}, filter {q:?}");
        let f0 = &fc["features"][0];
        assert_eq!(f0["geometry"]["type"], "Polygon");
        assert_eq!(f0["geometry"]["coordinates"][0].as_array().expect("ring").len(), 7);
    }
    // Nothing reported before 2020.
    let (_, fc) = call(Method::GET, s.url("/api/v1/heatmap?resolution=8&to=2020-01-01T00:00:00Z"), None).await;
    assert_eq!(fc["features"].as_array().map(Vec::len), Some(0));
    let (status, body) = call(Method::GET, s.url("/api/v1/heatmap?resolution=12"), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_resolution")));
    let (status, _) = call(Method::GET, s.url("/api/v1/heatmap?source=rumours"), None).await;
    assert_eq!(status, 400);

    // The heatmap tile at z12 (resolution 8) holds the same hexagons with the same counts over the tile.
    let b = grids_bbox();
    let mut tile_counts: BTreeMap<String, i64> = BTreeMap::new();
    for (z, x, y) in tiles_over(b, 12) {
        let (status, mvt, _) = fetch(&s.base, &format!("/tiles/heatmap/{z}/{x}/{y}.mvt"), &[]).await;
        assert!(status == 200 || status == 204);
        if mvt.is_empty() {
            continue;
        }
        let t = Tile::decode(mvt.as_slice()).expect("decodes");
        let l = &t.layers[0];
        let key = |name: &str| l.keys.iter().position(|k| k == name).expect("key") as u32;
        let (kc, kn) = (key("cell"), key("count"));
        for f in &l.features {
            let tag = |k: u32| f.tags.chunks(2).find(|t| t[0] == k).map(|t| &l.values[t[1] as usize]).expect("tag");
            let cell = tag(kc).string_value.clone().expect("cell");
            let n = tag(kn).int_value.expect("count");
            let prev = tile_counts.insert(cell, n);
            assert!(prev.is_none_or(|p| p == n), "a hexagon has one count in every tile");
        }
    }
    let (_, fc) = call(Method::GET, s.url("/api/v1/heatmap?resolution=8"), None).await;
    let api: BTreeMap<String, i64> = fc["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            (f["properties"]["cell"].as_str().expect("cell").to_owned(), f["properties"]["count"].as_i64().expect("n"))
        })
        .collect();
    assert_eq!(tile_counts, api);
}

async fn incident_and_responder_tiles_follow_writes(url: &str) {
    let s = TestServer::start(url, true).await;
    let p = incident_points(1)[0];
    let (x, y) = tile_of(p[0], p[1], 16);
    let path = format!("/tiles/incidents/16/{x}/{y}.mvt");
    let (status, _, _) = fetch(&s.base, &path, &[]).await;
    assert_eq!(status, 204);
    let (status, inc) =
        call(Method::POST, s.url("/api/v1/incidents"), Some(json!({"location": p, "category": "fire"}))).await;
    assert_eq!(status, 201, "{inc}");
    let (status, mvt, _) = fetch(&s.base, &path, &[]).await;
    assert_eq!(status, 200, "a new incident shows in the next tile");
    assert_eq!(attr_values(&mvt, "status"), BTreeSet::from(["reported".to_owned()]));
    let id = inc["id"].as_i64().expect("id");
    for st in ["cancelled"] {
        let (status, _) =
            call(Method::POST, s.url(&format!("/api/v1/incidents/{id}/status")), Some(json!({"status": st}))).await;
        assert_eq!(status, 200);
    }
    let (status, _, _) = fetch(&s.base, &path, &[]).await;
    assert_eq!(status, 204, "a cancelled incident leaves the map");

    let (status, r) = call(
        Method::POST,
        s.url("/api/v1/responders"),
        Some(json!({"name": "张三", "kind": "grid_worker", "location": p})),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let (status, mvt, _) = fetch(&s.base, &format!("/tiles/responders/16/{x}/{y}.mvt"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(attr_values(&mvt, "name"), BTreeSet::from(["张三".to_owned()]));
    // The `resources` layer holds fixed resources (hydrants, AEDs), not responders.
    let resources = format!("/tiles/resources/16/{x}/{y}.mvt");
    assert_eq!(fetch(&s.base, &resources, &[]).await.0, 204, "no fixed resource there yet; the responder is not one");
    let (status, v) = call(
        Method::POST,
        s.url("/api/v1/resources"),
        Some(json!({"category": "hydrant", "name": "消火栓 7", "location": p})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let (status, mvt, _) = fetch(&s.base, &resources, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(attr_values(&mvt, "category"), BTreeSet::from(["hydrant".to_owned()]));
    assert_eq!(attr_values(&mvt, "name"), BTreeSet::from(["消火栓 7".to_owned()]));

    // Hazards: shown while open or being put right, gone once closed (never cached, so never stale).
    let hazard_path = format!("/tiles/hazards/16/{x}/{y}.mvt");
    assert_eq!(fetch(&s.base, &hazard_path, &[]).await.0, 204);
    let (status, h) = call(
        Method::POST,
        s.url("/api/v1/hazards"),
        Some(json!({"location": p, "category": "fire_safety", "department": "消防", "severity": 1})),
    )
    .await;
    assert_eq!(status, 201, "{h}");
    let (status, mvt, _) = fetch(&s.base, &hazard_path, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(attr_values(&mvt, "category"), BTreeSet::from(["fire_safety".to_owned()]));
    let hid = h["id"].as_i64().expect("id");
    let (status, v) = call(
        Method::POST,
        s.url(&format!("/api/v1/hazards/{hid}/status")),
        Some(json!({"status": "closed", "note": "通道已清理"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(fetch(&s.base, &hazard_path, &[]).await.0, 204, "a closed hazard leaves the map");
    let (status, _, _) = fetch(&s.base, "/tiles/hazards.json", &[]).await;
    assert_eq!(status, 200);
}

/// Incidents a point tile holds: single points count one, merged ones their `count`. Only features inside the
/// tile proper count (the buffer repeats its neighbours' points).
fn incidents_in_tile(mvt: &[u8]) -> i64 {
    if mvt.is_empty() {
        return 0;
    }
    let tile = Tile::decode(mvt).expect("tile decodes as MVT");
    let l = &tile.layers[0];
    let extent = l.extent.unwrap_or(4096) as i64;
    let count = l.keys.iter().position(|x| x == "count");
    let zigzag = |v: u32| i64::from((v >> 1) as i32 ^ -((v & 1) as i32));
    l.features
        .iter()
        .filter(|f| {
            let (x, y) = (zigzag(f.geometry[1]), zigzag(f.geometry[2]));
            (0..extent).contains(&x) && (0..extent).contains(&y)
        })
        .map(|f| {
            let n = f.tags.chunks(2).find(|t| Some(t[0] as usize) == count).map(|t| &l.values[t[1] as usize]);
            n.and_then(|v| v.int_value.or(v.sint_value).or(v.uint_value.map(|u| u as i64))).unwrap_or(1)
        })
        .sum()
}

/// Issue 34: the incident tiles take the queue's filters (states, category, grids), so that the clusters below
/// z15 count what the list shows; each filter is cached apart, and a write changes every filtered tile.
async fn incident_tiles_follow_the_queue_filters(url: &str) {
    let s = TestServer::start(url, true).await;
    let p = incident_points(1)[0];
    let (x, y) = tile_of(p[0], p[1], 12);
    // Incidents around a point known to lie in the service area; those that fall outside it or outside the tile
    // are left out of the expected counts.
    let mut made = Vec::new();
    for i in 0..48 {
        let at = [p[0] - 0.002 + f64::from(i % 8) * 0.0005, p[1] - 0.0015 + f64::from(i / 8) * 0.0005];
        let category = if i % 3 == 0 { "fire" } else { "traffic" };
        let (status, inc) =
            call(Method::POST, s.url("/api/v1/incidents"), Some(json!({"location": at, "category": category}))).await;
        assert!(status == 201 || inc["error"]["code"] == "outside_service_area", "{inc}");
        if status == 201 && tile_of(at[0], at[1], 12) == (x, y) {
            made.push(inc);
        }
    }
    assert!(made.len() > 30, "{} incidents in the tile", made.len());
    let (lon, lat) = (p[0], p[1]);
    for inc in made.iter().step_by(5) {
        let path = format!("/api/v1/incidents/{}/status", inc["id"]);
        let (status, v) = call(Method::POST, s.url(&path), Some(json!({"status": "cancelled"}))).await;
        assert_eq!(status, 200, "{v}");
    }
    let cancelled = made.iter().step_by(5).count() as i64;
    let open = |i: &&Value| !made.iter().step_by(5).any(|c| c["id"] == i["id"]);
    let grid = made[1]["grid_code"].as_str().expect("geocoded to a grid").to_owned();
    let expected = [
        ("", made.iter().filter(open).count() as i64),
        ("?category=traffic", made.iter().filter(open).filter(|i| i["category"] == "traffic").count() as i64),
        ("?status=cancelled", cancelled),
        ("?status=cancelled,reported&category=fire", made.iter().filter(|i| i["category"] == "fire").count() as i64),
        (
            &format!("?grid={grid}") as &str,
            made.iter().filter(open).filter(|i| i["grid_code"] == grid.as_str()).count() as i64,
        ),
    ];
    let tile = format!("/tiles/incidents/12/{x}/{y}.mvt");
    for (query, want) in &expected {
        let (status, mvt, _) = fetch(&s.base, &format!("{tile}{query}"), &[]).await;
        assert!(status == 200 || (status == 204 && *want == 0), "{query}: {status}");
        assert_eq!(incidents_in_tile(&mvt), *want, "{query}");
    }
    assert!(expected[1].1 < expected[0].1 && expected[4].1 < expected[0].1, "the filters leave something out");

    // A new traffic incident shows in the filtered tile at once (the filtered entries are not stale).
    let (status, _) =
        call(Method::POST, s.url("/api/v1/incidents"), Some(json!({"location": [lon, lat], "category": "traffic"})))
            .await;
    assert_eq!(status, 201);
    let (_, mvt, _) = fetch(&s.base, &format!("{tile}?category=traffic"), &[]).await;
    assert_eq!(incidents_in_tile(&mvt), expected[1].1 + 1);

    let (status, body) = call(Method::GET, s.url(&format!("{tile}?status=bogus")), None).await;
    assert_eq!((status, body["error"]["details"]["parameter"].as_str()), (400, Some("status")), "{body}");
    let (status, body) = call(Method::GET, s.url(&format!("{tile}?colour=red")), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("unknown_parameter")), "{body}");
}

/// A vector tile with a `roads` line (class, name) and a `water` square, built with the MVT protobuf types (not
/// gridmap's encoder).
fn basemap_mvt() -> Vec<u8> {
    use geozero::mvt::tile::{Feature, GeomType, Layer, Value as MvtValue};
    let text = |s: &str| MvtValue { string_value: Some(s.to_owned()), ..Default::default() };
    let zig = |v: i32| ((v << 1) ^ (v >> 31)) as u32;
    let roads = Layer {
        version: 2,
        name: "roads".into(),
        features: vec![Feature {
            id: Some(1),
            tags: vec![0, 0, 1, 1],
            r#type: Some(GeomType::Linestring as i32),
            geometry: vec![9, zig(100), zig(2048), 10, zig(3896), zig(0)],
        }],
        keys: vec!["class".into(), "name".into()],
        values: vec![text("primary"), text("中山路")],
        extent: Some(4096),
    };
    let water = Layer {
        version: 2,
        name: "water".into(),
        features: vec![Feature {
            id: Some(2),
            tags: vec![],
            r#type: Some(GeomType::Polygon as i32),
            geometry: vec![9, zig(500), zig(500), 26, zig(1000), 0, 0, zig(1000), zig(-1000), 0, 15],
        }],
        keys: vec![],
        values: vec![],
        extent: Some(4096),
    };
    Tile { layers: vec![roads, water] }.encode_to_vec()
}

/// `serve --basemap-pmtiles FILE`: the archive's tiles come back as stored (gzip passed through, or unzipped for a
/// client that does not take gzip), 204 where it has none; its TileJSON and the style's layers for it, under the
/// boundaries; names that collide with gridmap's layers and files that are not PMTiles are refused at start.
async fn pmtiles_base_maps_are_served_and_styled(url: &str) {
    use gridmap::tiles::Archives;
    let dir = tempfile::tempdir().expect("tmp");
    let (lon, lat) = (118.79, 32.02);
    let (x, y) = tile_of(lon, lat, 14);
    let mvt = basemap_mvt();
    let path = dir.path().join("qinhuai-base.pmtiles");
    let metadata = json!({"name": "秦淮底图", "attribution": "© OpenStreetMap contributors",
        "vector_layers": [{"id": "roads", "fields": {"class": "String", "name": "String"}}, {"id": "water", "fields": {}}]});
    let mut w = pmtiles::PmTilesWriter::new(pmtiles::TileType::Mvt)
        .min_zoom(12)
        .max_zoom(14)
        .bounds(118.7, 31.9, 118.9, 32.1)
        .center(lon, lat)
        .metadata(metadata.to_string())
        .create(std::fs::File::create(&path).expect("create"))
        .expect("writer");
    w.add_tile(pmtiles::TileCoord::new(14, x, y).expect("coord"), &mvt).expect("tile");
    w.finalize().expect("finalize");

    let archives = std::sync::Arc::new(Archives::open(std::slice::from_ref(&path)).await.expect("opens"));
    let s = TestServer::start_with(url, true, move |o| o.archives = archives).await;
    let tile = format!("/tiles/qinhuai-base/14/{x}/{y}.mvt");
    let (status, body, h) = fetch(&s.base, &tile, &[("accept-encoding", "gzip")]).await;
    assert_eq!((status, h.get("content-encoding").map(|v| v.to_str().unwrap_or(""))), (200, Some("gzip")));
    assert_eq!(body, mvt, "the tile as written (gunzipped here)");
    assert_eq!(h["content-type"], "application/vnd.mapbox-vector-tile");
    let (status, plain, h) = fetch(&s.base, &tile, &[]).await;
    assert_eq!(
        (status, plain == mvt, h.get("content-encoding").is_none()),
        (200, true, true),
        "unzipped for this client"
    );
    let (status, _, _) = fetch(&s.base, &format!("/tiles/qinhuai-base/14/{}/{y}.mvt", x + 1), &[]).await;
    assert_eq!(status, 204, "no tile there");
    assert_eq!(fetch(&s.base, &format!("/tiles/qinhuai-base/16/{x}/{y}.mvt"), &[]).await.0, 204, "below its max zoom");
    let (status, body) = call(Method::GET, s.url("/tiles/qinhuai-base/99/0/0.mvt"), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_tile")), "{body}");

    let (status, tj) = call(Method::GET, s.url("/tiles/qinhuai-base.json"), None).await;
    assert_eq!(status, 200, "{tj}");
    assert_eq!(
        (tj["name"].as_str(), tj["minzoom"].as_u64(), tj["maxzoom"].as_u64()),
        (Some("秦淮底图"), Some(12), Some(14))
    );
    assert_eq!(tj["tiles"][0], format!("{}/tiles/qinhuai-base/{{z}}/{{x}}/{{y}}", s.base));
    assert_eq!(tj["vector_layers"][0]["id"], "roads");

    let (_, style) = call(Method::GET, s.url("/tiles/style.json"), None).await;
    assert_eq!(style["sources"]["qinhuai-base"]["type"], "vector", "{}", style["sources"]);
    assert_eq!(style["sources"]["qinhuai-base"]["attribution"], "© OpenStreetMap contributors");
    let ids: Vec<&str> = style["layers"].as_array().expect("layers").iter().filter_map(|l| l["id"].as_str()).collect();
    let at = |id: &str| ids.iter().position(|i| *i == id);
    let (water, roads, grids) = (at("basemap-qinhuai-base-water"), at("basemap-qinhuai-base-roads"), at("grids-fill"));
    assert!(water.is_some() && water < roads && roads < grids, "base map under the boundaries: {ids:?}");
    assert!(at("basemap-qinhuai-base-buildings").is_none(), "no layer for what the archive does not hold: {ids:?}");

    // Refused at start, naming the file.
    let reserved = dir.path().join("grids.pmtiles");
    std::fs::copy(&path, &reserved).expect("copy");
    let e = Archives::open(&[reserved]).await.expect_err("a name of gridmap's own").to_string();
    assert!(e.contains("grids.pmtiles") && e.contains("rename"), "{e}");
    let junk = dir.path().join("junk.pmtiles");
    std::fs::write(&junk, b"not a pmtiles archive at all, just some bytes").expect("write");
    let e = Archives::open(&[junk]).await.expect_err("not PMTiles").to_string();
    assert!(e.contains("junk.pmtiles"), "{e}");
}
