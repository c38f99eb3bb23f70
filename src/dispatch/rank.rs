//! Candidate search over the live-position R-tree: eligibility first, then k; ranking and reasons.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::coord::LonLat;
use crate::responders::{FleetSnapshot, LiveResponder, ResponderStatus, distance_m};

use super::policy::{Affinity, DispatchPolicy, StaleHandling};
use super::travel::{Estimate, Eta, How, TravelTime};
use super::{Candidate, Request};

/// Why an eligible responder may still need a second look.
struct Eligible {
    age_s: Option<f64>,
    stale: bool,
}

fn eligible(r: &LiveResponder, req: &Request, policy: &DispatchPolicy) -> Option<Eligible> {
    let who = &r.responder;
    if who.status != ResponderStatus::Available {
        return None;
    }
    if req.skill.as_ref().is_some_and(|s| !who.skills.iter().any(|have| have == s)) {
        return None;
    }
    if req.team.as_ref().is_some_and(|t| who.team.as_ref() != Some(t)) {
        return None;
    }
    let age_s = who.position_at.map(|t| (req.now - t).as_seconds_f64());
    let stale = age_s.is_none_or(|a| a > policy.stale_after_s);
    if stale && policy.stale_positions == StaleHandling::Exclude {
        return None;
    }
    Some(Eligible { age_s, stale })
}

/// Where a responder is, for estimates (the request's point when it has no position).
fn position(r: &LiveResponder, req: &Request) -> LonLat {
    r.responder.location.and_then(|p| LonLat::new(p[0], p[1]).ok()).unwrap_or(req.point)
}

fn candidate(r: &LiveResponder, distance_m: f64, e: Eligible, req: &Request, eta: Eta) -> Candidate {
    let who = &r.responder;
    let same = |mine: &Option<String>, theirs: &Option<String>| mine.is_some() && mine == theirs;
    Candidate {
        rank: 0,
        responder_id: who.id,
        name: who.name.clone(),
        kind: who.kind.clone(),
        team: who.team.clone(),
        distance_m,
        eta_s: eta.eta_s,
        road_distance_m: eta.road_distance_m,
        eta_method: eta.method(),
        how: eta.how,
        same_grid: same(&r.grid_code, &req.place.grid_code),
        same_community: same(&r.community_code, &req.place.community_code),
        home_grid: same(&who.home_grid, &req.place.grid_code),
        grid_code: r.grid_code.clone(),
        community_code: r.community_code.clone(),
        status: who.status,
        position_age_s: e.age_s,
        stale: e.stale,
        preferred_by: None,
        reasons: Vec::new(),
    }
}

/// True when the responder has the relation to the request's place.
fn has(r: &LiveResponder, req: &Request, a: Affinity) -> bool {
    let same = |mine: &Option<String>, theirs: &Option<String>| mine.is_some() && mine == theirs;
    match a {
        Affinity::HomeGrid => same(&r.responder.home_grid, &req.place.grid_code),
        Affinity::SameGrid => same(&r.grid_code, &req.place.grid_code),
        Affinity::SameCommunity => same(&r.community_code, &req.place.community_code),
    }
}

/// The first preference rule the responder meets at that distance.
fn preferred_by(r: &LiveResponder, distance_m: f64, req: &Request, policy: &DispatchPolicy) -> Option<usize> {
    policy.prefer.iter().position(|p| distance_m <= p.within_m && has(r, req, p.when))
}

/// The widest radius of a rule that can match at this place (a rule about the grid cannot match off the grids).
fn preference_radius(req: &Request, policy: &DispatchPolicy) -> f64 {
    policy
        .prefer
        .iter()
        .filter(|p| match p.when {
            Affinity::HomeGrid | Affinity::SameGrid => req.place.grid_code.is_some(),
            Affinity::SameCommunity => req.place.community_code.is_some(),
        })
        .map(|p| p.within_m)
        .fold(0.0, f64::max)
}

/// A figure rounded as `{:.0}` rounds it (half to even), as an integer: formatting an integer is several times
/// cheaper than formatting a float to a precision, and the reasons hold five or six figures per candidate.
pub(super) fn whole(x: f64) -> i64 {
    // Saturating: distances and times here are finite and far inside i64.
    x.round_ties_even() as i64
}

