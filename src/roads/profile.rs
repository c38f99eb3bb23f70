//! Travel profiles: which ways a grid worker on foot, an e-bike or a vehicle may use, in which direction, how fast.
//! Configuration (the dispatch policy file's `roads` section), not code; read from each way's OpenStreetMap tags at
//! graph build, so a policy change needs no new import.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::RoadWay;

/// The travel profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProfileName {
    /// On foot (grid workers): every footway and street, one-way streets both ways.
    Walk,
    /// Bicycle or e-bike (enforcement teams): streets and cycleways, one-way streets respected.
    Bike,
    /// Car or van: roads for motor vehicles, one-way streets and access restrictions respected.
    Vehicle,
}

impl ProfileName {
    /// Every profile, in graph order.
    pub const ALL: [ProfileName; 3] = [ProfileName::Walk, ProfileName::Bike, ProfileName::Vehicle];

    /// As written in URLs and the policy.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileName::Walk => "walk",
            ProfileName::Bike => "bike",
            ProfileName::Vehicle => "vehicle",
        }
    }

    /// Position in [`ProfileName::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::str::FromStr for ProfileName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "walk" => Ok(ProfileName::Walk),
            "bike" => Ok(ProfileName::Bike),
            "vehicle" => Ok(ProfileName::Vehicle),
            other => Err(format!("{other:?} is not a profile: walk, bike or vehicle")),
        }
    }
}

/// How one profile travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRule {
    /// Speed on each usable `highway` class, km/h; a class not listed is not used by this profile.
    pub speeds_kmh: BTreeMap<String, f64>,
    /// Respect `oneway` (and what implies it: roundabouts, motorways).
    pub oneway: bool,
    /// Where a way has a `maxspeed` (or `maxspeed:forward`/`:backward`) tag, travel at it instead of the class speed.
    #[serde(default)]
    pub use_maxspeed: bool,
    /// Access tags read in order, the last one present deciding (`no`, `private` … deny; `yes`, `designated` …
    /// allow).
    pub access_tags: Vec<String>,
}

/// The `roads` section of the dispatch policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RoadPolicy {
    /// On foot.
    pub walk: ProfileRule,
    /// Bicycle, e-bike.
    pub bike: ProfileRule,
    /// Motor vehicle.
    pub vehicle: ProfileRule,
    /// Responder kind → profile (kinds not listed walk).
    pub kinds: BTreeMap<String, ProfileName>,
    /// A point farther than this from every road of its profile gets a straight-line estimate, with the reason.
    pub snap_max_m: f64,
    /// Speed of the part between a point and its road (walked), m/s.
    pub offroad_speed_mps: f64,
}

fn classes(list: &[(&str, f64)]) -> BTreeMap<String, f64> {
    list.iter().map(|(c, v)| ((*c).to_owned(), *v)).collect()
}

impl Default for RoadPolicy {
    fn default() -> Self {
        let walk = classes(&[
            ("primary", 5.0),
            ("primary_link", 5.0),
            ("secondary", 5.0),
            ("secondary_link", 5.0),
            ("tertiary", 5.0),
            ("tertiary_link", 5.0),
            ("unclassified", 5.0),
            ("residential", 5.0),
            ("living_street", 5.0),
            ("service", 5.0),
            ("road", 5.0),
            ("pedestrian", 5.0),
            ("footway", 5.0),
            ("path", 5.0),
            ("track", 5.0),
            ("cycleway", 5.0),
            ("bridleway", 5.0),
            ("corridor", 5.0),
            ("steps", 3.0),
        ]);
        let bike = classes(&[
            ("primary", 15.0),
            ("primary_link", 15.0),
            ("secondary", 15.0),
            ("secondary_link", 15.0),
            ("tertiary", 15.0),
            ("tertiary_link", 15.0),
            ("unclassified", 15.0),
            ("residential", 15.0),
            ("living_street", 10.0),
            ("service", 12.0),
            ("road", 12.0),
            ("cycleway", 18.0),
            ("track", 10.0),
            ("path", 8.0),
            ("pedestrian", 8.0),
        ]);
        // Urban driving speeds, not limits: a dispatcher's ETA is what a van makes in city traffic.
        let vehicle = classes(&[
            ("motorway", 70.0),
            ("motorway_link", 40.0),
            ("trunk", 50.0),
            ("trunk_link", 35.0),
            ("primary", 40.0),
            ("primary_link", 30.0),
            ("secondary", 35.0),
            ("secondary_link", 25.0),
            ("tertiary", 30.0),
            ("tertiary_link", 25.0),
            ("unclassified", 25.0),
            ("residential", 20.0),
            ("living_street", 10.0),
            ("service", 15.0),
            ("road", 20.0),
        ]);
        let tags = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect();
        Self {
            walk: ProfileRule {
                speeds_kmh: walk,
                oneway: false,
                use_maxspeed: false,
                access_tags: tags(&["access", "foot"]),
            },
            bike: ProfileRule {
                speeds_kmh: bike,
                oneway: true,
                use_maxspeed: false,
                access_tags: tags(&["access", "vehicle", "bicycle"]),
            },
            vehicle: ProfileRule {
                speeds_kmh: vehicle,
                oneway: true,
                use_maxspeed: false,
                access_tags: tags(&["access", "vehicle", "motor_vehicle", "motorcar"]),
            },
            kinds: [
                ("grid_worker", ProfileName::Walk),
                ("enforcement", ProfileName::Bike),
                ("vehicle", ProfileName::Vehicle),
            ]
            .iter()
            .map(|(k, p)| ((*k).to_owned(), *p))
            .collect(),
            snap_max_m: 300.0,
            offroad_speed_mps: 1.4,
        }
    }
}

