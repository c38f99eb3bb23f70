//! Travel-time estimators. The straight-line one is what gridmap has today; a road-network estimator (e.g. over a
//! routing engine's matrix) implements the same trait and plugs into [`super::Dispatcher`] unchanged.

use std::collections::BTreeMap;

use crate::coord::LonLat;

use super::policy::TravelConfig;

/// How one candidate's ETA was made.
#[derive(Debug, Clone, PartialEq)]
pub enum How {
    /// Great-circle distance × detour factor ÷ speed.
    StraightLine,
    /// Along the roads with a profile; the off-road parts walked at each end.
    Road {
        /// The profile (`walk`, `bike`, `vehicle`).
        profile: &'static str,
        /// From the responder to the road, metres.
        from_m: f64,
        /// From the road to the point, metres.
        to_m: f64,
    },
    /// Straight line although a road network is loaded, and why.
    Fallback(String),
}

/// One candidate's estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Eta {
    /// Seconds.
    pub eta_s: f64,
    /// Along the roads, metres (road estimates only).
    pub road_distance_m: Option<f64>,
    /// How it was made.
    pub how: How,
}

impl Eta {
    /// `road` or `straight_line`.
    pub fn method(&self) -> &'static str {
        match self.how {
            How::Road { .. } => "road",
            _ => "straight_line",
        }
    }
}

/// The estimates of one request (one point): a road estimator searches once from the point for every candidate.
pub trait Estimate {
    /// `road` when the request is estimated along the roads, else `straight_line`.
    fn method(&self) -> &'static str;
    /// The estimate for a responder of `kind` at `from`, `distance_m` (great-circle) away.
    fn eta(&mut self, kind: &str, from: LonLat, distance_m: f64) -> Eta;
    /// A lower bound of seconds per metre of great-circle distance for any estimate this request makes.
    fn min_s_per_m(&self) -> f64;
    /// The same bound for a responder of `kind` (at least [`Estimate::min_s_per_m`]): ranking skips a responder
    /// whose bound already loses to the k-th best without estimating it.
    fn min_s_per_m_for(&self, _kind: &str) -> f64 {
        self.min_s_per_m()
    }
}

/// Estimates how long a responder of a kind needs to reach a point.
pub trait TravelTime: Send + Sync + std::fmt::Debug {
    /// The estimates of a request towards `to`.
    fn towards<'a>(&'a self, to: LonLat) -> Box<dyn Estimate + 'a>;
    /// Name given with every estimate (e.g. `straight_line`).
    fn method(&self) -> &'static str;
    /// Seconds from `from` to `to` for a responder of `kind`; `distance_m` is their great-circle distance.
    fn eta_s(&self, kind: &str, from: LonLat, to: LonLat, distance_m: f64) -> f64;
    /// A lower bound of seconds per metre of great-circle distance over all kinds (0 when unknown). Ranking by
    /// ETA uses it to stop searching once nobody farther can arrive sooner.
    fn min_s_per_m(&self) -> f64;
    /// How the estimate for a kind is made, for the candidate's reasons.
    fn explain(&self, kind: &str, distance_m: f64) -> String;
}

/// Great-circle distance × detour factor / speed, both per kind.
#[derive(Debug, Clone)]
pub struct StraightLine {
    config: TravelConfig,
    /// The end of each configured kind's explanation (` m × detour … (kind)`), written once: formatting the two
    /// floats per candidate was half of the explanation's cost.
    described: BTreeMap<String, String>,
}

impl StraightLine {
    /// An estimator with the given parameters (checked by the policy).
    pub fn new(config: TravelConfig) -> Self {
        let mut line = Self { config, described: BTreeMap::new() };
        line.described = line.config.kinds.keys().map(|k| (k.clone(), line.describe(k))).collect();
        line
    }

    fn describe(&self, kind: &str) -> String {
        let (speed, detour) = self.of(kind);
        format!(" m × detour {detour} at {speed} m/s ({kind})")
    }

    /// Seconds per metre of great-circle distance for a kind (its estimates are exactly this × distance).
    pub fn min_s_per_m_of(&self, kind: &str) -> f64 {
        let (speed, detour) = self.of(kind);
        detour / speed
    }

    /// `(speed_mps, detour_factor)` of a kind.
    fn of(&self, kind: &str) -> (f64, f64) {
        match self.config.kinds.get(kind) {
            Some(k) => (k.speed_mps, k.detour_factor.unwrap_or(self.config.detour_factor)),
            None => (self.config.default_speed_mps, self.config.detour_factor),
        }
    }
}

/// A straight-line request: nothing to search.
struct Straight<'a>(&'a StraightLine);

impl Estimate for Straight<'_> {
    fn method(&self) -> &'static str {
        "straight_line"
    }

    fn eta(&mut self, kind: &str, _from: LonLat, distance_m: f64) -> Eta {
        let (speed, detour) = self.0.of(kind);
        Eta { eta_s: distance_m * detour / speed, road_distance_m: None, how: How::StraightLine }
    }

    fn min_s_per_m(&self) -> f64 {
        TravelTime::min_s_per_m(self.0)
    }

    fn min_s_per_m_for(&self, kind: &str) -> f64 {
        self.0.min_s_per_m_of(kind)
    }
}

impl TravelTime for StraightLine {
    fn towards<'a>(&'a self, _to: LonLat) -> Box<dyn Estimate + 'a> {
        Box::new(Straight(self))
    }

    fn method(&self) -> &'static str {
        "straight_line"
    }

    fn eta_s(&self, kind: &str, _from: LonLat, _to: LonLat, distance_m: f64) -> f64 {
        let (speed, detour) = self.of(kind);
        distance_m * detour / speed
    }

    fn min_s_per_m(&self) -> f64 {
        let default = self.config.detour_factor / self.config.default_speed_mps;
        self.config
            .kinds
            .values()
            .map(|k| k.detour_factor.unwrap_or(self.config.detour_factor) / k.speed_mps)
            .fold(default, f64::min)
    }

    fn explain(&self, kind: &str, distance_m: f64) -> String {
        let distance_m = super::rank::whole(distance_m);
        match self.described.get(kind) {
            Some(tail) => format!("straight line {distance_m}{tail}"),
            None => format!("straight line {distance_m}{}", self.describe(kind)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_configured_and_unknown_kinds() {
        let t = StraightLine::new(TravelConfig::default());
        assert_eq!(t.explain("vehicle", 812.5), "straight line 812 m × detour 1.6 at 8 m/s (vehicle)");
        assert_eq!(t.explain("drone", 99.6), "straight line 100 m × detour 1.4 at 3 m/s (drone)");
    }

    #[test]
    fn per_kind_speed_and_detour() {
        let t = StraightLine::new(TravelConfig::default());
        let p = LonLat::new(118.8, 32.0).expect("valid");
        assert!((t.eta_s("grid_worker", p, p, 300.0) - 300.0 * 1.4 / 3.0).abs() < 1e-9);
        assert!((t.eta_s("vehicle", p, p, 800.0) - 800.0 * 1.6 / 8.0).abs() < 1e-9);
        assert!((t.eta_s("drone", p, p, 300.0) - 300.0 * 1.4 / 3.0).abs() < 1e-9, "unknown kinds use the default");
        assert!((t.min_s_per_m() - 1.6 / 8.0).abs() < 1e-12);
    }
}
