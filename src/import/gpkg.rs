//! GeoPackage reader: the feature tables listed in `gpkg_contents`/`gpkg_geometry_columns` (several → `--member`),
//! geometry blobs decoded with geozero, the layer's `srs_id` resolved through `gpkg_spatial_ref_sys`.

use std::sync::atomic::{AtomicU32, Ordering};

use geozero::ToGeo;
use geozero::wkb::GpkgWkb;
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Column, ConnectOptions, Row, SqliteConnection, TypeInfo, ValueRef};

use super::feature::{self, Properties};
use super::{ImportError, Parsed, ReadOptions, Report};
use crate::crs::ImportCrs;

/// A GeoPackage that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GpkgError {
    /// Not an SQLite/GeoPackage file, or a query failed.
    #[error("{file}: not a readable GeoPackage: {reason}")]
    Open {
        /// File name.
        file: String,
        /// What failed.
        reason: String,
    },
    /// No feature table.
    #[error("{file}: the GeoPackage has no feature table")]
    NoLayer {
        /// File name.
        file: String,
    },
    /// Several feature tables and no `--member`.
    #[error("{file}: the GeoPackage holds {} feature tables: {tables:?}; choose one with --member NAME", tables.len())]
    SeveralLayers {
        /// File name.
        file: String,
        /// Tables.
        tables: Vec<String>,
    },
    /// `--member` names no feature table.
    #[error("{file}: no feature table {member:?}; its tables are {tables:?}")]
    NoSuchMember {
        /// File name.
        file: String,
        /// Requested.
        member: String,
        /// Available.
        tables: Vec<String>,
    },
}

struct Layer {
    table: String,
    column: String,
    srs_id: i64,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Reads one feature table. SQLite needs a file, so the bytes go to a temporary one, removed afterwards.
pub(super) fn read(file: &str, bytes: &[u8], options: &ReadOptions) -> Result<Parsed, ImportError> {
    let open = |reason: String| GpkgError::Open { file: file.to_owned(), reason };
    let path = std::env::temp_dir().join(format!(
        "gridmap-import-{}-{}.gpkg",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, bytes).map_err(|e| open(format!("cannot stage it in {}: {e}", path.display())))?;
    let work = read_path(file, &path, options);
    let result = match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.block_on(work),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| open(format!("no runtime: {e}")))?
            .block_on(work),
    };
    let _ = std::fs::remove_file(&path);
    result
}

