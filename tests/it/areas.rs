//! Lookup APIs beyond `/locate` and `/metrics`, on both stores: an area with its parent chain, children and
//! neighbours; areas in a bbox, intersecting a polygon and near a point (checked against a direct scan of the
//! sample); H3 cell → grids and grid → H3 cover (checked with `/locate`); `crs` in and out; errors.

use std::collections::BTreeSet;

use crate::common::{TestServer, call, get, sample_layer};
use geo::Intersects;
use reqwest::Method;
use serde_json::{Value, json};

const POINT: [f64; 2] = [118.79, 32.02];

fn codes(v: &Value) -> BTreeSet<String> {
    v["items"].as_array().expect("items").iter().map(|i| i["code"].as_str().expect("code").to_owned()).collect()
}

/// Codes of the sample's features of `layer` intersecting `g`, by a scan.
fn scan(layer: &str, g: &geo::Geometry) -> BTreeSet<String> {
    sample_layer(layer)["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter(|f| {
            let fg: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).expect("geometry");
            let fg: geo::Geometry = fg.try_into().expect("geo");
            fg.intersects(g)
        })
        .map(|f| f["properties"]["code"].as_str().expect("code").to_owned())
        .collect()
}

async fn relations_and_queries(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, here) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", POINT[0], POINT[1])).await;
    let grid = here["grid"]["code"].as_str().expect("grid").to_owned();

    let (st, a) = get(&s, &format!("/api/v1/areas/grids/{grid}")).await;
    assert_eq!(st, 200, "{a}");
    let chain: Vec<(&str, &str)> = a["parents"]
        .as_array()
        .expect("parents")
        .iter()
        .map(|p| (p["layer"].as_str().expect("layer"), p["code"].as_str().expect("code")))
        .collect();
    assert_eq!(
        chain,
        [
            ("communities", here["community"]["code"].as_str().expect("c")),
            ("streets", here["street"]["code"].as_str().expect("s"))
        ]
    );
    assert_eq!(a["children"], json!([]));
    assert!(a["geometry"]["type"] == "MultiPolygon" && a["area_km2"].as_f64().is_some_and(|k| k > 0.0 && k < 1.0));
    let neighbours = a["neighbours"].as_array().expect("neighbours");
    assert!(neighbours.len() >= 2, "{a}");
    for n in neighbours {
        let (_, other) =
            get(&s, &format!("/api/v1/areas/grids/{}?geometry=false", n["code"].as_str().expect("code"))).await;
        assert!(other["geometry"].is_null());
        assert!(other["neighbours"].as_array().expect("list").iter().any(|m| m["code"] == grid.as_str()), "symmetric");
    }
    // Children of the community: the sample's grids naming it.
    let community = here["community"]["code"].as_str().expect("community");
    let (_, c) = get(&s, &format!("/api/v1/areas/communities/{community}")).await;
    let want: BTreeSet<String> = sample_layer("grids")["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter(|f| f["properties"]["parent_code"] == community)
        .map(|f| f["properties"]["code"].as_str().expect("code").to_owned())
        .collect();
    let got: BTreeSet<String> = c["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|g| g["code"].as_str().expect("code").to_owned())
        .collect();
    assert_eq!(got, want);
    // GCJ-02 out: the same box, shifted by the vendor offset (a few hundred metres).
    let (_, g) = get(&s, &format!("/api/v1/areas/grids/{grid}?crs=gcj02&geometry=false")).await;
    let shift = g["bbox"][0].as_f64().expect("x") - a["bbox"][0].as_f64().expect("x");
    assert!((0.003..0.008).contains(&shift), "{shift}");

    // Box, polygon and distance queries against a scan.
    let b = [118.78, 32.01, 118.80, 32.03];
    let rect = geo::Rect::new((b[0], b[1]), (b[2], b[3]));
    let (_, boxed) = get(&s, &format!("/api/v1/areas/grids?bbox={},{},{},{}", b[0], b[1], b[2], b[3])).await;
    let expected = scan("grids", &geo::Geometry::Rect(rect));
    assert!(expected.len() > 5);
    assert_eq!(codes(&boxed), expected);
    let triangle =
        json!({"type": "Polygon", "coordinates": [[[b[0], b[1]], [b[2], b[1]], [b[0], b[3]], [b[0], b[1]]]]});
    let (st, tri) =
        call(Method::POST, s.url("/api/v1/areas/communities/intersecting"), Some(json!({"geometry": triangle}))).await;
    assert_eq!(st, 200, "{tri}");
    let poly: geojson::Geometry = serde_json::from_value(triangle).expect("geojson");
    assert_eq!(codes(&tri), scan("communities", &poly.try_into().expect("geo")));
    let (_, near) =
        get(&s, &format!("/api/v1/areas/grids/near?lon={}&lat={}&distance_m=300", POINT[0], POINT[1])).await;
    let items = near["items"].as_array().expect("items");
    assert_eq!((items[0]["code"].as_str(), items[0]["distance_m"].as_f64()), (Some(grid.as_str()), Some(0.0)));
    let d: Vec<f64> = items.iter().map(|i| i["distance_m"].as_f64().expect("d")).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]) && d.iter().all(|&x| x <= 300.0), "{d:?}");
    let (_, wider) =
        get(&s, &format!("/api/v1/areas/grids/near?lon={}&lat={}&distance_m=2000", POINT[0], POINT[1])).await;
    let wider = wider["items"].as_array().expect("items");
    assert!(wider.len() > items.len() && wider[..items.len()] == items[..], "a wider search extends the nearer one");

    // H3: the cell at the point lists its grid as the one holding its centre; the grid's cover locates back.
    let (_, cell_here) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", POINT[0], POINT[1])).await;
    let cell = cell_here["h3"].as_str().expect("cell");
    let (st, under) = get(&s, &format!("/api/v1/h3/{cell}/grids")).await;
    assert_eq!(st, 200, "{under}");
    let owner: Vec<&Value> =
        under["items"].as_array().expect("items").iter().filter(|g| g["contains_center"] == true).collect();
    assert!(owner.len() <= 1);
    let (st, cover) = get(&s, &format!("/api/v1/areas/grids/{grid}/h3?resolution=11")).await;
    assert_eq!(st, 200, "{cover}");
    let cells = cover["cells"].as_array().expect("cells");
    assert!(cells.len() > 20, "{cover}");
    for c in cells.iter().step_by(7) {
        let cell: h3o::CellIndex = c.as_str().expect("cell").parse().expect("cell");
        let ll = h3o::LatLng::from(cell);
        let (_, at) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", ll.lng(), ll.lat())).await;
        assert_eq!(at["grid"]["code"], grid.as_str(), "cell {cell} centre lies in the grid");
    }

    for (path, status, code) in [
        ("/api/v1/areas/roads/X", 404, "unknown_layer"),
        ("/api/v1/areas/grids/NOPE", 404, "area_not_found"),
        ("/api/v1/areas/grids?bbox=1,2,3", 400, "invalid_bbox"),
        ("/api/v1/areas/grids/near?lon=118.79&lat=32.02&distance_m=1e9", 400, "invalid_distance"),
        ("/api/v1/areas/grids/near?lon=218.79&lat=32.02&distance_m=10", 400, "invalid_coordinate"),
        ("/api/v1/h3/zzz/grids", 400, "invalid_cell"),
    ] {
        let (st, v) = get(&s, path).await;
        assert_eq!((st, v["error"]["code"].as_str()), (status, Some(code)), "{path}: {v}");
    }
    let street = here["street"]["code"].as_str().expect("street");
    let (_, street) = get(&s, &format!("/api/v1/areas/streets/{street}/h3?resolution=15")).await;
    assert_eq!(street["error"]["code"], "too_many_cells");
}

