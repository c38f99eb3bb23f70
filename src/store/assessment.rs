//! Assessment reads, shared by both backends: the period's incidents (by the report-time index), streamed; read by
//! responder, joined with the distinct responders ever assigned to each; returns per department from the history.

/// Implements [`AssessmentStore`](crate::assessment::AssessmentStore) for a store type with a `pool` of the given
/// sqlx database.
macro_rules! assessment_store_impl {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::assessment::AssessmentStore for $store {
            async fn assessed_incidents(
                &self,
                from: time::OffsetDateTime,
                to: time::OffsetDateTime,
                category: Option<&str>,
                by_responder: bool,
            ) -> Result<Vec<$crate::assessment::AssessedIncident>, $crate::store::StoreError> {
                use futures_util::TryStreamExt;
                use $crate::store::row::Column;
                let utc = |t: time::OffsetDateTime| t.to_offset(time::UtcOffset::UTC);
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT i.street_code, i.community_code, i.grid_code, i.department_code, i.status, i.reported_at, \
                     i.resolved_at, i.closed_at, i.due_at, i.returned_count, i.satisfaction_rating",
                );
                if by_responder {
                    q.push(
                        ", a.responder_id FROM incidents i \
                         JOIN (SELECT DISTINCT incident_id, responder_id FROM assignments) a ON a.incident_id = i.id",
                    );
                } else {
                    q.push(", CAST(NULL AS BIGINT) AS responder_id FROM incidents i");
                }
                q.push(" WHERE i.reported_at >= ").push_bind(utc(from));
                q.push(" AND i.reported_at < ").push_bind(utc(to));
                if let Some(c) = category {
                    q.push(" AND i.category = ").push_bind(c.to_owned());
                }
                let mut rows = q.build().fetch(&self.pool);
                let mut out = Vec::new();
                while let Some(r) = rows.try_next().await.map_err($crate::store::query_err("read incidents to assess"))? {
                    let status: &str = r.col("status")?;
                    let status = status
                        .parse()
                        .map_err(|e: $crate::incidents::UnknownStatus| $crate::store::StoreError::Corrupt(e.to_string()))?;
                    out.push($crate::assessment::AssessedIncident {
                        street: r.col("street_code")?,
                        community: r.col("community_code")?,
                        grid: r.col("grid_code")?,
                        department: r.col("department_code")?,
                        responder: r.col("responder_id")?,
                        status,
                        reported_at: r.col("reported_at")?,
                        resolved_at: r.col("resolved_at")?,
                        closed_at: r.col("closed_at")?,
                        due_at: r.col("due_at")?,
                        returned: r.col("returned_count")?,
                        satisfaction: r.col("satisfaction_rating")?,
                    });
                }
                Ok(out)
            }

            async fn returns_by_department(
                &self,
                from: time::OffsetDateTime,
                to: time::OffsetDateTime,
                category: Option<&str>,
            ) -> Result<Vec<(String, i64)>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                let utc = |t: time::OffsetDateTime| t.to_offset(time::UtcOffset::UTC);
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    // CROSS JOIN: SQLite keeps the events (few, by their action index) as the outer loop; PostgreSQL
                    // plans it like any join.
                    "SELECT e.department, COUNT(*) AS n FROM incident_events e CROSS JOIN incidents i \
                     WHERE i.id = e.incident_id AND e.action = 'returned' AND e.department IS NOT NULL \
                     AND i.reported_at >= ",
                );
                q.push_bind(utc(from)).push(" AND i.reported_at < ").push_bind(utc(to));
                if let Some(c) = category {
                    q.push(" AND i.category = ").push_bind(c.to_owned());
                }
                q.push(" GROUP BY e.department");
                let rows = q.build().fetch_all(&self.pool).await.map_err($crate::store::query_err("count returns"))?;
                rows.iter().map(|r| Ok((r.col::<String>("department")?, r.col::<i64>("n")?))).collect()
            }
        }
    };
}

pub(crate) use assessment_store_impl;
