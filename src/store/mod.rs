//! Persistence behind one trait per concern, each implemented once for both backends (SQLite and PostGIS, sqlx) by a
//! macro with a small per-backend table (see [`boundaries`]). [`StoreError`] is a database failure; what the data
//! refuses (an incident that cannot move, a responder already on an incident) is the domain's own error, which the
//! store traits return where a refusal can happen.

pub(crate) mod assignments;
pub(crate) mod audit;
pub(crate) mod boundaries;
pub(crate) mod changes;
pub(crate) mod hazards;
pub(crate) mod incidents;
pub(crate) mod keys;
pub(crate) mod patrols;
mod postgres;
pub(crate) mod resources;
pub(crate) mod responders;
pub(crate) mod row;
mod sqlite;
mod wkb;

use std::sync::Arc;

pub use assignments::AssignmentStore;
pub use audit::AuditStore;
pub use boundaries::{BoundaryStore, NewGeneration, Verdict};
pub use changes::{ChangeChannel, ChangeListener, Heard};
pub use hazards::HazardStore;
pub use incidents::IncidentStore;
pub use keys::KeyStore;
pub use patrols::PatrolStore;
pub use postgres::PgStore;
pub use resources::ResourceStore;
pub use responders::ResponderStore;
pub use sqlite::SqliteStore;

use crate::layers::Layer;

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
    /// A column could not be read as the code expects (missing, or another type): the database and the code
    /// disagree.
    #[error("reading column {column}: {source}")]
    Column {
        /// The column.
        column: &'static str,
        /// Cause.
        source: sqlx::Error,
    },
    /// A query failed.
    #[error("{action}: {source}")]
    Query {
        /// What was being done.
        action: &'static str,
        /// Cause.
        source: sqlx::Error,
    },
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

/// Adds the action to a sqlx error.
pub(crate) fn query_err(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { action, source }
}

/// What the incident service stores: incidents and who is sent to them (one transaction spans both).
pub trait IncidentStorage: IncidentStore + AssignmentStore {}

impl<T: IncidentStore + AssignmentStore + ?Sized> IncidentStorage for T {}

/// Everything gridmap stores, behind one handle (each backend implements every part). Services take only the part
/// they use (`Arc<dyn PatrolStore>`, …), to which an `Arc<dyn Store>` coerces.
pub trait Store:
    BoundaryStore
    + IncidentStorage
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
