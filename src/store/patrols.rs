//! Patrol persistence: the track and the cells it covered, written together. One SQL text for both backends,
//! instantiated per store by a macro (see `incidents.rs`).

/// Cells per `IN (…)` list.
pub(crate) const CELL_CHUNK: usize = 500;

/// Implements [`PatrolStore`] for a store type with a `pool` of the given sqlx database.
macro_rules! patrol_store_impl {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::patrols::PatrolStore for $store {
            async fn create_patrol(
                &self,
                new: &$crate::patrols::NewPatrol,
            ) -> Result<$crate::patrols::Patrol, $crate::patrols::PatrolError> {
                use $crate::store::query_err;
                let utc = |t: time::OffsetDateTime| t.to_offset(time::UtcOffset::UTC);
                let (first, last) = match (new.fixes.first(), new.fixes.last()) {
                    (Some(f), Some(l)) => (f.at, l.at),
                    _ => return Err($crate::store::StoreError::Corrupt("a patrol without fixes".into()).into()),
                };
                let track: Vec<serde_json::Value> = new
                    .fixes
                    .iter()
                    .map(|f| serde_json::json!([f.location.lon(), f.location.lat(), $crate::times::rfc3339(f.at)]))
                    .collect();
                let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM responders WHERE id = $1")
                    .bind(new.responder.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_err("read the responder"))?;
                if exists.is_none() {
                    return Err($crate::patrols::PatrolError::UnknownResponder(new.responder));
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO patrols (responder_id, started_at, ended_at, points, length_m, resolution, generation_id, track, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(new.responder.0)
                .bind(utc(first))
                .bind(utc(last))
                .bind(new.fixes.len() as i32)
                .bind(new.length_m)
                .bind(i32::from(new.resolution))
                .bind(new.generation.map(|g| g.0))
                .bind(serde_json::Value::Array(track).to_string())
                .bind(time::OffsetDateTime::now_utc())
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err("write the patrol"))?;
                for chunk in new.cells.chunks($crate::store::patrols::CELL_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO patrol_cells (patrol_id, cell, grid_code, first_at) ");
                    q.push_values(chunk, |mut b, c| {
                        b.push_bind(id).push_bind(c.cell.to_string()).push_bind(c.grid_code.clone()).push_bind(utc(c.first_at));
                    });
                    q.build().execute(&mut *tx).await.map_err(query_err("write the patrol's cells"))?;
                }
                tx.commit().await.map_err(query_err("commit the patrol"))?;
                Ok($crate::patrols::Patrol {
                    id: $crate::patrols::PatrolId(id),
                    responder_id: new.responder,
                    started_at: first,
                    ended_at: last,
                    points: new.fixes.len() as i64,
                    length_m: new.length_m,
                    resolution: i64::from(new.resolution),
                    generation: new.generation,
                })
            }

            async fn visited_among(
                &self,
                cells: &[String],
                from: time::OffsetDateTime,
                to: time::OffsetDateTime,
            ) -> Result<Vec<String>, $crate::store::StoreError> {
                let mut out = Vec::new();
                for chunk in cells.chunks($crate::store::patrols::CELL_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("SELECT DISTINCT cell FROM patrol_cells WHERE first_at >= ");
                    q.push_bind(from.to_offset(time::UtcOffset::UTC));
                    q.push(" AND first_at < ").push_bind(to.to_offset(time::UtcOffset::UTC));
                    q.push(" AND cell IN (");
                    let mut list = q.separated(", ");
                    for c in chunk {
                        list.push_bind(c.clone());
                    }
                    q.push(")");
                    let rows: Vec<(String,)> = q
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::store::query_err("read visited cells"))?;
                    out.extend(rows.into_iter().map(|r| r.0));
                }
                Ok(out)
            }

            async fn patrol_cell_counts(
                &self,
                from: Option<time::OffsetDateTime>,
                to: Option<time::OffsetDateTime>,
                cells: Option<&[String]>,
            ) -> Result<Vec<(String, i64)>, $crate::store::StoreError> {
                let count = |chunk: Option<&[String]>| {
                    let mut q = sqlx::QueryBuilder::<$db>::new("SELECT cell, COUNT(*) FROM patrol_cells WHERE 1 = 1");
                    if let Some(from) = from {
                        q.push(" AND first_at >= ").push_bind(from.to_offset(time::UtcOffset::UTC));
                    }
                    if let Some(to) = to {
                        q.push(" AND first_at < ").push_bind(to.to_offset(time::UtcOffset::UTC));
                    }
                    if let Some(chunk) = chunk {
                        q.push(" AND cell IN (");
                        let mut list = q.separated(", ");
                        for c in chunk {
                            list.push_bind(c.clone());
                        }
                        q.push(")");
                    }
                    q.push(" GROUP BY cell");
                    q
                };
                let Some(cells) = cells else {
                    return count(None).build_query_as().fetch_all(&self.pool).await.map_err($crate::store::query_err("count patrol cells"));
                };
                let mut out = Vec::new();
                for chunk in cells.chunks($crate::store::patrols::CELL_CHUNK) {
                    let rows: Vec<(String, i64)> = count(Some(chunk))
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::store::query_err("count patrol cells"))?;
                    out.extend(rows);
                }
                Ok(out)
            }
        }
    };
}

pub(crate) use patrol_store_impl;
