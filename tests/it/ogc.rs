//! OGC API – Features on both stores: OWSLib (from PyPI, run by scripts/python-env) lists the collections and pages
//! through grids inside a bbox; the codes it collects equal PostGIS `ST_Intersects` over the stored active
//! generation (PostGIS store) or a direct scan of the sample file (SQLite store). Also: CRS by reference with EPSG
//! axis order, next links followed to the end, and parameter errors that name the parameter.

use std::collections::BTreeSet;

use crate::common::{TestServer, sample_layer};
use geo::Intersects;
use serde_json::Value;

async fn get(url: String) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = reqwest::get(url).await.expect("request");
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.json().await.expect("json"))
}

/// The middle third of the grids layer's extent.
async fn middle_box(s: &TestServer) -> [f64; 4] {
    let (_, _, layers) = get(s.url("/api/v1/layers")).await;
    let b = layers["layers"].as_array().expect("layers").iter().find(|l| l["name"] == "grids").expect("grids")["bbox"]
        .clone();
    let n: Vec<f64> = b.as_array().expect("bbox").iter().map(|v| v.as_f64().expect("number")).collect();
    let (w, h) = (n[2] - n[0], n[3] - n[1]);
    [n[0] + w / 3.0, n[1] + h / 3.0, n[0] + 2.0 * w / 3.0, n[1] + 2.0 * h / 3.0]
}

/// Grid codes intersecting the box by the reference: PostGIS on the PostGIS store, a scan of the sample otherwise.
async fn reference(url: &str, b: [f64; 4]) -> BTreeSet<String> {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        let sql = "SELECT f.code FROM generation_layers gl JOIN features f ON f.generation_id = gl.source_generation_id \
             AND f.layer = gl.layer WHERE gl.generation_id = (SELECT generation_id FROM activations \
             WHERE rolled_back_at IS NULL ORDER BY id DESC LIMIT 1) AND gl.layer = 'grids' \
             AND ST_Intersects(f.geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))";
        let rows: Vec<(String,)> =
            sqlx::query_as(sql).bind(b[0]).bind(b[1]).bind(b[2]).bind(b[3]).fetch_all(&pool).await.expect("query");
        return rows.into_iter().map(|r| r.0).collect();
    }
    let rect = geo::Rect::new((b[0], b[1]), (b[2], b[3]));
    sample_layer("grids")["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter(|f| {
            let g: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).expect("geometry");
            let g: geo::Geometry = g.try_into().expect("geo");
            g.intersects(&rect)
        })
        .map(|f| f["properties"]["code"].as_str().expect("code").to_owned())
        .collect()
}

async fn owslib_pages_match_the_reference(url: &str) {
    let s = TestServer::start(url, true).await;
    let b = middle_box(&s).await;
    let expected = reference(url, b).await;
    assert!(expected.len() > 30, "the box holds enough grids to page: {}", expected.len());

    let Some(python) = std::env::var_os("GRIDMAP_PYTHON") else {
        assert!(
            std::env::var("GRIDMAP_REQUIRE_PYTHON").is_err(),
            "GRIDMAP_REQUIRE_PYTHON is set but GRIDMAP_PYTHON is not"
        );
        eprintln!("skipping OWSLib: GRIDMAP_PYTHON is not set (source scripts/python-env)");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ogc/owslib_check.py");
    let bbox = b.map(|v| v.to_string()).join(",");
    let out = tokio::process::Command::new(python)
        .args([script, &s.base, "grids", &bbox, "25"])
        .output()
        .await
        .expect("run python");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "OWSLib failed: {stderr}");
    let seen: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(seen["collections"], serde_json::json!(["streets", "communities", "grids"]));
    assert!(
        seen["conforms"]
            .as_array()
            .expect("list")
            .iter()
            .any(|c| c.as_str().is_some_and(|c| c.ends_with("conf/geojson")))
    );
    let codes: Vec<String> =
        seen["codes"].as_array().expect("codes").iter().map(|c| c.as_str().expect("code").to_owned()).collect();
    let unique: BTreeSet<String> = codes.iter().cloned().collect();
    assert_eq!(unique.len(), codes.len(), "no feature twice across pages");
    assert_eq!(unique, expected, "OWSLib's grids in the box equal the reference");
    assert_eq!(seen["number_matched"].as_u64(), Some(expected.len() as u64));
    assert_eq!(seen["pages"].as_u64(), Some(expected.len().div_ceil(25) as u64));
    assert_eq!(seen["item"].as_str(), codes.first().map(String::as_str));
}

