//! Any bytes as the JSON body of the write and lookup endpoints (POST /locate, POST /positions, PUT
//! /responders/{id}/position, POST /incidents, POST /incidents/{id}/status), through the real router on a SQLite
//! store with the sample boundaries: a 2xx or 4xx answer, never a 5xx or a panic. The first byte picks the endpoint.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct App {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
        let dir = tempfile::tempdir().expect("tmp");
        let url = format!("sqlite://{}", dir.path().join("fuzz.db").display());
        let router = runtime.block_on(async {
            let store = gridmap::store::open(&url).await.expect("store");
            let started = gridmap::service::start(store, gridmap::service::Options::default()).await.expect("start");
            // One responder and one incident for the endpoints that name one.
            let limits = gridmap::http::HttpLimits {
                body_limit_bytes: 1 << 20,
                request_timeout: std::time::Duration::from_secs(10),
            };
            let router = gridmap::http::app(started.state, limits);
            for (uri, body) in [
                ("/api/v1/responders", r#"{"name":"fuzz","kind":"vehicle","location":[118.79,32.02]}"#),
                ("/api/v1/incidents", r#"{"location":[118.79,32.02],"category":"fire"}"#),
            ] {
                let req = Request::builder()
                    .method(Method::POST)
                    .uri(uri)
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .expect("request");
                let status = router.clone().oneshot(req).await.expect("answer").status();
                assert!(status.is_success(), "{uri}: {status}");
            }
            router
        });
        App { runtime, router, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let (method, uri) = match pick % 5 {
        0 => (Method::POST, "/api/v1/locate"),
        1 => (Method::POST, "/api/v1/positions"),
        2 => (Method::PUT, "/api/v1/responders/1/position"),
        3 => (Method::POST, "/api/v1/incidents"),
        _ => (Method::POST, "/api/v1/incidents/1/status"),
    };
    let app = app();
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
        .expect("request");
    let status = app.runtime.block_on(app.router.clone().oneshot(req)).expect("answer").status();
    assert!(!status.is_server_error(), "{uri} answered {status} to {:?}", String::from_utf8_lossy(body));
});
