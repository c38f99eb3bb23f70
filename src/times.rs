//! Times as answers and the audit log write them: RFC 3339 with offset.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Formats a timestamp as RFC 3339.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}
