//! The road network a process serves: imported from a file (read and built off the async workers, stored and
//! activated in one transaction, then swapped in whole), or loaded from the store at start and whenever another
//! process activated a newer one. Readers take the current network from an `ArcSwap` and never wait for a build.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use serde::Serialize;

use super::RoadError;
use super::graph::{BuildReport, RoadNetwork};
use super::profile::{ProfileName, RoadPolicy};
use super::read::{ReadReport, read_bytes};
use super::storage::{NetworkInfo, NewNetwork, RoadStore};
use crate::events::Events;

/// What an import read and built.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NetworkReport {
    /// Ways read, kept by class, dropped by reason.
    pub read: ReadReport,
    /// Nodes, edges, components per profile, bbox, build time.
    pub build: BuildReport,
    /// Memory the served network takes, MB.
    pub memory_mb: f64,
}

/// The answer to an import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportedNetwork {
    /// The stored network (absent on a dry run).
    pub network: Option<NetworkInfo>,
    /// Nothing was stored.
    pub dry_run: bool,
    /// What was read and built.
    pub report: NetworkReport,
}

/// One grid's line of the coverage map (see the dispatch service).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoverageRow {
    /// Grid code.
    pub code: String,
    /// Grid name.
    pub name: String,
    /// Seconds for the nearest available unit to reach the grid's centre point; null: nobody within the limit.
    pub eta_s: Option<f64>,
    /// That unit.
    pub responder_id: Option<crate::responders::ResponderId>,
    /// Its kind.
    pub kind: Option<String>,
    /// Reached within the minutes asked.
    pub covered: bool,
}

/// The served road network and its store.
#[derive(Debug)]
pub struct RoadService {
    store: Arc<dyn RoadStore>,
    policy: RoadPolicy,
    current: ArcSwapOption<RoadNetwork>,
    events: Events,
    /// One load or import at a time (a second waits, then finds the network current).
    loading: tokio::sync::Mutex<()>,
}

impl RoadService {
    /// A service with no network yet (call [`RoadService::reload_if_changed`]).
    pub fn new(store: Arc<dyn RoadStore>, policy: RoadPolicy, events: Events) -> Self {
        Self { store, policy, current: ArcSwapOption::empty(), events, loading: tokio::sync::Mutex::new(()) }
    }

    /// The network served now.
    pub fn current(&self) -> Option<Arc<RoadNetwork>> {
        self.current.load_full()
    }

    /// The road policy (profiles, kinds, snapping).
    pub fn policy(&self) -> &RoadPolicy {
        &self.policy
    }

    /// The profile a responder kind travels with.
    pub fn profile_of(&self, kind: &str) -> ProfileName {
        self.policy.profile_of(kind)
    }

    /// Loads the store's active network when it is not the one served (start, another process's import).
    pub async fn reload_if_changed(&self) -> Result<bool, RoadError> {
        let _one = self.loading.lock().await;
        let Some(active) = self.store.active_network().await? else { return Ok(false) };
        if self.current().and_then(|n| n.id) == Some(active.id) {
            return Ok(false);
        }
        let started = std::time::Instant::now();
        let ways = self.store.network_ways(active.id).await?;
        let policy = self.policy.clone();
        let id = active.id;
        let net = tokio::task::spawn_blocking(move || RoadNetwork::build(Some(id), &ways, &policy))
            .await
            .map_err(|e| RoadError::Task(e.to_string()))?;
        tracing::info!(
            network = %id,
            edges = net.report.edges,
            build_ms = net.report.build_ms,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "road network loaded"
        );
        self.current.store(Some(Arc::new(net)));
        Ok(true)
    }

    /// Reads a road file, builds its graphs and (unless a dry run) stores it as the active network and serves it.
    /// A file that cannot be read changes nothing.
    pub async fn import(
        &self,
        name: &str,
        bytes: Vec<u8>,
        dry_run: bool,
        actor: &str,
    ) -> Result<ImportedNetwork, RoadError> {
        let policy = self.policy.clone();
        let file = name.to_owned();
        let (ways, read, net) = tokio::task::spawn_blocking(move || {
            let (ways, read) = read_bytes(&file, &bytes)?;
            let net = RoadNetwork::build(None, &ways, &policy);
            Ok::<_, RoadError>((ways, read, net))
        })
        .await
        .map_err(|e| RoadError::Task(e.to_string()))??;
        let report = NetworkReport {
            read,
            memory_mb: (net.memory_bytes() as f64 / 1e5).round() / 10.0,
            build: net.report.clone(),
        };
        if dry_run {
            return Ok(ImportedNetwork { network: None, dry_run, report });
        }
        let _one = self.loading.lock().await;
        let info = self
            .store
            .create_network(NewNetwork {
                source: name.to_owned(),
                actor: actor.to_owned(),
                report: serde_json::to_value(&report).unwrap_or_default(),
                ways: &ways,
            })
            .await?;
        let mut net = net;
        net.id = Some(info.id);
        self.current.store(Some(Arc::new(net)));
        self.events.publish(
            "roads.activated",
            &serde_json::json!({"id": info.id, "source": info.source, "edges": report.build.edges}),
        );
        Ok(ImportedNetwork { network: Some(info), dry_run, report })
    }

    /// Every stored network, newest first.
    pub async fn networks(&self) -> Result<Vec<NetworkInfo>, RoadError> {
        Ok(self.store.networks().await?)
    }
}
