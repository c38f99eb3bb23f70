//! API key persistence (hashes only). One SQL text for both backends, instantiated per store by a macro.

use super::StoreError;
use crate::auth::StoredKey;

pub(crate) const KEY_COLUMNS: &str = "id, name, role, scope_layer, scope_code, prefix, created_at, revoked_at";

/// Reads a key row (columns [`KEY_COLUMNS`]).
pub(crate) fn key_from_parts(
    id: i64,
    name: String,
    role: &str,
    scope: (Option<String>, Option<String>),
    prefix: String,
    created_at: time::OffsetDateTime,
    revoked_at: Option<time::OffsetDateTime>,
) -> Result<StoredKey, StoreError> {
    use crate::auth::Scope;
    let role = role.parse().map_err(|e: crate::auth::UnknownRole| StoreError::Corrupt(e.to_string()))?;
    let scope = match scope {
        (Some(layer), Some(code)) if layer == "streets" => Some(Scope::Street(code)),
        (Some(layer), Some(code)) if layer == "communities" => Some(Scope::Community(code)),
        (None, _) => None,
        (layer, _) => return Err(StoreError::Corrupt(format!("key {id} has scope layer {layer:?}"))),
    };
    Ok(StoredKey {
        id,
        name,
        role,
        scope,
        prefix,
        created_at: crate::times::rfc3339(created_at),
        revoked_at: revoked_at.map(crate::times::rfc3339),
    })
}

/// Implements [`KeyStore`] for a store type with a `pool` of the given sqlx database.
macro_rules! key_store_impl {
    ($store:ty, $db:ty) => {
        fn key_from_row(
            r: &<$db as sqlx::Database>::Row,
        ) -> Result<$crate::auth::StoredKey, $crate::store::StoreError> {
            use $crate::store::row::Column;
            $crate::store::keys::key_from_parts(
                r.col("id")?,
                r.col("name")?,
                r.col::<&str>("role")?,
                (r.col("scope_layer")?, r.col("scope_code")?),
                r.col("prefix")?,
                r.col("created_at")?,
                r.col("revoked_at")?,
            )
        }

        #[async_trait::async_trait]
        impl $crate::auth::KeyStore for $store {
            async fn create_key(
                &self,
                key: &$crate::auth::NewKey,
            ) -> Result<$crate::auth::StoredKey, $crate::store::StoreError> {
                let (layer, code) = match &key.scope {
                    Some($crate::auth::Scope::Street(c)) => (Some("streets"), Some(c.as_str())),
                    Some($crate::auth::Scope::Community(c)) => (Some("communities"), Some(c.as_str())),
                    None => (None, None),
                };
                let sql = format!(
                    "INSERT INTO api_keys (name, role, scope_layer, scope_code, key_hash, prefix, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {}",
                    $crate::store::keys::KEY_COLUMNS
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&key.name)
                    .bind(key.role.as_str())
                    .bind(layer)
                    .bind(code)
                    .bind(&key.hash)
                    .bind(&key.prefix)
                    .bind(time::OffsetDateTime::now_utc())
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::store::query_err("store an API key"))?;
                key_from_row(&row)
            }

            async fn keys(&self) -> Result<Vec<$crate::auth::StoredKey>, $crate::store::StoreError> {
                let sql = format!("SELECT {} FROM api_keys ORDER BY id", $crate::store::keys::KEY_COLUMNS);
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::query_err("list API keys"))?;
                rows.iter().map(key_from_row).collect()
            }

            async fn key_by_hash(
                &self,
                hash: &str,
            ) -> Result<Option<$crate::auth::StoredKey>, $crate::store::StoreError> {
                let sql = format!("SELECT {} FROM api_keys WHERE key_hash = $1", $crate::store::keys::KEY_COLUMNS);
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::query_err("check an API key"))?;
                row.as_ref().map(key_from_row).transpose()
            }

            async fn revoke_key(&self, id: i64) -> Result<Option<$crate::auth::StoredKey>, $crate::store::StoreError> {
                sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(time::OffsetDateTime::now_utc())
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::query_err("revoke an API key"))?;
                let sql = format!("SELECT {} FROM api_keys WHERE id = $1", $crate::store::keys::KEY_COLUMNS);
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::query_err("read an API key"))?;
                row.as_ref().map(key_from_row).transpose()
            }
        }
    };
}

pub(crate) use key_store_impl;
