//! `GET /stats/grids` on both stores: every grid of the served generation is listed; counts, open/closed and the
//! median time to close equal a direct computation over the stored incidents; areas add up to the district's; a
//! process started later (loading its ledger from the store) gives the same figures.

use std::collections::BTreeMap;

use crate::common::{TestServer, call};
use reqwest::Method;
use serde_json::{Value, json};

both_stores!(grid_stats_equal_a_direct_count);

async fn grid_stats_equal_a_direct_count(url: &str) {
    let s = TestServer::start(url, true).await;
    let pts = [[118.79, 32.02], [118.7901, 32.0201], [118.80, 32.03], [118.78, 32.01], [118.79, 32.02]];
    let mut ids = Vec::new();
    for (i, p) in pts.iter().enumerate() {
        let category = if i == 3 { "traffic" } else { "fire" };
        let (st, inc) =
            call(Method::POST, s.url("/api/v1/incidents"), Some(json!({"location": p, "category": category}))).await;
        assert_eq!(st, 201, "{inc}");
        ids.push((inc["id"].as_i64().expect("id"), inc["grid_code"].as_str().expect("grid").to_owned()));
    }
    // Close the first two (reported → resolved → closed), cancel the third.
    for (id, _) in &ids[..2] {
        for status in ["resolved", "closed"] {
            let (st, v) =
                call(Method::POST, s.url(&format!("/api/v1/incidents/{id}/status")), Some(json!({"status": status})))
                    .await;
            assert_eq!(st, 200, "{v}");
        }
    }
    let (st, _) = call(
        Method::POST,
        s.url(&format!("/api/v1/incidents/{}/status", ids[2].0)),
        Some(json!({"status": "cancelled"})),
    )
    .await;
    assert_eq!(st, 200);

    let (st, body) = call(Method::GET, s.url("/api/v1/stats/grids"), None).await;
    assert_eq!(st, 200, "{body}");
    let rows = body["grids"].as_array().expect("grids");
    assert_eq!(rows.len(), 756, "every grid is listed");
    let area: f64 = rows.iter().map(|r| r["area_km2"].as_f64().expect("area")).sum();
    assert!((40.0..60.0).contains(&area), "grids cover {area} km² (Qinhuai is about 49 km²)");
    let by_code: BTreeMap<&str, &Value> = rows.iter().map(|r| (r["code"].as_str().expect("code"), r)).collect();

    let mut want: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for (i, (_, grid)) in ids.iter().enumerate() {
        let e = want.entry(grid.as_str()).or_default();
        e.0 += 1;
        if i >= 3 {
            e.1 += 1; // still open
        }
        if i < 2 {
            e.2 += 1; // closed
        }
    }
    for (grid, (total, open, closed)) in &want {
        let r = by_code[grid];
        assert_eq!(
            (r["total"].as_u64(), r["open"].as_u64(), r["closed"].as_u64()),
            (Some(*total), Some(*open), Some(*closed)),
            "{grid}: {r}"
        );
        let per_km2 = r["per_km2"].as_f64().expect("density");
        assert!((per_km2 - *total as f64 / r["area_km2"].as_f64().expect("area")).abs() < 1e-9);
        assert_eq!(r["median_close_s"].is_number(), *closed > 0, "{r}");
    }
    let untouched = rows.iter().filter(|r| r["total"] == 0).count();
    assert_eq!(untouched, 756 - want.len());

    // Category and time filters.
    let (_, body) = call(Method::GET, s.url("/api/v1/stats/grids?category=traffic"), None).await;
    let total: u64 = body["grids"].as_array().expect("grids").iter().map(|r| r["total"].as_u64().expect("n")).sum();
    assert_eq!(total, 1);
    let (_, body) = call(Method::GET, s.url("/api/v1/stats/grids?to=2020-01-01T00:00:00Z"), None).await;
    assert!(body["grids"].as_array().expect("grids").iter().all(|r| r["total"] == 0));
    let (st, _) = call(Method::GET, s.url("/api/v1/stats/grids?from=yesterday"), None).await;
    assert_eq!(st, 400);

    // A process started later loads the same figures from the store (the ledger's start-up path).
    let (_, before) = call(Method::GET, s.url("/api/v1/stats/grids"), None).await;
    let (_, heat_before) = call(Method::GET, s.url("/api/v1/heatmap?resolution=9"), None).await;
    let later = TestServer::start(url, true).await;
    let (_, after) = call(Method::GET, later.url("/api/v1/stats/grids"), None).await;
    let (_, heat_after) = call(Method::GET, later.url("/api/v1/heatmap?resolution=9"), None).await;
    assert_eq!(after, before);
    assert_eq!(heat_after, heat_before);
}
