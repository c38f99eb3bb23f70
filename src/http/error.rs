//! The one error type of the HTTP layer and its JSON shape: `{"error": {"code", "message", "details"}}`.
//! 4xx explain the problem to the caller; 5xx say only "internal error" and the cause goes to the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::catalog::CatalogError;
use crate::store::StoreError;

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

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Store(StoreError::NoSuchGeneration(g)) => {
                ApiError::new(StatusCode::NOT_FOUND, "generation_not_found", format!("generation {g} does not exist"))
            }
            CatalogError::Store(StoreError::NothingToRollBack) => {
                ApiError::new(StatusCode::CONFLICT, "nothing_to_roll_back", StoreError::NothingToRollBack.to_string())
            }
            CatalogError::Import(e) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unreadable_file", e.to_string())
            }
            CatalogError::LayerTwice(_) => ApiError::bad_request("layer_twice", e.to_string()),
            other => ApiError::internal(&other),
        }
    }
}
