//! History import (历史事件导入): a district's past events from the files its old system exports (CSV in UTF-8 or
//! GBK/GB18030, XLSX, GeoJSON points), read through a map that names the file's fields, checked row by row
//! (every unmapped category and status value, every bad row with its row number and field), geocoded like new
//! incidents and stored with their own times and final status, all or nothing.

mod map;
mod rows;
mod service;
mod storage;
mod table;

pub use map::{CategoryMap, DateField, ImportMap, MapError, NewCategories, StatusMap};
pub use rows::{Context, HistoryRow, MAX_LISTED_ERRORS, MappedValue, Prepared, RowError, ValueCounts, prepare};
pub use service::{HistoryError, HistoryReport, HistoryService, Rules};
pub use storage::HistoryStore;
pub use table::{Cell, Table, TableError, read_table};
