//! The ledger: a compact in-memory copy of what aggregations read from every incident (id, location, H3 cell,
//! category, status, report time, codes, department, deadline and handling time, returns, rating), so a heatmap or
//! an assessment over a million incidents is a scan of memory, not a `GROUP BY`.
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
    /// Index into the ledger's codes: street, community, department ([`NO_GRID`]: none).
    pub street: u32,
    /// Community code index.
    pub community: u32,
    /// Department code (or imported department name) index.
    pub department: u32,
    /// Deadline, Unix nanoseconds ([`NO_TIME`]: none).
    pub due_ns: i64,
    /// When a resolved or closed incident was handled (resolved, else closed), Unix nanoseconds ([`NO_TIME`]: none).
    pub handled_ns: i64,
    /// Returns (退回).
    pub returned: u16,
    /// The reporter's rating 1–5 (0: none).
    pub rating: u8,
}

/// `LedgerRow::grid` (and the other code indices) of an incident without that code.
pub const NO_GRID: u32 = u32::MAX;
/// A time a row does not have.
pub const NO_TIME: i64 = i64::MIN;

impl LedgerRow {
    /// The deadline, if any.
    pub fn due_ns(&self) -> Option<i64> {
        (self.due_ns != NO_TIME).then_some(self.due_ns)
    }

    /// When it was handled, if it was.
    pub fn handled_ns(&self) -> Option<i64> {
        (self.handled_ns != NO_TIME).then_some(self.handled_ns)
    }
}

/// What one row's fields come from, whichever way it arrived (loaded, imported, written).
struct Source<'a> {
    id: i64,
    location: [f64; 2],
    cell: &'a str,
    category: &'a str,
    status: IncidentStatus,
    codes: [Option<&'a str>; 4],
    reported_at: time::OffsetDateTime,
    updated_at: time::OffsetDateTime,
    resolved_at: Option<time::OffsetDateTime>,
    closed_at: Option<time::OffsetDateTime>,
    due_at: Option<time::OffsetDateTime>,
    returned: i32,
    rating: Option<i32>,
}

impl<'a> Source<'a> {
    fn of_summary(s: &'a StoredSummary) -> Self {
        Source {
            id: s.id,
            location: s.location,
            cell: &s.cell,
            category: &s.category,
            status: s.status,
            codes: [
                s.street_code.as_deref(),
                s.community_code.as_deref(),
                s.grid_code.as_deref(),
                s.department.as_deref(),
            ],
            reported_at: s.reported_at,
            updated_at: s.updated_at,
            resolved_at: s.resolved_at,
            closed_at: s.closed_at,
            due_at: s.due_at,
            returned: s.returned,
            rating: s.satisfaction,
        }
    }
}

#[derive(Debug, Default)]
struct Rows {
    rows: Vec<LedgerRow>,
    by_id: HashMap<i64, u32>,
    categories: Vec<String>,
    /// Street, community, grid and department codes, interned (a row holds their indices).
    codes: Vec<String>,
    code_ids: HashMap<String, u32>,
}

impl Rows {
    fn row(&mut self, s: &Source<'_>) -> Result<LedgerRow, BadCell> {
        let cell: CellIndex = s.cell.parse().map_err(|_| BadCell { id: s.id, cell: s.cell.to_owned() })?;
        let [street, community, grid, department] = s.codes;
        let handled = matches!(s.status, IncidentStatus::Resolved | IncidentStatus::Closed)
            .then(|| s.resolved_at.or(s.closed_at).unwrap_or(s.updated_at));
        Ok(LedgerRow {
            id: s.id,
            location: s.location,
            cell,
            category: self.category(s.category),
            status: s.status,
            reported_ns: nanos(s.reported_at),
            grid: self.intern(grid),
            closed_ns: (s.status == IncidentStatus::Closed).then(|| nanos(s.closed_at.unwrap_or(s.updated_at))),
            street: self.intern(street),
            community: self.intern(community),
            department: self.intern(department),
            due_ns: s.due_at.map_or(NO_TIME, nanos),
            handled_ns: handled.map_or(NO_TIME, nanos),
            returned: u16::try_from(s.returned.max(0)).unwrap_or(u16::MAX),
            rating: s.rating.and_then(|r| u8::try_from(r).ok()).unwrap_or(0),
        })
    }

    fn put(&mut self, row: LedgerRow) {
        match self.by_id.get(&row.id).copied() {
            Some(i) => self.rows[i as usize] = row,
            None => {
                let i = self.rows.len() as u32;
                self.by_id.insert(row.id, i);
                self.rows.push(row);
            }
        }
    }

