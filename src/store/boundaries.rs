//! Boundary generations: the one implementation of `catalog::BoundaryStore` for both backends. As for every store trait, the
//! SQL is written once (`$N` placeholders work in SQLite too) and instantiated per backend by a macro — sqlx cannot
//! check one query text against two databases at compile time, so a generic function over `sqlx::Database` would
//! need bounds on every bind and decode, and two hand-written copies drift (this file replaced 176 matching lines).
//! What truly differs between the backends is a small table each backend module defines as `mod sql` beside the
//! macro call (seafowl's `implement_repository!` does the same):
//!
//! | item | SQLite | PostGIS |
//! |---|---|---|
//! | `BACKEND` | `sqlite` | `postgis` |
//! | `BEGIN_WRITE` | `BEGIN IMMEDIATE` (one writer: take the lock before reading) | `BEGIN` |
//! | `GEOM` (select list) | the WKB blob column | `ST_AsBinary(geom)` |
//! | `WRITE_WHILE_CHECKING` | false: an open write would hold up every other writer for as long as the checks take | true |
//! | `insert_features` | bbox columns + WKB | `unnest` arrays + `ST_GeomFromWKB` |
//! | `lock_activations` | nothing (`BEGIN IMMEDIATE` serialises) | advisory transaction lock |
//! | `notify_activation` | nothing (one process) | `pg_notify` to the other replicas |

use time::OffsetDateTime;

use crate::layers::{GenerationError, GenerationId, GenerationInfo, GenerationStatus, LayerCount};
use crate::times::rfc3339;

/// Whether a generation may be discarded, from the counts read in the discard's transaction.
pub(crate) fn discardable(
    id: GenerationId,
    exists: i64,
    activated: i64,
    dependants: i64,
) -> Result<(), GenerationError> {
    let reason = if exists == 0 {
        return Err(GenerationError::NotFound(id));
    } else if activated > 0 {
        "it has been active (roll back instead; the history keeps it)"
    } else if dependants > 0 {
        "a later generation builds on it or shares its layers"
    } else {
        return Ok(());
    };
    Err(GenerationError::InUse { id, reason: reason.to_owned() })
}

