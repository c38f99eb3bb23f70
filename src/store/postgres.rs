//! PostGIS backend: geometry(MultiPolygon, 4326) with a GiST index, properties as jsonb. Several gridmap replicas
//! may share one database; activation and rollback serialise on an advisory lock.

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Row, types::Json};
use time::OffsetDateTime;

use super::{
    BoundaryStore, GenerationRow, NewGeneration, StoreError, Verdict, assemble_generations, query_err, redact, wkb,
};
use crate::layers::{Feature, GenerationId, GenerationInfo, Layer};

/// Advisory lock key held while the activation stack changes.
const ACTIVATION_LOCK: i64 = 0x6772_6964_6d61_7001;
/// Features per INSERT statement.
const INSERT_CHUNK: usize = 1000;

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

const ACTIVE_SQL: &str = "SELECT generation_id FROM activations WHERE rolled_back_at IS NULL ORDER BY id DESC LIMIT 1";

/// Serialises activations, rollbacks and discards across processes for the rest of the transaction.
async fn lock_activations(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(ACTIVATION_LOCK)
        .execute(&mut **tx)
        .await
        .map_err(query_err("lock the activation history"))?;
    Ok(())
}

/// Tells every replica on this database, when the transaction commits, that the active generation changed (so a
/// `gridmap activate` from the command line reaches running servers too).
async fn notify_activation(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(super::changes::CHANNEL)
        .bind(super::changes::ACTIVATION_PAYLOAD)
        .execute(&mut **tx)
        .await
        .map_err(query_err("notify the activation"))?;
    Ok(())
}

#[async_trait]
impl super::changes::ChangeChannel for PgStore {
    fn shared(&self) -> bool {
        true
    }

    async fn notify(&self, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(super::changes::CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await
            .map_err(query_err("notify the other replicas"))?;
        Ok(())
    }

    async fn listener(&self) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
        let mut l =
            sqlx::postgres::PgListener::connect_with(&self.pool).await.map_err(query_err("listen for changes"))?;
        l.listen(super::changes::CHANNEL).await.map_err(query_err("listen for changes"))?;
        Ok(Some(l))
    }
}

