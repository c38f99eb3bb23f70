//! Typed query parameters shared by several endpoints: `crs`, `bbox`, times, status lists, ids. Each parses its
//! text in `Deserialize`, so a bad value is refused by [`super::contract::ApiQuery`] naming the parameter, and each
//! describes itself to the OpenAPI document.

use std::str::FromStr;

use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ApiError;
use crate::crs::Crs;
use crate::incidents::IncidentStatus;

/// Deserialises a parameter from its text through `FromStr`, with the parser's message as the refusal.
fn via_from_str<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let raw = std::borrow::Cow::<str>::deserialize(d)?;
    raw.parse().map_err(serde::de::Error::custom)
}

macro_rules! from_text {
    ($($t:ty),*) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                via_from_str(d)
            }
        }
    )*};
}

/// The coordinate system of a request's coordinates and of the answer's (`wgs84` when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrsParam(pub Crs);

impl utoipa::PartialSchema for CrsParam {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:4326", "EPSG:4490", "CRS84"]))
            .description(Some(
                "Coordinate system of the request's coordinates and of the answer's: wgs84 (default; also EPSG:4326, \
                 CRS84), cgcs2000 (EPSG:4490), gcj02 (Amap, Tencent) or bd09 (Baidu)",
            ))
            .into()
    }
}

impl utoipa::ToSchema for CrsParam {}

impl FromStr for CrsParam {
    type Err = crate::crs::UnknownCrs;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(CrsParam)
    }
}

/// The coordinate system of an optional `crs` parameter.
pub(super) fn crs(p: Option<CrsParam>) -> Crs {
    p.map_or(Crs::Wgs84, |c| c.0)
}

/// `min_lon,min_lat,max_lon,max_lat` with min ≤ max (in the request's `crs`).
#[derive(Debug, Clone, Copy, PartialEq, utoipa::ToSchema)]
#[schema(value_type = String, example = "118.76,31.98,118.82,32.04", pattern = r"^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$")]
pub struct Bbox(pub [f64; 4]);

impl FromStr for Bbox {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let n: Vec<f64> = raw
            .split(',')
            .map(|v| v.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| "expected min_lon,min_lat,max_lon,max_lat".to_owned())?;
        match n[..] {
            [a, b, c, d] if a <= c && b <= d && n.iter().all(|v| v.is_finite()) => Ok(Bbox([a, b, c, d])),
            _ => Err("expected four numbers min_lon,min_lat,max_lon,max_lat with min ≤ max".to_owned()),
        }
    }
}

impl Bbox {
    /// The box's corners converted from `crs` to WGS84.
    pub(super) fn wgs84(self, crs: Crs) -> [f64; 4] {
        let [a, b, c, d] = self.0;
        let (x0, y0) = crs.to_wgs84(a, b);
        let (x1, y1) = crs.to_wgs84(c, d);
        [x0, y0, x1, y1]
    }
}

/// An RFC 3339 time with offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(value_type = String, format = DateTime, example = "2026-11-28T09:00:00+08:00")]
pub struct Time(pub OffsetDateTime);

impl FromStr for Time {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        OffsetDateTime::parse(raw, &Rfc3339)
            .map(Time)
            .map_err(|e| format!("not an RFC 3339 time with offset (e.g. 2026-11-28T09:00:00+08:00): {e}"))
    }
}

/// The time of an optional parameter.
pub(super) fn time(p: Option<Time>) -> Option<OffsetDateTime> {
    p.map(|t| t.0)
}

/// A comma-separated list of incident states (empty: any).
#[derive(Debug, Clone, PartialEq, Eq, Default, utoipa::ToSchema)]
#[schema(
    value_type = String,
    example = "reported,dispatched",
    pattern = r"^((reported|dispatched|on_scene|resolved|closed|cancelled)(,(reported|dispatched|on_scene|resolved|closed|cancelled))*)?$"
)]
pub struct StatusList(pub Vec<IncidentStatus>);

impl FromStr for StatusList {
    type Err = crate::incidents::UnknownStatus;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        raw.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse())
            .collect::<Result<_, _>>()
            .map(StatusList)
    }
}

/// A comma-separated list of layers (`streets,grids`; empty: all three).
#[derive(Debug, Clone, PartialEq, Eq, Default, utoipa::ToSchema)]
#[schema(
    value_type = String,
    example = "grids",
    pattern = r"^((streets|communities|grids)(,(streets|communities|grids))*)?$"
)]
pub struct LayerList(pub Vec<crate::layers::Layer>);

impl FromStr for LayerList {
    type Err = crate::layers::UnknownLayer;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        raw.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse())
            .collect::<Result<_, _>>()
            .map(LayerList)
    }
}

impl LayerList {
    /// The layers a lookup answers (all three when none are named).
    pub(super) fn set(list: Option<&LayerList>) -> crate::locate::LayerSet {
        match list {
            Some(l) if !l.0.is_empty() => crate::locate::LayerSet::of(&l.0),
            _ => crate::locate::LayerSet::ALL,
        }
    }
}

/// A comma-separated list of grid codes (empty: any grid).
#[derive(Debug, Clone, PartialEq, Eq, Default, utoipa::ToSchema)]
#[schema(value_type = String, example = "320104001001001,320104001001002")]
pub struct GridList(pub Vec<String>);

/// Most codes a [`GridList`] takes (a query string stays well under common URL limits).
pub const MAX_GRID_LIST: usize = 500;

/// A grid list longer than [`MAX_GRID_LIST`].
#[derive(Debug, thiserror::Error)]
#[error("{0} grid codes: at most {MAX_GRID_LIST} in one list")]
pub struct TooManyGrids(usize);

impl FromStr for GridList {
    type Err = TooManyGrids;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let codes: Vec<String> = raw.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
        if codes.len() > MAX_GRID_LIST {
            return Err(TooManyGrids(codes.len()));
        }
        Ok(GridList(codes))
    }
}

from_text!(CrsParam, Bbox, Time, StatusList, LayerList, GridList);

/// An RFC 3339 time in a JSON body (a field named `field`).
pub(super) fn time_field(field: &str, raw: &str) -> Result<OffsetDateTime, ApiError> {
    raw.parse::<Time>().map(|t| t.0).map_err(|e| ApiError::bad_request("invalid_time", format!("{field}={raw:?}: {e}")))
}

/// A page size in 1 … `max` (default `default`).
pub(super) fn limit(raw: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    let limit = raw.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::bad_request("invalid_limit", format!("limit={limit}: expected 1 … {max}"))
            .with_details(serde_json::json!({"parameter": "limit"})))
    }
}

/// A numeric id in a path (`what` names it in the refusal).
pub(super) fn id<T: From<i64>>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse::<i64>()
        .map(T::from)
        .map_err(|_| ApiError::bad_request("invalid_id", format!("{what} id {raw:?} is not a number")))
}
