//! `GET /assessment`: the 考核 table of a period by street, community, grid, department or responder, as JSON, CSV
//! or XLSX.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::ApiQuery;
use super::params::{Time, time};
use super::{ApiError, AppState};
use crate::assessment::{Assessment, AssessmentError, AssessmentQuery, Level};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(assessment))
}

impl From<AssessmentError> for ApiError {
    fn from(e: AssessmentError) -> Self {
        match e {
            AssessmentError::EmptyPeriod { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_period", e.to_string())
            }
            AssessmentError::Store(s) => ApiError::store(&s),
            AssessmentError::Patrols(p) => p.into(),
            AssessmentError::Departments(d) => d.into(),
            AssessmentError::Task(_) => ApiError::internal(&e),
        }
    }
}

/// How the answer is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum Format {
    /// `{"rows": […]}`.
    #[default]
    Json,
    /// CSV, UTF-8 with BOM, headed by the JSON field names.
    Csv,
    /// An XLSX workbook with Chinese headings.
    Xlsx,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Params {
    /// The rows: street, community, grid (default), department or responder.
    #[param(inline)]
    by: Option<Level>,
    /// Incidents reported at or after (RFC 3339; default 30 days before `to`).
    #[param(inline)]
    from: Option<Time>,
    /// … and before (RFC 3339; default now).
    #[param(inline)]
    to: Option<Time>,
    /// Only this category.
    category: Option<String>,
    /// json (default), csv or xlsx.
    #[param(inline)]
    format: Option<Format>,
}

/// Assessment (考核) of a period
///
/// Per street, community or grid of the served generation (every one, with or without incidents), per department
/// (the register, and department names of imported history) or per responder (the roster; an incident counts for
/// each responder ever assigned to it): incidents reported in `[from, to)`, handled (resolved or closed), open,
/// overdue, the on-time rate, median and 90th-percentile time to handle, returns, satisfaction, patrol coverage and
/// incidents per km². `format=csv` or `format=xlsx` answers the same rows as a download for the monthly report.
#[utoipa::path(
    get, path = "/assessment", tag = "statistics",
    params(Params),
    security(("bearer" = ["read"])),
    responses(
        (status = 200, body = Assessment, content_type = "application/json"),
        (status = 200, description = "format=csv", body = String, content_type = "text/csv"),
        (status = 200, description = "format=xlsx", body = Vec<u8>,
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )
)]
async fn assessment(State(state): State<AppState>, ApiQuery(p): ApiQuery<Params>) -> Result<Response, ApiError> {
    let to = time(p.to).unwrap_or_else(time::OffsetDateTime::now_utc);
    let from = time(p.from).unwrap_or(to - time::Duration::days(30));
    let q = AssessmentQuery { by: p.by.unwrap_or(Level::Grid), from, to, category: p.category };
    let a = state.assessment.assess(&q).await?;
    let format = p.format.unwrap_or_default();
    if format == Format::Json {
        return Ok(Json(a).into_response());
    }
    let name = file_name(&a);
    let (bytes, content_type, ext) = tokio::task::spawn_blocking(move || match format {
        Format::Xlsx => crate::assessment::xlsx(&a)
            .map(|b| (b, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")),
        _ => crate::assessment::csv(&a).map(|b| (b, "text/csv; charset=utf-8", "csv")),
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `assessment-grid-2026-11-01-2026-12-01`: the period's dates as the caller gave them (in their offset; the end
/// exclusive), ASCII so any client saves it as named.
fn file_name(a: &Assessment) -> String {
    format!("assessment-{}-{}-{}", a.by.as_str(), a.from.date(), a.to.date())
}