fn explain(c: &mut Candidate, req: &Request, policy: &DispatchPolicy, travel: &dyn TravelTime) {
    // At most 7 reasons (preferred, distance, eta, skill, team, home grid, grid or
    // community, age): one allocation.
    c.reasons.reserve_exact(8);
    let mut why = |code: &'static str, detail: String| c.reasons.push(super::Reason { code, detail });
    if let Some(n) = c.preferred_by {
        let p = policy.prefer[n - 1];
        why(
            "preferred",
            format!("policy rule {n} (prefer[{}]): {} within {} m ranks first", n - 1, p.when.as_str(), p.within_m),
        );
    }
    why("distance", format!("{} m great-circle", whole(c.distance_m)));
    let how = match &c.how {
        How::StraightLine => travel.explain(&c.kind, c.distance_m),
        How::Road { profile, from_m, to_m } => format!(
            "by road, {} m as {profile} ({} m to the road, {} m from it)",
            whole(c.road_distance_m.unwrap_or_default()),
            whole(*from_m),
            whole(*to_m)
        ),
        How::Fallback(why) => format!("{} ({why})", travel.explain(&c.kind, c.distance_m)),
    };
    why("eta", format!("{} s: {how}", whole(c.eta_s)));
    if let Some(s) = &req.skill {
        why("skill", format!("has skill {s}"));
    }
    if let Some(t) = &req.team {
        why("team", format!("in team {t}"));
    }
    if c.home_grid {
        why("home_grid", format!("responsible for grid {}", req.place.grid_code.as_deref().unwrap_or_default()));
    }
    if c.same_grid {
        why("same_grid", format!("now inside grid {}", c.grid_code.as_deref().unwrap_or_default()));
    } else if c.same_community {
        why("same_community", format!("now inside community {}", c.community_code.as_deref().unwrap_or_default()));
    }
    match (c.stale, c.position_age_s) {
        (true, Some(age)) => why(
            "stale",
            format!("position {} s old, older than {} s: confirm where they are", whole(age), policy.stale_after_s),
        ),
        (true, None) => why("stale", "position time unknown: confirm where they are".into()),
        (false, Some(age)) => why("position_age", format!("position {} s old", whole(age))),
        (false, None) => {}
    }
}

fn finish(mut list: Vec<Candidate>, req: &Request, policy: &DispatchPolicy, travel: &dyn TravelTime) -> Vec<Candidate> {
    for (i, c) in list.iter_mut().enumerate() {
        c.rank = i + 1;
        explain(c, req, policy, travel);
    }
    list
}

/// The k nearest eligible responders within the distance, nearest first (by great-circle distance; with a road
/// network, by road ETA: see [`recommend`] without preference rules).
pub(super) fn nearest(
    fleet: &FleetSnapshot,
    req: &Request,
    policy: &DispatchPolicy,
    travel: &dyn TravelTime,
    est: &mut dyn Estimate,
) -> Vec<Candidate> {
    if est.method() == "road" {
        return ranked(fleet, req, policy, travel, est, false);
    }
    let max = req.max_distance_m.unwrap_or(f64::INFINITY);
    // Distances are computed for the eligible only (a skill filter passes about a third of those walked); distance
    // grows along the walk, so stopping at the first eligible one beyond `max` is the same as stopping at any.
    let list = fleet
        .nearest_first(req.point)
        .filter_map(|r| eligible(r, req, policy).map(|e| (r, distance_m(req.point, r), e)))
        .take_while(|(_, d, _)| *d <= max)
        .take(req.k)
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(r, d, e)| {
            let eta = est.eta(&r.responder.kind, position(r, req), d);
            candidate(r, d, e, req, eta)
        })
        .collect();
    finish(list, req, policy, travel)
}

/// Ranking key: preference rule (none last), ETA, distance, id.
#[derive(Debug, Clone, Copy)]
struct Key {
    rule: usize,
    eta_s: f64,
    distance_m: f64,
    id: i64,
}

