//! `gridmap import-incidents`: a district's past events from a file and a map, with the same checks as
//! `POST /api/v1/incidents/load`, all or nothing, recorded in the audit log.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use super::{DbArgs, EXIT_REJECTED};
use crate::audit::AuditLog;
use crate::catalog::Catalog;
use crate::departments::DepartmentService;
use crate::dispatch::DispatchPolicy;
use crate::events::Events;
use crate::history::{HistoryError, HistoryReport, HistoryService, Rules};
use crate::incidents::{Categories, IncidentService, ServiceArea};
use crate::index::BoundaryIndex;
use crate::locate::Locator;

/// `gridmap import-incidents FILE --map MAP.json`.
#[derive(Debug, Args)]
pub struct ImportIncidentsArgs {
    /// The events: .csv (UTF-8 or GBK/GB18030), .xlsx/.xls/.ods, or .geojson points.
    pub file: PathBuf,
    /// The import map (JSON: which field holds what, how categories and statuses map; docs/history-import.md).
    #[arg(long)]
    pub map: PathBuf,
    /// Check only: print the report, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The service's incident categories (as `serve --incident-categories`; default the built-in list).
    #[arg(long, env = "GRIDMAP_INCIDENT_CATEGORIES", value_delimiter = ',')]
    pub incident_categories: Option<Vec<String>>,
    /// Where incidents may be (as `serve --service-area`).
    #[arg(long, env = "GRIDMAP_SERVICE_AREA", default_value = "streets")]
    pub service_area: ServiceArea,
    /// The dispatch policy whose deadlines set each event's due time (the server's `--dispatch-policy`).
    #[arg(long, env = "GRIDMAP_DISPATCH_POLICY")]
    pub dispatch_policy: Option<PathBuf>,
    /// H3 resolution of the stored cells (as `serve --h3-resolution`).
    #[arg(long, env = "GRIDMAP_H3_RESOLUTION", default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=15))]
    pub h3_resolution: u8,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Runs the import; a rejected file or map prints the report and exits with `EXIT_REJECTED`, writing nothing.
pub async fn import(args: ImportIncidentsArgs) -> anyhow::Result<ExitCode> {
    let resolution = h3o::Resolution::try_from(args.h3_resolution).context("--h3-resolution")?;
    let policy = match &args.dispatch_policy {
        Some(path) => DispatchPolicy::from_file(path)?,
        None => DispatchPolicy::default(),
    };
    let categories = match &args.incident_categories {
        Some(list) => Categories::new(list.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty())),
        None => Categories::default(),
    };
    let bytes = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let map = std::fs::read(&args.map).with_context(|| format!("reading {}", args.map.display()))?;
    let store = super::open_store(&args.db.db, false).await?;
    let locator = Arc::new(Locator::new(BoundaryIndex::empty(), resolution));
    Catalog::new(store.clone(), Some(locator.clone())).reload_if_changed().await.context("loading boundaries")?;
    let events = Events::default();
    let departments = Arc::new(DepartmentService::new(store.clone(), categories.clone(), events.clone()));
    let deadlines = policy.deadlines.clone();
    let incidents = Arc::new(
        IncidentService::new(store.clone(), locator.clone(), categories.clone(), args.service_area, events.clone())
            .with_deadlines(deadlines.clone())
            .with_departments(departments.clone()),
    );
    let rules = Rules { categories, area: args.service_area, deadlines };
    let history = HistoryService::new(store.clone(), incidents, departments, locator, rules, events);
    let name = args.file.display().to_string();
    let actor = AuditLog::cli_actor();
    match history.import(&name, bytes, &map, args.dry_run, &actor).await {
        Ok(report) => {
            if !args.dry_run {
                AuditLog::new(store).record(&actor, "incidents.imported", None, report.audit_details()).await;
            }
            print(&report, args.json)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(HistoryError::Rejected { report, .. }) => {
            print(&report, args.json)?;
            eprintln!("rejected: {name}: {} bad value(s), nothing imported", report.error_count);
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(e @ (HistoryError::Table(_) | HistoryError::Map(_))) => {
            eprintln!("rejected: {e}");
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(HistoryError::Store(e)) => Err(e.into()),
    }
}

fn print(report: &HistoryReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    let verb = if report.dry_run || report.error_count > 0 { "checked" } else { "imported" };
    println!(
        "{verb} {}: {} rows, {} valid, {} already stored, {} added, {} bad value(s)",
        report.file, report.rows, report.valid, report.already_present, report.added, report.error_count
    );
    for (title, counts) in [("category", &report.categories), ("status", &report.statuses)] {
        for (from, m) in &counts.mapped {
            println!("  {title} {from:?} → {} ({})", m.to, rows(m.rows));
        }
        for (value, n) in &counts.added {
            println!("  {title} {value:?} added as a new category ({})", rows(*n));
        }
        for (value, n) in &counts.unmapped {
            println!("  {title} {value:?} is not mapped ({})", rows(*n));
        }
    }
    for (department, n) in &report.departments {
        println!("  department {department:?}: {}", rows(*n));
    }
    for e in &report.errors {
        println!("  row {}, field {:?}: {:?}: {}", e.row, e.field, e.value, e.message);
    }
    if report.error_count > report.errors.len() {
        println!("  … and {} more", report.error_count - report.errors.len());
    }
    Ok(())
}

fn rows(n: usize) -> String {
    if n == 1 { "1 row".into() } else { format!("{n} rows") }
}
