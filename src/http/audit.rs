//! `GET /audit`: the audit log, newest first, for `gis_admin` keys.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::audit::AuditFilter;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    action: Option<String>,
    actor: Option<String>,
    cursor: Option<i64>,
    limit: Option<u32>,
}

/// `GET /audit?action=&actor=&limit=&cursor=`: `{"items": [{"id", "at", "actor", "action", "target", "details"}],
/// "next_cursor"}`.
async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", format!("limit={limit}: expected 1 … 1000")));
    }
    let filter = AuditFilter { action: q.action, actor: q.actor, before_id: q.cursor, limit };
    let items = state.audit.list(&filter).await?;
    let next_cursor = (items.len() == limit as usize).then(|| items.last().map(|e| e.id)).flatten();
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
}
