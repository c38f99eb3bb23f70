//! `gridmap load-responders`: a roster file into the store, all or none.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::EXIT_REJECTED;
use crate::crs::Crs;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::dispatch::DispatchPolicy;
use crate::index::BoundaryIndex;
use crate::layers::Layer;
use crate::locate::Locator;
use crate::responders::{check_new, roster};

/// Parses the roster and stores it in one transaction; a bad file stores nothing and exits with `EXIT_REJECTED`.
pub async fn load(db: &str, file: &Path, crs: &str, policy: Option<&Path>) -> anyhow::Result<ExitCode> {
    let crs: Crs = crs.parse().context("--crs")?;
    let policy = match policy {
        Some(path) => DispatchPolicy::from_file(path)?,
        None => DispatchPolicy::default(),
    };
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let new = match roster::parse(&file.display().to_string(), &bytes, crs, time::OffsetDateTime::now_utc()) {
        Ok(new) => new,
        Err(e) => {
            eprintln!("rejected: {e}");
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
    };
    let store = super::open_store(db, false).await?;
    let locator = Arc::new(Locator::new(BoundaryIndex::empty(), h3o::Resolution::Ten));
    Catalog::new(store.clone(), Some(locator.clone())).reload_if_changed().await.context("loading boundaries")?;
    let (index, kinds) = (locator.current(), policy.travel.kinds.keys().cloned().collect::<Vec<_>>());
    for (i, n) in new.iter().enumerate() {
        if let Err(e) = check_new(n, Some(i), &kinds, index.layer(Layer::Grids)) {
            eprintln!("rejected: {}: {e}", file.display());
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
    }
    let stored = store.create_responders(&new).await.context("storing responders")?;
    let ids = match (stored.first(), stored.last()) {
        (Some(a), Some(b)) if a.id == b.id => format!(" (id {})", a.id),
        (Some(a), Some(b)) => format!(" (ids {} … {})", a.id, b.id),
        _ => String::new(),
    };
    println!("loaded {} responders from {}{ids}", stored.len(), file.display());
    Ok(ExitCode::SUCCESS)
}
