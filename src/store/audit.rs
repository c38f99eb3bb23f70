//! Audit log persistence: append and list, nothing else (the tables' triggers refuse UPDATE and DELETE).

/// Implements [`AuditStore`] for a store type with a `pool` of the given sqlx database.
macro_rules! audit_store_impl {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::audit::AuditStore for $store {
            async fn append_audit(
                &self,
                actor: &str,
                action: &str,
                target: Option<&str>,
                details: &serde_json::Value,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query("INSERT INTO audit_log (at, actor, action, target, details) VALUES ($1, $2, $3, $4, $5)")
                    .bind(time::OffsetDateTime::now_utc())
                    .bind(actor)
                    .bind(action)
                    .bind(target)
                    .bind(sqlx::types::Json(details))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::query_err("append to the audit log"))?;
                Ok(())
            }

            async fn audit_entries(
                &self,
                f: &$crate::audit::AuditFilter,
            ) -> Result<Vec<$crate::audit::AuditEntry>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT id, at, actor, action, target, details FROM audit_log WHERE 1 = 1",
                );
                if let Some(a) = &f.action {
                    q.push(" AND action = ").push_bind(a.clone());
                }
                if let Some(a) = &f.actor {
                    q.push(" AND actor = ").push_bind(a.clone());
                }
                if let Some(b) = f.before_id {
                    q.push(" AND id < ").push_bind(b);
                }
                q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(f.limit));
                let rows =
                    q.build().fetch_all(&self.pool).await.map_err($crate::store::query_err("read the audit log"))?;
                rows.iter()
                    .map(|r| {
                        Ok($crate::audit::AuditEntry {
                            id: r.col("id")?,
                            at: $crate::times::rfc3339(r.col("at")?),
                            actor: r.col("actor")?,
                            action: r.col("action")?,
                            target: r.col("target")?,
                            details: r.col::<sqlx::types::Json<serde_json::Value>>("details")?.0,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use audit_store_impl;
