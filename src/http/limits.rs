//! Bodies over `--body-limit-mb`: a request that declares a larger `Content-Length` is refused with 413 at once,
//! before any handler, and what the client is still sending is read and dropped afterwards (within bounds). Closed
//! mid-upload, the connection would be reset under a client still writing, which then sees a broken pipe (or loses
//! the 413 already sent) — the "lingering close" nginx does for the same reason.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::ApiError;

/// Most of a refused body read before answering.
const LINGER_BYTES: usize = 256 << 20;

/// Longest time spent reading a refused body.
const LINGER: std::time::Duration = std::time::Duration::from_secs(5);

/// Refuses a request whose declared body is over `limit` bytes (bodies without a length are cut by the extractors).
pub(super) async fn refuse_oversized(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_none_or(|n| n <= limit as u64) {
        return next.run(req).await;
    }
    drain_behind(req.into_body());
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!(
            "request body of {} bytes is larger than the configured limit of {limit} bytes (--body-limit-mb)",
            declared.unwrap_or(0)
        ),
    )
    .into_response()
}

/// Reads and drops what is left of a refused request's body, in the background and within bounds, while its answer
/// goes out: the connection keeps reading for the body while it lives, so the client is not reset mid-upload.
pub(super) fn drain_behind(body: axum::body::Body) {
    let mut body = body.into_data_stream();
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + LINGER;
        let mut read = 0usize;
        while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, body.next()).await {
            read += chunk.len();
            if read > LINGER_BYTES {
                break;
            }
        }
    });
}
