//! Persistence of boundary generations behind one trait, with an SQLite and a PostGIS backend (sqlx).

pub(crate) mod assignments;
pub(crate) mod audit;
pub(crate) mod changes;
pub(crate) mod hazards;
pub(crate) mod incidents;
pub(crate) mod keys;
pub(crate) mod patrols;
mod postgres;
pub(crate) mod resources;
pub(crate) mod responders;
mod sqlite;
mod wkb;

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

pub use assignments::AssignmentStore;
pub use audit::AuditStore;
pub use changes::ChangeChannel;
pub use hazards::HazardStore;
pub use incidents::IncidentStore;
pub use keys::KeyStore;
pub use patrols::PatrolStore;
pub use postgres::PgStore;
pub use resources::ResourceStore;
pub use responders::{NewResponder, ResponderStore};
pub use sqlite::SqliteStore;

use crate::incidents::{IncidentId, IncidentStatus};
use crate::layers::{Feature, GenerationId, GenerationInfo, GenerationStatus, Layer, LayerCount};
use crate::responders::ResponderId;

/// What went wrong in the store; messages name the action.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// Connecting or migrating failed.
    #[error("cannot open database {url}: {source}")]
    Open {
        /// The URL, without password.
        url: String,
        /// Cause.
        source: sqlx::Error,
    },
    /// An SQLite database that should exist is not there.
    #[error(
        "no database at {}: only `gridmap serve` and `gridmap import` create one; give the right --db (or GRIDMAP_DB), or run from the folder that holds data/",
        .0.display()
    )]
    Missing(std::path::PathBuf),
    /// Applying migrations failed.
    #[error("cannot migrate database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("{action}: {source}")]
    Query {
        /// What was being done.
        action: &'static str,
        /// Cause.
        source: sqlx::Error,
    },
    /// No generation with that id.
    #[error("generation {0} does not exist")]
    NoSuchGeneration(GenerationId),
    /// Rollback with no earlier active generation.
    #[error("nothing to roll back to: no generation was active before the current one")]
    NothingToRollBack,
    /// A generation that cannot be discarded.
    #[error("generation {id} cannot be discarded: {reason}")]
    GenerationInUse {
        /// The generation.
        id: GenerationId,
        /// Why (it was active, another generation builds on it).
        reason: String,
    },
    /// No incident with that id.
    #[error("incident {0} does not exist")]
    NoSuchIncident(IncidentId),
    /// The incident's stored state does not allow the change (or changed concurrently).
    #[error("incident {id} cannot go from {} to {}", from.as_str(), to.as_str())]
    InvalidTransition {
        /// Incident.
        id: IncidentId,
        /// Stored state.
        from: IncidentStatus,
        /// Requested state.
        to: IncidentStatus,
    },
    /// No responder with that id.
    #[error("responder {0} does not exist")]
    NoSuchResponder(ResponderId),
    /// The responder cannot take a job now.
    #[error("responder {id} is {status}, not available")]
    ResponderNotAvailable {
        /// Responder.
        id: ResponderId,
        /// Stored status.
        status: String,
    },
    /// The incident already has responders (or this one) on it.
    #[error("incident {incident} already has responder(s) {} on it", ids(responders))]
    AlreadyAssigned {
        /// Incident.
        incident: IncidentId,
        /// Who is on it.
        responders: Vec<ResponderId>,
    },
    /// The responder is already on this incident.
    #[error("responder {responder} is already on incident {incident}")]
    AlreadyOnIncident {
        /// Incident.
        incident: IncidentId,
        /// Responder.
        responder: ResponderId,
    },
    /// The responder is on an open assignment, so only `busy` fits until it is released.
    #[error(
        "responder {responder} is on incident {incident}: release them there first (POST /api/v1/incidents/{incident}/unassign) or resolve the incident"
    )]
    ResponderOnIncident {
        /// Responder.
        responder: ResponderId,
        /// The incident they are on.
        incident: IncidentId,
    },
    /// Nobody (or not that responder) is on the incident.
    #[error("{}", match responder {
        Some(r) => format!("responder {r} is not assigned to incident {incident}"),
        None => format!("nobody is assigned to incident {incident}"),
    })]
    NotAssigned {
        /// Incident.
        incident: IncidentId,
        /// The responder named, if one was.
        responder: Option<ResponderId>,
    },
    /// No hazard with that id.
    #[error("hazard {0} does not exist")]
    NoSuchHazard(crate::hazards::HazardId),
    /// The hazard's stored state does not allow the change.
    #[error("hazard {id} cannot go from {} to {}", from.as_str(), to.as_str())]
    InvalidHazardTransition {
        /// Hazard.
        id: crate::hazards::HazardId,
        /// Stored state.
        from: crate::hazards::HazardStatus,
        /// Requested state.
        to: crate::hazards::HazardStatus,
    },
    /// A unique value is taken.
    #[error("{0}")]
    Duplicate(String),
    /// No API key with that id.
    #[error("API key {0} does not exist")]
    NoSuchKey(i64),
    /// A background writer failed or stopped.
    #[error("background write failed: {0}")]
    Background(String),
    /// The database cannot be reached (a background write found it so).
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
    /// A stored value is not what gridmap writes.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A stored geometry could not be read back.
    #[error("stored geometry of {layer} feature {code} is unreadable: {reason}")]
    Geometry {
        /// Layer.
        layer: Layer,
        /// Feature code.
        code: String,
        /// Decoder message.
        reason: String,
    },
}

