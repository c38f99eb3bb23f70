//! `POST /imports`: a boundary file uploaded as `multipart/form-data` (`file`, optional `sidecar` files for a bare
//! `.shp`, and the CLI's options as text fields), imported through the same `Catalog::import` as `gridmap import`.

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::catalog::{ImportFile, ImportMode};
use crate::import::{ReadOptions, Report, Sidecars};
use crate::layers::{GenerationId, Layer};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import))
}

/// The upload form.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes the multipart form for the OpenAPI document; read field by field")]
struct ImportForm {
    /// The boundary file (.geojson/.json, .zip, .shp, .kml, .gpkg).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Sidecar files of a bare .shp (.shx, .dbf, .prj, .cpg); repeat the part.
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    sidecar: Option<Vec<Vec<u8>>>,
    /// streets, communities or grids.
    layer: Layer,
    /// Attribute holding the code (default `code`).
    code_field: Option<String>,
    /// Attribute holding the name (default `name`).
    name_field: Option<String>,
    /// Attribute holding the parent's code (default `parent_code`).
    parent_field: Option<String>,
    /// Without a parent field: `location` (the parent covering most of each feature) or `prefix` (the parent whose
    /// code prefixes the feature's); exclusive with `parent_field`.
    parent_from: Option<crate::import::ParentFrom>,
    /// wgs84, cgcs2000, gcj02, bd09 or EPSG:NNNN (default: what the file says, else wgs84).
    crs: Option<String>,
    /// Text encoding of Shapefile attributes.
    encoding: Option<String>,
    /// Which layer of a zip or GeoPackage.
    member: Option<String>,
    /// Validate only (true/false).
    dry_run: Option<bool>,
    /// With `dry_run`: return the features read as `report.preview`, a GeoJSON FeatureCollection in WGS84
    /// (simplified to ~1 m, at most 20 000 features), so the file can be seen on a map before it is imported.
    preview: Option<bool>,
    /// Activate when valid.
    activate: Option<bool>,
    /// Build on this generation instead of the active one.
    base: Option<i64>,
    /// Repair what is safe.
    fix: Option<bool>,
}

/// A written (or dry-run) import.
#[derive(Debug, Serialize, ToSchema)]
struct Imported {
    /// The generation written (`null` for a dry run).
    id: Option<GenerationId>,
    /// The same.
    generation: Option<GenerationId>,
    /// The validation report.
    report: Report,
}

/// A true/false form field (an empty value is true, as a bare checkbox); a refusal names the field.
pub(super) fn flag(field: &str, v: &str) -> Result<bool, ApiError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(ApiError::bad_request("invalid_field", format!("{field}: {other:?} is not true or false"))
            .with_details(serde_json::json!({"field": field}))),
    }
}

/// A multipart form that cannot be read: a body over --body-limit-mb is a 413 (the multipart error carries the
/// status), anything else a 400.
pub(super) fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE { "body_too_large" } else { "invalid_multipart" };
    ApiError::new(e.status(), code, e.body_text())
}

/// Upload a boundary file (multipart): validate, stage, optionally activate
///
/// A rejected file is a 422 `import_rejected` with the report in `error.details.report`; nothing is written.
#[utoipa::path(
    post, path = "/imports", tag = "boundaries",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    security(("bearer" = ["admin"])),
    responses((status = 201, body = Imported), (status = 200, description = "A dry run", body = Imported))
)]
async fn import(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    mut form: Multipart,
) -> Result<(StatusCode, Json<Imported>), ApiError> {
    let bad = multipart_error;
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
            "layer" | "code_field" | "name_field" | "parent_field" | "parent_from" | "crs" | "encoding" | "member"
            | "dry_run" | "activate" | "base" | "fix" | "preview" => {
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
    if let Some(v) = text.get("parent_from").map(|v| v.trim()).filter(|v| !v.is_empty()) {
        if text.get("parent_field").is_some_and(|p| !p.trim().is_empty()) {
            return Err(ApiError::bad_request(
                "invalid_field",
                "parent_from: give either parent_field or parent_from, not both",
            ));
        }
        options.parent_from = Some(match v {
            "location" => crate::import::ParentFrom::Location,
            "prefix" => crate::import::ParentFrom::Prefix,
            other => {
                return Err(ApiError::bad_request(
                    "invalid_field",
                    format!("parent_from: {other:?} is not location or prefix"),
                ));
            }
        });
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
        preview: text.get("preview").map(|v| flag("preview", v)).transpose()?.unwrap_or(false),
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
    Ok((status, Json(Imported { id: report.generation, generation: report.generation, report })))
}
