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
    /// Index into the ledger's grid codes ([`NO_GRID`] outside every grid).
    pub grid: u32,
    /// When it was closed (the last update of a `closed` incident), Unix nanoseconds.
    pub closed_ns: Option<i64>,
}

/// `LedgerRow::grid` of an incident outside every grid.
pub const NO_GRID: u32 = u32::MAX;

#[derive(Debug, Default)]
struct Rows {
    rows: Vec<LedgerRow>,
    by_id: HashMap<i64, u32>,
    categories: Vec<String>,
    grids: Vec<String>,
    grid_ids: HashMap<String, u32>,
}

impl Rows {
    fn grid(&mut self, code: Option<&str>) -> u32 {
        let Some(code) = code else { return NO_GRID };
        if let Some(&i) = self.grid_ids.get(code) {
            return i;
        }
        let i = self.grids.len() as u32;
        self.grids.push(code.to_owned());
        self.grid_ids.insert(code.to_owned(), i);
        i
    }

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

/// A ledger entry as read from the store.
#[derive(Debug, Clone)]
pub struct StoredSummary {
    /// Incident id.
    pub id: i64,
    /// `[lon, lat]`.
    pub location: [f64; 2],
    /// Stored H3 cell text.
    pub cell: String,
    /// Category code.
    pub category: String,
    /// Status.
    pub status: IncidentStatus,
    /// Grid code.
    pub grid_code: Option<String>,
    /// Report time.
    pub reported_at: time::OffsetDateTime,
    /// Last update.
    pub updated_at: time::OffsetDateTime,
    /// When it was closed (older rows without it: their last update, when closed).
    pub closed_at: Option<time::OffsetDateTime>,
}

/// Per-grid figures over the incidents matching a filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GridTally {
    /// All matching incidents.
    pub total: u64,
    /// Not closed or cancelled.
    pub open: u64,
    /// Closed.
    pub closed: u64,
    /// Seconds from report to close, for each closed one.
    pub close_s: Vec<f64>,
}

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
        for s in stored {
            let cell: CellIndex = s.cell.parse().map_err(|_| BadCell { id: s.id, cell: s.cell.clone() })?;
            let category = fresh.category(&s.category);
            let grid = fresh.grid(s.grid_code.as_deref());
            fresh.by_id.insert(s.id, fresh.rows.len() as u32);
            fresh.rows.push(LedgerRow {
                id: s.id,
                location: s.location,
                cell,
                category,
                status: s.status,
                reported_ns: nanos(s.reported_at),
                grid,
                closed_ns: (s.status == IncidentStatus::Closed).then(|| nanos(s.closed_at.unwrap_or(s.updated_at))),
            });
        }
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// Adds incidents written in bulk (imported history); ids already in the ledger are replaced.
    pub fn extend(&self, stored: Vec<StoredSummary>) -> Result<(), BadCell> {
        let mut rows = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for s in stored {
            let cell: CellIndex = s.cell.parse().map_err(|_| BadCell { id: s.id, cell: s.cell.clone() })?;
            let category = rows.category(&s.category);
            let grid = rows.grid(s.grid_code.as_deref());
            let row = LedgerRow {
                id: s.id,
                location: s.location,
                cell,
                category,
                status: s.status,
                reported_ns: nanos(s.reported_at),
                grid,
                closed_ns: (s.status == IncidentStatus::Closed).then(|| nanos(s.closed_at.unwrap_or(s.updated_at))),
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
        Ok(())
    }

    /// Adds or updates one incident.
    pub fn upsert(&self, incident: &Incident) {
        let Ok(cell) = incident.geocode.h3.parse::<CellIndex>() else { return };
        let mut rows = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let category = rows.category(&incident.category);
        let grid = rows.grid(incident.geocode.grid_code.as_deref());
        let row = LedgerRow {
            id: incident.id.0,
            location: incident.location.0,
            cell,
            category,
            status: incident.status,
            reported_ns: nanos(incident.reported_at),
            grid,
            closed_ns: (incident.status == IncidentStatus::Closed)
                .then(|| nanos(incident.closed_at.unwrap_or(incident.updated_at))),
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

    /// Moves incidents to new grids (after re-geocoding).
    pub fn regrid(&self, changes: &[(i64, Option<&str>)]) {
        let mut rows = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for &(id, code) in changes {
            let grid = rows.grid(code);
            if let Some(&i) = rows.by_id.get(&id) {
                rows.rows[i as usize].grid = grid;
            }
        }
    }

    /// Tallies the incidents matching `filter` per grid code.
    pub fn tally_by_grid(&self, filter: &IncidentFilter) -> HashMap<String, GridTally> {
        let rows = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut by_grid: HashMap<u32, GridTally> = HashMap::new();
        rows.scan(filter, |r| {
            if r.grid == NO_GRID {
                return;
            }
            let t = by_grid.entry(r.grid).or_default();
            t.total += 1;
            if r.status.is_open() {
                t.open += 1;
            }
            if let Some(closed) = r.closed_ns {
                t.closed += 1;
                t.close_s.push((closed - r.reported_ns) as f64 / 1e9);
            }
        });
        by_grid.into_iter().map(|(g, t)| (rows.grids[g as usize].clone(), t)).collect()
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
        rows.scan(filter, |r| f(r.cell));
    }
}

impl Rows {
    /// Calls `f` with every row matching the ledger-answerable part of `filter`.
    fn scan(&self, filter: &IncidentFilter, mut f: impl FnMut(&LedgerRow)) {
        let category = match &filter.category {
            Some(name) => match self.categories.iter().position(|c| c == name) {
                Some(i) => Some(i as u16),
                None => return,
            },
            None => None,
        };
        let from = filter.from.map(nanos);
        let to = filter.to.map(nanos);
        for r in &self.rows {
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
            f(r);
        }
    }
}

fn nanos(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_row_stays_within_64_bytes() {
        // A million incidents cost 61 MiB of ledger (plus vector slack); a bigger row is a deliberate decision.
        assert!(std::mem::size_of::<super::LedgerRow>() <= 64, "{}", std::mem::size_of::<super::LedgerRow>());
    }
}
