//! `POST /incidents/load`: a district's past events uploaded as `multipart/form-data` (`file`, `map`); the rules are
//! the history service's.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::ApiQuery;
use super::imports::multipart_error;
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::history::{HistoryError, HistoryReport, TableError};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(load))
}

impl From<HistoryError> for ApiError {
    fn from(e: HistoryError) -> Self {
        fn unprocessable(code: &'static str, e: &HistoryError) -> ApiError {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
        }
        match &e {
            HistoryError::Table(TableError::Format { .. }) => unprocessable("unsupported_format", &e),
            HistoryError::Table(TableError::Unreadable { .. }) => unprocessable("unreadable_file", &e),
            HistoryError::Map(_) => unprocessable("invalid_map", &e),
            HistoryError::Rejected { report, .. } => {
                let details = serde_json::json!({"report": report});
                unprocessable("rows_rejected", &e).with_details(details)
            }
            HistoryError::Store(s) => ApiError::store(s),
        }
    }
}

/// The upload form.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes the multipart form for the OpenAPI document; read field by field")]
struct LoadForm {
    /// The events (.csv in UTF-8 or GBK/GB18030, .xlsx/.xls/.ods, .geojson of points).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The import map (JSON; see docs/history-import.md).
    #[schema(value_type = String, format = Binary)]
    map: Vec<u8>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LoadQuery {
    /// Check only: the report, nothing written.
    dry_run: Option<bool>,
}

/// Import past incidents (history) from a file and a map (gis_admin)
///
/// Every row is checked; a file with any bad row is a 422 `rows_rejected` with the report in `error.details.report`
/// (every unmapped category and status value, each bad row with its row number and field) and nothing is written.
/// Rows whose id is stored already are skipped, so loading the same file twice adds nothing.
#[utoipa::path(
    post, path = "/incidents/load", tag = "incidents",
    params(LoadQuery),
    request_body(content = LoadForm, content_type = "multipart/form-data"),
    security(("bearer" = ["admin"])),
    responses((status = 201, body = HistoryReport), (status = 200, description = "A dry run, or nothing new", body = HistoryReport))
)]
async fn load(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<LoadQuery>,
    mut form: Multipart,
) -> Result<(StatusCode, Json<HistoryReport>), ApiError> {
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut map: Option<Vec<u8>> = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().map(str::to_owned).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_field",
                        "file: the part needs a filename (its extension says the format)",
                    )
                })?;
                file = Some((name, field.bytes().await.map_err(multipart_error)?.to_vec()));
            }
            "map" => map = Some(field.bytes().await.map_err(multipart_error)?.to_vec()),
            other => return Err(ApiError::bad_request("invalid_field", format!("unknown form field {other:?}"))),
        }
    }
    let (name, bytes) = file.ok_or_else(|| ApiError::bad_request("missing_file", "the form has no `file` part"))?;
    let map = map.ok_or_else(|| ApiError::bad_request("missing_map", "the form has no `map` part"))?;
    let dry_run = q.dry_run.unwrap_or(false);
    let actor = caller.actor(None);
    let report = state.history.import(&name, bytes, &map, dry_run, &actor).await?;
    if !dry_run {
        state.audit.record(&actor, "incidents.imported", None, report.audit_details()).await;
    }
    let status = if report.added > 0 { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(report)))
}
