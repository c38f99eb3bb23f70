//! Safety hazards (安全隐患): a point or an area, a category, a severity and the department responsible, tracked
//! `open → rectifying → closed`; closing (销账) needs a note; past their due date and not closed they are overdue.

mod storage;
pub use storage::HazardStore;

mod service;

use std::str::FromStr;

use serde::Serialize;
use time::OffsetDateTime;

pub use service::{CreateHazard, HazardError, HazardService};

use crate::coord::LonLat;
use crate::crs::{GeometryOut, Position};
use crate::locate::Geocode;

/// Categories accepted by default: `(code, 中文)`.
pub const DEFAULT_HAZARD_CATEGORIES: &[(&str, &str)] = &[
    ("fire_safety", "消防安全"),
    ("gas", "燃气安全"),
    ("electrical", "用电安全"),
    ("building", "房屋安全"),
    ("traffic_safety", "交通安全"),
    ("flood", "防汛"),
    ("public_facility", "公共设施"),
    ("other", "其他"),
];

/// Identifier of a hazard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = i64)]
pub struct HazardId(pub i64);

impl From<i64> for HazardId {
    fn from(id: i64) -> Self {
        Self(id)
    }
}

impl std::fmt::Display for HazardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a hazard is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HazardStatus {
    /// Found, nothing done yet.
    Open,
    /// Being put right (整改中).
    Rectifying,
    /// Put right and signed off (销账).
    Closed,
}

/// A status name that is not a hazard state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hazard status {0:?}: expected open, rectifying or closed")]
pub struct UnknownHazardStatus(pub String);

impl HazardStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            HazardStatus::Open => "open",
            HazardStatus::Rectifying => "rectifying",
            HazardStatus::Closed => "closed",
        }
    }

    /// States this one may move to: rectification can fail (back to open); closing is final.
    pub fn next(self) -> &'static [HazardStatus] {
        match self {
            HazardStatus::Open => &[HazardStatus::Rectifying, HazardStatus::Closed],
            HazardStatus::Rectifying => &[HazardStatus::Closed, HazardStatus::Open],
            HazardStatus::Closed => &[],
        }
    }
}

impl FromStr for HazardStatus {
    type Err = UnknownHazardStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(HazardStatus::Open),
            "rectifying" => Ok(HazardStatus::Rectifying),
            "closed" => Ok(HazardStatus::Closed),
            other => Err(UnknownHazardStatus(other.to_owned())),
        }
    }
}

/// A hazard to store.
#[derive(Debug, Clone)]
pub struct NewHazard {
    /// Category code.
    pub category: String,
    /// What it is.
    pub description: String,
    /// 1 (major, 重大) … 4 (minor).
    pub severity: i32,
    /// Department responsible for putting it right.
    pub department: String,
    /// GeoJSON geometry (Point, Polygon or MultiPolygon), WGS84.
    pub geometry: serde_json::Value,
    /// A point inside it (the geometry's own point, or an interior point of the area).
    pub location: LonLat,
    /// Codes at that point.
    pub geocode: Geocode,
    /// Rectification deadline.
    pub due_at: Option<OffsetDateTime>,
    /// When found.
    pub reported_at: OffsetDateTime,
    /// Who reported it.
    pub actor: String,
}

/// A stored hazard.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Hazard {
    /// Id.
    pub id: HazardId,
    /// Category.
    pub category: String,
    /// Description.
    pub description: String,
    /// 1 … 4.
    pub severity: i32,
    /// Responsible department.
    pub department: String,
    /// State.
    pub status: HazardStatus,
    /// GeoJSON geometry (in the answer's `crs`).
    pub geometry: GeometryOut,
    /// `[lon, lat]` of a point inside it (in the answer's `crs`).
    pub location: Position,
    /// Codes at that point.
    #[serde(flatten)]
    pub geocode: Geocode,
    /// Deadline.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<OffsetDateTime>,
    /// Found.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub reported_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// Not closed and past its deadline (at the time of reading).
    pub overdue: bool,
}

/// One step of a hazard's history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HazardEvent {
    /// Previous state (null for the report).
    pub from: Option<HazardStatus>,
    /// New state.
    pub to: HazardStatus,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// Who.
    pub actor: String,
    /// Note (required when closing).
    pub note: Option<String>,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct HazardFilter {
    /// `[min_lon, min_lat, max_lon, max_lat]` (of the inside point).
    pub bbox: Option<[f64; 4]>,
    /// Street code.
    pub street: Option<String>,
    /// Community code.
    pub community: Option<String>,
    /// Grid code.
    pub grid: Option<String>,
    /// Any of these states (empty: any).
    pub status: Vec<HazardStatus>,
    /// Category.
    pub category: Option<String>,
    /// Only those not closed and due before this time.
    pub overdue_at: Option<OffsetDateTime>,
    /// Reported at or after.
    pub from: Option<OffsetDateTime>,
    /// Reported before.
    pub to: Option<OffsetDateTime>,
    /// Only ids below this.
    pub before_id: Option<HazardId>,
    /// Page size.
    pub limit: u32,
}