impl RoadPolicy {
    /// The rule of a profile.
    pub fn rule(&self, p: ProfileName) -> &ProfileRule {
        match p {
            ProfileName::Walk => &self.walk,
            ProfileName::Bike => &self.bike,
            ProfileName::Vehicle => &self.vehicle,
        }
    }

    /// The profile a responder kind travels with.
    pub fn profile_of(&self, kind: &str) -> ProfileName {
        self.kinds.get(kind).copied().unwrap_or(ProfileName::Walk)
    }

    /// `Err((field, problem))` for the first value out of range (field relative to `roads`).
    pub fn check(&self) -> Result<(), (String, String)> {
        let positive = |field: String, v: f64| -> Result<(), (String, String)> {
            if v.is_finite() && v > 0.0 { Ok(()) } else { Err((field, format!("{v} must be a positive number"))) }
        };
        for p in ProfileName::ALL {
            let rule = self.rule(p);
            if rule.speeds_kmh.is_empty() {
                return Err((format!("roads.{}.speeds_kmh", p.as_str()), "lists no highway class".into()));
            }
            for (class, v) in &rule.speeds_kmh {
                positive(format!("roads.{}.speeds_kmh.{class}", p.as_str()), *v)?;
            }
        }
        if !(self.snap_max_m.is_finite() && self.snap_max_m >= 0.0) {
            return Err(("roads.snap_max_m".into(), format!("{} must be a distance ≥ 0", self.snap_max_m)));
        }
        positive("roads.offroad_speed_mps".into(), self.offroad_speed_mps)
    }

    /// The fastest speed of any profile, m/s: no road ETA is below distance ÷ this.
    pub fn max_speed_mps(&self) -> f64 {
        ProfileName::ALL.iter().map(|p| self.max_speed_mps_of(*p)).fold(self.offroad_speed_mps, f64::max)
    }

    /// The fastest one travels with a profile (the off-road part included), m/s: no road ETA of that profile is
    /// below distance ÷ this.
    pub fn max_speed_mps_of(&self, p: ProfileName) -> f64 {
        let rule = self.rule(p);
        let mut max = rule.speeds_kmh.values().fold(self.offroad_speed_mps, |m, v| m.max(v / 3.6));
        if rule.use_maxspeed {
            // A maxspeed tag may exceed every class speed; 150 km/h bounds what a city network holds.
            max = max.max(150.0 / 3.6);
        }
        max
    }
}

/// Whether and how fast a profile travels a way: (forward m/s, backward m/s), `None` where it may not go.
pub(super) fn travel(rule: &ProfileRule, profile: ProfileName, way: &RoadWay) -> (Option<f64>, Option<f64>) {
    let Some(&class_kmh) = rule.speeds_kmh.get(way.class()) else { return (None, None) };
    if !allowed(rule, way) {
        return (None, None);
    }
    let (fw, bw) = directions(rule, profile, way);
    let speed = |dir_tag: &str| -> f64 {
        let tagged = rule.use_maxspeed.then(|| way.tags.get(dir_tag).or_else(|| way.tags.get("maxspeed"))).flatten();
        tagged.and_then(|v| parse_kmh(v)).unwrap_or(class_kmh) / 3.6
    };
    (fw.then(|| speed("maxspeed:forward")), bw.then(|| speed("maxspeed:backward")))
}

fn allowed(rule: &ProfileRule, way: &RoadWay) -> bool {
    let mut ok = true;
    for t in &rule.access_tags {
        match way.tags.get(t).map(String::as_str) {
            Some("no" | "private" | "agricultural" | "forestry" | "delivery" | "military" | "discouraged") => {
                ok = false
            }
            Some("yes" | "designated" | "permissive" | "destination" | "customers" | "official") => ok = true,
            _ => {}
        }
    }
    ok
}

