//! Coverage: for every grid, how soon the nearest available unit could reach it now ("which grids can nobody reach
//! in five minutes"). With a road network: one forward search per profile from every unit of that profile at once,
//! read at each grid's centre point (a point inside it, snapped to its roads); units or grids off the roads, and
//! every unit without a network, by straight line.

use geo::InteriorPoint;
use serde::Serialize;

use super::travel::{StraightLine, TravelTime};
use super::{DispatchPolicy, StaleHandling};
use crate::coord::LonLat;
use crate::index::BoundaryIndex;
use crate::layers::Layer;
use crate::responders::{FleetSnapshot, LiveResponder, ResponderStatus};
use crate::roads::{Arrival, CoverageRow, ProfileName, RoadNetwork};

/// The coverage map.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// The time asked about, minutes.
    pub minutes: f64,
    /// `road` with a network, else `straight_line`.
    pub eta_method: &'static str,
    /// Available units with a fresh position (of the kind asked for).
    pub units: usize,
    /// Grids some unit reaches within the minutes.
    pub covered: usize,
    /// Grids nobody reaches within them.
    pub uncovered: usize,
    /// ETAs are given up to this many seconds (three times the minutes); beyond, `eta_s` is null.
    pub horizon_s: f64,
    /// Per grid, by code.
    pub grids: Vec<CoverageRow>,
}

/// Units that could be sent now: available, of the kind, with a position fresh enough for the policy.
fn units<'a>(
    fleet: &'a FleetSnapshot,
    policy: &DispatchPolicy,
    kind: Option<&str>,
) -> Vec<(&'a LiveResponder, LonLat)> {
    let now = time::OffsetDateTime::now_utc();
    fleet
        .all()
        .filter(|r| r.responder.status == ResponderStatus::Available)
        .filter(|r| kind.is_none_or(|k| r.responder.kind == k))
        .filter(|r| {
            let age = r.responder.position_at.map(|t| (now - t).as_seconds_f64());
            policy.stale_positions == StaleHandling::Flag || age.is_some_and(|a| a <= policy.stale_after_s)
        })
        .filter_map(|r| {
            let p = r.responder.location?;
            Some((r, LonLat::new(p[0], p[1]).ok()?))
        })
        .collect()
}

/// The coverage of every grid of the served generation.
pub fn coverage(
    index: &BoundaryIndex,
    fleet: &FleetSnapshot,
    policy: &DispatchPolicy,
    roads: Option<&RoadNetwork>,
    minutes: f64,
    kind: Option<&str>,
) -> Coverage {
    let straight = StraightLine::new(policy.travel.clone());
    let travel: &dyn TravelTime = &straight;
    let limit_s = minutes * 60.0;
    let horizon_s = limit_s * 3.0;
    let units = units(fleet, policy, kind);
    let grids = index.layer(Layer::Grids);
    let centres: Vec<Option<LonLat>> = grids
        .entries()
        .iter()
        .map(|e| e.feature.geometry.interior_point().and_then(|p| LonLat::new(p.x(), p.y()).ok()))
        .collect();
    // best[g] = (seconds, unit index)
    let mut best: Vec<Option<(f64, usize)>> = vec![None; centres.len()];
    let mut offer = |g: usize, s: f64, u: usize| {
        if s <= horizon_s && best[g].is_none_or(|(b, _)| s < b) {
            best[g] = Some((s, u));
        }
    };
    let mut by_line: Vec<usize> = Vec::new();
    match roads {
        Some(net) => {
            let speed = net.policy().offroad_speed_mps;
            let max_m = net.policy().snap_max_m;
            for p in ProfileName::ALL {
                let mut starts = Vec::new();
                for (u, (r, at)) in units.iter().enumerate() {
                    if net.policy().profile_of(&r.responder.kind) != p {
                        continue;
                    }
                    match net.snap(p, *at, max_m) {
                        Some(s) => starts.push((s, (s.offroad_m / speed * 1000.0).round() as u32, u as u32)),
                        None => by_line.push(u),
                    }
                }
                if starts.is_empty() {
                    continue;
                }
                let arrival = Arrival::search(net, p, &starts, (horizon_s * 1000.0) as u32);
                for (g, c) in centres.iter().enumerate() {
                    let Some(c) = c else { continue };
                    let Some(t) = net.snap(p, *c, max_m) else {
                        // The grid's centre has no road of this profile near it: these units by straight line.
                        for &(_, _, u) in &starts {
                            line(&mut offer, g, *c, units[u as usize], u as usize, travel);
                        }
                        continue;
                    };
                    if let Some((ms, u)) = arrival.at(&t) {
                        offer(g, f64::from(ms) / 1000.0 + t.offroad_m / speed, u as usize);
                    }
                }
            }
        }
        None => by_line.extend(0..units.len()),
    }
    for u in by_line {
        for (g, c) in centres.iter().enumerate() {
            if let Some(c) = c {
                line(&mut offer, g, *c, units[u], u, travel);
            }
        }
    }
    let rows: Vec<CoverageRow> = grids
        .entries()
        .iter()
        .zip(&best)
        .map(|(e, b)| CoverageRow {
            code: e.feature.code.clone(),
            name: e.feature.name.clone(),
            eta_s: b.map(|(s, _)| (s * 10.0).round() / 10.0),
            responder_id: b.map(|(_, u)| units[u].0.responder.id),
            kind: b.map(|(_, u)| units[u].0.responder.kind.clone()),
            covered: b.is_some_and(|(s, _)| s <= limit_s),
        })
        .collect();
    let covered = rows.iter().filter(|r| r.covered).count();
    Coverage {
        minutes,
        eta_method: if roads.is_some() { "road" } else { "straight_line" },
        units: units.len(),
        covered,
        uncovered: rows.len() - covered,
        horizon_s,
        grids: rows,
    }
}

fn line(
    offer: &mut impl FnMut(usize, f64, usize),
    g: usize,
    centre: LonLat,
    (r, at): (&LiveResponder, LonLat),
    u: usize,
    travel: &dyn TravelTime,
) {
    use geo::{Distance, Haversine, Point};
    let d = Haversine.distance(Point::new(at.lon(), at.lat()), Point::new(centre.lon(), centre.lat()));
    offer(g, travel.eta_s(&r.responder.kind, at, centre, d), u);
}
