//! Imported history persistence, shared by both backends: multi-row inserts that skip external ids already stored
//! (`ON CONFLICT (external_id) DO NOTHING`, the unique index of migration 0016), then one `imported` history entry
//! per row added.

/// Implements [`HistoryStore`](crate::history::HistoryStore) for a store type with a `pool` of the given sqlx
/// database, `$chunk` rows per multi-row insert (26 values each: under SQLite's 32 766 binds and PostgreSQL's 65 535;
/// fewer statements is what a 100 000-row import saves most on).
macro_rules! history_store_impl {
    ($store:ty, $db:ty, $chunk:expr) => {
        #[async_trait::async_trait]
        impl $crate::history::HistoryStore for $store {
            async fn existing_external_ids(
                &self,
                ids: &[String],
            ) -> Result<std::collections::HashSet<String>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                let mut found = std::collections::HashSet::new();
                for chunk in ids.chunks(5000) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("SELECT external_id FROM incidents WHERE external_id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    q.push(")");
                    let rows = q.build().fetch_all(&self.pool).await.map_err($crate::store::query_err("look up imported ids"))?;
                    for r in &rows {
                        found.insert(r.col::<String>("external_id")?);
                    }
                }
                Ok(found)
            }

            async fn import_history(
                &self,
                rows: &[$crate::history::HistoryRow],
                actor: &str,
            ) -> Result<Vec<$crate::incidents::StoredSummary>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let utc = |t: time::OffsetDateTime| t.to_offset(time::UtcOffset::UTC);
                let by_id: std::collections::HashMap<&str, &$crate::history::HistoryRow> =
                    rows.iter().map(|r| (r.external_id.as_str(), r)).collect();
                let mut added = Vec::new();
                let mut tx = begin_write(&self.pool).await?;
                for chunk in rows.chunks($chunk) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO incidents (category, description, priority, source, address, caller, lon, lat, status, \
                         street_code, community_code, grid_code, h3, generation_id, reported_at, created_at, updated_at, \
                         due_at, department_code, resolved_at, closed_at, external_id, satisfaction_rating, satisfaction_by, \
                         satisfaction_at, returned_count) ",
                    );
                    q.push_values(chunk, |mut b, r| {
                        let rated_at = r.closed_at.unwrap_or(r.reported_at);
                        b.push_bind(&r.category)
                            .push_bind(&r.description)
                            .push_bind(r.priority)
                            .push_bind("import")
                            .push_bind(&r.address)
                            .push_bind(&r.caller)
                            .push_bind(r.location.lon())
                            .push_bind(r.location.lat())
                            .push_bind(r.status.as_str())
                            .push_bind(&r.geocode.street_code)
                            .push_bind(&r.geocode.community_code)
                            .push_bind(&r.geocode.grid_code)
                            .push_bind(&r.geocode.h3)
                            .push_bind(r.geocode.generation.map(|g| g.0))
                            .push_bind(utc(r.reported_at))
                            .push_bind(now)
                            .push_bind(now)
                            .push_bind(r.due_at.map(utc))
                            .push_bind(&r.department)
                            .push_bind(r.resolved_at().map(utc))
                            .push_bind(r.closed_at.filter(|_| r.status == $crate::incidents::IncidentStatus::Closed).map(utc))
                            .push_bind(&r.external_id)
                            .push_bind(r.satisfaction)
                            .push_bind(r.satisfaction.map(|_| actor.to_owned()))
                            .push_bind(r.satisfaction.map(|_| utc(rated_at)))
                            .push_bind(0_i32);
                    });
                    q.push(" ON CONFLICT (external_id) DO NOTHING RETURNING id, external_id");
                    let inserted = q.build().fetch_all(&mut *tx).await.map_err(query_err("write imported incidents"))?;
                    let mut ids = Vec::with_capacity(inserted.len());
                    for r in &inserted {
                        let external: String = r.col("external_id")?;
                        let row = by_id
                            .get(external.as_str())
                            .ok_or_else(|| $crate::store::StoreError::Corrupt(format!("imported id {external} came back unknown")))?;
                        ids.push((r.col::<i64>("id")?, *row));
                    }
                    for part in ids.chunks($chunk) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO incident_events (incident_id, from_status, to_status, at, actor, note, action, department) ",
                        );
                        q.push_values(part, |mut b, (id, r)| {
                            b.push_bind(*id)
                                .push_bind(None::<String>)
                                .push_bind(r.status.as_str())
                                .push_bind(now)
                                .push_bind(actor.to_owned())
                                .push_bind(format!("imported as {}", r.external_id))
                                .push_bind("imported")
                                .push_bind(&r.department);
                        });
                        q.build().execute(&mut *tx).await.map_err(query_err("write imported history"))?;
                    }
                    added.extend(ids.into_iter().map(|(id, r)| $crate::incidents::StoredSummary {
                        id,
                        location: [r.location.lon(), r.location.lat()],
                        cell: r.geocode.h3.clone(),
                        category: r.category.clone(),
                        status: r.status,
                        grid_code: r.geocode.grid_code.clone(),
                        reported_at: r.reported_at,
                        updated_at: now,
                        closed_at: r.closed_at.filter(|_| r.status == $crate::incidents::IncidentStatus::Closed),
                        street_code: r.geocode.street_code.clone(),
                        community_code: r.geocode.community_code.clone(),
                        department: r.department.clone(),
                        resolved_at: r.resolved_at(),
                        due_at: r.due_at,
                        returned: 0,
                        satisfaction: r.satisfaction,
                    }));
                }
                tx.commit().await.map_err(query_err("commit the import"))?;
                Ok(added)
            }
        }
    };
}

pub(crate) use history_store_impl;
