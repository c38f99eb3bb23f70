//! History import and assessment at a district's scale, through the release binary as staff run them:
//! `gridmap import-incidents FILE --map MAP.json` of ten GBK CSV exports of 100 000 events each (Chinese headers,
//! `%m/%d/%Y %H:%M:%S` dates, statuses such as 网格员关闭, departments, ratings; points inside the Nanjing city
//! streets) into SQLite and PostGIS holding the city layers (99 streets, 1 188 communities, 9 504 grids) — each
//! import timed as a whole command (start, boundary index, read, check, geocode, write) — then
//! `GET /api/v1/assessment` over the 1 000 000 incidents by grid, street and department and as XLSX, next to the
//! PostGIS `GROUP BY grid_code` computing the same per-grid figures (counts, overdue, on-time, median and p90 time to
//! handle, returns, satisfaction) over the same rows. `scripts/bench-history` runs it; results go to
//! `target/bench-history.json`.

use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

mod support;

use support::{city_files, import_city, micro_index, micro_points, start_server, write_results};

const FILES: usize = 10;
const ROWS: usize = 100_000;
const REPEATS: usize = 5;
const FROM: &str = "2025-01-01T00:00:00+08:00";
const TO: &str = "2026-01-01T00:00:00+08:00";

fn stats(mut s: Vec<f64>) -> Value {
    s.sort_by(f64::total_cmp);
    json!({"median_s": s[s.len() / 2], "min_s": s[0], "max_s": s[s.len() - 1], "runs": s.len()})
}

/// The ten export files, written into `dir`: points inside the city's streets, a year of reports.
fn exports(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let index = micro_index();
    let streets = index.layer(gridmap::layers::Layer::Streets);
    // Rounded to the 6 decimals the file holds before the check: a point 0.1 m inside a street must not move out.
    let round = |v: f64| (v * 1e6).round() / 1e6;
    let points: Vec<[f64; 2]> = micro_points(&index, FILES * ROWS * 2, 2025)
        .into_iter()
        .map(|p| [round(p.lon()), round(p.lat())])
        .filter(|p| streets.code_at(geo::coord! { x: p[0], y: p[1] }).is_some())
        .take(FILES * ROWS)
        .collect();
    assert_eq!(points.len(), FILES * ROWS, "enough points inside the streets");
    let statuses = ["网格员关闭", "网格员关闭", "网格员关闭", "网格员关闭", "网格员关闭", "已办结", "处置中", "已作废"];
    let kinds = ["市容环境", "违章搭建", "占道经营", "消防隐患", "道路破损"];
    let departments = ["区城管局", "街道综合执法队", "区住建局", "区消防救援大队"];
    (0..FILES)
        .map(|f| {
            let mut text = String::from("事件编号,经度,纬度,上报时间,结案时间,事件类型,状态,处置部门,满意度,描述\r\n");
            for k in 0..ROWS {
                let n = f * ROWS + k;
                let p = points[n];
                // Minutes into 2025, spread over the year.
                let minute = (n as i64 * 5) % (365 * 24 * 60);
                let reported = time::macros::datetime!(2025-01-01 00:00) + time::Duration::minutes(minute);
                let status = statuses[n % statuses.len()];
                let closed = if matches!(status, "网格员关闭" | "已办结") {
                    us_date(reported + time::Duration::minutes(((n * 37) % 4000) as i64 + 10))
                } else {
                    String::new()
                };
                let rating =
                    if n.is_multiple_of(3) && !closed.is_empty() { format!("{}", n % 5 + 1) } else { String::new() };
                text.push_str(&format!(
                    "HX-{n:07},{:.6},{:.6},{},{closed},{},{status},{},{rating},第{n}号 群众反映\r\n",
                    p[0],
                    p[1],
                    us_date(reported),
                    kinds[n % kinds.len()],
                    departments[n % departments.len()],
                ));
            }
            let path = dir.join(format!("export-{f}.csv"));
            std::fs::write(&path, encoding_rs::GBK.encode(&text).0).expect("write export");
            path
        })
        .collect()
}

fn us_date(t: time::PrimitiveDateTime) -> String {
    format!("{:02}/{:02}/{} {:02}:{:02}:{:02}", t.month() as u8, t.day(), t.year(), t.hour(), t.minute(), t.second())
}

const MAP: &str = r#"{
  "id": "事件编号", "lon": "经度", "lat": "纬度",
  "reported_at": {"field": "上报时间", "format": "%m/%d/%Y %H:%M:%S", "utc_offset": "+08:00"},
  "closed_at": {"field": "结案时间", "format": "%m/%d/%Y %H:%M:%S"},
  "category": {"field": "事件类型", "values": {"市容环境": "sanitation", "违章搭建": "illegal_construction",
    "占道经营": "sanitation", "消防隐患": "safety_hazard", "道路破损": "infrastructure"}},
  "status": {"field": "状态", "values": {"网格员关闭": "closed", "已办结": "resolved", "处置中": "dispatched",
    "已作废": "cancelled"}},
  "department": "处置部门", "satisfaction": "满意度", "description": "描述"
}"#;

/// Seconds for one `gridmap import-incidents`.
fn import(db: &str, file: &std::path::Path, map: &std::path::Path) -> f64 {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_gridmap"))
        .args(["import-incidents", &file.display().to_string(), "--map", &map.display().to_string(), "--db", db])
        .output()
        .expect("run gridmap");
    let secs = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains(&format!("{ROWS} added")), "import: {text}");
    secs
}

