//! The figures of one row of the assessment, from the incidents attributed to it.

use crate::incidents::{IncidentStatus, LedgerRow};

/// What the tally reads of one incident.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Lifecycle state.
    pub status: IncidentStatus,
    /// Report time, Unix nanoseconds.
    pub reported_ns: i64,
    /// When a resolved or closed one was handled (resolved, else closed).
    pub handled_ns: Option<i64>,
    /// Its deadline.
    pub due_ns: Option<i64>,
    /// Returns (退回).
    pub returned: u64,
    /// The reporter's rating.
    pub rating: Option<u8>,
}

impl From<&LedgerRow> for Outcome {
    fn from(r: &LedgerRow) -> Self {
        Outcome {
            status: r.status,
            reported_ns: r.reported_ns,
            handled_ns: r.handled_ns(),
            due_ns: r.due_ns(),
            returned: u64::from(r.returned),
            rating: (r.rating > 0).then_some(r.rating),
        }
    }
}

/// Running counts of one assessed unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Incidents reported in the period.
    pub reported: u64,
    /// Handled (办结): resolved or closed.
    pub closed: u64,
    /// Still open: reported, dispatched or on scene.
    pub open: u64,
    /// Not handled within the deadline: handled after `due_at`, or open past it.
    pub overdue: u64,
    /// Handled by `due_at`.
    pub on_time: u64,
    /// Seconds from report to handling, per handled incident.
    pub close_s: Vec<f64>,
    /// Returns (退回) in all.
    pub returned: u64,
    /// Sum of ratings.
    pub satisfaction_sum: u64,
    /// Ratings.
    pub satisfaction_n: u64,
}

impl Tally {
    /// Counts `o` as of `now_ns` (Unix nanoseconds).
    pub fn add(&mut self, o: &Outcome, now_ns: i64) {
        self.reported += 1;
        self.returned += o.returned;
        if let Some(r) = o.rating {
            self.satisfaction_sum += u64::from(r);
            self.satisfaction_n += 1;
        }
        match o.status {
            IncidentStatus::Resolved | IncidentStatus::Closed => {
                self.closed += 1;
                if let Some(t) = o.handled_ns {
                    self.close_s.push(((t - o.reported_ns) as f64 / 1e9).max(0.0));
                }
                match (o.handled_ns, o.due_ns) {
                    (Some(t), Some(due)) if t <= due => self.on_time += 1,
                    (Some(_), Some(_)) => self.overdue += 1,
                    _ => {}
                }
            }
            IncidentStatus::Cancelled => {}
            _ => {
                self.open += 1;
                if o.due_ns.is_some_and(|due| due < now_ns) {
                    self.overdue += 1;
                }
            }
        }
    }

    /// On time out of those whose deadline is settled (handled with a deadline, or open past it); `None` when none is.
    pub fn on_time_rate(&self) -> Option<f64> {
        let settled = self.on_time + self.overdue;
        (settled > 0).then(|| self.on_time as f64 / settled as f64)
    }

    /// Mean rating.
    pub fn satisfaction_mean(&self) -> Option<f64> {
        (self.satisfaction_n > 0).then(|| self.satisfaction_sum as f64 / self.satisfaction_n as f64)
    }

    /// The median and 90th percentile of the times to handle (nearest rank).
    pub fn close_quantiles(&mut self) -> (Option<f64>, Option<f64>) {
        if self.close_s.is_empty() {
            return (None, None);
        }
        self.close_s.sort_by(f64::total_cmp);
        let v = &self.close_s;
        let n = v.len();
        let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
        let rank = (0.9 * n as f64).ceil() as usize;
        (Some(median), Some(v[rank.clamp(1, n) - 1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000_000;

    fn incident(status: IncidentStatus, resolved_h: Option<i64>, due_h: Option<i64>) -> Outcome {
        Outcome {
            status,
            reported_ns: 0,
            handled_ns: resolved_h.map(|h| h * H),
            due_ns: due_h.map(|h| h * H),
            returned: 1,
            rating: Some(4),
        }
    }

    #[test]
    fn on_time_overdue_and_quantiles() {
        use IncidentStatus::*;
        let mut t = Tally::default();
        for i in [
            incident(Closed, Some(2), Some(4)),
            incident(Resolved, Some(6), Some(4)),
            incident(Dispatched, None, Some(4)),
            incident(Reported, None, Some(100)),
            incident(Cancelled, None, Some(1)),
            incident(Closed, Some(10), None),
        ] {
            t.add(&i, 50 * H);
        }
        assert_eq!((t.reported, t.closed, t.open, t.overdue, t.on_time), (6, 3, 2, 2, 1));
        assert_eq!(t.on_time_rate(), Some(1.0 / 3.0), "one of three settled deadlines met; no deadline not counted");
        assert_eq!((t.returned, t.satisfaction_mean()), (6, Some(4.0)));
        assert_eq!(t.close_quantiles(), (Some(6.0 * 3600.0), Some(10.0 * 3600.0)));
        assert_eq!(Tally::default().close_quantiles(), (None, None));
        assert_eq!(Tally::default().on_time_rate(), None);
    }
}
