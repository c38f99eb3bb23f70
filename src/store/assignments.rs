//! Who is sent where: assignments of responders to incidents, kept in step with both sides' status in one
//! transaction. A responder becomes `busy` when assigned and `available` again when released (unassigned,
//! replaced, or the incident resolved, closed or cancelled), unless another assignment still holds them.
//! One SQL text for both backends, instantiated per store by a macro (see `incidents.rs`).

/// Implements [`AssignmentStore`] for a store type with a `pool` of the given sqlx database; the backend's
/// `begin_write` opens a transaction that will write (SQLite: `BEGIN IMMEDIATE`, so a read-then-write never fails on
/// a lock upgrade).
macro_rules! assignment_store_impl {
    ($store:ty, $db:ty) => {
        /// Ends the incident's open assignments (of one responder, or all) and frees each responder that no other
        /// open assignment holds. Returns the released responders as stored after the change.
        async fn release_assignments(
            conn: &mut <$db as sqlx::Database>::Connection,
            incident: $crate::incidents::IncidentId,
            only: Option<$crate::responders::ResponderId>,
            actor: &str,
            reason: &str,
            now: time::OffsetDateTime,
        ) -> Result<Vec<$crate::responders::Responder>, $crate::store::StoreError> {
            use $crate::store::query_err;
            let ids: Vec<i64> = sqlx::query_scalar(
                "UPDATE assignments SET released_at = $1, released_by = $2, release_reason = $3 \
                 WHERE incident_id = $4 AND released_at IS NULL AND ($5 IS NULL OR responder_id = $5) RETURNING responder_id",
            )
            .bind(now)
            .bind(actor)
            .bind(reason)
            .bind(incident.0)
            .bind(only.map(|r| r.0))
            .fetch_all(&mut *conn)
            .await
            .map_err(query_err("end assignments"))?;
            let mut released = Vec::with_capacity(ids.len());
            let free = format!(
                "UPDATE responders SET status = 'available', status_version = status_version + 1, updated_at = $1 WHERE id = $2 AND status = 'busy' \
                 AND NOT EXISTS (SELECT 1 FROM assignments WHERE responder_id = $2 AND released_at IS NULL) RETURNING {}",
                $crate::store::responders::RESPONDER_COLUMNS
            );
            let read = format!("SELECT {} FROM responders WHERE id = $1", $crate::store::responders::RESPONDER_COLUMNS);
            for id in ids {
                let row = sqlx::query(sqlx::AssertSqlSafe(free.clone()))
                    .bind(now)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_err("free a responder"))?;
                let row = match row {
                    Some(row) => row,
                    None => sqlx::query(sqlx::AssertSqlSafe(read.clone()))
                        .bind(id)
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(query_err("read a responder"))?,
                };
                released.push(responder_from_row(&row)?);
            }
            Ok(released)
        }

        async fn write_event(
            conn: &mut <$db as sqlx::Database>::Connection,
            incident: $crate::incidents::IncidentId,
            from: $crate::incidents::IncidentStatus,
            to: $crate::incidents::IncidentStatus,
            actor: &str,
            note: &str,
            now: time::OffsetDateTime,
        ) -> Result<(), $crate::store::StoreError> {
            sqlx::query("INSERT INTO incident_events (incident_id, from_status, to_status, at, actor, note) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(incident.0)
                .bind(from.as_str())
                .bind(to.as_str())
                .bind(now)
                .bind(actor)
                .bind(note)
                .execute(&mut *conn)
                .await
                .map_err($crate::store::query_err("write the incident's history"))?;
            Ok(())
        }

        /// Compare-and-set of the incident's status on the state read in this transaction.
        async fn move_incident(
            conn: &mut <$db as sqlx::Database>::Connection,
            incident: $crate::incidents::IncidentId,
            from: $crate::incidents::IncidentStatus,
            to: $crate::incidents::IncidentStatus,
            now: time::OffsetDateTime,
        ) -> Result<(), $crate::incidents::IncidentError> {
            let updated = sqlx::query("UPDATE incidents SET status = $1, updated_at = $2, \
                 resolved_at = CASE WHEN $1 = 'resolved' THEN $2 WHEN $1 = 'closed' THEN resolved_at ELSE NULL END, \
                 closed_at = CASE WHEN $1 = 'closed' THEN $2 ELSE NULL END WHERE id = $3 AND status = $4")
                .bind(to.as_str())
                .bind(now)
                .bind(incident.0)
                .bind(from.as_str())
                .execute(&mut *conn)
                .await
                .map_err($crate::store::query_err("change the incident's status"))?;
            if updated.rows_affected() == 1 {
                Ok(())
            } else {
                Err($crate::incidents::IncidentError::invalid_transition(incident, from, to))
            }
        }

        #[async_trait::async_trait]
        impl $crate::incidents::AssignmentStore for $store {
            async fn assign_incident(
                &self,
                a: &$crate::incidents::Assignment,
            ) -> Result<$crate::incidents::AssignmentChange, $crate::incidents::IncidentError> {
                use $crate::incidents::IncidentStatus;
                use $crate::incidents::AssignMode;
                use $crate::incidents::IncidentError;
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let mut tx = begin_write(&self.pool).await?;
                let current = fetch_incident(&mut tx, a.incident).await?.ok_or(IncidentError::NotFound(a.incident))?;
                let on_it: Vec<i64> = sqlx::query_scalar("SELECT responder_id FROM assignments WHERE incident_id = $1 AND released_at IS NULL ORDER BY id")
                    .bind(a.incident.0)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(query_err("read the incident's assignments"))?;
                // Who is asked for comes first: an unknown responder is that, whoever else is on the incident.
                let status: Option<String> = sqlx::query_scalar("SELECT status FROM responders WHERE id = $1")
                    .bind(a.responder.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_err("read the responder's status"))?;
                let Some(status) = status else { return Err(IncidentError::NoSuchResponder(a.responder)) };
                if on_it.contains(&a.responder.0) {
                    return Err(IncidentError::AlreadyOnIncident { incident: a.incident, responder: a.responder });
                }
                let to = match (current.status, a.mode) {
                    (IncidentStatus::Reported, _) => IncidentStatus::Dispatched,
                    (IncidentStatus::Dispatched | IncidentStatus::OnScene, AssignMode::First) if !on_it.is_empty() => {
                        let responders: Vec<_> = on_it.into_iter().map($crate::responders::ResponderId).collect();
                        return Err(IncidentError::already_assigned(a.incident, &responders));
                    }
                    (IncidentStatus::Dispatched | IncidentStatus::OnScene, AssignMode::Additional) => current.status,
                    (IncidentStatus::Dispatched | IncidentStatus::OnScene, _) => IncidentStatus::Dispatched,
                    (from, _) => return Err(IncidentError::invalid_transition(a.incident, from, IncidentStatus::Dispatched)),
                };
                let sql = format!(
                    "UPDATE responders SET status = 'busy', status_version = status_version + 1, updated_at = $1 WHERE id = $2 AND status = 'available' RETURNING {}",
                    $crate::store::responders::RESPONDER_COLUMNS
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(now)
                    .bind(a.responder.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_err("mark the responder busy"))?;
                let Some(row) = row else { return Err(IncidentError::ResponderNotAvailable { id: a.responder, status }) };
                let responder = responder_from_row(&row)?;
                let released = if a.mode == AssignMode::Replace && !on_it.is_empty() {
                    let reason = format!("replaced by responder {}", responder.id);
                    release_assignments(&mut tx, a.incident, None, &a.actor, &reason, now).await?
                } else {
                    Vec::new()
                };
                if to != current.status {
                    move_incident(&mut tx, a.incident, current.status, to, now).await?;
                }
                let mut note = format!("assigned responder {} ({})", responder.id, responder.name);
                if !released.is_empty() {
                    let names: Vec<String> = released.iter().map(|r| format!("{} ({})", r.id, r.name)).collect();
                    note = format!("{note}, replacing {}", names.join(", "));
                } else if a.mode == AssignMode::Additional && to == current.status {
                    note = format!("{note} as another unit");
                }
                write_event(&mut tx, a.incident, current.status, to, &a.actor, &note, now).await?;
                sqlx::query("INSERT INTO assignments (incident_id, responder_id, actor, assigned_at, ranking) VALUES ($1, $2, $3, $4, $5)")
                    .bind(a.incident.0)
                    .bind(a.responder.0)
                    .bind(&a.actor)
                    .bind(now)
                    .bind(sqlx::types::Json(&a.ranking))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        // The index `assignments_one_open_per_responder` refused a second open assignment: the
                        // responder's status said available while another assignment still held them (a status
                        // change racing an assignment). The data says busy, and so does the answer.
                        sqlx::Error::Database(db) if db.is_unique_violation() => {
                            IncidentError::ResponderNotAvailable { id: a.responder, status: "busy".to_owned() }
                        }
                        _ => query_err("record the assignment")(e).into(),
                    })?;
                let incident = fetch_incident(&mut tx, a.incident).await?.ok_or(IncidentError::NotFound(a.incident))?;
                tx.commit().await.map_err(query_err("commit the assignment"))?;
                Ok($crate::incidents::AssignmentChange { incident, assigned: Some(responder), released })
            }

            async fn unassign_incident(
                &self,
                id: $crate::incidents::IncidentId,
                responder: Option<$crate::responders::ResponderId>,
                actor: &str,
                note: Option<&str>,
            ) -> Result<$crate::incidents::AssignmentChange, $crate::incidents::IncidentError> {
                use $crate::incidents::IncidentStatus;
                use $crate::incidents::IncidentError;
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let mut tx = begin_write(&self.pool).await?;
                let current = fetch_incident(&mut tx, id).await?.ok_or(IncidentError::NotFound(id))?;
                let reason = match note {
                    Some(n) if !n.trim().is_empty() => format!("unassigned: {n}"),
                    _ => "unassigned".to_owned(),
                };
                let released = release_assignments(&mut tx, id, responder, actor, &reason, now).await?;
                if released.is_empty() {
                    return Err(IncidentError::not_assigned(id, responder));
                }
                let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assignments WHERE incident_id = $1 AND released_at IS NULL")
                    .bind(id.0)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(query_err("count the incident's assignments"))?;
                let to = if remaining == 0 && current.status == IncidentStatus::Dispatched {
                    IncidentStatus::Reported
                } else {
                    current.status
                };
                if to != current.status {
                    move_incident(&mut tx, id, current.status, to, now).await?;
                }
                let names: Vec<String> = released.iter().map(|r| format!("{} ({})", r.id, r.name)).collect();
                let text = format!("released responder {}{}", names.join(", "), note.map(|n| format!(": {n}")).unwrap_or_default());
                write_event(&mut tx, id, current.status, to, actor, &text, now).await?;
                let incident = fetch_incident(&mut tx, id).await?.ok_or(IncidentError::NotFound(id))?;
                tx.commit().await.map_err(query_err("commit the release"))?;
                Ok($crate::incidents::AssignmentChange { incident, assigned: None, released })
            }

            async fn incident_assignments(
                &self,
                id: $crate::incidents::IncidentId,
            ) -> Result<Vec<$crate::incidents::AssignmentRecord>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                let rows = sqlx::query("SELECT responder_id, actor, assigned_at, ranking, released_at, released_by, release_reason FROM assignments WHERE incident_id = $1 ORDER BY id")
                    .bind(id.0)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read the incident's assignments"))?;
                rows.iter()
                    .map(|r| Ok($crate::incidents::AssignmentRecord {
                        responder_id: $crate::responders::ResponderId(r.col("responder_id")?),
                        actor: r.col("actor")?,
                        assigned_at: r.col("assigned_at")?,
                        ranking: r.col::<sqlx::types::Json<serde_json::Value>>("ranking")?.0,
                        released_at: r.col("released_at")?,
                        released_by: r.col("released_by")?,
                        release_reason: r.col("release_reason")?,
                    }))
                    .collect()
            }
        }
    };
}

pub(crate) use assignment_store_impl;
