//! The browser console (`web/`), compiled into the binary (build.rs embeds every file of `web/`) so `gridmap serve`
//! brings it up anywhere, offline. `serve --web-dir DIR` serves the files from a folder instead, for console work
//! without rebuilding the server.

use std::path::{Component, Path as FsPath};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{ApiError, AppState};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_files.rs"));
}

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/", get(index)).route("/web/{*path}", get(file))
}

async fn index(State(state): State<AppState>) -> Result<Response, ApiError> {
    file(State(state), Path("index.html".to_owned())).await
}

async fn file(State(state): State<AppState>, Path(path): Path<String>) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("/web/{path} does not exist"));
    let bytes: bytes::Bytes = match &state.web_dir {
        Some(dir) => {
            let rel = FsPath::new(&path);
            if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(not_found());
            }
            tokio::fs::read(dir.join(rel)).await.map_err(|_| not_found())?.into()
        }
        None => embedded::FILES
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, b)| bytes::Bytes::from_static(b))
            .ok_or_else(not_found)?,
    };
    // Vendored libraries change only with a new binary; the console's own files are revalidated on each load.
    let cache = if path.starts_with("vendor/") { "public, max-age=86400" } else { "no-cache" };
    Ok(([(header::CONTENT_TYPE, content_type(&path)), (header::CACHE_CONTROL, cache)], bytes).into_response())
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("wav") => "audio/wav",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
