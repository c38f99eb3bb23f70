//! `gridmap import-track FILE.gpx --responder ID`: a GPX track stored as a patrol, geocoded against the active
//! generation like `POST /patrols`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::EXIT_REJECTED;
use crate::catalog::Catalog;
use crate::events::Events;
use crate::index::BoundaryIndex;
use crate::locate::Locator;
use crate::patrols::{PatrolError, PatrolService, read_gpx};
use crate::responders::ResponderId;

/// Reads, checks, geocodes and stores the track; a bad file or unknown responder exits with `EXIT_REJECTED`.
pub async fn import_track(db: &str, file: &Path, responder: i64) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let fixes = match read_gpx(&file.display().to_string(), &text) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("rejected: {e}");
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
    };
    let store = super::open_store(db, false).await?;
    let locator = Arc::new(Locator::new(BoundaryIndex::empty(), h3o::Resolution::Ten));
    Catalog::new(store.clone(), Some(locator.clone())).reload_if_changed().await.context("loading boundaries")?;
    let service = PatrolService::new(store, locator, Events::default());
    match service.record(ResponderId(responder), fixes).await {
        Ok(r) => {
            println!(
                "patrol {} of responder {responder}: {} fixes, {:.0} m, {} cells at resolution {}, {} grids",
                r.patrol.id.0,
                r.patrol.points,
                r.patrol.length_m,
                r.cells.len(),
                r.patrol.resolution,
                r.grids.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (PatrolError::Track(_) | PatrolError::UnknownResponder(_))) => {
            eprintln!("rejected: {}: {e}", file.display());
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(e) => Err(e.into()),
    }
}
