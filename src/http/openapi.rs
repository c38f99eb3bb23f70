//! `GET /openapi.json` (OpenAPI 3.1, derived from the endpoints' declarations: see [`super::contract`]) and
//! `GET /docs` (a page that renders it, offline).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(document)).routes(routes!(docs))
}

/// This document
#[utoipa::path(get, path = "/openapi.json", tag = "operations", security(()), responses((status = 200, body = Object)))]
async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/vnd.oai.openapi+json;version=3.1")], super::contract::document())
        .into_response()
}

/// API documentation page
#[utoipa::path(get, path = "/docs", tag = "operations", security(()), responses((status = 200, description = "An HTML page", content_type = "text/html", body = String)))]
async fn docs() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], include_str!("../../web/docs.html")).into_response()
}