impl Ord for Key {
    fn cmp(&self, o: &Self) -> Ordering {
        self.rule
            .cmp(&o.rule)
            .then(self.eta_s.total_cmp(&o.eta_s))
            .then(self.distance_m.total_cmp(&o.distance_m))
            .then(self.id.cmp(&o.id))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl PartialEq for Key {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Key {}

/// The k best eligible responders by the policy. Exact, not a re-ranking of the k nearest: the search goes on
/// nearest-first until every preferred responder is seen (beyond the widest rule's radius nobody is preferred) and
/// nobody farther could arrive sooner than the k-th best (great-circle distance × the estimator's lower bound).
/// Only the k kept are built into candidates; the others cost a key.
pub(super) fn recommend(
    fleet: &FleetSnapshot,
    req: &Request,
    policy: &DispatchPolicy,
    travel: &dyn TravelTime,
    est: &mut dyn Estimate,
) -> Vec<Candidate> {
    ranked(fleet, req, policy, travel, est, true)
}

/// [`recommend`], with or without the policy's preference rules (without: the k soonest to arrive).
fn ranked(
    fleet: &FleetSnapshot,
    req: &Request,
    policy: &DispatchPolicy,
    travel: &dyn TravelTime,
    est: &mut dyn Estimate,
    rules_apply: bool,
) -> Vec<Candidate> {
    if req.k == 0 {
        return Vec::new();
    }
    let max = req.max_distance_m.unwrap_or(f64::INFINITY);
    let rules = if rules_apply { policy.prefer.len() } else { 0 };
    let radius = if rules_apply { preference_radius(req, policy) } else { 0.0 };
    let s_per_m = est.min_s_per_m();
    // The k best so far, worst on top.
    let mut best: BinaryHeap<(Key, usize)> = BinaryHeap::with_capacity(req.k + 1);
    let mut kept: Vec<(&LiveResponder, f64, Option<usize>, Eta)> = Vec::new();
    for (r, d) in fleet.nearest(req.point) {
        if d > max {
            break;
        }
        if d > radius && best.len() == req.k {
            let kth = best.peek().map(|(k, _)| *k);
            if kth.is_some_and(|kth| kth.rule < rules || kth.eta_s < d * s_per_m) {
                break;
            }
        }
        if eligible(r, req, policy).is_none() {
            continue;
        }
        let rule = if rules_apply { preferred_by(r, d, req, policy) } else { None };
        let id = r.responder.id.0;
        if let Some((worst, _)) = best.peek().filter(|_| best.len() == req.k) {
            // Nobody of this kind this far away arrives sooner than its bound: when even the bound loses to the
            // k-th best, the estimate (a road search) is not needed. (1 % below the bound: road weights are whole
            // milliseconds per edge, so a road time may round a little under length ÷ speed.)
            let bound = 0.99 * d * est.min_s_per_m_for(&r.responder.kind);
            if (Key { rule: rule.unwrap_or(rules), eta_s: bound, distance_m: d, id }) >= *worst {
                continue;
            }
        }
        let eta = est.eta(&r.responder.kind, position(r, req), d);
        let key = Key { rule: rule.unwrap_or(rules), eta_s: eta.eta_s, distance_m: d, id };
        if best.len() == req.k && best.peek().is_some_and(|(worst, _)| key >= *worst) {
            continue;
        }
        kept.push((r, d, rule, eta));
        best.push((key, kept.len() - 1));
        if best.len() > req.k {
            best.pop();
        }
    }
    let list = best
        .into_sorted_vec()
        .into_iter()
        .filter_map(|(_, i)| {
            let (r, d, rule, eta) = kept[i].clone();
            let e = eligible(r, req, policy)?;
            let mut c = candidate(r, d, e, req, eta);
            c.preferred_by = rule.map(|i| i + 1);
            Some(c)
        })
        .collect();
    finish(list, req, policy, travel)
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::dispatch::{Dispatcher, Place, Preference};
    use crate::responders::{Fleet, Responder, ResponderId};

    #[test]
    fn whole_prints_as_float_formatting_to_no_decimals() {
        let mut x = 0.0_f64;
        for v in [0.5, 1.5, 2.5, 1234.5, 0.49999999, 7.000001, 99_999.5, 123_456.75] {
            assert_eq!(whole(v).to_string(), format!("{v:.0}"), "{v}");
        }
        while x < 5_000.0 {
            assert_eq!(whole(x).to_string(), format!("{x:.0}"), "{x}");
            x += 0.37;
        }
    }

    const AT: [f64; 2] = [118.80, 32.00];

    fn responder(id: i64, kind: &str, east_m: f64, home: Option<&str>, grid: Option<&str>) -> LiveResponder {
        // ~94.4 km per degree of longitude at 32°N.
        let lon = AT[0] + east_m / (111_195.0 * 32f64.to_radians().cos());
        LiveResponder {
            responder: Responder {
                id: ResponderId(id),
                name: format!("r{id}"),
                kind: kind.into(),
                skills: vec!["fire".into()],
                team: None,
                home_grid: home.map(Into::into),
                status: ResponderStatus::Available,
                status_version: 0,
                location: Some(crate::crs::Position([lon, AT[1]])),
                position_at: Some(OffsetDateTime::now_utc()),
            },
            grid_code: grid.map(Into::into),
            community_code: None,
        }
    }

    fn request(k: usize) -> Request {
        Request {
            point: LonLat::new(AT[0], AT[1]).expect("valid"),
            place: Place { grid_code: Some("G1".into()), community_code: Some("C1".into()) },
            k,
            skill: Some("fire".into()),
            team: None,
            max_distance_m: None,
            now: OffsetDateTime::now_utc(),
        }
    }

    fn ids((list, _): &(Vec<Candidate>, &str)) -> Vec<i64> {
        list.iter().map(|c| c.responder_id.0).collect()
    }

    #[test]
    fn the_grids_own_worker_within_the_radius_ranks_first() {
        let fleet = Fleet::new(vec![
            responder(1, "grid_worker", 100.0, None, Some("G1")),
            responder(2, "grid_worker", 900.0, Some("G1"), Some("G2")),
            responder(3, "grid_worker", 2000.0, Some("G1"), Some("G3")),
        ]);
        let d = Dispatcher::default();
        let snap = fleet.snapshot();
        let ranked = d.recommend(&snap, &request(3));
        assert_eq!(ids(&ranked), vec![2, 1, 3], "home-grid worker at 900 m (rule 1, ≤ 1500 m) first; 3 is beyond");
        let got = ranked.0;
        assert_eq!(got[0].preferred_by, Some(1), "counted from 1, as its reason says");
        assert!(
            got[0].reasons.iter().any(|r| r.code == "preferred" && r.detail.starts_with("policy rule 1 (prefer[0])"))
        );
        assert!(got[1].same_grid && got[1].reasons.iter().any(|r| r.code == "same_grid"));
        assert_eq!(ids(&d.nearest(&snap, &request(3))), vec![1, 2, 3], "nearest stays by distance");
    }

    #[test]
    fn eta_beats_distance_and_the_search_reaches_far_fast_units() {
        // A vehicle 1 200 m away (240 s) beats a walker at 400 m (187 s)? No: 1200 × 1.6 / 8 = 240 > 186.7.
        // A vehicle at 700 m (140 s) does, though it is not among the 2 nearest.
        let fleet = Fleet::new(vec![
            responder(1, "grid_worker", 400.0, None, None),
            responder(2, "grid_worker", 450.0, None, None),
            responder(3, "vehicle", 700.0, None, None),
            responder(4, "vehicle", 1200.0, None, None),
        ]);
        let mut policy = DispatchPolicy::default();
        policy.prefer.clear();
        let d = Dispatcher::new(policy);
        let ranked = d.recommend(&fleet.snapshot(), &request(2));
        assert_eq!(ids(&ranked), vec![3, 1]);
        assert!(ranked.0[0].eta_s < ranked.0[1].eta_s);
        assert_eq!(ranked.1, "straight_line");
    }

    #[test]
    fn stale_positions_are_excluded_or_flagged_before_k() {
        let mut old = responder(1, "grid_worker", 50.0, None, None);
        old.responder.position_at = Some(OffsetDateTime::now_utc() - time::Duration::hours(2));
        let fleet = Fleet::new(vec![old, responder(2, "grid_worker", 300.0, None, None)]);
        let snap = fleet.snapshot();
        assert_eq!(ids(&Dispatcher::default().nearest(&snap, &request(1))), vec![2]);
        let policy =
            DispatchPolicy { stale_positions: StaleHandling::Flag, prefer: vec![], ..DispatchPolicy::default() };
        let ranked = Dispatcher::new(policy).nearest(&snap, &request(1));
        assert_eq!(ids(&ranked), vec![1]);
        let got = ranked.0;
        assert!(got[0].stale && got[0].reasons.iter().any(|r| r.code == "stale"));
    }

    #[test]
    fn same_community_rule_is_configuration() {
        let mut far = responder(2, "grid_worker", 600.0, None, None);
        far.community_code = Some("C1".into());
        let fleet = Fleet::new(vec![responder(1, "grid_worker", 100.0, None, None), far]);
        let policy = DispatchPolicy {
            prefer: vec![Preference { when: Affinity::SameCommunity, within_m: 1000.0 }],
            ..DispatchPolicy::default()
        };
        assert_eq!(ids(&Dispatcher::new(policy).recommend(&fleet.snapshot(), &request(2))), vec![2, 1]);
    }
}
