//! The dispatch policy: configuration, not code. Which skill a category needs, when a position is too old to trust,
//! how fast each kind of responder travels, and whom to prefer (e.g. the grid's own worker within 1 500 m).
//! Loaded from a JSON file (`gridmap serve --dispatch-policy FILE`); every field has a default.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Why a policy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("dispatch policy {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Not JSON of the expected shape (the message names the field, line and column).
    #[error("dispatch policy {file}: {source}")]
    Parse {
        /// The file.
        file: String,
        /// Cause.
        source: serde_json::Error,
    },
    /// A value out of range.
    #[error("dispatch policy {file}: field {field}: {problem}")]
    Invalid {
        /// The file.
        file: String,
        /// Dotted path of the field.
        field: String,
        /// What is wrong.
        problem: String,
    },
}

/// What to do with responders whose latest position is older than `stale_after_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaleHandling {
    /// Leave them out (before k is applied).
    Exclude,
    /// Keep them, marked `stale` with a reason; the order is unchanged.
    Flag,
}

/// A relation between a responder and the incident's place that the policy can prefer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Affinity {
    /// The responder's home grid is the incident's grid (the grid's own worker, 网格员).
    HomeGrid,
    /// The responder is now inside the incident's grid.
    SameGrid,
    /// The responder is now inside the incident's community.
    SameCommunity,
}

impl Affinity {
    /// The name used in configuration and reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Affinity::HomeGrid => "home_grid",
            Affinity::SameGrid => "same_grid",
            Affinity::SameCommunity => "same_community",
        }
    }
}

/// One preference rule: responders with the affinity within the distance rank before all others (rules in order).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preference {
    /// The relation.
    pub when: Affinity,
    /// Only within this great-circle distance of the incident.
    pub within_m: f64,
}

/// Travel of one responder kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindTravel {
    /// Metres per second along the way.
    pub speed_mps: f64,
    /// Way length / straight-line distance; the policy's `detour_factor` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detour_factor: Option<f64>,
}

/// The straight-line estimator's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TravelConfig {
    /// Way length / straight-line distance, for kinds that do not set their own.
    pub detour_factor: f64,
    /// Speed of kinds not listed.
    pub default_speed_mps: f64,
    /// Per responder kind.
    pub kinds: BTreeMap<String, KindTravel>,
}

impl Default for TravelConfig {
    fn default() -> Self {
        let kind = |speed_mps: f64, detour_factor: Option<f64>| KindTravel { speed_mps, detour_factor };
        Self {
            detour_factor: 1.4,
            default_speed_mps: 3.0,
            // On foot or e-bike in old-town lanes; enforcement teams and vehicles by road, which detours more.
            kinds: BTreeMap::from([
                ("grid_worker".to_owned(), kind(3.0, None)),
                ("enforcement".to_owned(), kind(6.0, Some(1.5))),
                ("vehicle".to_owned(), kind(8.0, Some(1.6))),
            ]),
        }
    }
}

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DispatchPolicy {
    /// A position older than this many seconds is stale.
    pub stale_after_s: f64,
    /// Exclude or flag stale positions.
    pub stale_positions: StaleHandling,
    /// Incident category → the skill a responder needs (categories not listed need none).
    pub category_skills: BTreeMap<String, String>,
    /// Straight-line travel-time parameters.
    pub travel: TravelConfig,
    /// Preference rules for recommendations, strongest first.
    pub prefer: Vec<Preference>,
    /// Road profiles (walk, bike, vehicle), which kind travels with which, snapping: used once a road network is
    /// loaded (`gridmap import-roads`).
    pub roads: crate::roads::RoadPolicy,
    /// How long incidents may stay open (时限), per priority and per category.
    pub deadlines: crate::incidents::Deadlines,
}

