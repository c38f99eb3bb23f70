//! Department register and routing persistence, shared by both backends (`$N` placeholders work in SQLite too).
//! `categories` is stored as a JSON array in a TEXT column on both.

/// Implements [`DepartmentStore`](crate::departments::DepartmentStore) for a store type with a `pool` of the given
/// sqlx database.
macro_rules! department_store_impl {
    ($store:ty, $db:ty) => {
        fn department_from_row(
            r: &<$db as sqlx::Database>::Row,
        ) -> Result<$crate::departments::Department, $crate::store::StoreError> {
            use $crate::store::row::Column;
            let categories: String = r.col("categories")?;
            Ok($crate::departments::Department {
                code: r.col("code")?,
                name: r.col("name")?,
                categories: serde_json::from_str(&categories)
                    .map_err(|e| $crate::store::StoreError::Corrupt(format!("department categories: {e}")))?,
                created_at: r.col("created_at")?,
                updated_at: r.col("updated_at")?,
            })
        }

        #[async_trait::async_trait]
        impl $crate::departments::DepartmentStore for $store {
            async fn departments(&self) -> Result<Vec<$crate::departments::Department>, $crate::store::StoreError> {
                let rows = sqlx::query("SELECT code, name, categories, created_at, updated_at FROM departments ORDER BY code")
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read the departments"))?;
                rows.iter().map(department_from_row).collect()
            }

            async fn put_department(
                &self,
                code: &str,
                name: &str,
                categories: &[String],
            ) -> Result<($crate::departments::Department, bool), $crate::store::StoreError> {
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let categories = serde_json::to_string(categories).map_err(|e| $crate::store::StoreError::Corrupt(e.to_string()))?;
                let mut tx = begin_write(&self.pool).await?;
                let updated = sqlx::query("UPDATE departments SET name = $1, categories = $2, updated_at = $3 WHERE code = $4")
                    .bind(name)
                    .bind(&categories)
                    .bind(now)
                    .bind(code)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("update a department"))?;
                let created = updated.rows_affected() == 0;
                if created {
                    sqlx::query("INSERT INTO departments (code, name, categories, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
                        .bind(code)
                        .bind(name)
                        .bind(&categories)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(query_err("add a department"))?;
                }
                let row = sqlx::query("SELECT code, name, categories, created_at, updated_at FROM departments WHERE code = $1")
                    .bind(code)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(query_err("read a department"))?;
                tx.commit().await.map_err(query_err("commit the department"))?;
                Ok((department_from_row(&row)?, created))
            }

            async fn delete_department(
                &self,
                code: &str,
            ) -> Result<Option<$crate::departments::Department>, $crate::departments::DepartmentError> {
                use $crate::store::query_err;
                let mut tx = begin_write(&self.pool).await?;
                let row = sqlx::query("SELECT code, name, categories, created_at, updated_at FROM departments WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_err("read a department"))?;
                let Some(row) = row else { return Ok(None) };
                let open: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM incidents WHERE department_code = $1 AND department_state IN ('routed', 'accepted') \
                     AND status NOT IN ('closed', 'cancelled')",
                )
                .bind(code)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err("count a department's open incidents"))?;
                if open > 0 {
                    return Err($crate::departments::DepartmentError::InUse { code: code.to_owned(), open });
                }
                sqlx::query("DELETE FROM departments WHERE code = $1")
                    .bind(code)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("remove a department"))?;
                tx.commit().await.map_err(query_err("commit the removal"))?;
                Ok(Some(department_from_row(&row)?))
            }

            async fn route_incident(
                &self,
                id: $crate::incidents::IncidentId,
                step: &$crate::departments::RoutingStep,
            ) -> Result<$crate::incidents::Incident, $crate::departments::DepartmentError> {
                use $crate::departments::{DepartmentError, RoutingAction};
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let mut tx = begin_write(&self.pool).await?;
                // The row is locked first (a no-op update), so the state checked is the state written against.
                sqlx::query("UPDATE incidents SET updated_at = updated_at WHERE id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("lock an incident"))?;
                let current = fetch_incident(&mut tx, id).await?.ok_or(DepartmentError::NoIncident(id))?;
                if !current.status.is_open() {
                    return Err(DepartmentError::NotOpen { incident: id, status: current.status.as_str() });
                }
                let (state, department) = step.action.apply(id, current.department_state, current.department.as_deref())?;
                if let Some(target) = step.action.target() {
                    let known: Option<String> = sqlx::query_scalar("SELECT code FROM departments WHERE code = $1")
                        .bind(target)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(query_err("read a department"))?;
                    if known.is_none() {
                        return Err(DepartmentError::NotFound(target.to_owned()));
                    }
                }
                let returned = i32::from(matches!(step.action, RoutingAction::Return { .. }));
                sqlx::query(
                    "UPDATE incidents SET department_code = $1, department_state = $2, returned_count = returned_count + $3, \
                     updated_at = $4 WHERE id = $5",
                )
                .bind(&department)
                .bind(state.as_str())
                .bind(returned)
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(query_err("route the incident"))?;
                // The history names the department sent to, or the one that accepted or returned it.
                let named = step.action.target().map(str::to_owned).or(current.department.clone());
                sqlx::query(
                    "INSERT INTO incident_events (incident_id, from_status, to_status, at, actor, note, action, department) \
                     VALUES ($1, $2, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id.0)
                .bind(current.status.as_str())
                .bind(now)
                .bind(&step.actor)
                .bind(step.action.note())
                .bind(step.action.name())
                .bind(named)
                .execute(&mut *tx)
                .await
                .map_err(query_err("write the incident's history"))?;
                let incident = fetch_incident(&mut tx, id).await?.ok_or(DepartmentError::NoIncident(id))?;
                tx.commit().await.map_err(query_err("commit the routing step"))?;
                Ok(incident)
            }
        }
    };
}

pub(crate) use department_store_impl;