async fn crs_links_and_errors(url: &str) {
    let s = TestServer::start(url, true).await;
    let b = middle_box(&s).await;
    let (st, _, landing) = get(s.url("/ogc")).await;
    assert_eq!(st, 200);
    let rels: Vec<&str> =
        landing["links"].as_array().expect("links").iter().filter_map(|l| l["rel"].as_str()).collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "{rel} in {rels:?}");
    }
    // Following next links visits every matched feature once.
    let mut next =
        Some(s.url(&format!("/ogc/collections/grids/items?limit=40&bbox={},{},{},{}", b[0], b[1], b[2], b[3])));
    let (mut seen, mut matched) = (BTreeSet::new(), 0);
    while let Some(url) = next.take() {
        let (st, headers, page) = get(url).await;
        assert_eq!(st, 200, "{page}");
        assert_eq!(headers["content-type"], "application/geo+json");
        matched = page["numberMatched"].as_u64().expect("matched");
        for f in page["features"].as_array().expect("features") {
            assert!(seen.insert(f["id"].as_str().expect("id").to_owned()));
        }
        next = page["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().expect("href").to_owned());
    }
    assert_eq!(seen.len() as u64, matched);
    assert_eq!(seen, reference(url, b).await);

    // EPSG:4326 and 4490 go out latitude first, and a bbox in EPSG:4326 is read latitude first.
    let code = seen.iter().next().expect("a grid").clone();
    let (_, _, crs84) = get(s.url(&format!("/ogc/collections/grids/items/{code}"))).await;
    let (st, headers, epsg) =
        get(s.url(&format!("/ogc/collections/grids/items/{code}?crs=http://www.opengis.net/def/crs/EPSG/0/4490")))
            .await;
    assert_eq!(st, 200);
    assert_eq!(headers["content-crs"], "<http://www.opengis.net/def/crs/EPSG/0/4490>");
    let first = |v: &Value| v["geometry"]["coordinates"][0][0][0].clone();
    assert_eq!(
        (first(&epsg)[0].clone(), first(&epsg)[1].clone()),
        (first(&crs84)[1].clone(), first(&crs84)[0].clone())
    );
    let swapped = format!(
        "/ogc/collections/grids/items?limit=1000&bbox={},{},{},{}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326",
        b[1], b[0], b[3], b[2]
    );
    let (_, _, page) = get(s.url(&swapped)).await;
    assert_eq!(page["numberMatched"].as_u64(), Some(matched));
    let (_, _, filtered) = get(s.url(&format!("/ogc/collections/grids/items?code={code}"))).await;
    assert_eq!(filtered["numberMatched"], 1);
    let (_, _, before) = get(s.url("/ogc/collections/grids/items?datetime=2000-01-01T00:00:00Z")).await;
    assert_eq!(before["numberMatched"], 0, "no boundaries before the generation was activated");
    let (_, _, now) = get(s.url("/ogc/collections/grids/items?datetime=2000-01-01T00:00:00Z/..")).await;
    assert_eq!(now["numberMatched"], 756);

    for (path, status, code) in [
        ("/ogc/collections/roads", 404, "collection_not_found"),
        ("/ogc/collections/grids/items/NOPE", 404, "feature_not_found"),
        ("/ogc/collections/grids/items?limit=0", 400, "invalid_parameter"),
        ("/ogc/collections/grids/items?bbox=1,2", 400, "invalid_parameter"),
        ("/ogc/collections/grids/items?crs=EPSG:3857", 400, "unsupported_crs"),
        ("/ogc/collections/grids/items?colour=red", 400, "unknown_parameter"),
    ] {
        let (st, _, v) = get(s.url(path)).await;
        assert_eq!((st, v["error"]["code"].as_str()), (status, Some(code)), "{path}: {v}");
    }
}

both_stores!(owslib_pages_match_the_reference, crs_links_and_errors);
