//! What a database failure is: the one error of the storage traits the domains define and the backends
//! (`store::sqlite`, `store::postgres`) implement. A refusal the data makes (an incident that cannot move) is not
//! one: it is the domain's own error.

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
        "no database at {}: only `gridmap serve`, `gridmap import` and `gridmap import-roads` create one; give the right --db (or GRIDMAP_DB), or run from the folder that holds data/",
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
        /// Layer (`streets`, `communities`, `grids`).
        layer: &'static str,
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
