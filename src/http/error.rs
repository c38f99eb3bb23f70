//! The one error type of the HTTP layer and its JSON shape: `{"error": {"code", "message", "details"}}`.
//! 4xx explain the problem to the caller; 5xx say only "internal error" and the cause goes to the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::catalog::CatalogError;
use crate::layers::GenerationError;
use crate::store_error::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Value,
}

impl ApiError {
    /// A 400 with a machine code and a sentence.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: json!({}) }
    }

    /// Adds details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// A body refused for its field `field` gets `code` instead of `invalid_json` (a field with its own code
    /// everywhere, like `status`).
    pub fn recode_field(mut self, field: &str, code: &'static str) -> Self {
        if self.code == "invalid_json" && self.details["field"] == field {
            self.code = code;
        }
        self
    }

    /// A storage failure: 503 `store_unavailable` when the database cannot be reached (what is served from memory
    /// keeps answering; the write can be retried once it is back), else a 500.
    pub fn store(e: &StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unreachable");
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the database is unreachable: nothing was written; retry once it is back (lookups, boundary tiles and \
                 nearest responders keep answering from memory)",
            );
        }
        Self::internal(e)
    }

    /// The code and details (for tests of the shape).
    #[cfg(test)]
    pub(super) fn code_and_details(&self) -> (&'static str, &Value) {
        (self.code, &self.details)
    }

    /// A 500 whose cause is logged, not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message, "details": self.details}});
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::store(&e)
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Generation(e @ GenerationError::NotFound(_)) => {
                ApiError::new(StatusCode::NOT_FOUND, "generation_not_found", e.to_string())
            }
            CatalogError::Generation(e @ GenerationError::NothingToRollBack) => {
                ApiError::new(StatusCode::CONFLICT, "nothing_to_roll_back", e.to_string())
            }
            CatalogError::Generation(e @ GenerationError::InUse { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "generation_in_use", e.to_string())
            }
            CatalogError::Generation(GenerationError::Store(s)) => ApiError::store(&s),
            CatalogError::Import(e) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unreadable_file", e.to_string())
            }
            CatalogError::LayerTwice(_) => ApiError::bad_request("layer_twice", e.to_string()),
            CatalogError::Store(s) => ApiError::store(&s),
            other => ApiError::internal(&other),
        }
    }
}