impl StoreError {
    /// True when the database could not be reached (connection refused or lost, pool exhausted waiting for one,
    /// server shutting down): the request may succeed once it is back, so HTTP answers 503, not 500.
    pub fn is_unavailable(&self) -> bool {
        let source = match self {
            StoreError::Unavailable(_) => return true,
            StoreError::Query { source, .. } | StoreError::Open { source, .. } => source,
            _ => return false,
        };
        match source {
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
            // Class 08: connection exception; 57P01–57P03: admin shutdown, crash shutdown, cannot connect now.
            sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        }
    }
}

fn ids(list: &[ResponderId]) -> String {
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Adds the action to a sqlx error.
pub(crate) fn query_err(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { action, source }
}

/// A generation to write: the layers it replaces; the other layers are taken from `base`.
#[derive(Debug)]
pub struct NewGeneration<'a> {
    /// The generation the snapshot builds on (normally the active one).
    pub base: Option<GenerationId>,
    /// What created it.
    pub description: String,
    /// The validation report, kept with the generation.
    pub report: serde_json::Value,
    /// Replaced layers with their complete feature sets.
    pub layers: Vec<(Layer, &'a [Feature])>,
}

/// What a write that runs beside an import's checks waits for before it commits: the validation report when the
/// generation may be kept, `None` when it must not be ([`BoundaryStore::create_generation_when`]).
pub type Verdict<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Option<serde_json::Value>> + Send + 'a>>;

/// Storage of boundary generations. Every method is atomic: it either completes or leaves the store unchanged.
#[async_trait]
pub trait BoundaryStore: Send + Sync + std::fmt::Debug {
    /// Which backend, for logs and `/readyz`.
    fn backend(&self) -> &'static str;
    /// Cheap round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Writes a staged generation in one transaction and returns its id.
    async fn create_generation(&self, new: NewGeneration<'_>) -> Result<GenerationId, StoreError>;
    /// Like [`BoundaryStore::create_generation`], for a generation whose checks are still running: committed with
    /// the report `verdict` resolves to, or not written at all (`Ok(None)`) when it resolves to `None`;
    /// `new.report` is ignored. A store may start writing before the verdict, in a transaction nobody sees until
    /// it commits. This default waits for the verdict first, as a store with one writer must (its open write
    /// transaction would hold up every other write for as long as the checks take).
    async fn create_generation_when(
        &self,
        mut new: NewGeneration<'_>,
        verdict: Verdict<'_>,
    ) -> Result<Option<GenerationId>, StoreError> {
        match verdict.await {
            Some(report) => {
                new.report = report;
                self.create_generation(new).await.map(Some)
            }
            None => Ok(None),
        }
    }
    /// Makes a generation the active one.
    async fn activate(&self, id: GenerationId) -> Result<(), StoreError>;
    /// Re-activates the generation that was active before the current one; returns it.
    async fn rollback(&self) -> Result<GenerationId, StoreError>;
    /// Deletes a staged generation that was never active and that no other generation builds on or shares layers
    /// with, in one transaction.
    async fn discard(&self, id: GenerationId) -> Result<(), StoreError>;
    /// The active generation, if any.
    async fn active_generation(&self) -> Result<Option<GenerationId>, StoreError>;
    /// All generations, newest first.
    async fn generations(&self) -> Result<Vec<GenerationInfo>, StoreError>;
    /// The features of one layer of a generation.
    async fn layer_features(&self, id: GenerationId, layer: Layer) -> Result<Vec<Feature>, StoreError>;
    /// `(code, parent_code)` of one layer of a generation, for validation without reading geometry.
    async fn layer_codes(&self, id: GenerationId, layer: Layer) -> Result<Vec<(String, Option<String>)>, StoreError>;
}

/// Everything gridmap stores, behind one handle (each backend implements every part).
pub trait Store:
    BoundaryStore
    + IncidentStore
    + ResponderStore
    + AssignmentStore
    + PatrolStore
    + ResourceStore
    + HazardStore
    + KeyStore
    + AuditStore
    + ChangeChannel
{
}

impl<T> Store for T where
    T: BoundaryStore
        + IncidentStore
        + ResponderStore
        + AssignmentStore
        + PatrolStore
        + ResourceStore
        + HazardStore
        + KeyStore
        + AuditStore
        + ChangeChannel
{
}

/// Whether a generation may be discarded, from the counts both stores read in their transaction.
fn discardable(id: GenerationId, exists: i64, activated: i64, dependants: i64) -> Result<(), StoreError> {
    let reason = if exists == 0 {
        return Err(StoreError::NoSuchGeneration(id));
    } else if activated > 0 {
        "it has been active (roll back instead; the history keeps it)"
    } else if dependants > 0 {
        "a later generation builds on it or shares its layers"
    } else {
        return Ok(());
    };
    Err(StoreError::GenerationInUse { id, reason: reason.to_owned() })
}

/// Opens (creating and migrating as needed) the store behind a URL.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, true).await
}

/// Opens a database that must exist already: an SQLite file that is not there is [`StoreError::Missing`], not a new
/// empty database (a typo in `--db`, or a command run from another folder, must not look like an empty district).
pub async fn open_existing(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, false).await
}

