//! The assessment as a file for the monthly report: CSV (UTF-8 with BOM, so spreadsheet programs read the names)
//! and XLSX (rust_xlsxwriter; counts and rates as numbers, rates formatted as percentages).

use super::{Assessment, AssessmentRow};

/// Columns: the JSON field, the XLSX heading, and whether it is a rate (0–1).
const COLUMNS: &[(&str, &str, bool)] = &[
    ("code", "编码", false),
    ("name", "名称", false),
    ("reported", "上报数", false),
    ("closed", "办结数", false),
    ("open", "未办结", false),
    ("overdue", "超期数", false),
    ("on_time_rate", "按期办结率", true),
    ("median_close_s", "办结时长中位数(秒)", false),
    ("p90_close_s", "办结时长P90(秒)", false),
    ("returned", "退回次数", false),
    ("satisfaction_mean", "满意度均值", false),
    ("satisfaction_n", "回访数", false),
    ("patrol_coverage", "巡查覆盖率", true),
    ("per_km2", "每平方公里上报数", false),
];

/// A value of a row: text for code and name, else a number or nothing.
enum Value<'a> {
    Text(&'a str),
    Number(Option<f64>),
}

fn values(r: &AssessmentRow) -> [Value<'_>; 14] {
    use Value::{Number, Text};
    let n = |v: u64| Number(Some(v as f64));
    [
        Text(&r.code),
        Text(&r.name),
        n(r.reported),
        n(r.closed),
        n(r.open),
        n(r.overdue),
        Number(r.on_time_rate),
        Number(r.median_close_s),
        Number(r.p90_close_s),
        n(r.returned),
        Number(r.satisfaction_mean),
        n(r.satisfaction_n),
        Number(r.patrol_coverage),
        Number(r.per_km2),
    ]
}

/// The rows as CSV, headed by the JSON field names; empty cells where a figure is null.
pub fn csv(a: &Assessment) -> Result<Vec<u8>, String> {
    let mut w = ::csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(COLUMNS.iter().map(|c| c.0)).map_err(|e| e.to_string())?;
    for r in &a.rows {
        let cells = values(r).map(|v| match v {
            Value::Text(s) => s.to_owned(),
            Value::Number(Some(x)) => x.to_string(),
            Value::Number(None) => String::new(),
        });
        w.write_record(&cells).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// The rows as an XLSX workbook: one sheet named for the level and period, Chinese headings, frozen header row.
pub fn xlsx(a: &Assessment) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(format!("考核 {}", a.by.as_str())).map_err(err)?;
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let decimal = Format::new().set_num_format("0.00");
    for (c, (_, heading, _)) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *heading, &bold).map_err(err)?;
    }
    for (i, r) in a.rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|e| e.to_string())?;
        for (c, v) in values(r).into_iter().enumerate() {
            let col = c as u16;
            match v {
                Value::Text(s) => _ = sheet.write_string(row, col, s).map_err(err)?,
                Value::Number(Some(x)) if COLUMNS[c].2 => {
                    _ = sheet.write_number_with_format(row, col, x, &percent).map_err(err)?
                }
                Value::Number(Some(x)) if x.fract() != 0.0 => {
                    _ = sheet.write_number_with_format(row, col, x, &decimal).map_err(err)?
                }
                Value::Number(Some(x)) => _ = sheet.write_number(row, col, x).map_err(err)?,
                Value::Number(None) => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(err)?;
    sheet.set_column_width(1, 24).map_err(err)?;
    book.save_to_buffer().map_err(err)
}
