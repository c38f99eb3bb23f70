//! Responder persistence: the roster with each responder's latest position, and the position history. One SQL
//! text for both backends, instantiated per store by a macro (see `incidents.rs`).

/// Rows per multi-row statement (4 values each, well under SQLite's and PostgreSQL's bind limits).
pub(crate) const POSITION_CHUNK: usize = 2000;

/// Responders per multi-row statement (11 values each: 11 000 binds, under SQLite's 32 766 and PostgreSQL's 65 535).
pub(crate) const RESPONDER_CHUNK: usize = 1000;

pub(crate) const RESPONDER_COLUMNS: &str =
    "id, name, kind, skills, team, home_grid, status, status_version, lon, lat, position_at";

macro_rules! responder_store_impl {
    ($store:ty, $db:ty) => {
        fn responder_from_row(
            r: &<$db as sqlx::Database>::Row,
        ) -> Result<$crate::responders::Responder, $crate::store::StoreError> {
            use $crate::store::row::Column;
            use $crate::store::StoreError;
            let skills: String = r.col("skills")?;
            let status: String = r.col("status")?;
            let lon: Option<f64> = r.col("lon")?;
            let lat: Option<f64> = r.col("lat")?;
            Ok($crate::responders::Responder {
                id: $crate::responders::ResponderId(r.col("id")?),
                name: r.col("name")?,
                kind: r.col("kind")?,
                skills: serde_json::from_str(&skills).map_err(|e| StoreError::Corrupt(format!("skills: {e}")))?,
                team: r.col("team")?,
                home_grid: r.col("home_grid")?,
                status: status.parse().map_err(|e: $crate::responders::UnknownResponderStatus| StoreError::Corrupt(e.to_string()))?,
                status_version: r.col("status_version")?,
                location: lon.zip(lat).map(|(x, y)| $crate::crs::Position([x, y])),
                position_at: r.col("position_at")?,
            })
        }

        #[async_trait::async_trait]
        impl $crate::responders::ResponderStore for $store {
            async fn create_responder(
                &self,
                new: &$crate::responders::NewResponder,
            ) -> Result<$crate::responders::Responder, $crate::store::StoreError> {
                let mut stored = self.create_responders(std::slice::from_ref(new)).await?;
                stored.pop().ok_or_else(|| $crate::store::StoreError::Corrupt("a responder written, none returned".into()))
            }

            async fn create_responders(
                &self,
                new: &[$crate::responders::NewResponder],
            ) -> Result<Vec<$crate::responders::Responder>, $crate::store::StoreError> {
                use $crate::store::query_err;
                use $crate::store::responders::{RESPONDER_CHUNK, RESPONDER_COLUMNS};
                let now = time::OffsetDateTime::now_utc();
                let utc = |at: time::OffsetDateTime| at.to_offset(time::UtcOffset::UTC);
                let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
                let mut out = Vec::with_capacity(new.len());
                // Multi-row statements: one round trip per chunk, not two per responder (a 100 000-responder
                // drill roster took ~28 s row by row on SQLite).
                for chunk in new.chunks(RESPONDER_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO responders (name, kind, skills, team, home_grid, status, lon, lat, position_at, created_at, updated_at) ",
                    );
                    q.push_values(chunk, |mut b, n| {
                        b.push_bind(&n.name)
                            .push_bind(&n.kind)
                            .push_bind(serde_json::to_string(&n.skills).unwrap_or_else(|_| "[]".into()))
                            .push_bind(&n.team)
                            .push_bind(&n.home_grid)
                            .push_bind(n.status.as_str())
                            .push_bind(n.position.map(|(p, _)| p.lon()))
                            .push_bind(n.position.map(|(p, _)| p.lat()))
                            .push_bind(n.position.map(|(_, at)| utc(at)))
                            .push_bind(now)
                            .push_bind(now);
                    });
                    q.push(format!(" RETURNING {RESPONDER_COLUMNS}"));
                    let rows = q.build().fetch_all(&mut *tx).await.map_err(query_err("write the responders"))?;
                    let mut stored = rows.iter().map(responder_from_row).collect::<Result<Vec<_>, _>>()?;
                    // RETURNING promises no order, but ids are drawn in VALUES order: sorted by id, row i is chunk[i].
                    stored.sort_unstable_by_key(|r| r.id.0);
                    if stored.len() != chunk.len() {
                        return Err($crate::store::StoreError::Corrupt(format!(
                            "{} responders written, {} returned",
                            chunk.len(),
                            stored.len()
                        )));
                    }
                    let firsts: Vec<_> = stored
                        .iter()
                        .zip(chunk)
                        .filter_map(|(r, n)| n.position.map(|(p, at)| (r.id.0, p, at)))
                        .collect();
                    if !firsts.is_empty() {
                        let mut q =
                            sqlx::QueryBuilder::<$db>::new("INSERT INTO responder_positions (responder_id, lon, lat, at) ");
                        q.push_values(&firsts, |mut b, (id, p, at)| {
                            b.push_bind(*id).push_bind(p.lon()).push_bind(p.lat()).push_bind(utc(*at));
                        });
                        q.build().execute(&mut *tx).await.map_err(query_err("write the responders' first positions"))?;
                    }
                    out.extend(stored);
                }
                tx.commit().await.map_err(query_err("commit the responders"))?;
                Ok(out)
            }

            async fn responders(&self) -> Result<Vec<$crate::responders::Responder>, $crate::store::StoreError> {
                let sql = format!("SELECT {} FROM responders ORDER BY id", $crate::store::responders::RESPONDER_COLUMNS);
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read responders"))?;
                rows.iter().map(responder_from_row).collect()
            }

            async fn responder(
                &self,
                id: $crate::responders::ResponderId,
            ) -> Result<Option<$crate::responders::Responder>, $crate::store::StoreError> {
                let sql = format!("SELECT {} FROM responders WHERE id = $1", $crate::store::responders::RESPONDER_COLUMNS);
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read a responder"))?;
                row.as_ref().map(responder_from_row).transpose()
            }

            async fn set_responder_status(
                &self,
                id: $crate::responders::ResponderId,
                status: $crate::responders::ResponderStatus,
            ) -> Result<$crate::responders::Responder, $crate::responders::ResponderError> {
                // The responder's row is locked first (a no-op update: PostgreSQL waits for an assignment that holds
                // it; SQLite's write lock is already taken), then checked and changed in one statement. Under READ
                // COMMITTED that statement's snapshot is taken after the lock, so an assignment that committed
                // meanwhile is seen: a responder on an open assignment stays busy until it is released.
                let mut tx = begin_write(&self.pool).await?;
                sqlx::query("UPDATE responders SET updated_at = updated_at WHERE id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::store::query_err("lock a responder"))?;
                let sql = format!(
                    "UPDATE responders SET status = $1, status_version = status_version + 1, updated_at = $2 WHERE id = $3 \
                     AND ($1 = 'busy' OR NOT EXISTS (SELECT 1 FROM assignments WHERE responder_id = $3 AND released_at IS NULL)) \
                     RETURNING {}",
                    $crate::store::responders::RESPONDER_COLUMNS
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(status.as_str())
                    .bind(time::OffsetDateTime::now_utc())
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err($crate::store::query_err("change a responder's status"))?;
                if let Some(row) = row {
                    let changed = responder_from_row(&row)?;
                    tx.commit().await.map_err($crate::store::query_err("commit a status change"))?;
                    return Ok(changed);
                }
                let on: Option<i64> = sqlx::query_scalar(
                    "SELECT incident_id FROM assignments WHERE responder_id = $1 AND released_at IS NULL ORDER BY id LIMIT 1",
                )
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err($crate::store::query_err("read the responder's assignment"))?;
                Err(match on {
                    Some(incident) => $crate::responders::ResponderError::OnIncident {
                        responder: id,
                        incident: $crate::incidents::IncidentId(incident),
                    },
                    None => $crate::responders::ResponderError::NotFound(id),
                })
            }

            async fn record_positions(
                &self,
                fixes: &[$crate::responders::PositionFix],
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::query_err;
                let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
                for chunk in fixes.chunks($crate::store::responders::POSITION_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO responder_positions (responder_id, lon, lat, at) ");
                    q.push_values(chunk, |mut b, f| {
                        b.push_bind(f.responder.0)
                            .push_bind(f.location.lon())
                            .push_bind(f.location.lat())
                            .push_bind(f.at.to_offset(time::UtcOffset::UTC));
                    });
                    q.build().execute(&mut *tx).await.map_err(query_err("append position history"))?;

                }
                // The newest fix of each responder in this batch moves its latest position, unless a newer one is
                // already stored.
                let mut newest: std::collections::BTreeMap<i64, &$crate::responders::PositionFix> = std::collections::BTreeMap::new();
                for f in fixes {
                    let e = newest.entry(f.responder.0).or_insert(f);
                    // Ties go to the later fix in the batch, as in the live fleet.
                    if f.at >= e.at {
                        *e = f;
                    }
                }
                let newest: Vec<&$crate::responders::PositionFix> = newest.into_values().collect();
                for chunk in newest.chunks($crate::store::responders::POSITION_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("WITH v (id, lon, lat, at) AS (");
                    q.push_values(chunk, |mut b, f| {
                        b.push_bind(f.responder.0)
                            .push_bind(f.location.lon())
                            .push_bind(f.location.lat())
                            .push_bind(f.at.to_offset(time::UtcOffset::UTC));
                    });
                    q.push(
                        ") UPDATE responders SET lon = v.lon, lat = v.lat, position_at = v.at FROM v \
                         WHERE responders.id = v.id AND (responders.position_at IS NULL OR responders.position_at <= v.at)",
                    );
                    q.build().execute(&mut *tx).await.map_err(query_err("move latest positions"))?;
                }
                tx.commit().await.map_err(query_err("commit positions"))
            }

            async fn position_history(
                &self,
                id: $crate::responders::ResponderId,
                from: time::OffsetDateTime,
                to: time::OffsetDateTime,
            ) -> Result<Vec<$crate::responders::PositionFix>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                let rows = sqlx::query("SELECT lon, lat, at FROM responder_positions WHERE responder_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id")
                    .bind(id.0)
                    .bind(from.to_offset(time::UtcOffset::UTC))
                    .bind(to.to_offset(time::UtcOffset::UTC))
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read position history"))?;
                rows.iter()
                    .map(|r| {
                        let location = $crate::coord::LonLat::new(r.col("lon")?, r.col("lat")?)
                            .map_err(|e| $crate::store::StoreError::Corrupt(e.to_string()))?;
                        Ok($crate::responders::PositionFix { responder: id, location, at: r.col("at")? })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use responder_store_impl;
