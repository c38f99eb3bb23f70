//! Fixed-resource persistence. One SQL text for both backends, instantiated per store by a macro.

pub(crate) const RESOURCE_COLUMNS: &str = "id, external_id, category, name, attributes, lon, lat, street_code, \
     community_code, grid_code, h3, generation_id, updated_at";

/// Implements [`ResourceStore`] for a store type with a `pool` of the given sqlx database.
macro_rules! resource_store_impl {
    ($store:ty, $db:ty) => {
        fn resource_from_row(r: &<$db as sqlx::Database>::Row) -> Result<$crate::resources::Resource, $crate::store::StoreError> {
            use $crate::store::row::Column;
            Ok($crate::resources::Resource {
                id: $crate::resources::ResourceId(r.col("id")?),
                external_id: r.col("external_id")?,
                category: r.col("category")?,
                name: r.col("name")?,
                attributes: r.col::<sqlx::types::Json<serde_json::Map<String, serde_json::Value>>>("attributes")?.0,
                location: $crate::crs::Position([r.col("lon")?, r.col("lat")?]),
                geocode: $crate::locate::Geocode {
                    street_code: r.col("street_code")?,
                    community_code: r.col("community_code")?,
                    grid_code: r.col("grid_code")?,
                    h3: r.col("h3")?,
                    generation: r.col::<Option<i64>>("generation_id")?.map($crate::layers::GenerationId),
                },
                updated_at: r.col("updated_at")?,
            })
        }

        #[async_trait::async_trait]
        impl $crate::resources::ResourceStore for $store {
            async fn create_resources(
                &self,
                new: &[$crate::resources::NewResource],
            ) -> Result<Vec<$crate::resources::Resource>, $crate::resources::ResourceError> {
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
                let ids: Vec<&String> = new.iter().filter_map(|n| n.external_id.as_ref()).collect();
                for chunk in ids.chunks(500) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("SELECT external_id FROM resources WHERE external_id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind((*id).clone());
                    }
                    q.push(") LIMIT 1");
                    let taken: Option<(String,)> =
                        q.build_query_as().fetch_optional(&mut *tx).await.map_err(query_err("check external ids"))?;
                    if let Some((id,)) = taken {
                        return Err($crate::resources::ResourceError::Duplicate(format!("a resource with id {id:?} is stored already")));
                    }
                }
                let mut out = Vec::with_capacity(new.len());
                let sql = format!(
                    "INSERT INTO resources (external_id, category, name, attributes, lon, lat, street_code, community_code, grid_code, h3, generation_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING {}",
                    $crate::store::resources::RESOURCE_COLUMNS
                );
                for n in new {
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                        .bind(&n.external_id)
                        .bind(&n.category)
                        .bind(&n.name)
                        .bind(sqlx::types::Json(&n.attributes))
                        .bind(n.location.lon())
                        .bind(n.location.lat())
                        .bind(&n.geocode.street_code)
                        .bind(&n.geocode.community_code)
                        .bind(&n.geocode.grid_code)
                        .bind(&n.geocode.h3)
                        .bind(n.geocode.generation.map(|g| g.0))
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(query_err("write a resource"))?;
                    out.push(resource_from_row(&row)?);
                }
                tx.commit().await.map_err(query_err("commit the resources"))?;
                Ok(out)
            }

            async fn resource(
                &self,
                id: $crate::resources::ResourceId,
            ) -> Result<Option<$crate::resources::Resource>, $crate::store::StoreError> {
                let sql = format!("SELECT {} FROM resources WHERE id = $1", $crate::store::resources::RESOURCE_COLUMNS);
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read a resource"))?;
                row.as_ref().map(resource_from_row).transpose()
            }

            async fn list_resources(
                &self,
                f: &$crate::resources::ResourceFilter,
            ) -> Result<Vec<$crate::resources::Resource>, $crate::store::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!("SELECT {} FROM resources WHERE 1 = 1", $crate::store::resources::RESOURCE_COLUMNS));
                if let Some([x0, y0, x1, y1]) = f.bbox {
                    q.push(" AND lon BETWEEN ").push_bind(x0).push(" AND ").push_bind(x1);
                    q.push(" AND lat BETWEEN ").push_bind(y0).push(" AND ").push_bind(y1);
                }
                for (column, value) in [("street_code", &f.street), ("community_code", &f.community), ("grid_code", &f.grid), ("category", &f.category)] {
                    if let Some(v) = value {
                        q.push(format!(" AND {column} = ")).push_bind(v.clone());
                    }
                }
                if let Some(before) = f.before_id {
                    q.push(" AND id < ").push_bind(before.0);
                }
                q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(f.limit));
                let rows = q.build().fetch_all(&self.pool).await.map_err($crate::store::query_err("list resources"))?;
                rows.iter().map(resource_from_row).collect()
            }

            async fn resource_locations(
                &self,
            ) -> Result<Vec<($crate::resources::ResourceId, $crate::coord::LonLat, $crate::locate::Geocode)>, $crate::store::StoreError> {
                let sql = format!("SELECT {} FROM resources", $crate::store::resources::RESOURCE_COLUMNS);
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err($crate::store::query_err("list resources"))?;
                rows.iter()
                    .map(|r| {
                        let r = resource_from_row(r)?;
                        let p = $crate::coord::LonLat::new(r.location[0], r.location[1])
                            .map_err(|e| $crate::store::StoreError::Corrupt(format!("resource {}: {e}", r.id.0)))?;
                        Ok((r.id, p, r.geocode))
                    })
                    .collect()
            }

            async fn update_resource_geocodes(
                &self,
                changes: &[($crate::resources::ResourceId, $crate::locate::Geocode)],
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::query_err;
                if changes.is_empty() {
                    return Ok(());
                }
                let now = time::OffsetDateTime::now_utc();
                let mut tx = self.pool.begin().await.map_err(query_err("begin a transaction"))?;
                for (id, g) in changes {
                    sqlx::query("UPDATE resources SET street_code = $1, community_code = $2, grid_code = $3, h3 = $4, generation_id = $5, updated_at = $6 WHERE id = $7")
                        .bind(&g.street_code)
                        .bind(&g.community_code)
                        .bind(&g.grid_code)
                        .bind(&g.h3)
                        .bind(g.generation.map(|x| x.0))
                        .bind(now)
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(query_err("re-geocode a resource"))?;
                }
                tx.commit().await.map_err(query_err("commit resource codes"))
            }
        }
    };
}

pub(crate) use resource_store_impl;
