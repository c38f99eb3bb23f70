//! SQLite backend: one file, WAL, `synchronous=FULL`; geometry as WKB with its bounding box beside it.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, types::Json};
use time::OffsetDateTime;

use super::{BoundaryStore, GenerationRow, NewGeneration, StoreError, assemble_generations, query_err, wkb};
use crate::layers::{Feature, GenerationId, GenerationInfo, Layer};

/// Features per INSERT statement (11 bound values each; SQLite allows 32 766 per statement).
const FEATURE_ROWS: usize = 500;

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

    async fn active(&self, conn: &mut sqlx::SqliteConnection) -> Result<Option<GenerationId>, StoreError> {
        let row =
            sqlx::query("SELECT generation_id FROM activations WHERE rolled_back_at IS NULL ORDER BY id DESC LIMIT 1")
                .fetch_optional(conn)
                .await
                .map_err(query_err("read the active generation"))?;
        Ok(row.map(|r| GenerationId(r.get(0))))
    }
}

#[async_trait]
impl super::changes::ChangeChannel for SqliteStore {
    fn shared(&self) -> bool {
        false
    }

    async fn notify(&self, _payload: &str) -> Result<(), StoreError> {
        Ok(())
    }

    async fn listener(&self) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
        Ok(None)
    }
}

#[async_trait]
impl BoundaryStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(query_err("ping the database"))?;
        Ok(())
    }

    async fn create_generation(&self, new: NewGeneration<'_>) -> Result<GenerationId, StoreError> {
        let err = query_err("write the new generation");
        let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
        let id: i64 = sqlx::query(
            "INSERT INTO generations (base_id, description, report, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(new.base.map(|g| g.0))
        .bind(&new.description)
        .bind(Json(&new.report))
        .bind(OffsetDateTime::now_utc())
        .fetch_one(&mut *tx)
        .await
        .map_err(query_err("write the new generation"))?
        .get(0);

        for layer in Layer::ALL {
            if let Some((_, features)) = new.layers.iter().find(|(l, _)| *l == layer) {
                // Many rows per statement: one round trip to sqlx's SQLite worker thread per chunk, not per feature.
                for chunk in features.chunks(FEATURE_ROWS) {
                    let mut q = sqlx::QueryBuilder::<Sqlite>::new(
                        "INSERT INTO features (generation_id, layer, code, name, parent_code, properties, min_lon, \
                         min_lat, max_lon, max_lat, geom) ",
                    );
                    q.push_values(chunk, |mut row, f| {
                        let bbox = geo::BoundingRect::bounding_rect(&f.geometry);
                        let (min, max) = bbox.map_or(((0.0, 0.0), (0.0, 0.0)), |r| (r.min().x_y(), r.max().x_y()));
                        row.push_bind(id)
                            .push_bind(layer.as_str())
                            .push_bind(&f.code)
                            .push_bind(&f.name)
                            .push_bind(&f.parent_code)
                            .push_bind(Json(&f.properties))
                            .push_bind(min.0)
                            .push_bind(min.1)
                            .push_bind(max.0)
                            .push_bind(max.1)
                            .push_bind(wkb::encode(&f.geometry));
                    });
                    q.build().execute(&mut *tx).await.map_err(query_err("write features of the new generation"))?;
                }
                sqlx::query("INSERT INTO generation_layers VALUES (?, ?, ?, ?)")
                    .bind(id)
                    .bind(layer.as_str())
                    .bind(id)
                    .bind(features.len() as i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("write the new generation's layers"))?;
            } else if let Some(base) = new.base {
                sqlx::query(
                    "INSERT INTO generation_layers SELECT ?, layer, source_generation_id, feature_count \
                     FROM generation_layers WHERE generation_id = ? AND layer = ?",
                )
                .bind(id)
                .bind(base.0)
                .bind(layer.as_str())
                .execute(&mut *tx)
                .await
                .map_err(query_err("copy layers from the base generation"))?;
            }
        }
        tx.commit().await.map_err(err)?;
        Ok(GenerationId(id))
    }

    async fn activate(&self, id: GenerationId) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
        let exists = sqlx::query("SELECT 1 FROM generations WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(query_err("find the generation"))?;
        if exists.is_none() {
            return Err(StoreError::NoSuchGeneration(id));
        }
        if self.active(&mut tx).await? != Some(id) {
            sqlx::query("INSERT INTO activations (generation_id, activated_at) VALUES (?, ?)")
                .bind(id.0)
                .bind(OffsetDateTime::now_utc())
                .execute(&mut *tx)
                .await
                .map_err(query_err("record the activation"))?;
        }
        tx.commit().await.map_err(query_err("commit the activation"))
    }

    async fn rollback(&self) -> Result<GenerationId, StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
        let live: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, generation_id FROM activations WHERE rolled_back_at IS NULL ORDER BY id DESC LIMIT 2",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(query_err("read the activation history"))?;
        let [(top, _), (_, previous)] = live[..] else {
            return Err(StoreError::NothingToRollBack);
        };
        sqlx::query("UPDATE activations SET rolled_back_at = ? WHERE id = ?")
            .bind(OffsetDateTime::now_utc())
            .bind(top)
            .execute(&mut *tx)
            .await
            .map_err(query_err("record the rollback"))?;
        tx.commit().await.map_err(query_err("commit the rollback"))?;
        Ok(GenerationId(previous))
    }

    async fn discard(&self, id: GenerationId) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
        let (exists, activated, children): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM generations WHERE id = ?1),
                    (SELECT count(*) FROM activations WHERE generation_id = ?1),
                    (SELECT count(*) FROM generations WHERE base_id = ?1)
                  + (SELECT count(*) FROM generation_layers WHERE source_generation_id = ?1 AND generation_id <> ?1)",
        )
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(query_err("check the generation"))?;
        super::discardable(id, exists, activated, children)?;
        for sql in [
            "DELETE FROM features WHERE generation_id = ?",
            "DELETE FROM generation_layers WHERE generation_id = ?",
            "DELETE FROM generations WHERE id = ?",
        ] {
            sqlx::query(sql).bind(id.0).execute(&mut *tx).await.map_err(query_err("discard the generation"))?;
        }
        tx.commit().await.map_err(query_err("commit the discard"))
    }

    async fn active_generation(&self) -> Result<Option<GenerationId>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(query_err("get a connection"))?;
        self.active(&mut conn).await
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
            "SELECT f.code, f.name, f.parent_code, f.properties, f.geom FROM generation_layers gl \
             JOIN features f ON f.generation_id = gl.source_generation_id AND f.layer = gl.layer \
             WHERE gl.generation_id = ? AND gl.layer = ?",
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
             WHERE gl.generation_id = ? AND gl.layer = ?",
        )
        .bind(id.0)
        .bind(layer.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read a layer's codes"))
    }
}

super::incidents::incident_store_impl!(SqliteStore, sqlx::Sqlite);
super::responders::responder_store_impl!(SqliteStore, sqlx::Sqlite);
super::assignments::assignment_store_impl!(SqliteStore, sqlx::Sqlite, "BEGIN IMMEDIATE");
super::patrols::patrol_store_impl!(SqliteStore, sqlx::Sqlite);
super::resources::resource_store_impl!(SqliteStore, sqlx::Sqlite);
super::hazards::hazard_store_impl!(SqliteStore, sqlx::Sqlite);

super::keys::key_store_impl!(SqliteStore, sqlx::Sqlite);

super::audit::audit_store_impl!(SqliteStore, sqlx::Sqlite);