/// (forward allowed, backward allowed) along the way's node order.
fn directions(rule: &ProfileRule, profile: ProfileName, way: &RoadWay) -> (bool, bool) {
    let own = match profile {
        ProfileName::Walk => way.tags.get("oneway:foot"),
        ProfileName::Bike => way.tags.get("oneway:bicycle"),
        ProfileName::Vehicle => None,
    };
    let tag = if rule.oneway { own.or_else(|| way.tags.get("oneway")) } else { own };
    match tag.map(String::as_str) {
        Some("yes" | "true" | "1") => (true, false),
        Some("-1" | "reverse") => (false, true),
        Some("no" | "false" | "0") => (true, true),
        _ if rule.oneway => {
            let implied = matches!(way.tags.get("junction").map(String::as_str), Some("roundabout" | "circular"))
                || matches!(way.class(), "motorway" | "motorway_link");
            (true, !implied)
        }
        _ => (true, true),
    }
}

/// `60`, `60 km/h`, `30 mph` → km/h; `none`, `signals`, … → `None` (the class speed applies).
fn parse_kmh(v: &str) -> Option<f64> {
    let v = v.trim();
    let (num, factor) = match v.strip_suffix("mph") {
        Some(n) => (n, 1.609_344),
        None => (v.trim_end_matches("km/h").trim_end_matches("kmh"), 1.0),
    };
    num.trim().parse::<f64>().ok().filter(|k| k.is_finite() && *k > 0.0).map(|k| k * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn way(tags: &[(&str, &str)]) -> RoadWay {
        RoadWay {
            id: 1,
            tags: tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            nodes: vec![1, 2],
            coords: vec![[0.0, 0.0], [0.001, 0.0]],
        }
    }

    #[test]
    fn one_way_streets_access_and_speeds() {
        let p = RoadPolicy::default();
        let street = way(&[("highway", "residential"), ("oneway", "yes")]);
        let v = travel(&p.vehicle, ProfileName::Vehicle, &street);
        assert!(v.0.is_some() && v.1.is_none(), "vehicles keep to one way");
        let w = travel(&p.walk, ProfileName::Walk, &street);
        assert!(w.0.is_some() && w.1.is_some(), "walkers go both ways");
        let contra = way(&[("highway", "residential"), ("oneway", "yes"), ("oneway:bicycle", "no")]);
        let b = travel(&p.bike, ProfileName::Bike, &contra);
        assert!(b.0.is_some() && b.1.is_some(), "contraflow cycling");
        let back = way(&[("highway", "primary"), ("oneway", "-1")]);
        assert_eq!(travel(&p.vehicle, ProfileName::Vehicle, &back).0, None);
        let roundabout = way(&[("highway", "tertiary"), ("junction", "roundabout")]);
        assert_eq!(travel(&p.vehicle, ProfileName::Vehicle, &roundabout).1, None, "roundabouts are one-way");
        let footway = way(&[("highway", "footway")]);
        assert_eq!(travel(&p.vehicle, ProfileName::Vehicle, &footway), (None, None));
        let private = way(&[("highway", "service"), ("access", "private"), ("foot", "yes")]);
        assert_eq!(travel(&p.vehicle, ProfileName::Vehicle, &private), (None, None));
        assert!(travel(&p.walk, ProfileName::Walk, &private).0.is_some(), "foot=yes after access=private");

        let mut fast = p.vehicle.clone();
        fast.use_maxspeed = true;
        let limited = way(&[("highway", "primary"), ("maxspeed", "60"), ("maxspeed:backward", "30 mph")]);
        let (f, b) = travel(&fast, ProfileName::Vehicle, &limited);
        assert!((f.expect("forward") - 60.0 / 3.6).abs() < 1e-9);
        assert!((b.expect("backward") - 30.0 * 1.609_344 / 3.6).abs() < 1e-9);
        let (f, _) = travel(&p.vehicle, ProfileName::Vehicle, &limited);
        assert!((f.expect("forward") - 40.0 / 3.6).abs() < 1e-9, "class speed unless use_maxspeed");
    }

    #[test]
    fn kinds_map_to_profiles_and_bad_values_are_named() {
        let p = RoadPolicy::default();
        assert_eq!(p.profile_of("vehicle"), ProfileName::Vehicle);
        assert_eq!(p.profile_of("drone"), ProfileName::Walk);
        let mut bad = p.clone();
        bad.bike.speeds_kmh.insert("cycleway".into(), 0.0);
        assert_eq!(bad.check().expect_err("zero").0, "roads.bike.speeds_kmh.cycleway");
        assert!(p.max_speed_mps() >= 70.0 / 3.6);
    }
}