/// Seconds per `GET` of `path` (`REPEATS` times, after one warm-up), and the last body.
async fn timed_get(base: &str, path: &str) -> (Value, Vec<u8>) {
    let client = reqwest::Client::new();
    let get = || async {
        let r = client.get(format!("{base}{path}")).send().await.expect("request");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.bytes().await.expect("body").to_vec()
    };
    let mut body = get().await;
    let mut runs = Vec::new();
    for _ in 0..REPEATS {
        let t = Instant::now();
        body = get().await;
        runs.push(t.elapsed().as_secs_f64());
    }
    (stats(runs), body)
}

/// What PostGIS answers for the per-grid figures of the assessment, over the same incidents table.
const POSTGIS_BY_GRID: &str = "
WITH i AS (
  SELECT grid_code, status, reported_at, due_at, returned_count, satisfaction_rating,
         status IN ('resolved', 'closed') AS handled, COALESCE(resolved_at, closed_at) AS handled_at
  FROM incidents WHERE reported_at >= $1 AND reported_at < $2)
SELECT grid_code, count(*) AS reported,
  count(*) FILTER (WHERE handled) AS closed,
  count(*) FILTER (WHERE status IN ('reported', 'dispatched', 'on_scene')) AS open,
  count(*) FILTER (WHERE (handled AND handled_at > due_at)
    OR (status IN ('reported', 'dispatched', 'on_scene') AND due_at < now())) AS overdue,
  count(*) FILTER (WHERE handled AND handled_at <= due_at) AS on_time,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM handled_at - reported_at)) FILTER (WHERE handled) AS median_s,
  percentile_disc(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM handled_at - reported_at)) FILTER (WHERE handled) AS p90_s,
  sum(returned_count) AS returned, avg(satisfaction_rating) AS satisfaction, count(satisfaction_rating) AS rated
FROM i GROUP BY grid_code";

async fn postgis_by_grid(pg: &str) -> (Value, Vec<(Option<String>, i64)>) {
    let pool = sqlx::PgPool::connect(pg).await.expect("connect");
    let (from, to) = (parse(FROM), parse(TO));
    let mut runs = Vec::new();
    let mut counts = Vec::new();
    for i in 0..=REPEATS {
        let t = Instant::now();
        let rows = sqlx::query(POSTGIS_BY_GRID).bind(from).bind(to).fetch_all(&pool).await.expect("reference");
        if i > 0 {
            runs.push(t.elapsed().as_secs_f64());
        }
        use sqlx::Row;
        counts = rows.iter().map(|r| (r.get::<Option<String>, _>("grid_code"), r.get::<i64, _>("reported"))).collect();
    }
    pool.close().await;
    (stats(runs), counts)
}

fn parse(t: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).expect("time")
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(layers) = city_files(dir.path()) else {
        eprintln!("../shared/data/synthetic/nanjing is absent: nothing to benchmark");
        return;
    };
    let t = Instant::now();
    let files = exports(dir.path());
    println!("wrote {FILES} GBK exports of {ROWS} rows in {:.1} s", t.elapsed().as_secs_f64());
    let map = dir.path().join("map.json");
    std::fs::write(&map, MAP).expect("map");
    let pg = std::env::var("GRIDMAP_BENCH_PG").ok().filter(|s| !s.is_empty());
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut out = serde_json::Map::new();
    let period = format!("from={}&to={}", FROM.replace('+', "%2B"), TO.replace('+', "%2B"));
    for (label, db) in std::iter::once(("sqlite", &sqlite)).chain(pg.as_ref().map(|p| ("postgis", p))) {
        import_city(db, &layers);
        let runs: Vec<f64> = files.iter().map(|f| import(db, f, &map)).collect();
        println!(
            "import-incidents {ROWS} rows ({label}): first {:.2} s (into an empty table), per file {}",
            runs[0],
            runs.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(" ")
        );
        let first = runs[0];
        let mut s = stats(runs);
        s["first_s"] = json!(first);
        out.insert(format!("import_100k_{label}"), s);
        let (_server, base) = start_server(db, false);
        for (name, query) in [
            ("grid", format!("/api/v1/assessment?by=grid&{period}")),
            ("street", format!("/api/v1/assessment?by=street&{period}")),
            ("department", format!("/api/v1/assessment?by=department&{period}")),
            ("grid_xlsx", format!("/api/v1/assessment?by=grid&{period}&format=xlsx")),
        ] {
            let (s, body) = runtime.block_on(timed_get(&base, &query));
            if name == "grid" {
                let v: Value = serde_json::from_slice(&body).expect("JSON");
                let total: u64 =
                    v["rows"].as_array().expect("rows").iter().filter_map(|r| r["reported"].as_u64()).sum();
                assert_eq!(total, (FILES * ROWS) as u64, "every incident counted once");
                if label == "postgis" {
                    let (reference, counts) = runtime.block_on(postgis_by_grid(db));
                    for (code, n) in counts {
                        let code = code.expect("every point is in a grid");
                        let row = v["rows"].as_array().expect("rows").iter().find(|r| r["code"] == code.as_str());
                        assert_eq!(row.and_then(|r| r["reported"].as_i64()), Some(n), "grid {code}");
                    }
                    println!("PostGIS GROUP BY grid_code, same figures: median {:.3} s", reference["median_s"]);
                    out.insert("postgis_group_by_grid".into(), reference);
                }
            }
            println!(
                "assessment by {name} over 1 000 000 ({label}): median {:.3} s ({} bytes)",
                s["median_s"],
                body.len()
            );
            out.insert(format!("assessment_{name}_{label}"), s);
        }
    }
    write_results("bench-history.json", &Value::Object(out));
}
