//! ETAs along the roads: with a road network served, a request searches backward from its point once per profile
//! (lazily, only as far as the candidates asked about need) and every candidate's ETA is its road time plus the
//! off-road parts walked. Where the point or a responder lies farther from its profile's roads than the policy
//! allows, that estimate falls back to the straight line, with the reason.

use std::sync::Arc;

use super::travel::{Estimate, Eta, How, StraightLine, TravelTime};
use crate::coord::LonLat;
use crate::roads::{ProfileName, RoadNetwork, RoadService, Towards};

/// Road ETAs over the served network, straight line without one.
#[derive(Debug)]
pub struct RoadTravel {
    roads: Arc<RoadService>,
    line: StraightLine,
}

impl RoadTravel {
    /// Road ETAs from this service's network, `line` where there is none.
    pub fn new(roads: Arc<RoadService>, line: StraightLine) -> Self {
        Self { roads, line }
    }
}

impl TravelTime for RoadTravel {
    fn towards<'a>(&'a self, to: LonLat) -> Box<dyn Estimate + 'a> {
        match self.roads.current() {
            Some(net) => Box::new(ByRoad::new(self, net, to)),
            None => self.line.towards(to),
        }
    }

    fn method(&self) -> &'static str {
        if self.roads.current().is_some() { "road" } else { "straight_line" }
    }

    fn eta_s(&self, kind: &str, from: LonLat, to: LonLat, distance_m: f64) -> f64 {
        self.towards(to).eta(kind, from, distance_m).eta_s
    }

    fn min_s_per_m(&self) -> f64 {
        let road = 1.0 / self.roads.policy().max_speed_mps();
        road.min(self.line.min_s_per_m())
    }

    fn explain(&self, kind: &str, distance_m: f64) -> String {
        self.line.explain(kind, distance_m)
    }
}

/// One request's searches, one per profile, started when a candidate of that profile first needs it.
struct ByRoad<'a> {
    travel: &'a RoadTravel,
    net: Arc<RoadNetwork>,
    to: LonLat,
    /// Per profile: not tried yet, the search, or why the point has no road of that profile.
    searches: [Option<Result<Towards, String>>; 3],
}

impl<'a> ByRoad<'a> {
    fn new(travel: &'a RoadTravel, net: Arc<RoadNetwork>, to: LonLat) -> Self {
        Self { travel, net, to, searches: [None, None, None] }
    }

    fn search(&mut self, p: ProfileName) -> Result<&mut Towards, String> {
        let max_m = self.net.policy().snap_max_m;
        let slot = &mut self.searches[p.index()];
        if slot.is_none() {
            *slot = Some(match self.net.snap(p, self.to, max_m) {
                Some(target) => Ok(Towards::new(self.net.clone(), p, target)),
                None => Err(far(&self.net, p, self.to, "the point")),
            });
        }
        match slot {
            Some(Ok(t)) => Ok(t),
            Some(Err(why)) => Err(why.clone()),
            None => Err("no search".into()),
        }
    }
}

/// Why a point has no road of a profile.
fn far(net: &RoadNetwork, p: ProfileName, at: LonLat, what: &str) -> String {
    let limit = net.policy().snap_max_m;
    match net.snap(p, at, f64::INFINITY) {
        Some(s) => {
            format!("{what} is {:.0} m from the nearest {} road, over the {limit} m limit", s.offroad_m, p.as_str())
        }
        None => format!("the road network has no {} roads", p.as_str()),
    }
}

impl Estimate for ByRoad<'_> {
    fn method(&self) -> &'static str {
        // Road unless every profile tried found no road near the point (then every estimate was a straight line).
        let reached = self.searches.iter().any(|s| matches!(s, Some(Ok(_))));
        let failed = self.searches.iter().any(|s| matches!(s, Some(Err(_))));
        if reached || !failed { "road" } else { "straight_line" }
    }

    fn eta(&mut self, kind: &str, from: LonLat, distance_m: f64) -> Eta {
        let p = self.travel.roads.profile_of(kind);
        let line = |why: String, travel: &RoadTravel| Eta {
            eta_s: travel.line.eta_s(kind, from, from, distance_m),
            road_distance_m: None,
            how: How::Fallback(why),
        };
        let max_m = self.net.policy().snap_max_m;
        let speed = self.net.policy().offroad_speed_mps;
        let start = self.net.snap(p, from, max_m);
        let net = self.net.clone();
        let search = match self.search(p) {
            Ok(s) => s,
            Err(why) => return line(why, self.travel),
        };
        let Some(start) = start else { return line(far(&net, p, from, "the position"), self.travel) };
        let to_m = search.target().offroad_m;
        match search.road(&start) {
            Some((ms, road_m)) => Eta {
                eta_s: f64::from(ms) / 1000.0 + (start.offroad_m + to_m) / speed,
                road_distance_m: Some(road_m),
                how: How::Road { profile: p.as_str(), from_m: start.offroad_m, to_m },
            },
            None => line("the roads do not connect the position to the point".into(), self.travel),
        }
    }

    fn min_s_per_m(&self) -> f64 {
        self.travel.min_s_per_m()
    }

    fn min_s_per_m_for(&self, kind: &str) -> f64 {
        // By road at the profile's fastest, or by the straight-line fallback.
        let road = 1.0 / self.net.policy().max_speed_mps_of(self.travel.roads.profile_of(kind));
        road.min(self.travel.line.min_s_per_m_of(kind))
    }
}
