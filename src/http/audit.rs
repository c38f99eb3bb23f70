//! `GET /audit`: the audit log, newest first, for `gis_admin` keys.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::ApiQuery;
use super::reply::Page;
use super::{ApiError, AppState};
use crate::audit::{AuditEntry, AuditFilter};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only this action (e.g. `incident.assigned`).
    action: Option<String>,
    /// Only this actor.
    actor: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// Page size, 1 … 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The audit log (gis_admin)
#[utoipa::path(
    get, path = "/audit", tag = "operations",
    params(ListQuery),
    security(("bearer" = ["admin"])),
    responses((status = 200, body = Page<AuditEntry>))
)]
async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let limit = super::params::limit(q.limit, 100, 1000)?;
    let filter = AuditFilter { action: q.action, actor: q.actor, before_id: q.cursor, limit };
    let items = state.audit.list(&filter).await?;
    Ok(Json(Page::of(items, limit, |e| e.id.to_string())))
}
