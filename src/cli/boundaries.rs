//! `gridmap import`, `generations`, `activate`, `rollback`.

use std::process::ExitCode;
use std::time::Instant;

use super::{EXIT_REJECTED, ImportArgs};
use crate::audit::AuditLog;
use crate::catalog::{Catalog, CatalogError, ImportFile, ImportMode};
use crate::import::{Progress, ReadOptions, Sidecars, Tracker};
use crate::layers::{GenerationError, GenerationId};

/// The catalogue and audit log of `db`; only an import may `create` the database.
async fn open(db: &str, create: bool) -> anyhow::Result<(Catalog, AuditLog)> {
    let store = super::open_store(db, create).await?;
    Ok((Catalog::new(store.clone(), None), AuditLog::new(store)))
}

/// The import's progress on the terminal: a spinner while the file is parsed or written, a bar with counts and ETA
/// while its features are checked, when there are more than a few thousand (smaller files take well under a second).
/// Each phase's duration is logged at debug level when it ends (`RUST_LOG=gridmap=debug`).
struct ImportBar(indicatif::ProgressBar, String, std::sync::Mutex<Option<(&'static str, Instant)>>);

impl ImportBar {
    /// Fewest steps for a bar rather than a spinner.
    const BAR_FROM: u64 = 2_000;

    fn new(name: &str, bytes: usize) -> Self {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Self(bar, format!("{name} ({:.1} MB)", bytes as f64 / 1e6), Default::default())
    }

    /// Ends the current phase (logging its duration) and starts `next`.
    fn timed(&self, next: Option<&'static str>) {
        let mut current = self.2.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((phase, started)) = current.take() {
            let elapsed_ms = started.elapsed().as_millis() as u64;
            tracing::debug!(file = %self.1, phase, elapsed_ms, "import phase done");
        }
        *current = next.map(|n| (n, Instant::now()));
    }

    fn finish(&self) {
        self.timed(None);
        self.0.finish_and_clear();
    }
}

impl Progress for ImportBar {
    fn phase(&self, name: &'static str, total: u64) {
        self.timed(Some(name));
        let style = if total >= Self::BAR_FROM {
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta} left)")
        } else {
            indicatif::ProgressStyle::with_template("{spinner} {msg}")
        };
        if let Ok(style) = style {
            self.0.set_style(style.progress_chars("=> "));
        }
        self.0.set_length(total);
        self.0.set_position(0);
        self.0.set_message(format!("{}: {name}", self.1));
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}

/// Reads, validates and stages (or activates) a boundary file; exit 1 when it is rejected.
pub async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let name = args.file.display().to_string();
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {name}: {e}");
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
    };
    let is_shp = args.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("shp"));
    let sidecars = if is_shp {
        match Sidecars::beside(&args.file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot read the files beside {name}: {e}");
                return Ok(ExitCode::from(EXIT_REJECTED));
            }
        }
    } else {
        Sidecars::default()
    };
    // Drawn only when stderr is a terminal: a city layer takes seconds.
    let bar = std::sync::Arc::new(ImportBar::new(&name, bytes.len()));
    let options = ReadOptions {
        layer: args.layer,
        code_field: args.code_field,
        name_field: args.name_field,
        parent_field: args.parent_field,
        parent_from: args.parent_from,
        crs: args.crs,
        encoding: args.encoding,
        member: args.member,
        sidecars,
        fix: args.fix,
        progress: Tracker::new(bar.clone()),
    };
    let mode = ImportMode {
        dry_run: args.dry_run,
        activate: args.activate,
        base: args.base.map(GenerationId),
        preview: false,
    };
    let (catalog, audit) = open(&args.db.db, true).await?;
    let outcome = catalog.import(vec![ImportFile { name, bytes, options }], mode).await;
    bar.finish();
    let reports = match outcome {
        Ok(r) => r,
        Err(CatalogError::Import(e)) => {
            if args.json {
                println!("{}", serde_json::json!({"valid": false, "errors": [{"message": e.to_string()}]}));
            } else {
                eprintln!("error: {e}");
            }
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
        Err(CatalogError::Generation(GenerationError::NotFound(g))) => {
            eprintln!("error: --base {g}: generation {g} does not exist");
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
        Err(e) => return Err(e.into()),
    };
    let valid = reports.iter().all(|r| r.valid);
    for r in &reports {
        audit.import(&AuditLog::cli_actor(), r).await;
        if args.json {
            println!("{}", serde_json::to_string_pretty(r)?);
        } else {
            print!("{}", r.to_text());
        }
    }
    Ok(if valid { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REJECTED) })
}

/// Lists generations.
pub async fn generations(db: &str, json: bool) -> anyhow::Result<ExitCode> {
    let list = open(db, false).await?.0.store().generations().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:>5}  {:<8}  {:<25}  {:<30}  description", "id", "status", "created", "features (s/c/g)");
    for g in list {
        let counts: Vec<String> =
            g.layers.iter().map(|l| format!("{}:{}", &l.layer.as_str()[..1], l.features)).collect();
        let status = serde_json::to_value(g.status)?.as_str().unwrap_or_default().to_owned();
        println!("{:>5}  {:<8}  {:<25}  {:<30}  {}", g.id, status, g.created_at, counts.join(" "), g.description);
    }
    Ok(ExitCode::SUCCESS)
}

/// Activates a generation; exit 1 when it does not exist.
pub async fn activate(db: &str, generation: i64) -> anyhow::Result<ExitCode> {
    let (catalog, audit) = open(db, false).await?;
    let before = catalog.store().active_generation().await?;
    match catalog.activate(GenerationId(generation)).await {
        Ok(()) => {
            let details = serde_json::json!({"previous": before, "by": "cli"});
            audit
                .record(
                    &AuditLog::cli_actor(),
                    "generation.activated",
                    Some(format!("generation:{generation}")),
                    details,
                )
                .await;
            println!("generation {generation} is active");
            Ok(ExitCode::SUCCESS)
        }
        Err(CatalogError::Generation(e @ GenerationError::NotFound(_))) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(e) => Err(e.into()),
    }
}

/// Discards a staged generation; exit 1 when it does not exist or cannot be discarded.
pub async fn discard(db: &str, generation: i64) -> anyhow::Result<ExitCode> {
    let (catalog, audit) = open(db, false).await?;
    match catalog.discard(GenerationId(generation)).await {
        Ok(()) => {
            let details = serde_json::json!({"by": "cli"});
            let target = Some(format!("generation:{generation}"));
            audit.record(&AuditLog::cli_actor(), "generation.discarded", target, details).await;
            println!("generation {generation} discarded");
            Ok(ExitCode::SUCCESS)
        }
        Err(CatalogError::Generation(e @ (GenerationError::NotFound(_) | GenerationError::InUse { .. }))) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(e) => Err(e.into()),
    }
}

/// Rolls back to the previous generation; exit 1 when there is none.
pub async fn rollback(db: &str) -> anyhow::Result<ExitCode> {
    let (catalog, audit) = open(db, false).await?;
    let before = catalog.store().active_generation().await?;
    match catalog.rollback().await {
        Ok(g) => {
            let details = serde_json::json!({"previous": before, "by": "cli"});
            audit
                .record(&AuditLog::cli_actor(), "generation.rolled_back", Some(format!("generation:{g}")), details)
                .await;
            println!("rolled back: generation {g} is active");
            Ok(ExitCode::SUCCESS)
        }
        Err(CatalogError::Generation(e @ GenerationError::NothingToRollBack)) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(e) => Err(e.into()),
    }
}
