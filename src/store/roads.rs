//! Road-network persistence. One SQL text for both backends (`$N` placeholders work in SQLite too), instantiated
//! per store by a macro; nodes are a blob (`BLOB`/`bytea`) of (id, lon, lat) per node, tags JSON.

/// Ways per INSERT statement (5 bound values each).
pub(crate) const WAY_ROWS: usize = 1_000;

/// Implements [`RoadStore`] for a store type with a `pool` of the given sqlx database.
macro_rules! road_store_impl {
    ($store:ty, $db:ty) => {
        fn network_from_row(r: &<$db as sqlx::Database>::Row) -> Result<$crate::roads::NetworkInfo, $crate::store::StoreError> {
            use $crate::store::row::Column;
            Ok($crate::roads::NetworkInfo {
                id: $crate::roads::NetworkId(r.col("id")?),
                source: r.col("source")?,
                actor: r.col("actor")?,
                created_at: r.col("created_at")?,
                ways: r.col("ways")?,
                active: r.col("active")?,
                report: r.col::<sqlx::types::Json<serde_json::Value>>("report")?.0,
            })
        }

        #[async_trait::async_trait]
        impl $crate::roads::RoadStore for $store {
            async fn create_network(
                &self,
                new: $crate::roads::NewNetwork<'_>,
            ) -> Result<$crate::roads::NetworkInfo, $crate::store::StoreError> {
                use $crate::store::query_err;
                let now = time::OffsetDateTime::now_utc();
                let mut tx = begin_write(&self.pool).await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO road_networks (source, actor, created_at, ways, report, active) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&new.source)
                .bind(&new.actor)
                .bind(now)
                .bind(new.ways.len() as i64)
                .bind(sqlx::types::Json(&new.report))
                .bind(false)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err("record the road network"))?;
                for (k, chunk) in new.ways.chunks($crate::store::roads::WAY_ROWS).enumerate() {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO road_ways (network_id, seq, way_id, tags, nodes) ");
                    q.push_values(chunk.iter().enumerate(), |mut row, (j, w)| {
                        row.push_bind(id)
                            .push_bind((k * $crate::store::roads::WAY_ROWS + j) as i64)
                            .push_bind(w.id)
                            .push_bind(sqlx::types::Json(&w.tags))
                            .push_bind($crate::roads::storage_encode_nodes(w));
                    });
                    q.build().execute(&mut *tx).await.map_err(query_err("write the network's ways"))?;
                }
                sqlx::query("UPDATE road_networks SET active = (id = $1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("activate the road network"))?;
                let row = sqlx::query("SELECT id, source, actor, created_at, ways, active, report FROM road_networks WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(query_err("read the road network back"))?;
                tx.commit().await.map_err(query_err("commit the road network"))?;
                network_from_row(&row)
            }

            async fn active_network(&self) -> Result<Option<$crate::roads::NetworkInfo>, $crate::store::StoreError> {
                let row = sqlx::query("SELECT id, source, actor, created_at, ways, active, report FROM road_networks WHERE active ORDER BY id DESC LIMIT 1")
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read the active road network"))?;
                row.as_ref().map(network_from_row).transpose()
            }

            async fn networks(&self) -> Result<Vec<$crate::roads::NetworkInfo>, $crate::store::StoreError> {
                let rows = sqlx::query("SELECT id, source, actor, created_at, ways, active, report FROM road_networks ORDER BY id DESC")
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::query_err("list road networks"))?;
                rows.iter().map(network_from_row).collect()
            }

            async fn network_ways(
                &self,
                id: $crate::roads::NetworkId,
            ) -> Result<Vec<$crate::roads::RoadWay>, $crate::store::StoreError> {
                use $crate::store::row::Column;
                let rows = sqlx::query("SELECT way_id, tags, nodes FROM road_ways WHERE network_id = $1 ORDER BY seq")
                    .bind(id.0)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read the network's ways"))?;
                rows.iter()
                    .map(|r| {
                        let way_id: i64 = r.col("way_id")?;
                        let bytes: Vec<u8> = r.col("nodes")?;
                        let (nodes, coords) = $crate::roads::storage_decode_nodes(&bytes).ok_or_else(|| {
                            $crate::store::StoreError::Corrupt(format!("road way {way_id} of network {id}: nodes of {} bytes", bytes.len()))
                        })?;
                        Ok($crate::roads::RoadWay {
                            id: way_id,
                            tags: r.col::<sqlx::types::Json<std::collections::BTreeMap<String, String>>>("tags")?.0,
                            nodes,
                            coords,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use road_store_impl;
