//! Query parameters shared by several endpoints: bbox, time, status lists.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ApiError;
use crate::incidents::IncidentStatus;

/// `min_lon,min_lat,max_lon,max_lat`.
pub(super) fn bbox_param(raw: &str) -> Result<[f64; 4], ApiError> {
    let bad = |what: &str| ApiError::bad_request("invalid_bbox", format!("bbox={raw:?}: expected {what}"));
    let n: Vec<f64> = raw
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("min_lon,min_lat,max_lon,max_lat"))?;
    match n[..] {
        [a, b, c, d] if a <= c && b <= d && n.iter().all(|v| v.is_finite()) => Ok([a, b, c, d]),
        _ => Err(bad("four numbers min_lon,min_lat,max_lon,max_lat with min ≤ max")),
    }
}

/// An RFC 3339 time.
pub(super) fn time_param(name: &str, raw: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(raw, &Rfc3339).map_err(|e| {
        ApiError::bad_request("invalid_time", format!("{name}={raw:?} is not an RFC 3339 time with offset: {e}"))
    })
}

/// A comma-separated list of incident states (empty: any).
pub(super) fn statuses_param(raw: Option<&str>) -> Result<Vec<IncidentStatus>, ApiError> {
    match raw {
        None | Some("") => Ok(Vec::new()),
        Some(raw) => raw
            .split(',')
            .map(|s| s.trim().parse::<IncidentStatus>())
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::bad_request("invalid_status", e.to_string())),
    }
}
