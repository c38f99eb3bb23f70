//! `gridmap load-responders`: a roster file into the store, all or none.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::EXIT_REJECTED;
use crate::crs::Crs;
use crate::responders::roster;
use crate::store;

/// Parses the roster and stores it in one transaction; a bad file stores nothing and exits with `EXIT_REJECTED`.
pub async fn load(db: &str, file: &Path, crs: &str) -> anyhow::Result<ExitCode> {
    let crs: Crs = crs.parse().context("--crs")?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let new = match roster::parse(&file.display().to_string(), &bytes, crs, time::OffsetDateTime::now_utc()) {
        Ok(new) => new,
        Err(e) => {
            eprintln!("rejected: {e}");
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
    };
    let store = store::open(db).await.with_context(|| format!("opening {}", store::redact(db)))?;
    let stored = store.create_responders(&new).await.context("storing responders")?;
    let (first, last) = (stored.first().map(|r| r.id.0), stored.last().map(|r| r.id.0));
    println!("loaded {} responders from {} (ids {first:?} … {last:?})", stored.len(), file.display());
    Ok(ExitCode::SUCCESS)
}
