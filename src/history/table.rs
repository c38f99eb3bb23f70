//! A file of events as a table: field names and rows of cells, from CSV (UTF-8 with or without BOM, GBK/GB18030),
//! XLSX/XLS/ODS (calamine) or GeoJSON points (the properties, and the point as `lon`/`lat`).

use std::io::Cursor;

/// One cell as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Empty.
    Empty,
    /// Text (also numbers of a CSV).
    Text(String),
    /// A spreadsheet number.
    Number(f64),
    /// A spreadsheet date (local time of the file).
    Date(time::PrimitiveDateTime),
}

impl Cell {
    /// The cell as text (numbers without a trailing `.0`; dates as `YYYY-MM-DD HH:MM:SS`).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_owned(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => format!("{} {}", d.date(), d.time()),
        }
    }

    /// True when there is nothing in it.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// A file's field names and rows; `row_numbers[i]` is how a user finds row `i` (the spreadsheet row, the header
/// being row 1; for GeoJSON the feature's position, from 1).
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Field names.
    pub fields: Vec<String>,
    /// Rows, each as long as `fields`.
    pub rows: Vec<Vec<Cell>>,
    /// The number a user finds each row by.
    pub row_numbers: Vec<usize>,
    /// True for GeoJSON (row numbers are feature numbers).
    pub features: bool,
}

impl Table {
    /// The column of `field`.
    pub fn column(&self, field: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == field)
    }
}

/// A file that cannot be read as a table.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// An extension gridmap does not read.
    #[error("{file}: expected a .csv, .xlsx, .xls, .ods, .geojson or .json file")]
    Format {
        /// File name.
        file: String,
    },
    /// The file's own format is broken.
    #[error("{file}: {message}")]
    Unreadable {
        /// File name.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads `bytes` (named `file`) as a table; `encoding` forces a CSV's encoding, `sheet` picks a workbook's sheet.
pub fn read_table(file: &str, bytes: &[u8], encoding: Option<&str>, sheet: Option<&str>) -> Result<Table, TableError> {
    let ext = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let bad = |message: String| TableError::Unreadable { file: file.to_owned(), message };
    match ext.as_str() {
        "csv" | "txt" => csv_table(bytes, encoding).map_err(bad),
        "xlsx" | "xlsm" | "xls" | "ods" => sheet_table(bytes, sheet).map_err(bad),
        "geojson" | "json" => geojson_table(bytes).map_err(bad),
        _ => Err(TableError::Format { file: file.to_owned() }),
    }
}

fn decode(bytes: &[u8], encoding: Option<&str>) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let label = encoding.map(|e| e.trim().to_ascii_lowercase());
    match label.as_deref() {
        None => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Ok(encoding_rs::GB18030.decode_without_bom_handling(bytes).0.into_owned()),
        },
        Some(l) => {
            let enc =
                encoding_rs::Encoding::for_label(l.as_bytes()).ok_or_else(|| format!("unknown encoding {l:?}"))?;
            let (text, had_errors) = enc.decode_without_bom_handling(bytes);
            if had_errors {
                return Err(format!("the file is not valid {}", enc.name()));
            }
            Ok(text.into_owned())
        }
    }
}

fn csv_table(bytes: &[u8], encoding: Option<&str>) -> Result<Table, String> {
    let text = decode(bytes, encoding)?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let fields: Vec<String> =
        reader.headers().map_err(|e| e.to_string())?.iter().map(|h| h.trim().to_owned()).collect();
    let mut table = Table { fields, ..Table::default() };
    // The reader's own line count misses blank lines and CRLF: count line breaks up to each record's start.
    let (mut line, mut counted) = (1usize, 0usize);
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        // A record's position may be just past the `\r` of the CRLF before it, or before blank lines it skipped.
        let mut start = record.position().map_or(counted, |p| p.byte() as usize).min(text.len());
        while start < text.len() && matches!(text.as_bytes()[start], b'\r' | b'\n') {
            start += 1;
        }
        line += text.as_bytes()[counted.min(start)..start].iter().filter(|&&b| b == b'\n').count();
        counted = start;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut row: Vec<Cell> = record.iter().map(|c| Cell::Text(c.to_owned())).collect();
        row.resize(table.fields.len(), Cell::Empty);
        table.rows.push(row);
        table.row_numbers.push(line);
    }
    Ok(table)
}