/// One row of the generations listing, before grouping.
pub(crate) struct GenerationRow {
    pub id: i64,
    pub base_id: Option<i64>,
    pub description: String,
    pub created_at: OffsetDateTime,
    pub last_activated: Option<OffsetDateTime>,
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
            } else if r.last_activated.is_some() {
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

/// The active generation: the newest activation not rolled back.
pub(crate) const ACTIVE_SQL: &str =
    "SELECT generation_id FROM activations WHERE rolled_back_at IS NULL ORDER BY id DESC LIMIT 1";

/// Implements [`crate::catalog::BoundaryStore`] for a store type with a `pool` of the given sqlx database, with the backend's
/// differences from the `sql` module in scope where the macro is called (see the table above) and its
/// `begin_write` (a transaction that will write, begun with `sql::BEGIN_WRITE`).
macro_rules! boundary_store_impl {
    ($store:ty, $db:ty) => {
        /// Writes a generation row, its replaced layers' features and its layer table inside `tx`.
        async fn write_generation(
            tx: &mut sqlx::Transaction<'_, $db>,
            new: &$crate::catalog::NewGeneration<'_>,
        ) -> Result<$crate::layers::GenerationId, $crate::store::StoreError> {
            use $crate::store::query_err;
            use $crate::store::row::Column;
            let row = sqlx::query(
                "INSERT INTO generations (base_id, description, report, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(new.base.map(|g| g.0))
            .bind(&new.description)
            .bind(sqlx::types::Json(&new.report))
            .bind(time::OffsetDateTime::now_utc())
            .fetch_one(&mut **tx)
            .await
            .map_err(query_err("write the new generation"))?;
            let id: i64 = row.at(0)?;
            for layer in $crate::layers::Layer::ALL {
                if let Some((_, features)) = new.layers.iter().find(|(l, _)| *l == layer) {
                    sql::insert_features(tx, id, layer, features).await?;
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
            Ok($crate::layers::GenerationId(id))
        }

        async fn active_in(
            conn: &mut <$db as sqlx::Database>::Connection,
        ) -> Result<Option<$crate::layers::GenerationId>, $crate::store::StoreError> {
            let active: Option<i64> = sqlx::query_scalar($crate::store::boundaries::ACTIVE_SQL)
                .fetch_optional(conn)
                .await
                .map_err($crate::store::query_err("read the active generation"))?;
            Ok(active.map($crate::layers::GenerationId))
        }

        #[async_trait::async_trait]
        impl $crate::catalog::BoundaryStore for $store {
            fn backend(&self) -> &'static str {
                sql::BACKEND
            }

            async fn ping(&self) -> Result<(), $crate::store::StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err($crate::store::query_err("ping the database"))?;
                Ok(())
            }

            async fn create_generation(
                &self,
                new: $crate::catalog::NewGeneration<'_>,
            ) -> Result<$crate::layers::GenerationId, $crate::store::StoreError> {
                let mut tx = begin_write(&self.pool).await?;
                let id = write_generation(&mut tx, &new).await?;
                tx.commit().await.map_err($crate::store::query_err("commit the new generation"))?;
                Ok(id)
            }

            async fn create_generation_when(
                &self,
                mut new: $crate::catalog::NewGeneration<'_>,
                verdict: $crate::catalog::Verdict<'_>,
            ) -> Result<Option<$crate::layers::GenerationId>, $crate::store::StoreError> {
                use $crate::store::query_err;
                if !sql::WRITE_WHILE_CHECKING {
                    let Some(report) = verdict.await else { return Ok(None) };
                    new.report = report;
                    return self.create_generation(new).await.map(Some);
                }
                let mut tx = begin_write(&self.pool).await?;
                let id = write_generation(&mut tx, &new).await?;
                let Some(report) = verdict.await else {
                    tx.rollback().await.map_err(query_err("roll back the rejected generation"))?;
                    return Ok(None);
                };
                sqlx::query("UPDATE generations SET report = $1 WHERE id = $2")
                    .bind(sqlx::types::Json(&report))
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("write the new generation's report"))?;
                tx.commit().await.map_err(query_err("commit the new generation"))?;
                Ok(Some(id))
            }

            async fn activate(&self, id: $crate::layers::GenerationId) -> Result<(), $crate::layers::GenerationError> {
                use $crate::store::query_err;
                let mut tx = begin_write(&self.pool).await?;
                sql::lock_activations(&mut tx).await?;
                let exists = sqlx::query("SELECT 1 FROM generations WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_err("find the generation"))?;
                if exists.is_none() {
                    return Err($crate::layers::GenerationError::NotFound(id));
                }
                if active_in(&mut tx).await? != Some(id) {
                    sqlx::query("INSERT INTO activations (generation_id, activated_at) VALUES ($1, $2)")
                        .bind(id.0)
                        .bind(time::OffsetDateTime::now_utc())
                        .execute(&mut *tx)
                        .await
                        .map_err(query_err("record the activation"))?;
                }
                sql::notify_activation(&mut tx).await?;
                tx.commit().await.map_err(query_err("commit the activation"))?;
                Ok(())
            }

            async fn rollback(&self) -> Result<$crate::layers::GenerationId, $crate::layers::GenerationError> {
                use $crate::store::query_err;
                let mut tx = begin_write(&self.pool).await?;
                sql::lock_activations(&mut tx).await?;
                let live: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT id, generation_id FROM activations WHERE rolled_back_at IS NULL ORDER BY id DESC LIMIT 2",
                )
                .fetch_all(&mut *tx)
                .await
                .map_err(query_err("read the activation history"))?;
                let [(top, _), (_, previous)] = live[..] else {
                    return Err($crate::layers::GenerationError::NothingToRollBack);
                };
                sqlx::query("UPDATE activations SET rolled_back_at = $1 WHERE id = $2")
                    .bind(time::OffsetDateTime::now_utc())
                    .bind(top)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("record the rollback"))?;
                sql::notify_activation(&mut tx).await?;
                tx.commit().await.map_err(query_err("commit the rollback"))?;
                Ok($crate::layers::GenerationId(previous))
            }

            async fn discard(&self, id: $crate::layers::GenerationId) -> Result<(), $crate::layers::GenerationError> {
                use $crate::store::query_err;
                let mut tx = begin_write(&self.pool).await?;
                // The activation lock: an activation of this generation cannot slip in between the check and the
                // delete.
                sql::lock_activations(&mut tx).await?;
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
                $crate::store::boundaries::discardable(id, exists, activated, children)?;
                for sql in [
                    "DELETE FROM features WHERE generation_id = $1",
                    "DELETE FROM generation_layers WHERE generation_id = $1",
                    "DELETE FROM generations WHERE id = $1",
                ] {
                    sqlx::query(sql).bind(id.0).execute(&mut *tx).await.map_err(query_err("discard the generation"))?;
                }
                tx.commit().await.map_err(query_err("commit the discard"))?;
                Ok(())
            }

            async fn active_generation(&self) -> Result<Option<$crate::layers::GenerationId>, $crate::store::StoreError> {
                let mut conn = self.pool.acquire().await.map_err($crate::store::query_err("get a connection"))?;
                active_in(&mut conn).await
            }

            async fn generations(&self) -> Result<Vec<$crate::layers::GenerationInfo>, $crate::store::StoreError> {
                use $crate::store::query_err;
                use $crate::store::row::Column;
                let rows = sqlx::query(
                    "SELECT g.id, g.base_id, g.description, g.created_at, \
                     (SELECT max(a.activated_at) FROM activations a WHERE a.generation_id = g.id) AS last_activated \
                     FROM generations g ORDER BY g.id DESC",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(query_err("list generations"))?;
                let rows = rows
                    .iter()
                    .map(|r| {
                        Ok($crate::store::boundaries::GenerationRow {
                            id: r.col("id")?,
                            base_id: r.col("base_id")?,
                            description: r.col("description")?,
                            created_at: r.col("created_at")?,
                            last_activated: r.col("last_activated")?,
                        })
                    })
                    .collect::<Result<Vec<_>, $crate::store::StoreError>>()?;
                let counts: Vec<(i64, String, i64, i64)> = sqlx::query_as(
                    "SELECT generation_id, layer, source_generation_id, feature_count FROM generation_layers",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(query_err("list generation layers"))?;
                Ok($crate::store::boundaries::assemble_generations(rows, counts, self.active_generation().await?))
            }

            async fn layer_features(
                &self,
                id: $crate::layers::GenerationId,
                layer: $crate::layers::Layer,
            ) -> Result<Vec<$crate::layers::Feature>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                let text = format!(
                    "SELECT f.code, f.name, f.parent_code, f.properties, {} AS geom FROM generation_layers gl \
                     JOIN features f ON f.generation_id = gl.source_generation_id AND f.layer = gl.layer \
                     WHERE gl.generation_id = $1 AND gl.layer = $2",
                    sql::GEOM
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(text))
                    .bind(id.0)
                    .bind(layer.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read a layer's features"))?;
                rows.iter()
                    .map(|r| {
                        let code: String = r.col("code")?;
                        let geometry = $crate::store::wkb::decode(r.col::<&[u8]>("geom")?, layer, &code)?;
                        let sqlx::types::Json(properties) = r.col("properties")?;
                        Ok($crate::layers::Feature {
                            name: r.col("name")?,
                            parent_code: r.col("parent_code")?,
                            properties,
                            geometry,
                            code,
                        })
                    })
                    .collect()
            }

            async fn layer_codes(
                &self,
                id: $crate::layers::GenerationId,
                layer: $crate::layers::Layer,
            ) -> Result<Vec<(String, Option<String>)>, $crate::store::StoreError> {
                sqlx::query_as(
                    "SELECT f.code, f.parent_code FROM generation_layers gl \
                     JOIN features f ON f.generation_id = gl.source_generation_id AND f.layer = gl.layer \
                     WHERE gl.generation_id = $1 AND gl.layer = $2",
                )
                .bind(id.0)
                .bind(layer.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::query_err("read a layer's codes"))
            }
        }
    };
}

pub(crate) use boundary_store_impl;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discard_refusals_name_the_reason() {
        assert!(matches!(discardable(GenerationId(3), 0, 0, 0), Err(GenerationError::NotFound(GenerationId(3)))));
        assert!(matches!(discardable(GenerationId(3), 1, 1, 0), Err(GenerationError::InUse { .. })));
        assert!(matches!(discardable(GenerationId(3), 1, 0, 2), Err(GenerationError::InUse { .. })));
        assert!(discardable(GenerationId(3), 1, 0, 0).is_ok());
    }
}