async fn read_path(file: &str, path: &std::path::Path, options: &ReadOptions) -> Result<Parsed, ImportError> {
    let open = |e: sqlx::Error| GpkgError::Open { file: file.to_owned(), reason: e.to_string() };
    let mut conn: SqliteConnection =
        SqliteConnectOptions::new().filename(path).read_only(true).connect().await.map_err(open)?;
    schema_is_text(file, &mut conn).await?;
    let layers: Vec<Layer> = sqlx::query(
        "SELECT g.table_name, g.column_name, g.srs_id FROM gpkg_geometry_columns g \
         JOIN gpkg_contents c ON c.table_name = g.table_name WHERE c.data_type = 'features' ORDER BY g.table_name",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(open)?
    .into_iter()
    .map(|r| Ok(Layer { table: r.try_get(0)?, column: r.try_get(1)?, srs_id: r.try_get(2)? }))
    .collect::<Result<_, sqlx::Error>>()
    .map_err(open)?;
    let tables: Vec<String> = layers.iter().map(|l| l.table.clone()).collect();
    let layer = match (layers.len(), &options.member) {
        (0, _) => return Err(GpkgError::NoLayer { file: file.to_owned() }.into()),
        (_, Some(m)) => layers.into_iter().find(|l| l.table.eq_ignore_ascii_case(m)).ok_or_else(|| {
            GpkgError::NoSuchMember { file: file.to_owned(), member: m.clone(), tables: tables.clone() }
        })?,
        (1, None) => layers.into_iter().next().ok_or(GpkgError::NoLayer { file: file.to_owned() })?,
        (_, None) => return Err(GpkgError::SeveralLayers { file: file.to_owned(), tables }.into()),
    };

    let crs = match &options.crs {
        Some(c) => c.clone(),
        None => layer_crs(file, &mut conn, layer.srs_id).await?,
    };
    let reprojector = crs.reprojector().map_err(|e| ImportError::crs(file, e))?;

    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let rows: Vec<SqliteRow> = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {}", quoted(&layer.table))))
        .fetch_all(&mut conn)
        .await
        .map_err(open)?;
    let name = format!("{file}/{}", layer.table);
    let mut report = Report::new(&name, options.layer);
    report.features = rows.len();
    let mut parsed = Parsed::new(report);
    for (i, row) in rows.iter().enumerate() {
        let mut props = Properties::new();
        let mut geometry = None;
        for (k, col) in row.columns().iter().enumerate() {
            if col.name() == layer.column {
                let blob: Option<Vec<u8>> = row.try_get(k).map_err(open)?;
                let checked = blob.map(|b| super::bounds::gpkg_geometry(&b).map(|()| b));
                geometry = match checked.map(|b| b.and_then(|b| GpkgWkb(b).to_geo().map_err(|e| e.to_string()))) {
                    None => None,
                    Some(Ok(g)) => Some(g),
                    Some(Err(e)) => {
                        parsed.report.error(super::Problem::at(
                            super::Kind::UnreadableGeometry,
                            i,
                            None,
                            &layer.column,
                            format!("bad geometry blob: {e}"),
                        ));
                        continue;
                    }
                };
            } else {
                props.insert(col.name().to_owned(), value(row, k).map_err(open)?);
            }
        }
        if let Some(f) = feature::build(i, props, geometry, options, &reprojector, &mut parsed.report) {
            parsed.features.push(f);
            parsed.source_index.push(i);
        }
    }
    Ok(parsed)
}

/// Refuses a schema that is not UTF-8: sqlx panics on a column whose declared type is not (found by fuzzing), and
/// every query below reads declared types. The definitions are read as blobs, which have no declared type.
async fn schema_is_text(file: &str, conn: &mut SqliteConnection) -> Result<(), GpkgError> {
    let open = |reason: String| GpkgError::Open { file: file.to_owned(), reason };
    let rows = sqlx::query("SELECT CAST(name AS BLOB), CAST(sql AS BLOB) FROM sqlite_master WHERE sql IS NOT NULL")
        .fetch_all(conn)
        .await
        .map_err(|e| open(e.to_string()))?;
    for row in rows {
        let (name, sql): (Vec<u8>, Vec<u8>) = (row.try_get(0).unwrap_or_default(), row.try_get(1).unwrap_or_default());
        if std::str::from_utf8(&sql).is_err() {
            let name = String::from_utf8_lossy(&name);
            return Err(open(format!("the definition of {name:?} is not UTF-8 text")));
        }
    }
    Ok(())
}

fn value(row: &SqliteRow, k: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(k)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().name().to_ascii_uppercase();
    Ok(match kind.as_str() {
        "INTEGER" | "INT" | "BIGINT" | "BOOLEAN" => Value::from(row.try_get::<i64, _>(k)?),
        "REAL" | "DOUBLE" | "FLOAT" => {
            serde_json::Number::from_f64(row.try_get::<f64, _>(k)?).map_or(Value::Null, Value::Number)
        }
        "BLOB" => Value::Null,
        _ => Value::String(row.try_get::<String, _>(k)?),
    })
}

async fn layer_crs(file: &str, conn: &mut SqliteConnection, srs_id: i64) -> Result<ImportCrs, ImportError> {
    let row = sqlx::query(
        "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
    )
    .bind(srs_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| GpkgError::Open { file: file.to_owned(), reason: e.to_string() })?;
    let crs_err = |reason: String| ImportError::Crs { file: file.to_owned(), reason };
    let Some(row) = row else {
        return u16::try_from(srs_id)
            .ok()
            .and_then(|c| ImportCrs::from_epsg(c).ok())
            .ok_or_else(|| crs_err(format!("srs_id {srs_id} is not in gpkg_spatial_ref_sys; pass --crs")));
    };
    let org: String = row.try_get(0).unwrap_or_default();
    let code: i64 = row.try_get(1).unwrap_or(srs_id);
    let definition: String = row.try_get(2).unwrap_or_default();
    if org.eq_ignore_ascii_case("EPSG")
        && let Some(c) = u16::try_from(code).ok().and_then(|c| ImportCrs::from_epsg(c).ok())
    {
        return Ok(c);
    }
    ImportCrs::from_prj(&definition).map_err(|e| crs_err(format!("srs_id {srs_id} ({org}:{code}): {e}; pass --crs")))
}
