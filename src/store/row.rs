//! Reading a column without panicking: `sqlx::Row::get` panics on a missing column or a value of another type (a
//! migration out of step with the code, a hand-edited database); [`Column::col`] answers a [`StoreError`] naming the
//! column instead, so a request fails with a 500 and a log line rather than taking a worker thread down.

use super::StoreError;

/// [`sqlx::Row`] with a non-panicking, named column accessor.
pub(crate) trait Column: sqlx::Row {
    /// The value of column `name`, decoded as `T`.
    fn col<'r, T>(&'r self, name: &'static str) -> Result<T, StoreError>
    where
        T: sqlx::Decode<'r, Self::Database> + sqlx::Type<Self::Database>,
        &'static str: sqlx::ColumnIndex<Self>,
    {
        self.try_get(name).map_err(|source| StoreError::Column { column: name, source })
    }

    /// The value of the column at `index`, decoded as `T`.
    fn at<'r, T>(&'r self, index: usize) -> Result<T, StoreError>
    where
        T: sqlx::Decode<'r, Self::Database> + sqlx::Type<Self::Database>,
        usize: sqlx::ColumnIndex<Self>,
    {
        self.try_get(index).map_err(|source| StoreError::Column { column: "#", source })
    }
}

impl<R: sqlx::Row> Column for R {}
