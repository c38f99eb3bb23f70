//! `POST /imports`: a boundary file uploaded as `multipart/form-data` (`file`, optional `sidecar` files for a bare
//! `.shp`, and the CLI's options as text fields), imported through the same `Catalog::import` as `gridmap import`.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::catalog::{ImportFile, ImportMode};
use crate::import::{ReadOptions, Sidecars};
use crate::layers::{GenerationId, Layer};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/imports", post(import))
}

fn flag(field: &str, v: &str) -> Result<bool, ApiError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(ApiError::bad_request("invalid_field", format!("{field}: {other:?} is not true or false"))),
    }
}

async fn import(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    mut form: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // A body over --body-limit-mb is a 413 (the multipart error carries the status), anything else a 400.
    let bad = |e: axum::extract::multipart::MultipartError| {
        let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "invalid_multipart" };
        ApiError::new(e.status(), code, e.body_text())
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut sidecars = Sidecars::default();
    let mut text = std::collections::HashMap::new();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" | "sidecar" => {
                let file_name = field.file_name().map(str::to_owned).ok_or_else(|| {
                    ApiError::bad_request("invalid_field", format!("{name}: the part needs a filename"))
                })?;
                let bytes = field.bytes().await.map_err(bad)?.to_vec();
                if name == "file" {
                    file = Some((file_name, bytes));
                } else if let Some((_, ext)) = file_name.rsplit_once('.') {
                    sidecars.0.insert(ext.to_ascii_lowercase(), bytes);
                }
            }
            "layer" | "code_field" | "name_field" | "parent_field" | "crs" | "encoding" | "member" | "dry_run"
            | "activate" | "base" | "fix" => {
                text.insert(name, field.text().await.map_err(bad)?);
            }
            other => return Err(ApiError::bad_request("invalid_field", format!("unknown form field {other:?}"))),
        }
    }
    let (file_name, bytes) =
        file.ok_or_else(|| ApiError::bad_request("missing_file", "the form has no `file` part"))?;
    let layer: Layer = text
        .get("layer")
        .ok_or_else(|| ApiError::bad_request("missing_layer", "the form has no `layer` field"))?
        .parse()
        .map_err(|e: crate::layers::UnknownLayer| ApiError::bad_request("invalid_layer", e.to_string()))?;
    let mut options = ReadOptions::new(layer);
    for (key, slot) in [
        ("code_field", &mut options.code_field),
        ("name_field", &mut options.name_field),
        ("parent_field", &mut options.parent_field),
    ] {
        if let Some(v) = text.get(key).filter(|v| !v.trim().is_empty()) {
            *slot = v.trim().to_owned();
        }
    }
    if let Some(c) = text.get("crs").filter(|v| !v.trim().is_empty()) {
        options.crs = Some(
            c.parse().map_err(|e: crate::crs::ImportCrsError| ApiError::bad_request("invalid_crs", e.to_string()))?,
        );
    }
    options.encoding = text.get("encoding").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    options.member = text.get("member").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    options.sidecars = sidecars;
    options.fix = text.get("fix").map(|v| flag("fix", v)).transpose()?.unwrap_or(false);
    let base =
        match text.get("base").map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(GenerationId(v.parse().map_err(|_| {
                ApiError::bad_request("invalid_field", format!("base: {v:?} is not a generation number"))
            })?)),
        };
    let mode = ImportMode {
        dry_run: text.get("dry_run").map(|v| flag("dry_run", v)).transpose()?.unwrap_or(false),
        activate: text.get("activate").map(|v| flag("activate", v)).transpose()?.unwrap_or(false),
        base,
    };
    let reports = state.catalog.import(vec![ImportFile { name: file_name, bytes, options }], mode).await?;
    let report = reports.into_iter().next().ok_or_else(|| ApiError::internal(&"import returned no report"))?;
    state.audit.import(&caller.actor(None), &report).await;
    if !report.valid {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_rejected",
            format!("{}: rejected with {} error(s), nothing written", report.file, report.errors.len()),
        )
        .with_details(json!({"report": report})));
    }
    let status = if report.generation.is_some() { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"id": report.generation, "generation": report.generation, "report": report}))))
}
