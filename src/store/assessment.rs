//! Assessment reads, shared by both backends: the responders ever assigned to the period's incidents, and returns per
//! department from the history.

/// Implements [`AssessmentStore`](crate::assessment::AssessmentStore) for a store type with a `pool` of the given
/// sqlx database.
macro_rules! assessment_store_impl {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::assessment::AssessmentStore for $store {
            async fn assigned_in(
                &self,
                from: time::OffsetDateTime,
                to: time::OffsetDateTime,
                category: Option<&str>,
            ) -> Result<Vec<(i64, i64)>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                let utc = |t: time::OffsetDateTime| t.to_offset(time::UtcOffset::UTC);
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT DISTINCT a.incident_id, a.responder_id FROM assignments a JOIN incidents i ON i.id = a.incident_id \
                     WHERE i.reported_at >= ",
                );
                q.push_bind(utc(from)).push(" AND i.reported_at < ").push_bind(utc(to));
                if let Some(c) = category {
                    q.push(" AND i.category = ").push_bind(c.to_owned());
                }
                let rows = q.build().fetch_all(&self.pool).await.map_err($crate::store::query_err("read assignments to assess"))?;
                rows.iter().map(|r| Ok((r.col::<i64>("incident_id")?, r.col::<i64>("responder_id")?))).collect()
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