impl Default for DispatchPolicy {
    fn default() -> Self {
        let skills = [
            ("fire", "fire"),
            ("medical", "first_aid"),
            ("flood", "flood"),
            ("traffic", "traffic"),
            ("public_order", "enforcement"),
            ("illegal_construction", "enforcement"),
        ];
        Self {
            stale_after_s: 600.0,
            stale_positions: StaleHandling::Exclude,
            category_skills: skills.iter().map(|(c, s)| ((*c).to_owned(), (*s).to_owned())).collect(),
            travel: TravelConfig::default(),
            prefer: vec![Preference { when: Affinity::HomeGrid, within_m: 1500.0 }],
            roads: crate::roads::RoadPolicy::default(),
            deadlines: crate::incidents::Deadlines::default(),
        }
    }
}

impl DispatchPolicy {
    /// Reads and checks a policy file.
    pub fn from_file(path: &Path) -> Result<Self, PolicyError> {
        let file = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| PolicyError::Read { file: file.clone(), source })?;
        let policy: Self =
            serde_json::from_slice(&text).map_err(|source| PolicyError::Parse { file: file.clone(), source })?;
        policy.check().map_err(|(field, problem)| PolicyError::Invalid { file, field, problem })?;
        Ok(policy)
    }

    /// The skill an incident category needs.
    pub fn skill_for(&self, category: &str) -> Option<&str> {
        self.category_skills.get(category).map(String::as_str)
    }

    /// `Err((field, problem))` for the first value out of range.
    pub fn check(&self) -> Result<(), (String, String)> {
        let positive = |field: String, v: f64| -> Result<(), (String, String)> {
            if v.is_finite() && v > 0.0 { Ok(()) } else { Err((field, format!("{v} must be a positive number"))) }
        };
        let detour = |field: String, v: f64| -> Result<(), (String, String)> {
            if v.is_finite() && v >= 1.0 {
                Ok(())
            } else {
                Err((field, format!("{v} must be at least 1 (a way is never shorter than the straight line)")))
            }
        };
        positive("stale_after_s".into(), self.stale_after_s)?;
        detour("travel.detour_factor".into(), self.travel.detour_factor)?;
        positive("travel.default_speed_mps".into(), self.travel.default_speed_mps)?;
        for (kind, t) in &self.travel.kinds {
            positive(format!("travel.kinds.{kind}.speed_mps"), t.speed_mps)?;
            if let Some(d) = t.detour_factor {
                detour(format!("travel.kinds.{kind}.detour_factor"), d)?;
            }
        }
        for (i, p) in self.prefer.iter().enumerate() {
            if !(p.within_m.is_finite() && p.within_m >= 0.0) {
                return Err((format!("prefer[{i}].within_m"), format!("{} must be a distance ≥ 0", p.within_m)));
            }
        }
        self.deadlines.check()?;
        self.roads.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DispatchPolicy, PolicyError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("policy.json");
        std::fs::write(&path, text).expect("write");
        DispatchPolicy::from_file(&path)
    }

    #[test]
    fn partial_files_keep_the_defaults() {
        let p =
            parse(r#"{"stale_after_s": 120, "prefer": [{"when": "same_community", "within_m": 300}]}"#).expect("valid");
        assert_eq!(p.stale_after_s, 120.0);
        assert_eq!(p.prefer, vec![Preference { when: Affinity::SameCommunity, within_m: 300.0 }]);
        assert_eq!(p.skill_for("fire"), Some("fire"));
        assert_eq!(p.travel, TravelConfig::default());
    }

    #[test]
    fn errors_name_the_file_and_field() {
        let e = parse(r#"{"travel": {"kinds": {"vehicle": {"speed_mps": 0}}}}"#).expect_err("zero speed");
        let msg = e.to_string();
        assert!(msg.contains("policy.json") && msg.contains("travel.kinds.vehicle.speed_mps"), "{msg}");
        let e = parse(r#"{"stale_after": 5}"#).expect_err("unknown field");
        assert!(e.to_string().contains("stale_after"), "{e}");
        let e = parse(r#"{"prefer": [{"when": "nearby", "within_m": 5}]}"#).expect_err("unknown affinity");
        assert!(e.to_string().contains("nearby"), "{e}");
    }
}
