//! PostGIS backend: geometry(MultiPolygon, 4326) with a GiST index, properties as jsonb. Several gridmap replicas
//! may share one database; activation and rollback serialise on an advisory lock.

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{StoreError, query_err, redact};

/// Boundary store in PostgreSQL with PostGIS.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects and applies migrations (which create the `postgis` extension if missing).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            // Fail fast when the server is gone: a write is refused (503) within seconds instead of hanging for
            // sqlx's default 30 s, while reads served from memory keep answering.
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(|source| StoreError::Open { url: redact(url), source })?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    /// The pool, for tests and benchmarks that compare against PostGIS directly.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Longest wait for a connection (a new one included) before a request is refused as unavailable.
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

#[async_trait]
impl crate::changes::ChangeChannel for PgStore {
    fn shared(&self) -> bool {
        true
    }

    async fn notify(&self, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::changes::CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await
            .map_err(query_err("notify the other replicas"))?;
        Ok(())
    }

    async fn listener(&self) -> Result<Option<Box<dyn crate::changes::ChangeListener>>, StoreError> {
        let mut l =
            sqlx::postgres::PgListener::connect_with(&self.pool).await.map_err(query_err("listen for changes"))?;
        l.listen(crate::changes::CHANNEL).await.map_err(query_err("listen for changes"))?;
        Ok(Some(Box::new(super::changes::PgChanges(l))))
    }
}

/// What PostGIS does differently (see `store::boundaries`).
mod sql {
    use sqlx::Postgres;

    use crate::layers::{Feature, Layer};
    use crate::store::{StoreError, query_err, wkb};

    pub(super) const BACKEND: &str = "postgis";
    pub(super) const BEGIN_WRITE: &str = "BEGIN";
    pub(super) const GEOM: &str = "ST_AsBinary(f.geom)";
    /// Concurrent writers are fine: the generation is written while the checks run, in a transaction nobody sees
    /// until it commits on their verdict.
    pub(super) const WRITE_WHILE_CHECKING: bool = true;
    /// Features per INSERT statement.
    const INSERT_CHUNK: usize = 1000;
    /// Advisory lock key held while the activation stack changes.
    const ACTIVATION_LOCK: i64 = 0x6772_6964_6d61_7001;

    /// Column arrays unnested into rows: one statement per chunk, geometry built by PostGIS from WKB.
    pub(super) async fn insert_features(
        tx: &mut sqlx::Transaction<'_, Postgres>,
        id: i64,
        layer: Layer,
        features: &[Feature],
    ) -> Result<(), StoreError> {
        for chunk in features.chunks(INSERT_CHUNK) {
            let codes: Vec<&str> = chunk.iter().map(|f| f.code.as_str()).collect();
            let names: Vec<&str> = chunk.iter().map(|f| f.name.as_str()).collect();
            let parents: Vec<Option<&str>> = chunk.iter().map(|f| f.parent_code.as_deref()).collect();
            let props: Vec<String> =
                chunk.iter().map(|f| serde_json::Value::Object(f.properties.clone()).to_string()).collect();
            let geoms: Vec<Vec<u8>> = chunk.iter().map(|f| wkb::encode(&f.geometry)).collect();
            sqlx::query(
                "INSERT INTO features (generation_id, layer, code, name, parent_code, properties, geom) \
                 SELECT $1, $2, t.code, t.name, t.parent, t.props::jsonb, ST_Multi(ST_GeomFromWKB(t.wkb, 4326)) \
                 FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[]) AS t(code, name, parent, props, wkb)",
            )
            .bind(id)
            .bind(layer.as_str())
            .bind(codes)
            .bind(names)
            .bind(parents)
            .bind(props)
            .bind(geoms)
            .execute(&mut **tx)
            .await
            .map_err(query_err("write features of the new generation"))?;
        }
        Ok(())
    }

    /// Serialises activations, rollbacks and discards across processes for the rest of the transaction.
    pub(super) async fn lock_activations(tx: &mut sqlx::Transaction<'_, Postgres>) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ACTIVATION_LOCK)
            .execute(&mut **tx)
            .await
            .map_err(query_err("lock the activation history"))?;
        Ok(())
    }

    /// Tells every replica on this database, when the transaction commits, that the active generation changed (so
    /// a `gridmap activate` from the command line reaches running servers too).
    pub(super) async fn notify_activation(tx: &mut sqlx::Transaction<'_, Postgres>) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::changes::CHANNEL)
            .bind(crate::changes::ACTIVATION_PAYLOAD)
            .execute(&mut **tx)
            .await
            .map_err(query_err("notify the activation"))?;
        Ok(())
    }
}

/// A transaction that will write (see `sql::BEGIN_WRITE`).
async fn begin_write(
    pool: &sqlx::Pool<sqlx::Postgres>,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
    pool.begin_with(sql::BEGIN_WRITE).await.map_err(super::query_err("begin a transaction"))
}

super::boundaries::boundary_store_impl!(PgStore, sqlx::Postgres);
super::incidents::incident_store_impl!(PgStore, sqlx::Postgres);
super::departments::department_store_impl!(PgStore, sqlx::Postgres);
super::history::history_store_impl!(PgStore, sqlx::Postgres, 2500);
super::assessment::assessment_store_impl!(PgStore, sqlx::Postgres);
super::responders::responder_store_impl!(PgStore, sqlx::Postgres);
super::assignments::assignment_store_impl!(PgStore, sqlx::Postgres);
super::patrols::patrol_store_impl!(PgStore, sqlx::Postgres);
super::resources::resource_store_impl!(PgStore, sqlx::Postgres);
super::hazards::hazard_store_impl!(PgStore, sqlx::Postgres);
super::roads::road_store_impl!(PgStore, sqlx::Postgres);

super::keys::key_store_impl!(PgStore, sqlx::Postgres);

super::audit::audit_store_impl!(PgStore, sqlx::Postgres);
