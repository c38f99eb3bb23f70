//! `gridmap serve`: open the store, load boundaries, serve HTTP until SIGINT/SIGTERM.

use std::time::Duration;

use anyhow::Context;
use h3o::Resolution;

use super::{AuthMode, ServeArgs};
use crate::dispatch::DispatchPolicy;
use crate::http::{HttpLimits, app};
use crate::{service, store};

/// Runs the server.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    // Everything that can be checked without the database first: a bad option must not create or lock one.
    let resolution = Resolution::try_from(args.h3_resolution).context("--h3-resolution")?;
    let dispatch = match &args.dispatch_policy {
        Some(path) => DispatchPolicy::from_file(path)?,
        None => DispatchPolicy::default(),
    };
    let basemap = match &args.basemap_url {
        Some(url) => Some(crate::tiles::Basemap::new(url, args.basemap_crs, args.basemap_attribution.clone())?),
        None => None,
    };
    let archives = std::sync::Arc::new(crate::tiles::Archives::open(&args.basemap_pmtiles).await?);
    let _only_server = match store::sqlite_path(&args.db.db) {
        Some(path) => Some(ServeLock::take(&path)?),
        None => None,
    };
    let store = super::open_store(&args.db.db, true).await?;
    tracing::info!(backend = store.backend(), db = %store::redact(&args.db.db), "store open");
    let auth = match args.auth {
        AuthMode::On => true,
        AuthMode::Off => {
            if !is_loopback(&args.listen) {
                tracing::warn!(listen = %args.listen, "access control is OFF on a non-loopback address (--auth off)");
            }
            false
        }
        AuthMode::Auto => !is_loopback(&args.listen),
    };
    if auth && store.keys().await?.iter().all(|k| k.revoked_at.is_some()) {
        tracing::warn!(
            "access control is on but no API key exists: create one with `gridmap keys create --role gis_admin`"
        );
    }
    tracing::info!(auth, "access control");
    let started = std::time::Instant::now();
    let service::Started { state, position_writer } = service::start(
        store,
        service::Options {
            resolution,
            sample: !args.no_sample,
            tile_cache_bytes: args.tile_cache_mb.saturating_mul(1024 * 1024),
            dispatch,
            categories: match &args.incident_categories {
                Some(list) => crate::incidents::Categories::new(
                    list.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
                ),
                None => crate::incidents::Categories::default(),
            },
            service_area: args.service_area,
            auth,
            basemap,
            archives,
            deadline_tick: std::time::Duration::from_secs(15),
            web_dir: args.web_dir.clone(),
        },
    )
    .await?;
    let index = state.locator.current();
    tracing::info!(
        generation = ?index.generation(),
        streets = index.layer(crate::layers::Layer::Streets).len(),
        communities = index.layer(crate::layers::Layer::Communities).len(),
        grids = index.layer(crate::layers::Layer::Grids).len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "boundaries indexed"
    );
    drop(index);
    if args.reload_interval_s > 0 {
        let catalog = state.catalog.clone();
        let roads = state.roads.clone();
        let every = Duration::from_secs(args.reload_interval_s);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = catalog.reload_if_changed().await {
                    tracing::warn!(error = %e, "checking for a newly activated generation failed");
                }
                // A network imported by `gridmap import-roads` beside the server, or by another replica.
                if let Err(e) = roads.reload_if_changed().await {
                    tracing::warn!(error = %e, "checking for a newly imported road network failed");
                }
            }
        });
    }

    let limits = HttpLimits {
        body_limit_bytes: args.body_limit_mb.saturating_mul(1024 * 1024),
        request_timeout: Duration::from_secs(args.request_timeout_s.max(1)),
    };
    let router = app(state, limits);
    let listener =
        tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let workers = args.http_workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    tracing::info!(addr = %listener.local_addr()?, http_workers = workers, "listening");
    let served = crate::http::workers::serve(listener, router, workers, shutdown()).await.context("serving HTTP")?;
    // Every request is done: the position writer writes what was queued and ends.
    if tokio::time::timeout(Duration::from_secs(30), position_writer.finish()).await.is_err() {
        tracing::error!("position writer did not drain within 30 s");
    }
    // Only now: the writer may have used database connections a worker's runtime opened.
    served.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The one `gridmap serve` of an SQLite database: an exclusive lock on `FILE.serve-lock` beside it, held for the
/// process's life (the operating system releases it when the process ends, however it ends). SQLite's one writer and
/// each server's in-memory copies (fleet, incident ledger) are not shared between processes: a second server on the
/// same file would answer from a stale copy. Other commands (`keys`, `import`, …) may run beside it.
#[derive(Debug)]
struct ServeLock(#[expect(dead_code, reason = "held for the lock, never read")] std::fs::File);

impl ServeLock {
    fn take(db: &std::path::Path) -> anyhow::Result<Self> {
        let mut name = db.as_os_str().to_owned();
        name.push(".serve-lock");
        let path = std::path::PathBuf::from(name);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Self(file)),
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "another `gridmap serve` is using {} (it holds {}): one server per SQLite file; stop it first, or run \
                 several replicas on PostGIS (--db postgres://…)",
                db.display(),
                path.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
        }
    }
}

/// Whether a listen address only accepts connections from this machine (`127.0.0.0/8`, `::1`, `localhost`).
fn is_loopback(listen: &str) -> bool {
    match listen.parse::<std::net::SocketAddr>() {
        Ok(addr) => addr.ip().is_loopback(),
        Err(_) => listen.rsplit_once(':').is_some_and(|(host, _)| host == "localhost"),
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn only_loopback_listeners_may_run_without_keys() {
        assert!(is_loopback("127.0.0.1:8080") && is_loopback("[::1]:80") && is_loopback("localhost:8080"));
        assert!(!is_loopback("0.0.0.0:8080") && !is_loopback("10.1.2.3:80") && !is_loopback("gridmap.example:80"));
    }
}