    /// The code behind an index ([`NO_GRID`]: none).
    fn code(&self, i: u32) -> Option<&str> {
        (i != NO_GRID).then(|| self.codes[i as usize].as_str())
    }

    fn intern(&mut self, code: Option<&str>) -> u32 {
        let Some(code) = code else { return NO_GRID };
        if let Some(&i) = self.code_ids.get(code) {
            return i;
        }
        let i = self.codes.len() as u32;
        self.codes.push(code.to_owned());
        self.code_ids.insert(code.to_owned(), i);
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
    /// Street code.
    pub street_code: Option<String>,
    /// Community code.
    pub community_code: Option<String>,
    /// Department code (or imported department name).
    pub department: Option<String>,
    /// When it was last resolved.
    pub resolved_at: Option<time::OffsetDateTime>,
    /// Its deadline.
    pub due_at: Option<time::OffsetDateTime>,
    /// Returns (退回).
    pub returned: i32,
    /// The reporter's rating.
    pub satisfaction: Option<i32>,
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
        for s in &stored {
            let row = fresh.row(&Source::of_summary(s))?;
            fresh.put(row);
        }
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// Adds incidents written in bulk (imported history); ids already in the ledger are replaced.
    pub fn extend(&self, stored: Vec<StoredSummary>) -> Result<(), BadCell> {
        let mut rows = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for s in &stored {
            let row = rows.row(&Source::of_summary(s))?;
            rows.put(row);
        }
        Ok(())
    }

    /// Adds or updates one incident.
    pub fn upsert(&self, incident: &Incident) {
        let g = &incident.geocode;
        let source = Source {
            id: incident.id.0,
            location: incident.location.0,
            cell: &g.h3,
            category: &incident.category,
            status: incident.status,
            codes: [
                g.street_code.as_deref(),
                g.community_code.as_deref(),
                g.grid_code.as_deref(),
                incident.department.as_deref(),
            ],
            reported_at: incident.reported_at,
            updated_at: incident.updated_at,
            resolved_at: incident.resolved_at,
            closed_at: incident.closed_at,
            due_at: incident.due_at,
            returned: incident.returned,
            rating: incident.satisfaction.as_ref().map(|s| s.rating),
        };
        let mut rows = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Ok(row) = rows.row(&source) {
            rows.put(row);
        }
    }

    /// Moves incidents to new codes (after re-geocoding).
    pub fn regrid(&self, changes: &[(i64, &super::Geocode)]) {
        let mut rows = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for &(id, g) in changes {
            let (street, community, grid) = (
                rows.intern(g.street_code.as_deref()),
                rows.intern(g.community_code.as_deref()),
                rows.intern(g.grid_code.as_deref()),
            );
            if let Some(&i) = rows.by_id.get(&id) {
                let r = &mut rows.rows[i as usize];
                (r.street, r.community, r.grid) = (street, community, grid);
            }
        }
    }

    /// Calls `f` with `key` and the row of each incident named in `ids` that the ledger holds, under one read lock.
    pub fn for_each_of<K: Copy>(&self, ids: &[(i64, K)], mut f: impl FnMut(K, &LedgerRow)) {
        let rows = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        for &(id, key) in ids {
            if let Some(&i) = rows.by_id.get(&id) {
                f(key, &rows.rows[i as usize]);
            }
        }
    }

    /// Calls `f` with the codes (street, community, grid, department) and row of every incident reported in
    /// `[from, to)` (of `category`, when given), under one read lock.
    pub fn for_each_reported(
        &self,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
        category: Option<&str>,
        mut f: impl FnMut([Option<&str>; 4], &LedgerRow),
    ) {
        let rows = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let filter = IncidentFilter {
            from: Some(from),
            to: Some(to),
            category: category.map(str::to_owned),
            ..Default::default()
        };
        rows.scan(&filter, |r| {
            f([rows.code(r.street), rows.code(r.community), rows.code(r.grid), rows.code(r.department)], r)
        });
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
        by_grid.into_iter().map(|(g, t)| (rows.codes[g as usize].clone(), t)).collect()
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
    fn a_row_stays_within_96_bytes() {
        // A million incidents cost 92 MiB of ledger (plus vector slack): what heatmaps, statistics and assessment
        // (codes, department, deadline, handling time, returns, rating) scan; a bigger row is a deliberate decision.
        assert!(std::mem::size_of::<super::LedgerRow>() <= 96, "{}", std::mem::size_of::<super::LedgerRow>());
    }
}
