//! Deadlines (时限): how long an incident may stay open, per priority and, where a category needs its own, per
//! category and priority (the dispatch policy file's `deadlines`). An incident still open past its `due_at` is
//! overdue.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// The deadlines in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Deadlines {
    /// Hours an incident of each priority (`"1"` … `"5"`) may stay open; a priority not listed has no deadline.
    pub by_priority_h: BTreeMap<String, f64>,
    /// Category → priority → hours, taking precedence over `by_priority_h` (e.g. `{"fire": {"1": 0.5}}`).
    pub by_category_h: BTreeMap<String, BTreeMap<String, f64>>,
}

impl Default for Deadlines {
    /// 2 h for priority 1, 8 h for 2, 24 h for 3, 72 h for 4, a week for 5 (a district sets its own).
    fn default() -> Self {
        let hours = [("1", 2.0), ("2", 8.0), ("3", 24.0), ("4", 72.0), ("5", 168.0)];
        Self {
            by_priority_h: hours.iter().map(|(p, h)| ((*p).to_owned(), *h)).collect(),
            by_category_h: BTreeMap::new(),
        }
    }
}

impl Deadlines {
    /// When an incident of `category` and `priority` reported at `reported_at` is due, if it has a deadline.
    pub fn due(&self, category: &str, priority: i32, reported_at: OffsetDateTime) -> Option<OffsetDateTime> {
        let p = priority.to_string();
        let hours = self.by_category_h.get(category).and_then(|m| m.get(&p)).or_else(|| self.by_priority_h.get(&p))?;
        // Whole milliseconds: hours given as fractions (0.25) come out exact.
        Some(reported_at + Duration::milliseconds((hours * 3_600_000.0).round() as i64))
    }

    /// `Err((field, problem))` for the first bad entry: priorities 1–5, hours a positive number.
    pub fn check(&self) -> Result<(), (String, String)> {
        let entries = self.by_priority_h.iter().map(|(p, h)| (format!("deadlines.by_priority_h.{p}"), p, *h)).chain(
            self.by_category_h
                .iter()
                .flat_map(|(c, m)| m.iter().map(move |(p, h)| (format!("deadlines.by_category_h.{c}.{p}"), p, *h))),
        );
        for (field, p, h) in entries {
            if !matches!(p.as_str(), "1" | "2" | "3" | "4" | "5") {
                return Err((field, format!("{p:?} is not a priority (1 … 5)")));
            }
            if !(h.is_finite() && h > 0.0) {
                return Err((field, format!("{h} must be a positive number of hours")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_category_entry_wins_over_the_priority_one() {
        let mut d = Deadlines::default();
        d.by_category_h.insert("fire".into(), BTreeMap::from([("1".to_owned(), 0.5)]));
        let t = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(d.due("fire", 1, t), Some(t + Duration::minutes(30)));
        assert_eq!(d.due("fire", 2, t), Some(t + Duration::hours(8)));
        assert_eq!(d.due("traffic", 1, t), Some(t + Duration::hours(2)));
        d.by_priority_h.remove("5");
        assert_eq!(d.due("traffic", 5, t), None);
        assert!(d.check().is_ok());
        d.by_priority_h.insert("6".into(), 1.0);
        assert_eq!(d.check().map_err(|e| e.0), Err("deadlines.by_priority_h.6".to_owned()));
    }
}
