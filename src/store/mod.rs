//! The two backends (SQLite and PostGIS, sqlx) of the storage traits the domains define (`incidents::IncidentStore`,
//! `catalog::BoundaryStore`, …: the domains own their ports, the store depends on them and not the other way round).
//! Each trait is implemented once for both backends by a macro with a small per-backend table (see [`boundaries`]).
//! [`StoreError`] is a database failure; what the data refuses (an incident that cannot move, a responder already on
//! an incident) is the domain's own error, which the traits return where a refusal can happen.

pub(crate) mod assessment;
pub(crate) mod assignments;
pub(crate) mod audit;
pub(crate) mod boundaries;
pub(crate) mod changes;
pub(crate) mod departments;
pub(crate) mod hazards;
pub(crate) mod history;
pub(crate) mod incidents;
pub(crate) mod keys;
pub(crate) mod patrols;
mod postgres;
pub(crate) mod resources;
pub(crate) mod responders;
pub(crate) mod roads;
pub(crate) mod row;
mod sqlite;
mod wkb;

use std::sync::Arc;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

pub use crate::audit::AuditStore;
pub use crate::auth::KeyStore;
pub use crate::catalog::{BoundaryStore, NewGeneration, Verdict};
pub use crate::changes::{ChangeChannel, ChangeListener, Heard};
pub use crate::departments::DepartmentStore;
pub use crate::hazards::HazardStore;
pub use crate::incidents::{AssignmentStore, IncidentStorage, IncidentStore};
pub use crate::patrols::PatrolStore;
pub use crate::resources::ResourceStore;
pub use crate::responders::ResponderStore;
pub use crate::roads::RoadStore;
pub use crate::store_error::StoreError;

/// Adds the action to a sqlx error.
pub(crate) fn query_err(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { action, source }
}

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
    + RoadStore
    + KeyStore
    + AuditStore
    + DepartmentStore
    + crate::history::HistoryStore
    + crate::assessment::AssessmentStore
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
        + RoadStore
        + KeyStore
        + AuditStore
        + DepartmentStore
        + crate::history::HistoryStore
        + crate::assessment::AssessmentStore
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