/// The file of an `sqlite:` URL (`None` for other URLs and in-memory databases).
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    use std::str::FromStr;
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    Some(options.get_filename().to_owned())
}

async fn open_with(url: &str, create: bool) -> Result<Arc<dyn Store>, StoreError> {
    if !create
        && let Some(path) = sqlite_path(url)
        && !path.exists()
    {
        return Err(StoreError::Missing(path));
    }
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// One row of the generations listing, before grouping.
pub(crate) struct GenerationRow {
    pub id: i64,
    pub base_id: Option<i64>,
    pub description: String,
    pub created_at: OffsetDateTime,
    pub last_activated: Option<OffsetDateTime>,
    pub ever_activated: bool,
}

/// Builds the listing from rows and layer counts, marking the active generation.
pub(crate) fn assemble_generations(
    rows: Vec<GenerationRow>,
    counts: Vec<(i64, String, i64, i64)>,
    active: Option<GenerationId>,
) -> Vec<GenerationInfo> {
    rows.into_iter()
        .map(|r| {
            let id = GenerationId(r.id);
            let layers = counts
                .iter()
                .filter(|c| c.0 == r.id)
                .filter_map(|(_, layer, source, n)| {
                    Some(LayerCount { layer: layer.parse().ok()?, source: GenerationId(*source), features: *n })
                })
                .collect();
            let status = if Some(id) == active {
                GenerationStatus::Active
            } else if r.ever_activated {
                GenerationStatus::Retired
            } else {
                GenerationStatus::Staged
            };
            GenerationInfo {
                id,
                status,
                base: r.base_id.map(GenerationId),
                description: r.description,
                created_at: rfc3339(r.created_at),
                activated_at: r.last_activated.map(rfc3339),
                layers,
            }
        })
        .collect()
}

/// Formats a timestamp as RFC 3339.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// Redacts the password of a URL for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}
