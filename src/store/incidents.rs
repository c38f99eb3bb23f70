//! Incident persistence. The SQL is shared by both backends (`$N` placeholders work in SQLite too), so one
//! implementation is instantiated for each store by a macro.

/// Incidents per multi-row re-geocoding statement (6 values each: 12 000 binds, under SQLite's and PostgreSQL's
/// limits).
pub(crate) const REGEOCODE_CHUNK: usize = 2000;

/// The states a deadline holds an incident to ([`crate::incidents::IncidentStatus::is_pending`]), as SQL.
pub(crate) const PENDING: &str = "status IN ('reported', 'dispatched', 'on_scene')";

pub(crate) const COLUMNS: &str = "id, category, description, priority, source, address, caller, lon, lat, status, \
     street_code, community_code, grid_code, h3, generation_id, reported_at, updated_at, \
     satisfaction_rating, satisfaction_comment, satisfaction_by, satisfaction_at, due_at, \
     department_code, department_state, returned_count, resolved_at, closed_at, external_id";

/// Implements [`IncidentStore`] for a store type with a `pool` of the given sqlx database.
macro_rules! incident_store_impl {
    ($store:ty, $db:ty) => {
        /// Appends the WHERE terms of an incident filter (bbox, codes, category, status, time range).
        fn push_incident_filter(q: &mut sqlx::QueryBuilder<$db>, f: &$crate::incidents::IncidentFilter) {
            if let Some([x0, y0, x1, y1]) = f.bbox {
                q.push(" AND lon BETWEEN ").push_bind(x0).push(" AND ").push_bind(x1);
                q.push(" AND lat BETWEEN ").push_bind(y0).push(" AND ").push_bind(y1);
            }
            for (column, value) in [("street_code", &f.street), ("community_code", &f.community), ("grid_code", &f.grid), ("category", &f.category)] {
                if let Some(v) = value {
                    q.push(format!(" AND {column} = ")).push_bind(v.clone());
                }
            }
            if !f.grids.is_empty() {
                q.push(" AND grid_code IN (");
                let mut list = q.separated(", ");
                for g in &f.grids {
                    list.push_bind(g.clone());
                }
                q.push(")");
            }
            if !f.status.is_empty() {
                q.push(" AND status IN (");
                let mut list = q.separated(", ");
                for s in &f.status {
                    list.push_bind(s.as_str());
                }
                q.push(")");
            }
            if let Some(from) = f.from {
                q.push(" AND reported_at >= ").push_bind(from.to_offset(time::UtcOffset::UTC));
            }
            if let Some(to) = f.to {
                q.push(" AND reported_at < ").push_bind(to.to_offset(time::UtcOffset::UTC));
            }
            if f.overdue {
                q.push(format!(" AND {} AND due_at < ", $crate::store::incidents::PENDING))
                    .push_bind(time::OffsetDateTime::now_utc());
            }
        }

        /// The geocode columns of an incident row.
        fn geocode_from_row(r: &<$db as sqlx::Database>::Row) -> Result<$crate::incidents::Geocode, $crate::store::StoreError> {
            use $crate::store::row::Column;
            Ok($crate::incidents::Geocode {
                street_code: r.col("street_code")?,
                community_code: r.col("community_code")?,
                grid_code: r.col("grid_code")?,
                h3: r.col("h3")?,
                generation: r.col::<Option<i64>>("generation_id")?.map($crate::layers::GenerationId),
            })
        }

        fn incident_from_row(r: &<$db as sqlx::Database>::Row) -> Result<$crate::incidents::Incident, $crate::store::StoreError> {
            use $crate::store::row::Column;
            let status: String = r.col("status")?;
            let status: $crate::incidents::IncidentStatus = status.parse().map_err(|e: $crate::incidents::UnknownStatus| $crate::store::StoreError::Corrupt(e.to_string()))?;
            let due_at: Option<time::OffsetDateTime> = r.col("due_at")?;
            Ok($crate::incidents::Incident {
                id: $crate::incidents::IncidentId(r.col("id")?),
                category: r.col("category")?,
                description: r.col("description")?,
                priority: r.col("priority")?,
                source: r.col("source")?,
                address: r.col("address")?,
                caller: r.col("caller")?,
                location: $crate::crs::Position([r.col("lon")?, r.col("lat")?]),
                status,
                geocode: geocode_from_row(r)?,
                reported_at: r.col("reported_at")?,
                updated_at: r.col("updated_at")?,
                satisfaction: match r.col::<Option<i32>>("satisfaction_rating")? {
                    None => None,
                    // The four columns are written together: a rating without who and when is a broken row.
                    Some(rating) => Some($crate::incidents::Satisfaction {
                        rating,
                        comment: r.col("satisfaction_comment")?,
                        recorded_by: r.col::<Option<String>>("satisfaction_by")?
                            .ok_or_else(|| $crate::store::StoreError::Corrupt("a satisfaction rating without satisfaction_by".into()))?,
                        recorded_at: r.col::<Option<time::OffsetDateTime>>("satisfaction_at")?
                            .ok_or_else(|| $crate::store::StoreError::Corrupt("a satisfaction rating without satisfaction_at".into()))?,
                    }),
                },
                overdue: status.is_pending() && due_at.is_some_and(|d| d < time::OffsetDateTime::now_utc()),
                due_at,
                department: r.col("department_code")?,
                department_state: match r.col::<Option<&str>>("department_state")? {
                    None => None,
                    Some(s) => Some($crate::departments::DepartmentState::parse(s).ok_or_else(|| {
                        $crate::store::StoreError::Corrupt(format!("unknown department state {s:?}"))
                    })?),
                },
                returned: r.col("returned_count")?,
                resolved_at: r.col("resolved_at")?,
                closed_at: r.col("closed_at")?,
                external_id: r.col("external_id")?,
            })
        }

        async fn fetch_incident(
            conn: &mut <$db as sqlx::Database>::Connection,
            id: $crate::incidents::IncidentId,
        ) -> Result<Option<$crate::incidents::Incident>, $crate::store::StoreError> {
            let sql = format!("SELECT {} FROM incidents WHERE id = $1", $crate::store::incidents::COLUMNS);
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err($crate::store::query_err("read an incident"))?;
            row.as_ref().map(incident_from_row).transpose()
        }

        #[async_trait::async_trait]
        impl $crate::incidents::IncidentStore for $store {
            async fn create_incident(
                &self,
                new: &$crate::incidents::NewIncident,
            ) -> Result<$crate::incidents::Incident, $crate::store::StoreError> {
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO incidents (category, description, priority, source, address, lon, lat, status, \
                     street_code, community_code, grid_code, h3, generation_id, reported_at, created_at, updated_at, caller, due_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17) RETURNING id",
                )
                .bind(&new.category)
                .bind(&new.description)
                .bind(new.priority)
                .bind(&new.source)
                .bind(&new.address)
                .bind(new.location.lon())
                .bind(new.location.lat())
                .bind($crate::incidents::IncidentStatus::Reported.as_str())
                .bind(&new.geocode.street_code)
                .bind(&new.geocode.community_code)
                .bind(&new.geocode.grid_code)
                .bind(&new.geocode.h3)
                .bind(new.geocode.generation.map(|g| g.0))
                .bind(new.reported_at.to_offset(time::UtcOffset::UTC))
                .bind(now)
                .bind(&new.caller)
                .bind(new.due_at.map(|d| d.to_offset(time::UtcOffset::UTC)))
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err("write the incident"))?;
                sqlx::query("INSERT INTO incident_events (incident_id, from_status, to_status, at, actor, note) VALUES ($1, NULL, $2, $3, $4, NULL)")
                    .bind(id)
                    .bind($crate::incidents::IncidentStatus::Reported.as_str())
                    .bind(now)
                    .bind(&new.actor)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("write the incident's history"))?;
                if let Some(department) = &new.department {
                    sqlx::query("UPDATE incidents SET department_code = $1, department_state = 'routed' WHERE id = $2")
                        .bind(department)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(query_err("route the incident"))?;
                    sqlx::query(
                        "INSERT INTO incident_events (incident_id, from_status, to_status, at, actor, note, action, department) \
                         VALUES ($1, $2, $2, $3, 'policy', NULL, 'routed', $4)",
                    )
                    .bind(id)
                    .bind($crate::incidents::IncidentStatus::Reported.as_str())
                    .bind(now)
                    .bind(department)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("write the incident's history"))?;
                }
                let incident = fetch_incident(&mut tx, $crate::incidents::IncidentId(id))
                    .await?
                    .ok_or_else(|| $crate::store::StoreError::Corrupt(format!("incident {id} vanished")))?;
                tx.commit().await.map_err(query_err("commit the incident"))?;
                Ok(incident)
            }

            async fn incident(
                &self,
                id: $crate::incidents::IncidentId,
            ) -> Result<Option<($crate::incidents::Incident, Vec<$crate::incidents::IncidentEvent>)>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                use $crate::store::query_err;
                let mut conn = self.pool.acquire().await.map_err(query_err("get a connection"))?;
                let Some(incident) = fetch_incident(&mut conn, id).await? else { return Ok(None) };
                let rows = sqlx::query("SELECT from_status, to_status, at, actor, note, action, department FROM incident_events WHERE incident_id = $1 ORDER BY id")
                    .bind(id.0)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(query_err("read an incident's history"))?;
                let parse = |s: &str| s.parse::<$crate::incidents::IncidentStatus>().map_err(|e| $crate::store::StoreError::Corrupt(e.to_string()));
                let events = rows
                    .iter()
                    .map(|r| {
                        Ok($crate::incidents::IncidentEvent {
                            from: r.col::<Option<String>>("from_status")?.as_deref().map(parse).transpose()?,
                            to: parse(r.col::<&str>("to_status")?)?,
                            at: r.col("at")?,
                            actor: r.col("actor")?,
                            note: r.col("note")?,
                            action: r.col("action")?,
                            department: r.col("department")?,
                        })
                    })
                    .collect::<Result<Vec<_>, $crate::store::StoreError>>()?;
                Ok(Some((incident, events)))
            }

            async fn list_incidents(
                &self,
                f: &$crate::incidents::IncidentFilter,
            ) -> Result<Vec<$crate::incidents::Incident>, $crate::store::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!("SELECT {} FROM incidents WHERE 1 = 1", $crate::store::incidents::COLUMNS));
                push_incident_filter(&mut q, f);
                if let Some(before) = f.before_id {
                    q.push(" AND id < ").push_bind(before.0);
                }
                q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(f.limit));
                let rows = q.build().fetch_all(&self.pool).await.map_err($crate::store::query_err("list incidents"))?;
                rows.iter().map(incident_from_row).collect()
            }

            async fn incident_summaries(&self) -> Result<Vec<$crate::incidents::StoredSummary>, $crate::store::StoreError> {
                use futures_util::TryStreamExt;
                use $crate::store::row::Column;
                // Streamed, not fetched whole: a district's million incidents must not sit in memory twice.
                let mut rows = sqlx::query("SELECT id, lon, lat, h3, category, status, street_code, community_code, grid_code, department_code, reported_at, updated_at, resolved_at, closed_at, due_at, returned_count, satisfaction_rating FROM incidents ORDER BY id")
                    .fetch(&self.pool);
                let mut out = Vec::new();
                while let Some(r) = rows.try_next().await.map_err($crate::store::query_err("read incident summaries"))? {
                    let status: &str = r.col("status")?;
                    let status = status.parse().map_err(|e: $crate::incidents::UnknownStatus| $crate::store::StoreError::Corrupt(e.to_string()))?;
                    out.push($crate::incidents::StoredSummary {
                        id: r.col("id")?,
                        location: [r.col("lon")?, r.col("lat")?],
                        cell: r.col("h3")?,
                        category: r.col("category")?,
                        status,
                        grid_code: r.col("grid_code")?,
                        reported_at: r.col("reported_at")?,
                        updated_at: r.col("updated_at")?,
                        closed_at: r.col("closed_at")?,
                        street_code: r.col("street_code")?,
                        community_code: r.col("community_code")?,
                        department: r.col("department_code")?,
                        resolved_at: r.col("resolved_at")?,
                        due_at: r.col("due_at")?,
                        returned: r.col("returned_count")?,
                        satisfaction: r.col("satisfaction_rating")?,
                    });
                }
                Ok(out)
            }

            async fn incident_cell_counts(
                &self,
                f: &$crate::incidents::IncidentFilter,
            ) -> Result<Vec<(String, i64)>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT h3, COUNT(*) AS n FROM incidents WHERE 1 = 1");
                push_incident_filter(&mut q, f);
                q.push(" GROUP BY h3");
                let rows = q.build().fetch_all(&self.pool).await.map_err($crate::store::query_err("count incidents per cell"))?;
                rows.iter().map(|r| Ok((r.col("h3")?, r.col("n")?))).collect()
            }

            async fn transition_incident(
                &self,
                id: $crate::incidents::IncidentId,
                to: $crate::incidents::IncidentStatus,
                actor: &str,
                note: Option<&str>,
            ) -> Result<($crate::incidents::Incident, Vec<$crate::responders::Responder>), $crate::incidents::IncidentError> {
                use $crate::incidents::IncidentStatus;
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let mut tx = begin_write(&self.pool).await?;
                let current = fetch_incident(&mut tx, id).await?.ok_or($crate::incidents::IncidentError::NotFound(id))?;
                if !current.status.can_move_to(to) {
                    return Err($crate::incidents::IncidentError::invalid_transition(id, current.status, to));
                }
                move_incident(&mut tx, id, current.status, to, now).await?;
                sqlx::query("INSERT INTO incident_events (incident_id, from_status, to_status, at, actor, note) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id.0)
                    .bind(current.status.as_str())
                    .bind(to.as_str())
                    .bind(now)
                    .bind(actor)
                    .bind(note)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("write the incident's history"))?;
                let released = if matches!(to, IncidentStatus::Resolved | IncidentStatus::Closed | IncidentStatus::Cancelled) {
                    release_assignments(&mut tx, id, None, actor, to.as_str(), now).await?
                } else {
                    Vec::new()
                };
                let incident = fetch_incident(&mut tx, id).await?.ok_or($crate::incidents::IncidentError::NotFound(id))?;
                tx.commit().await.map_err(query_err("commit the status change"))?;
                Ok((incident, released))
            }

            async fn incidents_due_between(
                &self,
                after: time::OffsetDateTime,
                until: time::OffsetDateTime,
            ) -> Result<Vec<$crate::incidents::Incident>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM incidents WHERE {} AND due_at > $1 AND due_at <= $2 ORDER BY due_at LIMIT 1000",
                    $crate::store::incidents::COLUMNS,
                    $crate::store::incidents::PENDING
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(after.to_offset(time::UtcOffset::UTC))
                    .bind(until.to_offset(time::UtcOffset::UTC))
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read incidents falling due"))?;
                rows.iter().map(incident_from_row).collect()
            }

            async fn rate_incident(
                &self,
                id: $crate::incidents::IncidentId,
                satisfaction: &$crate::incidents::Satisfaction,
            ) -> Result<($crate::incidents::Incident, Option<$crate::incidents::Satisfaction>), $crate::incidents::IncidentError> {
                use $crate::incidents::{IncidentError, IncidentStatus};
                use $crate::store::query_err;
                // The row is locked first (a no-op update), so the state checked is the state written against.
                let mut tx = begin_write(&self.pool).await?;
                sqlx::query("UPDATE incidents SET updated_at = updated_at WHERE id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("lock an incident"))?;
                let current = fetch_incident(&mut tx, id).await?.ok_or(IncidentError::NotFound(id))?;
                if !matches!(current.status, IncidentStatus::Resolved | IncidentStatus::Closed) {
                    return Err(IncidentError::NotResolved { id, status: current.status.as_str() });
                }
                sqlx::query(
                    "UPDATE incidents SET satisfaction_rating = $1, satisfaction_comment = $2, satisfaction_by = $3, \
                     satisfaction_at = $4, updated_at = $4 WHERE id = $5",
                )
                .bind(satisfaction.rating)
                .bind(&satisfaction.comment)
                .bind(&satisfaction.recorded_by)
                .bind(satisfaction.recorded_at.to_offset(time::UtcOffset::UTC))
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(query_err("record the satisfaction"))?;
                let incident = fetch_incident(&mut tx, id).await?.ok_or(IncidentError::NotFound(id))?;
                tx.commit().await.map_err(query_err("commit the satisfaction"))?;
                Ok((incident, current.satisfaction))
            }

            async fn open_incidents_not_geocoded_by(
                &self,
                generation: Option<$crate::layers::GenerationId>,
                resolution: h3o::Resolution,
            ) -> Result<Vec<($crate::incidents::IncidentId, $crate::coord::LonLat, $crate::incidents::Geocode)>, $crate::store::StoreError> {
                use futures_util::TryStreamExt;
                use $crate::store::row::Column;
                // Only what re-geocoding compares, streamed (reading whole incidents took 7 s for 333 000 on SQLite).
                // A cell's resolution is the second hex digit of its index (h3o writes mode-1 cells as "8" followed
                // by it). Reading every open incident at each start took 3.4 s for 500 000 on SQLite.
                let mut rows = sqlx::query(
                    "SELECT id, lon, lat, street_code, community_code, grid_code, h3, generation_id FROM incidents \
                     WHERE status NOT IN ('closed', 'cancelled') \
                     AND (generation_id IS DISTINCT FROM $1 OR substr(h3, 2, 1) <> $2)",
                )
                .bind(generation.map(|g| g.0))
                .bind(format!("{:x}", u8::from(resolution)))
                .fetch(&self.pool);
                let mut out = Vec::new();
                while let Some(r) = rows.try_next().await.map_err($crate::store::query_err("list open incidents"))? {
                    let id = $crate::incidents::IncidentId(r.col("id")?);
                    let p = $crate::coord::LonLat::new(r.col("lon")?, r.col("lat")?)
                        .map_err(|e| $crate::store::StoreError::Corrupt(format!("incident {id}: {e}")))?;
                    out.push((id, p, geocode_from_row(&r)?));
                }
                Ok(out)
            }

            async fn update_incident_geocodes(
                &self,
                changes: &[($crate::incidents::IncidentId, $crate::incidents::Geocode)],
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::query_err;
                let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
                // Multi-row statements: every activation re-geocodes every open incident (the generation is part of
                // the geocode), one UPDATE per incident took ~2 min for 333 000 open incidents on PostgreSQL.
                for chunk in changes.chunks($crate::store::incidents::REGEOCODE_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "WITH v (id, street_code, community_code, grid_code, h3, generation_id) AS (",
                    );
                    q.push_values(chunk, |mut b, (id, g)| {
                        b.push_bind(id.0)
                            .push_bind(&g.street_code)
                            .push_bind(&g.community_code)
                            .push_bind(&g.grid_code)
                            .push_bind(&g.h3)
                            .push_bind(g.generation.map(|g| g.0));
                    });
                    q.push(
                        ") UPDATE incidents SET street_code = v.street_code, community_code = v.community_code, \
                         grid_code = v.grid_code, h3 = v.h3, generation_id = v.generation_id FROM v WHERE incidents.id = v.id",
                    );
                    q.build().execute(&mut *tx).await.map_err(query_err("re-geocode incidents"))?;
                }
                tx.commit().await.map_err(query_err("commit re-geocoding"))
            }
        }
    };
}

pub(crate) use incident_store_impl;
