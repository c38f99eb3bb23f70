//! An import run: read the file, check every row through the map, and store all of it or nothing; the ledger and the
//! live feed learn of it once.

use std::sync::Arc;

use serde::Serialize;

use super::{Context, HistoryStore, ImportMap, MapError, RowError, TableError, ValueCounts, prepare, read_table};
use crate::departments::DepartmentService;
use crate::events::Events;
use crate::incidents::{Categories, Deadlines, IncidentService, ServiceArea};
use crate::locate::{Locator, geocode};
use crate::store_error::StoreError;

/// What an import found and did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryReport {
    /// The file.
    pub file: String,
    /// Only checked: nothing was written.
    pub dry_run: bool,
    /// Rows in the file.
    pub rows: usize,
    /// Rows that passed every check.
    pub valid: usize,
    /// Valid rows whose id is stored already (importing the same file again adds nothing).
    pub already_present: usize,
    /// Incidents added.
    pub added: usize,
    /// Category values: mapped (to what, how many rows), unmapped (every one, with its rows), added as new.
    pub categories: ValueCounts,
    /// Status values, likewise.
    pub statuses: ValueCounts,
    /// Departments named → rows (register codes where the name or code is in the register).
    pub departments: std::collections::BTreeMap<String, usize>,
    /// Bad rows, with row number and field (at most 1 000 listed).
    pub errors: Vec<RowError>,
    /// Bad cells in all.
    pub error_count: usize,
}

impl HistoryReport {
    /// What the audit log keeps of an import.
    pub fn audit_details(&self) -> serde_json::Value {
        serde_json::json!({"file": self.file, "rows": self.rows, "added": self.added, "already_present": self.already_present})
    }
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file cannot be read.
    #[error(transparent)]
    Table(#[from] TableError),
    /// The map cannot be used with the file.
    #[error(transparent)]
    Map(#[from] MapError),
    /// Some rows are bad (the report lists them): nothing was written.
    #[error("{file}: {error_count} bad value(s) in the file, nothing imported (first: {first})")]
    Rejected {
        /// The file.
        file: String,
        /// How many.
        error_count: usize,
        /// The first, as text.
        first: String,
        /// The whole report.
        report: Box<HistoryReport>,
    },
    /// Storage failed: nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// History import over the store, the live boundary index and the incident ledger.
#[derive(Debug)]
pub struct HistoryService {
    store: Arc<dyn HistoryStore>,
    incidents: Arc<IncidentService>,
    departments: Arc<DepartmentService>,
    locator: Arc<Locator>,
    categories: Categories,
    area: ServiceArea,
    deadlines: Deadlines,
    events: Events,
}

/// What a history service checks rows against.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Configured categories.
    pub categories: Categories,
    /// Where incidents may be.
    pub area: ServiceArea,
    /// The policy's deadlines.
    pub deadlines: Deadlines,
}

impl HistoryService {
    /// A service writing to `store`, checking against `rules`, telling `incidents`' ledger and `events`.
    pub fn new(
        store: Arc<dyn HistoryStore>,
        incidents: Arc<IncidentService>,
        departments: Arc<DepartmentService>,
        locator: Arc<Locator>,
        rules: Rules,
        events: Events,
    ) -> Self {
        let Rules { categories, area, deadlines } = rules;
        Self { store, incidents, departments, locator, categories, area, deadlines, events }
    }

    /// Reads `bytes` (named `file`) through the map in `map_json`, checks every row and, unless `dry_run`, stores the
    /// rows not stored before, all in one transaction.
    pub async fn import(
        &self,
        file: &str,
        bytes: Vec<u8>,
        map_json: &[u8],
        dry_run: bool,
        actor: &str,
    ) -> Result<HistoryReport, HistoryError> {
        let map = ImportMap::from_json(map_json)?;
        let departments: Vec<(String, String)> = self
            .departments
            .list()
            .await
            .map_err(|e| match e {
                crate::departments::DepartmentError::Store(s) => HistoryError::Store(s),
                other => HistoryError::Store(StoreError::Corrupt(other.to_string())),
            })?
            .into_iter()
            .map(|d| (d.code, d.name))
            .collect();
        let index = self.locator.current();
        let resolution = self.locator.resolution();
        let area = self.area;
        let (categories, deadlines, name) = (self.categories.clone(), self.deadlines.clone(), file.to_owned());
        // Parsing and checking 100 000 rows is CPU work: off the async threads.
        let prepared = tokio::task::spawn_blocking(move || {
            let table = read_table(&name, &bytes, map.encoding.as_deref(), map.sheet.as_deref())?;
            let locate = |p: crate::coord::LonLat| {
                area.check(&index, p).map_err(|a| format!("outside the service area ({a})"))?;
                Ok(geocode(&index, resolution, p))
            };
            let cx =
                Context { categories: &categories, departments: &departments, deadlines: &deadlines, geocode: &locate };
            Ok::<_, HistoryError>(prepare(&table, &map, &cx)?)
        })
        .await
        .map_err(|e| HistoryError::Store(StoreError::Corrupt(format!("the import task failed: {e}"))))??;
        let ids: Vec<String> = prepared.rows.iter().map(|r| r.external_id.clone()).collect();
        let existing =
            if prepared.error_count == 0 { self.store.existing_external_ids(&ids).await? } else { Default::default() };
        let mut report = HistoryReport {
            file: file.to_owned(),
            dry_run,
            rows: prepared.total,
            valid: prepared.rows.len(),
            already_present: existing.len(),
            added: 0,
            categories: prepared.categories,
            statuses: prepared.statuses,
            departments: prepared.departments,
            errors: prepared.errors,
            error_count: prepared.error_count,
        };
        if let Some(first) = report.errors.first() {
            let first = format!("row {}, field {:?}: {:?}: {}", first.row, first.field, first.value, first.message);
            return Err(HistoryError::Rejected {
                file: file.to_owned(),
                error_count: report.error_count,
                first,
                report: Box::new(report),
            });
        }
        if dry_run {
            return Ok(report);
        }
        let fresh: Vec<_> = prepared.rows.into_iter().filter(|r| !existing.contains(&r.external_id)).collect();
        let added = self.store.import_history(&fresh, actor).await?;
        report.added = added.len();
        self.incidents.took_in(added).map_err(|e| HistoryError::Store(StoreError::Corrupt(e.to_string())))?;
        let summary =
            serde_json::json!({"file": file, "added": report.added, "already_present": report.already_present});
        self.events.publish("incidents.imported", &summary);
        Ok(report)
    }
}