/// Writes a generation row, its replaced layers' features and its layer table inside `tx`.
async fn write_generation(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    new: &NewGeneration<'_>,
) -> Result<GenerationId, StoreError> {
    let id: i64 = sqlx::query(
        "INSERT INTO generations (base_id, description, report, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(new.base.map(|g| g.0))
    .bind(&new.description)
    .bind(Json(&new.report))
    .bind(OffsetDateTime::now_utc())
    .fetch_one(&mut **tx)
    .await
    .map_err(query_err("write the new generation"))?
    .get(0);

    for layer in Layer::ALL {
        if let Some((_, features)) = new.layers.iter().find(|(l, _)| *l == layer) {
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
                         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[]) \
                         AS t(code, name, parent, props, wkb)",
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
            sqlx::query("INSERT INTO generation_layers VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(layer.as_str())
                .bind(id)
                .bind(features.len() as i64)
                .execute(&mut **tx)
                .await
                .map_err(query_err("write the new generation's layers"))?;
        } else if let Some(base) = new.base {
            sqlx::query(
                "INSERT INTO generation_layers SELECT $1, layer, source_generation_id, feature_count \
                     FROM generation_layers WHERE generation_id = $2 AND layer = $3",
            )
            .bind(id)
            .bind(base.0)
            .bind(layer.as_str())
            .execute(&mut **tx)
            .await
            .map_err(query_err("copy layers from the base generation"))?;
        }
    }
    Ok(GenerationId(id))
}

#[async_trait]
impl BoundaryStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgis"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(query_err("ping the database"))?;
        Ok(())
    }

    async fn create_generation(&self, new: NewGeneration<'_>) -> Result<GenerationId, StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
        let id = write_generation(&mut tx, &new).await?;
        tx.commit().await.map_err(query_err("commit the new generation"))?;
        Ok(id)
    }

    /// Writes while the checks run (PostgreSQL takes concurrent writers; the transaction is invisible until it
    /// commits), then keeps the generation with the verdict's report or rolls it all back.
    async fn create_generation_when(
        &self,
        new: NewGeneration<'_>,
        verdict: Verdict<'_>,
    ) -> Result<Option<GenerationId>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
        let id = write_generation(&mut tx, &new).await?;
        let Some(report) = verdict.await else {
            tx.rollback().await.map_err(query_err("roll back the rejected generation"))?;
            return Ok(None);
        };
        sqlx::query("UPDATE generations SET report = $1 WHERE id = $2")
            .bind(Json(&report))
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(query_err("write the new generation's report"))?;
        tx.commit().await.map_err(query_err("commit the new generation"))?;
        Ok(Some(id))
    }

    async fn activate(&self, id: GenerationId) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
        lock_activations(&mut tx).await?;
        let exists = sqlx::query("SELECT 1 FROM generations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(query_err("find the generation"))?;
        if exists.is_none() {
            return Err(StoreError::NoSuchGeneration(id));
        }
        let active: Option<i64> = sqlx::query_scalar(ACTIVE_SQL)
            .fetch_optional(&mut *tx)
            .await
            .map_err(query_err("read the active generation"))?;
        if active != Some(id.0) {
            sqlx::query("INSERT INTO activations (generation_id, activated_at) VALUES ($1, $2)")
                .bind(id.0)
                .bind(OffsetDateTime::now_utc())
                .execute(&mut *tx)
                .await
                .map_err(query_err("record the activation"))?;
        }
        notify_activation(&mut tx).await?;
        tx.commit().await.map_err(query_err("commit the activation"))
    }

    async fn discard(&self, id: GenerationId) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
        // The activation lock: an activation of this generation cannot slip in between the check and the delete.
        lock_activations(&mut tx).await?;
        let (exists, activated, children): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM generations WHERE id = $1),
                    (SELECT count(*) FROM activations WHERE generation_id = $1),
                    (SELECT count(*) FROM generations WHERE base_id = $1)
                  + (SELECT count(*) FROM generation_layers WHERE source_generation_id = $1 AND generation_id <> $1)",
        )
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(query_err("check the generation"))?;
        super::discardable(id, exists, activated, children)?;
        for sql in [
            "DELETE FROM features WHERE generation_id = $1",
            "DELETE FROM generation_layers WHERE generation_id = $1",
            "DELETE FROM generations WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id.0).execute(&mut *tx).await.map_err(query_err("discard the generation"))?;
        }
        tx.commit().await.map_err(query_err("commit the discard"))
    }

    async fn rollback(&self) -> Result<GenerationId, StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
        lock_activations(&mut tx).await?;
        let live: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, generation_id FROM activations WHERE rolled_back_at IS NULL ORDER BY id DESC LIMIT 2",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(query_err("read the activation history"))?;
        let [(top, _), (_, previous)] = live[..] else {
            return Err(StoreError::NothingToRollBack);
        };
        sqlx::query("UPDATE activations SET rolled_back_at = $1 WHERE id = $2")
            .bind(OffsetDateTime::now_utc())
            .bind(top)
            .execute(&mut *tx)
            .await
            .map_err(query_err("record the rollback"))?;
        notify_activation(&mut tx).await?;
        tx.commit().await.map_err(query_err("commit the rollback"))?;
        Ok(GenerationId(previous))
    }

    async fn active_generation(&self) -> Result<Option<GenerationId>, StoreError> {
        let active: Option<i64> = sqlx::query_scalar(ACTIVE_SQL)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("read the active generation"))?;
        Ok(active.map(GenerationId))
    }

    async fn generations(&self) -> Result<Vec<GenerationInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.id, g.base_id, g.description, g.created_at, \
             (SELECT max(a.activated_at) FROM activations a WHERE a.generation_id = g.id) AS last_activated \
             FROM generations g ORDER BY g.id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("list generations"))?;
        let rows = rows
            .into_iter()
            .map(|r| {
                let last_activated: Option<OffsetDateTime> = r.get("last_activated");
                GenerationRow {
                    id: r.get("id"),
                    base_id: r.get("base_id"),
                    description: r.get("description"),
                    created_at: r.get("created_at"),
                    ever_activated: last_activated.is_some(),
                    last_activated,
                }
            })
            .collect();
        let counts: Vec<(i64, String, i64, i64)> =
            sqlx::query_as("SELECT generation_id, layer, source_generation_id, feature_count FROM generation_layers")
                .fetch_all(&self.pool)
                .await
                .map_err(query_err("list generation layers"))?;
        Ok(assemble_generations(rows, counts, self.active_generation().await?))
    }

    async fn layer_features(&self, id: GenerationId, layer: Layer) -> Result<Vec<Feature>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.code, f.name, f.parent_code, f.properties, ST_AsBinary(f.geom) AS geom FROM generation_layers gl \
             JOIN features f ON f.generation_id = gl.source_generation_id AND f.layer = gl.layer \
             WHERE gl.generation_id = $1 AND gl.layer = $2",
        )
        .bind(id.0)
        .bind(layer.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read a layer's features"))?;
        rows.into_iter()
            .map(|r| {
                let code: String = r.get("code");
                let geometry = wkb::decode(r.get::<&[u8], _>("geom"), layer, &code)?;
                let Json(properties) = r.get("properties");
                Ok(Feature { name: r.get("name"), parent_code: r.get("parent_code"), properties, geometry, code })
            })
            .collect()
    }

    async fn layer_codes(&self, id: GenerationId, layer: Layer) -> Result<Vec<(String, Option<String>)>, StoreError> {
        sqlx::query_as(
            "SELECT f.code, f.parent_code FROM generation_layers gl \
             JOIN features f ON f.generation_id = gl.source_generation_id AND f.layer = gl.layer \
             WHERE gl.generation_id = $1 AND gl.layer = $2",
        )
        .bind(id.0)
        .bind(layer.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read a layer's codes"))
    }
}

super::incidents::incident_store_impl!(PgStore, sqlx::Postgres);
super::responders::responder_store_impl!(PgStore, sqlx::Postgres);
super::assignments::assignment_store_impl!(PgStore, sqlx::Postgres, "BEGIN");
super::patrols::patrol_store_impl!(PgStore, sqlx::Postgres);
super::resources::resource_store_impl!(PgStore, sqlx::Postgres);
super::hazards::hazard_store_impl!(PgStore, sqlx::Postgres);

super::keys::key_store_impl!(PgStore, sqlx::Postgres);

super::audit::audit_store_impl!(PgStore, sqlx::Postgres);
