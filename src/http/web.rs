//! The browser console (`web/`), compiled into the binary so `gridmap serve` brings it up anywhere, offline.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{ApiError, AppState};

/// (path under /web/, content type, bytes, cache for a day).
const FILES: &[(&str, &str, &[u8], bool)] = &[
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../web/app.js"), false),
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../web/app.css"), false),
    (
        "vendor/maplibre-gl.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/vendor/maplibre-gl.js"),
        true,
    ),
    ("vendor/maplibre-gl.css", "text/css; charset=utf-8", include_bytes!("../../web/vendor/maplibre-gl.css"), true),
];

const INDEX: &[u8] = include_bytes!("../../web/index.html");

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/", get(index)).route("/web/{*path}", get(file))
}

async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], INDEX).into_response()
}

async fn file(Path(path): Path<String>) -> Result<Response, ApiError> {
    let Some((_, kind, bytes, long)) = FILES.iter().find(|(p, ..)| *p == path) else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("/web/{path} does not exist")));
    };
    let cache = if *long { "public, max-age=86400" } else { "no-cache" };
    Ok(([(header::CONTENT_TYPE, *kind), (header::CACHE_CONTROL, cache)], *bytes).into_response())
}
