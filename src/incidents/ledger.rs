//! The ledger: a compact in-memory copy of what aggregations read from every incident (id, location, H3 cell,
//! category, status, report time), so a heatmap over a million incidents is a scan of memory, not a `GROUP BY`.
//! Loaded from the store at start; kept current by the incident service on every write it makes.

use std::collections::HashMap;
use std::sync::RwLock;

use h3o::CellIndex;

use super::{Incident, IncidentFilter, IncidentStatus};

/// One incident as the ledger keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LedgerRow {
    /// Incident id.
    pub id: i64,
    /// `[lon, lat]`.
    pub location: [f64; 2],
    /// H3 cell at the service's resolution.
    pub cell: CellIndex,
    /// Index into the ledger's category names.
    pub category: u16,
    /// Lifecycle state.
    pub status: IncidentStatus,
    /// Report time, Unix nanoseconds.
    pub reported_ns: i64,
}

#[derive(Debug, Default)]
struct Rows {
    rows: Vec<LedgerRow>,
    by_id: HashMap<i64, u32>,
    categories: Vec<String>,
}

impl Rows {
    fn category(&mut self, name: &str) -> u16 {
        match self.categories.iter().position(|c| c == name) {
            Some(i) => i as u16,
            None => {
                self.categories.push(name.to_owned());
                (self.categories.len() - 1) as u16
            }
        }
    }
}

/// The in-memory incident ledger.
#[derive(Debug, Default)]
pub struct Ledger(RwLock<Rows>);

/// A ledger entry as read from the store: id, location, stored cell text, category, status, report time.
pub type StoredSummary = (i64, [f64; 2], String, String, IncidentStatus, time::OffsetDateTime);

/// Why the ledger could not take a row.
#[derive(Debug, thiserror::Error)]
#[error("incident {id}: stored H3 cell {cell:?} is not valid")]
pub struct BadCell {
    /// Incident.
    pub id: i64,
    /// The text.
    pub cell: String,
}

impl Ledger {
    /// Replaces the contents with rows read from the store.
    pub fn load(&self, stored: Vec<StoredSummary>) -> Result<(), BadCell> {
        let mut fresh = Rows::default();
        fresh.rows.reserve(stored.len());
        for (id, location, cell, category, status, at) in stored {
            let cell: CellIndex = cell.parse().map_err(|_| BadCell { id, cell: cell.clone() })?;
            let category = fresh.category(&category);
            fresh.by_id.insert(id, fresh.rows.len() as u32);
            fresh.rows.push(LedgerRow { id, location, cell, category, status, reported_ns: nanos(at) });
        }
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// Adds or updates one incident.
    pub fn upsert(&self, incident: &Incident) {
        let Ok(cell) = incident.geocode.h3.parse::<CellIndex>() else { return };
        let mut rows = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let category = rows.category(&incident.category);
        let row = LedgerRow {
            id: incident.id.0,
            location: incident.location,
            cell,
            category,
            status: incident.status,
            reported_ns: nanos(incident.reported_at),
        };
        match rows.by_id.get(&row.id).copied() {
            Some(i) => rows.rows[i as usize] = row,
            None => {
                let i = rows.rows.len() as u32;
                rows.by_id.insert(row.id, i);
                rows.rows.push(row);
            }
        }
    }

    /// Number of incidents held.
    pub fn len(&self) -> usize {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).rows.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the filter uses only what the ledger holds (bbox, category, status, time range).
    pub fn can_answer(filter: &IncidentFilter) -> bool {
        filter.street.is_none() && filter.community.is_none() && filter.grid.is_none()
    }

    /// Calls `f` with the cell of every incident matching `filter` (bbox inclusive, `from` ≤ reported < `to`).
    pub fn for_each_cell(&self, filter: &IncidentFilter, mut f: impl FnMut(CellIndex)) {
        let rows = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let category = match &filter.category {
            Some(name) => match rows.categories.iter().position(|c| c == name) {
                Some(i) => Some(i as u16),
                None => return,
            },
            None => None,
        };
        let from = filter.from.map(nanos);
        let to = filter.to.map(nanos);
        for r in &rows.rows {
            if let Some([x0, y0, x1, y1]) = filter.bbox {
                let [x, y] = r.location;
                if x < x0 || x > x1 || y < y0 || y > y1 {
                    continue;
                }
            }
            if category.is_some_and(|c| c != r.category)
                || (!filter.status.is_empty() && !filter.status.contains(&r.status))
                || from.is_some_and(|t| r.reported_ns < t)
                || to.is_some_and(|t| r.reported_ns >= t)
            {
                continue;
            }
            f(r.cell);
        }
    }
}

fn nanos(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}
