//! Request bodies: read as bytes, parsed with serde_json, every failure mapped to our error shape.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::ApiError;

/// Parses a JSON body; too large → 413, malformed → 400 with line and column.
pub(super) fn parse<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>, what: &str) -> Result<T, ApiError> {
    let body = bytes(body)?;
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("request body is not a valid {what}: {e}"))
            .with_details(json!({"line": e.line(), "column": e.column()}))
    })
}

/// A raw body (a file upload); too large → 413 naming the limit.
pub(super) fn bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "request body is larger than the configured limit (--body-limit-mb)",
            )
        } else {
            ApiError::bad_request("unreadable_body", e.body_text())
        }
    })
}
