//! SQLite backend: one file, WAL, `synchronous=FULL`; geometry as WKB with its bounding box beside it.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::StoreError;

/// Boundary store in an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens `sqlite://PATH`, creating the file (and its folder) on first use, and applies migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open { url: url.to_owned(), source };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(open_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(sqlx::Error::Io(e)))?;
        }
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(open_err)?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl crate::changes::ChangeChannel for SqliteStore {
    fn shared(&self) -> bool {
        false
    }

    async fn notify(&self, _payload: &str) -> Result<(), StoreError> {
        Ok(())
    }

    async fn listener(&self) -> Result<Option<Box<dyn crate::changes::ChangeListener>>, StoreError> {
        Ok(None)
    }
}

/// What SQLite does differently (see `store::boundaries`).
mod sql {
    use sqlx::Sqlite;

    use crate::layers::{Feature, Layer};
    use crate::store::{StoreError, query_err, wkb};

    pub(super) const BACKEND: &str = "sqlite";
    /// One writer: take the write lock before reading what the write depends on (a deferred transaction would fail
    /// to upgrade its lock when another writer got there first).
    pub(super) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
    pub(super) const GEOM: &str = "f.geom";
    /// An open write transaction would hold up every other writer while an import's checks run.
    pub(super) const WRITE_WHILE_CHECKING: bool = false;
    /// Features per INSERT statement (11 bound values each; SQLite allows 32 766 per statement).
    const FEATURE_ROWS: usize = 500;

    /// Many rows per statement: one round trip to sqlx's SQLite worker thread per chunk, not per feature.
    pub(super) async fn insert_features(
        tx: &mut sqlx::Transaction<'_, Sqlite>,
        id: i64,
        layer: Layer,
        features: &[Feature],
    ) -> Result<(), StoreError> {
        for chunk in features.chunks(FEATURE_ROWS) {
            let mut q = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO features (generation_id, layer, code, name, parent_code, properties, min_lon, min_lat, \
                 max_lon, max_lat, geom) ",
            );
            q.push_values(chunk, |mut row, f| {
                let bbox = geo::BoundingRect::bounding_rect(&f.geometry);
                let (min, max) = bbox.map_or(((0.0, 0.0), (0.0, 0.0)), |r| (r.min().x_y(), r.max().x_y()));
                row.push_bind(id)
                    .push_bind(layer.as_str())
                    .push_bind(&f.code)
                    .push_bind(&f.name)
                    .push_bind(&f.parent_code)
                    .push_bind(sqlx::types::Json(&f.properties))
                    .push_bind(min.0)
                    .push_bind(min.1)
                    .push_bind(max.0)
                    .push_bind(max.1)
                    .push_bind(wkb::encode(&f.geometry));
            });
            q.build().execute(&mut **tx).await.map_err(query_err("write features of the new generation"))?;
        }
        Ok(())
    }

    /// `BEGIN IMMEDIATE` serialises activations already.
    pub(super) async fn lock_activations(_tx: &mut sqlx::Transaction<'_, Sqlite>) -> Result<(), StoreError> {
        Ok(())
    }

    /// One process per SQLite file: nobody to tell.
    pub(super) async fn notify_activation(_tx: &mut sqlx::Transaction<'_, Sqlite>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A transaction that will write (see `sql::BEGIN_WRITE`).
async fn begin_write(pool: &sqlx::Pool<sqlx::Sqlite>) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
    pool.begin_with(sql::BEGIN_WRITE).await.map_err(super::query_err("begin a transaction"))
}

super::boundaries::boundary_store_impl!(SqliteStore, sqlx::Sqlite);
super::incidents::incident_store_impl!(SqliteStore, sqlx::Sqlite);
super::departments::department_store_impl!(SqliteStore, sqlx::Sqlite);
super::history::history_store_impl!(SqliteStore, sqlx::Sqlite, 1200);
super::assessment::assessment_store_impl!(SqliteStore, sqlx::Sqlite);
super::responders::responder_store_impl!(SqliteStore, sqlx::Sqlite);
super::assignments::assignment_store_impl!(SqliteStore, sqlx::Sqlite);
super::patrols::patrol_store_impl!(SqliteStore, sqlx::Sqlite);
super::resources::resource_store_impl!(SqliteStore, sqlx::Sqlite);
super::hazards::hazard_store_impl!(SqliteStore, sqlx::Sqlite);
super::roads::road_store_impl!(SqliteStore, sqlx::Sqlite);

super::keys::key_store_impl!(SqliteStore, sqlx::Sqlite);

super::audit::audit_store_impl!(SqliteStore, sqlx::Sqlite);
