//! Request bodies: read as bytes, parsed with serde_json, every failure mapped to our error shape.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::ApiError;

/// Parses a JSON body; too large → 413, malformed → 400 with line and column and the field it is about.
pub(super) fn parse<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let body = bytes(body)?;
    let refused = |field: Option<String>, e: serde_json::Error| {
        let at = field.as_deref().map(|f| format!("field {f}: ")).unwrap_or_default();
        ApiError::bad_request("invalid_json", format!("request body: {at}{e}"))
            .with_details(json!({"line": e.line(), "column": e.column(), "field": field}))
    };
    let mut de = serde_json::Deserializer::from_slice(&body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        refused((field != ".").then_some(field), e.into_inner())
    })?;
    de.end().map_err(|e| refused(None, e))?;
    Ok(value)
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