/// Days from 1899-12-30 (the spreadsheet epoch) as a date and time.
fn serial_date(days: f64) -> Option<time::PrimitiveDateTime> {
    let epoch = time::Date::from_calendar_date(1899, time::Month::December, 30).ok()?.midnight();
    let ms = (days * 86_400_000.0).round();
    ms.is_finite().then(|| epoch + time::Duration::milliseconds(ms as i64))
}

fn sheet_table(bytes: &[u8], sheet: Option<&str>) -> Result<Table, String> {
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let range = match sheet {
        Some(name) => book.worksheet_range(name).map_err(|e| format!("sheet {name:?}: {e}"))?,
        None => book.worksheet_range_at(0).ok_or("the workbook has no sheet")?.map_err(|e| e.to_string())?,
    };
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut rows = range.rows();
    let Some(header) = rows.next() else { return Ok(Table::default()) };
    let fields: Vec<String> = header.iter().map(|c| c.to_string().trim().to_owned()).collect();
    let mut table = Table { fields, ..Table::default() };
    for (i, row) in rows.enumerate() {
        let cells: Vec<Cell> = row
            .iter()
            .map(|c| match c {
                Data::Empty | Data::Error(_) => Cell::Empty,
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
                Data::Int(n) => Cell::Number(*n as f64),
                Data::Float(f) => Cell::Number(*f),
                Data::Bool(b) => Cell::Text(b.to_string()),
                Data::DateTime(d) => serial_date(d.as_f64()).map_or(Cell::Number(d.as_f64()), Cell::Date),
            })
            .collect();
        if cells.iter().all(Cell::is_blank) {
            continue;
        }
        table.rows.push(cells);
        // Spreadsheet rows are numbered from 1; the header is the range's first row.
        table.row_numbers.push(first_row + i + 2);
    }
    Ok(table)
}

fn geojson_table(bytes: &[u8]) -> Result<Table, String> {
    let fc: geojson::FeatureCollection =
        serde_json::from_slice(bytes).map_err(|e| format!("not a GeoJSON FeatureCollection: {e}"))?;
    let mut table = Table { fields: vec!["lon".into(), "lat".into()], features: true, ..Table::default() };
    let mut index = std::collections::HashMap::new();
    for (i, f) in fc.features.iter().enumerate() {
        let point = match f.geometry.as_ref().map(|g| &g.value) {
            Some(geojson::GeometryValue::Point { coordinates: p }) if p.len() >= 2 => [p[0], p[1]],
            Some(_) => return Err(format!("feature {}: the geometry is not a Point", i + 1)),
            None => return Err(format!("feature {}: no geometry", i + 1)),
        };
        let mut row = vec![Cell::Number(point[0]), Cell::Number(point[1])];
        for (key, value) in f.properties.iter().flatten() {
            let column = *index.entry(key.clone()).or_insert_with(|| {
                table.fields.push(key.clone());
                table.fields.len() - 1
            });
            row.resize(row.len().max(column + 1), Cell::Empty);
            row[column] = match value {
                serde_json::Value::Null => Cell::Empty,
                serde_json::Value::String(s) => Cell::Text(s.clone()),
                serde_json::Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
                other => Cell::Text(other.to_string()),
            };
        }
        table.rows.push(row);
        table.row_numbers.push(i + 1);
    }
    let width = table.fields.len();
    for row in &mut table.rows {
        row.resize(width, Cell::Empty);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_in_gbk_with_row_numbers() {
        let text = "编号,类别\n1,市容环卫\n\n2,\"违法\n建设\"\n3,其他\n";
        let crlf = read_table("b.csv", text.replace('\n', "\r\n").as_bytes(), None, None).expect("ok");
        assert_eq!(crlf.row_numbers, [2, 4, 6], "CRLF lines counted once");
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let t = read_table("a.csv", &gbk, None, None).expect("ok");
        assert_eq!(t.fields, ["编号", "类别"]);
        assert_eq!(t.rows[0][1], Cell::Text("市容环卫".into()));
        assert_eq!(t.row_numbers, [2, 4, 6], "blank lines skipped, a quoted line break counted");
        let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        assert_eq!(read_table("a.csv", &bom, None, None).expect("ok").fields[0], "编号");
        assert!(read_table("a.csv", &gbk, Some("utf-8"), None).is_err(), "forced UTF-8 on GBK bytes is refused");
    }

    #[test]
    fn spreadsheet_serial_dates() {
        let d = serial_date(45_000.5).expect("ok");
        assert_eq!((d.year(), d.month() as u8, d.day(), d.hour()), (2023, 3, 15, 12));
    }
}
