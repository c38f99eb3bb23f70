//! Hazard persistence and history. One SQL text for both backends, instantiated per store by a macro.

pub(crate) const HAZARD_COLUMNS: &str = "id, category, description, severity, department, status, geometry, lon, lat, \
     street_code, community_code, grid_code, h3, generation_id, due_at, reported_at, updated_at";

/// Implements [`HazardStore`] for a store type with a `pool` of the given sqlx database.
macro_rules! hazard_store_impl {
    ($store:ty, $db:ty) => {
        fn hazard_from_row(r: &<$db as sqlx::Database>::Row) -> Result<$crate::hazards::Hazard, $crate::store::StoreError> {
            use $crate::store::row::Column;
            use $crate::store::StoreError;
            let status: String = r.col("status")?;
            let status: $crate::hazards::HazardStatus =
                status.parse().map_err(|e: $crate::hazards::UnknownHazardStatus| StoreError::Corrupt(e.to_string()))?;
            let geometry: String = r.col("geometry")?;
            let due_at: Option<time::OffsetDateTime> = r.col("due_at")?;
            Ok($crate::hazards::Hazard {
                id: $crate::hazards::HazardId(r.col("id")?),
                category: r.col("category")?,
                description: r.col("description")?,
                severity: r.col("severity")?,
                department: r.col("department")?,
                status,
                geometry: serde_json::from_str(&geometry).map_err(|e| StoreError::Corrupt(format!("hazard geometry: {e}")))?,
                location: $crate::crs::Position([r.col("lon")?, r.col("lat")?]),
                geocode: $crate::locate::Geocode {
                    street_code: r.col("street_code")?,
                    community_code: r.col("community_code")?,
                    grid_code: r.col("grid_code")?,
                    h3: r.col("h3")?,
                    generation: r.col::<Option<i64>>("generation_id")?.map($crate::layers::GenerationId),
                },
                overdue: status != $crate::hazards::HazardStatus::Closed
                    && due_at.is_some_and(|d| d < time::OffsetDateTime::now_utc()),
                due_at,
                reported_at: r.col("reported_at")?,
                updated_at: r.col("updated_at")?,
            })
        }

        /// Appends the WHERE terms of a hazard filter.
        fn push_hazard_filter(q: &mut sqlx::QueryBuilder<$db>, f: &$crate::hazards::HazardFilter) {
            if let Some([x0, y0, x1, y1]) = f.bbox {
                q.push(" AND lon BETWEEN ").push_bind(x0).push(" AND ").push_bind(x1);
                q.push(" AND lat BETWEEN ").push_bind(y0).push(" AND ").push_bind(y1);
            }
            for (column, value) in [("street_code", &f.street), ("community_code", &f.community), ("grid_code", &f.grid), ("category", &f.category)] {
                if let Some(v) = value {
                    q.push(format!(" AND {column} = ")).push_bind(v.clone());
                }
            }
            if !f.status.is_empty() {
                q.push(" AND status IN (");
                let mut list = q.separated(", ");
                for s in &f.status {
                    list.push_bind(s.as_str());
                }
                q.push(")");
            }
            if let Some(at) = f.overdue_at {
                q.push(" AND status <> 'closed' AND due_at < ").push_bind(at.to_offset(time::UtcOffset::UTC));
            }
            if let Some(from) = f.from {
                q.push(" AND reported_at >= ").push_bind(from.to_offset(time::UtcOffset::UTC));
            }
            if let Some(to) = f.to {
                q.push(" AND reported_at < ").push_bind(to.to_offset(time::UtcOffset::UTC));
            }
        }

        async fn fetch_hazard(
            conn: &mut <$db as sqlx::Database>::Connection,
            id: $crate::hazards::HazardId,
        ) -> Result<Option<$crate::hazards::Hazard>, $crate::store::StoreError> {
            let sql = format!("SELECT {} FROM hazards WHERE id = $1", $crate::store::hazards::HAZARD_COLUMNS);
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err($crate::store::query_err("read a hazard"))?;
            row.as_ref().map(hazard_from_row).transpose()
        }

        #[async_trait::async_trait]
        impl $crate::hazards::HazardStore for $store {
            async fn create_hazard(
                &self,
                new: &$crate::hazards::NewHazard,
            ) -> Result<$crate::hazards::Hazard, $crate::store::StoreError> {
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let utc = |t: time::OffsetDateTime| t.to_offset(time::UtcOffset::UTC);
                let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO hazards (category, description, severity, department, status, geometry, lon, lat, street_code, \
                     community_code, grid_code, h3, generation_id, due_at, reported_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                )
                .bind(&new.category)
                .bind(&new.description)
                .bind(new.severity)
                .bind(&new.department)
                .bind($crate::hazards::HazardStatus::Open.as_str())
                .bind(new.geometry.to_string())
                .bind(new.location.lon())
                .bind(new.location.lat())
                .bind(&new.geocode.street_code)
                .bind(&new.geocode.community_code)
                .bind(&new.geocode.grid_code)
                .bind(&new.geocode.h3)
                .bind(new.geocode.generation.map(|g| g.0))
                .bind(new.due_at.map(utc))
                .bind(utc(new.reported_at))
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err("write the hazard"))?;
                sqlx::query("INSERT INTO hazard_events (hazard_id, from_status, to_status, at, actor, note) VALUES ($1, NULL, $2, $3, $4, NULL)")
                    .bind(id)
                    .bind($crate::hazards::HazardStatus::Open.as_str())
                    .bind(now)
                    .bind(&new.actor)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("write the hazard's history"))?;
                let hazard = fetch_hazard(&mut tx, $crate::hazards::HazardId(id))
                    .await?
                    .ok_or_else(|| $crate::store::StoreError::Corrupt(format!("hazard {id} vanished")))?;
                tx.commit().await.map_err(query_err("commit the hazard"))?;
                Ok(hazard)
            }

            async fn hazard(
                &self,
                id: $crate::hazards::HazardId,
            ) -> Result<Option<($crate::hazards::Hazard, Vec<$crate::hazards::HazardEvent>)>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                use $crate::store::query_err;
                let mut conn = self.pool.acquire().await.map_err(query_err("get a connection"))?;
                let Some(hazard) = fetch_hazard(&mut conn, id).await? else { return Ok(None) };
                let rows = sqlx::query("SELECT from_status, to_status, at, actor, note FROM hazard_events WHERE hazard_id = $1 ORDER BY id")
                    .bind(id.0)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(query_err("read a hazard's history"))?;
                let parse = |s: &str| s.parse::<$crate::hazards::HazardStatus>().map_err(|e| $crate::store::StoreError::Corrupt(e.to_string()));
                let events = rows
                    .iter()
                    .map(|r| {
                        Ok($crate::hazards::HazardEvent {
                            from: r.col::<Option<String>>("from_status")?.as_deref().map(parse).transpose()?,
                            to: parse(r.col::<&str>("to_status")?)?,
                            at: r.col("at")?,
                            actor: r.col("actor")?,
                            note: r.col("note")?,
                        })
                    })
                    .collect::<Result<Vec<_>, $crate::store::StoreError>>()?;
                Ok(Some((hazard, events)))
            }

            async fn list_hazards(
                &self,
                f: &$crate::hazards::HazardFilter,
            ) -> Result<Vec<$crate::hazards::Hazard>, $crate::store::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!("SELECT {} FROM hazards WHERE 1 = 1", $crate::store::hazards::HAZARD_COLUMNS));
                push_hazard_filter(&mut q, f);
                if let Some(before) = f.before_id {
                    q.push(" AND id < ").push_bind(before.0);
                }
                q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(f.limit));
                let rows = q.build().fetch_all(&self.pool).await.map_err($crate::store::query_err("list hazards"))?;
                rows.iter().map(hazard_from_row).collect()
            }

            async fn hazard_cell_counts(
                &self,
                f: &$crate::hazards::HazardFilter,
            ) -> Result<Vec<(String, i64)>, $crate::store::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT h3, COUNT(*) FROM hazards WHERE 1 = 1");
                push_hazard_filter(&mut q, f);
                q.push(" GROUP BY h3");
                q.build_query_as().fetch_all(&self.pool).await.map_err($crate::store::query_err("count hazards per cell"))
            }

            async fn transition_hazard(
                &self,
                id: $crate::hazards::HazardId,
                to: $crate::hazards::HazardStatus,
                actor: &str,
                note: Option<&str>,
            ) -> Result<$crate::hazards::Hazard, $crate::hazards::HazardError> {
                use $crate::hazards::HazardError;
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let mut tx = begin_write(&self.pool).await?;
                let current = fetch_hazard(&mut tx, id).await?.ok_or(HazardError::NotFound(id))?;
                if !current.status.next().contains(&to) {
                    return Err(HazardError::invalid_transition(id, current.status, to));
                }
                let updated = sqlx::query("UPDATE hazards SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
                    .bind(to.as_str())
                    .bind(now)
                    .bind(id.0)
                    .bind(current.status.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("change the hazard's status"))?;
                if updated.rows_affected() != 1 {
                    return Err(HazardError::invalid_transition(id, current.status, to));
                }
                sqlx::query("INSERT INTO hazard_events (hazard_id, from_status, to_status, at, actor, note) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id.0)
                    .bind(current.status.as_str())
                    .bind(to.as_str())
                    .bind(now)
                    .bind(actor)
                    .bind(note)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("write the hazard's history"))?;
                let hazard = fetch_hazard(&mut tx, id).await?.ok_or(HazardError::NotFound(id))?;
                tx.commit().await.map_err(query_err("commit the hazard's change"))?;
                Ok(hazard)
            }

            async fn open_hazards(
                &self,
            ) -> Result<Vec<($crate::hazards::HazardId, $crate::coord::LonLat, $crate::locate::Geocode)>, $crate::store::StoreError> {
                let sql = format!("SELECT {} FROM hazards WHERE status <> 'closed'", $crate::store::hazards::HAZARD_COLUMNS);
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err($crate::store::query_err("list open hazards"))?;
                rows.iter()
                    .map(|r| {
                        let h = hazard_from_row(r)?;
                        let p = $crate::coord::LonLat::new(h.location[0], h.location[1])
                            .map_err(|e| $crate::store::StoreError::Corrupt(format!("hazard {}: {e}", h.id)))?;
                        Ok((h.id, p, h.geocode))
                    })
                    .collect()
            }

            async fn update_hazard_geocodes(
                &self,
                changes: &[($crate::hazards::HazardId, $crate::locate::Geocode)],
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::query_err;
                if changes.is_empty() {
                    return Ok(());
                }
                let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
                for (id, g) in changes {
                    sqlx::query("UPDATE hazards SET street_code = $1, community_code = $2, grid_code = $3, h3 = $4, generation_id = $5 WHERE id = $6")
                        .bind(&g.street_code)
                        .bind(&g.community_code)
                        .bind(&g.grid_code)
                        .bind(&g.h3)
                        .bind(g.generation.map(|x| x.0))
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(query_err("re-geocode a hazard"))?;
                }
                tx.commit().await.map_err(query_err("commit hazard codes"))
            }
        }
    };
}

pub(crate) use hazard_store_impl;