async fn metrics_count_requests(url: &str) {
    let s = TestServer::start(url, true).await;
    for _ in 0..3 {
        get(&s, &format!("/api/v1/locate?lon={}&lat={}", POINT[0], POINT[1])).await;
    }
    call(Method::POST, s.url("/api/v1/locate"), Some(json!({"points": [POINT, POINT]}))).await;
    for _ in 0..2 {
        reqwest::get(s.url("/tiles/grids/14/13598/6652.mvt")).await.expect("tile");
    }
    let text = reqwest::get(s.url("/metrics")).await.expect("metrics").text().await.expect("text");
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1.0)
    };
    assert_eq!(value("gridmap_lookups_total"), 5.0, "{text}");
    assert_eq!(
        value("gridmap_http_requests_total{method=\"GET\",route=\"/api/v1/locate\",status=\"200\"}"),
        3.0,
        "{text}"
    );
    assert!(value("gridmap_tile_cache_hits_total") >= 1.0, "{text}");
    // A tile was cached, so the cache holds at least its bytes.
    assert!(value("gridmap_tile_cache_bytes") > 0.0, "{text}");
    assert!(text.contains("gridmap_http_request_duration_seconds_bucket"), "{text}");
}

/// `/openapi.json` is a valid OpenAPI 3.1 document (openapi-spec-validator from PyPI) whose security is the access
/// each endpoint declares, `/docs` renders it, and the OGC landing page's service-desc link resolves.
async fn openapi_document(url: &str) {
    let s = TestServer::start(url, true).await;
    let r = reqwest::get(s.url("/openapi.json")).await.expect("openapi");
    assert_eq!(r.status().as_u16(), 200);
    let doc: Value = r.json().await.expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["paths"]["/api/v1/incidents"]["post"]["security"], json!([{"bearer": ["report"]}]));
    assert_eq!(doc["paths"]["/api/v1/locate"]["get"]["security"], json!([{}]), "open: an empty requirement");
    let html = reqwest::get(s.url("/docs")).await.expect("docs").text().await.expect("html");
    assert!(html.contains("/openapi.json"));
    let (_, landing) = get(&s, "/ogc").await;
    let desc = landing["links"].as_array().expect("links").iter().find(|l| l["rel"] == "service-desc").expect("link");
    assert_eq!(reqwest::get(desc["href"].as_str().expect("href")).await.expect("desc").status().as_u16(), 200);
    let Some(python) = std::env::var_os("GRIDMAP_PYTHON") else {
        assert!(
            std::env::var("GRIDMAP_REQUIRE_PYTHON").is_err(),
            "GRIDMAP_REQUIRE_PYTHON is set but GRIDMAP_PYTHON is not"
        );
        return;
    };
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), doc.to_string()).expect("write");
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))",
            &file.path().display().to_string(),
        ])
        .output()
        .expect("python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Items go out in the `crs` asked for, and a list's bbox is read in it.
async fn items_in_vendor_coordinates(url: &str) {
    use gridmap::crs::Crs;
    let s = TestServer::start(url, true).await;
    let (st, inc) =
        call(Method::POST, s.url("/api/v1/incidents"), Some(json!({"location": POINT, "category": "fire"}))).await;
    assert_eq!(st, 201, "{inc}");
    let (st, r) = call(
        Method::POST,
        s.url("/api/v1/responders"),
        Some(json!({"name": "x", "kind": "grid_worker", "location": POINT})),
    )
    .await;
    assert_eq!(st, 201, "{r}");
    let (gx, gy) = Crs::Gcj02.from_wgs84(POINT[0], POINT[1]);
    let near = |v: &Value, x: f64, y: f64| {
        (v[0].as_f64().expect("x") - x).abs() < 1e-9 && (v[1].as_f64().expect("y") - y).abs() < 1e-9
    };
    let b = format!("{},{},{},{}", gx - 0.001, gy - 0.001, gx + 0.001, gy + 0.001);
    let (_, list) = get(&s, &format!("/api/v1/incidents?crs=gcj02&bbox={b}")).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "the bbox is read in GCJ-02: {list}");
    assert!(near(&list["items"][0]["location"], gx, gy), "{list}");
    let (_, wgs) = get(&s, &format!("/api/v1/incidents?bbox={b}")).await;
    assert_eq!(wgs["items"], json!([]), "the same numbers in WGS84 miss it (≈ 500 m off)");
    let (_, one) = get(&s, &format!("/api/v1/incidents/{}?crs=gcj02", inc["id"])).await;
    assert!(near(&one["location"], gx, gy), "{one}");
    let (bx, by) = Crs::Bd09.from_wgs84(POINT[0], POINT[1]);
    let (_, rs) = get(&s, "/api/v1/responders?crs=bd09").await;
    assert!(near(&rs["items"][0]["location"], bx, by), "{rs}");
    let (st, v) = get(&s, "/api/v1/responders?crs=mars").await;
    assert_eq!((st, v["error"]["code"].as_str()), (400, Some("invalid_crs")));
}

both_stores!(relations_and_queries, metrics_count_requests, openapi_document, items_in_vendor_coordinates);
