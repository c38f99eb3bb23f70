//! Assessment (issue 29 item 5) on both stores: a period's imported history assessed per grid, street and
//! department equals what the test computes itself from the file's rows, each placed in its grid by PostGIS
//! `ST_Covers` over the same sample boundaries (an independent reference); the period bounds, CSV and XLSX carry
//! the same rows, responders count the incidents assigned to them, a return counts for the department that made
//! it, an empty period is refused.

use std::collections::BTreeMap;

use gridmap::layers::Layer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::common::{TestDb, TestServer, call, get, post, sample_layer};

const ROWS: usize = 400;
const FROM: &str = "2025-03-01T00:00:00+08:00";
const TO: &str = "2025-04-01T00:00:00+08:00";

/// One generated event: where, and the figures the test expects from it.
struct Event {
    at: [f64; 2],
    /// Hours after 2025-02-20 00:00 +08:00.
    reported_h: i64,
    /// Hours from report to handling, for handled ones.
    handled_h: Option<i64>,
    status: &'static str,
    department: &'static str,
    rating: Option<i64>,
}

fn events(s: &TestServer) -> Vec<Event> {
    let index = s.locator.current();
    let streets = index.layer(Layer::Streets);
    let bbox = streets.bbox().expect("sample streets");
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let mut out = Vec::new();
    while out.len() < ROWS {
        let p = geo::coord! { x: rng.random_range(bbox.min().x..bbox.max().x), y: rng.random_range(bbox.min().y..bbox.max().y) };
        if streets.code_at(p).is_none() {
            continue; // outside the service area: the import would refuse the file
        }
        let k = out.len();
        let status = match k % 10 {
            0..=6 => "网格员关闭",
            7 => "已办结",
            8 => "处置中",
            _ => "已作废",
        };
        let handled = matches!(k % 10, 0..=7);
        out.push(Event {
            at: [p.x, p.y],
            reported_h: k as i64 * 3,
            handled_h: handled.then_some((k % 7) as i64 * 8),
            status,
            department: if k % 2 == 0 { "区城管局" } else { "街道办" },
            rating: (handled && k % 4 == 0).then_some((k % 5) as i64 + 1),
        });
    }
    out
}

fn local(h: i64) -> String {
    let t = time::macros::datetime!(2025-02-20 00:00) + time::Duration::hours(h);
    format!("{:04}-{:02}-{:02} {:02}:{:02}:00", t.year(), t.month() as u8, t.day(), t.hour(), t.minute())
}

fn csv(events: &[Event]) -> String {
    let mut text = String::from("编号,经度,纬度,上报时间,办结时间,类型,状态,部门,满意度\n");
    for (k, e) in events.iter().enumerate() {
        let handled = e.handled_h.map(|h| local(e.reported_h + h)).unwrap_or_default();
        let rating = e.rating.map(|r| r.to_string()).unwrap_or_default();
        text.push_str(&format!(
            "A{k},{},{},{},{handled},市容,{},{},{rating}\n",
            e.at[0],
            e.at[1],
            local(e.reported_h),
            e.status,
            e.department
        ));
    }
    text
}

fn map() -> Value {
    json!({"id": "编号", "lon": "经度", "lat": "纬度", "reported_at": {"field": "上报时间"},
        "closed_at": {"field": "办结时间"}, "category": {"field": "类型", "values": {"市容": "sanitation"}},
        "status": {"field": "状态", "values": {"网格员关闭": "closed", "已办结": "resolved", "处置中": "dispatched",
            "已作废": "cancelled"}},
        "department": "部门", "satisfaction": "满意度"})
}

/// Each point's grid and street by PostGIS `ST_Covers` over the sample layers (lowest code where several cover).
async fn postgis_codes(pts: &[[f64; 2]]) -> Option<(Vec<Option<String>>, Vec<Option<String>>, BTreeMap<String, f64>)> {
    let db = TestDb::postgres().await?;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
    for sql in ["CREATE EXTENSION IF NOT EXISTS postgis", "CREATE TABLE areas (layer text, code text, geom geometry)"] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    for layer in ["streets", "grids"] {
        for f in sample_layer(layer)["features"].as_array().expect("features") {
            sqlx::query("INSERT INTO areas VALUES ($1, $2, ST_SetSRID(ST_GeomFromGeoJSON($3), 4326))")
                .bind(layer)
                .bind(f["properties"]["code"].as_str().expect("code"))
                .bind(f["geometry"].to_string())
                .execute(&pool)
                .await
                .expect("insert area");
        }
    }
    let xs: Vec<f64> = pts.iter().map(|p| p[0]).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p[1]).collect();
    let mut codes = Vec::new();
    for layer in ["grids", "streets"] {
        let found: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT (SELECT min(a.code COLLATE \"C\") FROM areas a WHERE a.layer = $3 \
             AND ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326))) \
             FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t(x, y, i) ORDER BY t.i",
        )
        .bind(&xs)
        .bind(&ys)
        .bind(layer)
        .fetch_all(&pool)
        .await
        .expect("reference query");
        codes.push(found);
    }
    let km2: Vec<(String, f64)> =
        sqlx::query_as("SELECT code, ST_Area(geom::geography) / 1e6 FROM areas WHERE layer = 'grids'")
            .fetch_all(&pool)
            .await
            .expect("areas");
    pool.close().await;
    db.cleanup().await;
    let streets = codes.pop().expect("streets");
    Some((codes.pop().expect("grids"), streets, km2.into_iter().collect()))
}

/// What the test expects of one unit.
#[derive(Default)]
struct Expected {
    reported: u64,
    closed: u64,
    open: u64,
    overdue: u64,
    on_time: u64,
    close_s: Vec<f64>,
    ratings: Vec<i64>,
}

fn in_period(e: &Event) -> bool {
    // 2025-02-20 + h is in March (local time) for h in [9·24, 40·24).
    (9 * 24..40 * 24).contains(&e.reported_h)
}

fn expect(events: &[Event], unit: impl Fn(usize) -> Option<String>) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for (k, e) in events.iter().enumerate() {
        let Some(code) = unit(k).filter(|_| in_period(e)) else { continue };
        let x = out.entry(code).or_default();
        x.reported += 1;
        match (e.status, e.handled_h) {
            ("已作废", _) => {}
            (_, Some(h)) => {
                x.closed += 1;
                x.close_s.push((h * 3600) as f64);
                if h <= 24 { x.on_time += 1 } else { x.overdue += 1 }
            }
            // Open since 2025, past its 24 h deadline.
            _ => {
                x.open += 1;
                x.overdue += 1;
            }
        }
        x.ratings.extend(e.rating);
    }
    out
}

fn check(row: &Value, x: &Expected, what: &str) {
    let n = |f: &str| row[f].as_u64().unwrap_or_else(|| panic!("{what}: {f} in {row}"));
    assert_eq!(
        (n("reported"), n("closed"), n("open"), n("overdue"), n("satisfaction_n")),
        (x.reported, x.closed, x.open, x.overdue, x.ratings.len() as u64),
        "{what}: {row}"
    );
    let settled = x.on_time + x.overdue;
    let rate = (settled > 0).then(|| x.on_time as f64 / settled as f64);
    assert_eq!(row["on_time_rate"].as_f64(), rate, "{what}: {row}");
    let mut s = x.close_s.clone();
    s.sort_by(f64::total_cmp);
    let median = match s.len() {
        0 => None,
        n if n % 2 == 1 => Some(s[n / 2]),
        n => Some((s[n / 2 - 1] + s[n / 2]) / 2.0),
    };
    let p90 = (!s.is_empty()).then(|| s[((0.9 * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1]);
    assert_eq!((row["median_close_s"].as_f64(), row["p90_close_s"].as_f64()), (median, p90), "{what}: {row}");
    let mean = (!x.ratings.is_empty()).then(|| x.ratings.iter().sum::<i64>() as f64 / x.ratings.len() as f64);
    assert_eq!(row["satisfaction_mean"].as_f64(), mean, "{what}: {row}");
}

fn rows_by_code(v: &Value) -> BTreeMap<String, Value> {
    let rows = v["rows"].as_array().unwrap_or_else(|| panic!("rows in {v}"));
    rows.iter().map(|r| (r["code"].as_str().expect("code").to_owned(), r.clone())).collect()
}

async fn assessed_like_postgis(url: &str) {
    let s = TestServer::start(url, true).await;
    call(
        reqwest::Method::PUT,
        s.url("/api/v1/departments/cg"),
        Some(json!({"name": "区城管局", "categories": ["sanitation"]})),
    )
    .await;
    let events = events(&s);
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv(&events).into_bytes()).file_name("history.csv"))
        .part("map", reqwest::multipart::Part::bytes(map().to_string().into_bytes()));
    let r = reqwest::Client::new().post(s.url("/api/v1/incidents/load")).multipart(form).send().await.expect("load");
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap_or_default());

    let period = format!("from={}&to={}", urlencode(FROM), urlencode(TO));
    let (st, v) = get(&s, &format!("/api/v1/assessment?by=grid&{period}")).await;
    assert_eq!(st, 200, "{v}");
    let grids = rows_by_code(&v);
    assert_eq!(grids.len(), sample_layer("grids")["features"].as_array().map(Vec::len).expect("grids"), "every grid");

    let pts: Vec<[f64; 2]> = events.iter().map(|e| e.at).collect();
    if let Some((grid_of, street_of, km2)) = postgis_codes(&pts).await {
        let expected = expect(&events, |k| grid_of[k].clone());
        for (code, row) in &grids {
            match expected.get(code) {
                Some(x) => {
                    check(row, x, &format!("grid {code}"));
                    let per_km2 = x.reported as f64 / km2[code];
                    let got = row["per_km2"].as_f64().expect("per_km2");
                    assert!((got - per_km2).abs() <= per_km2 * 0.01, "grid {code}: {got} vs PostGIS {per_km2}");
                }
                None => assert_eq!(row["reported"], 0, "grid {code}: {row}"),
            }
        }
        assert!(expected.len() > 5, "the events spread over several grids");
        let (_, v) = get(&s, &format!("/api/v1/assessment?by=street&{period}")).await;
        let expected = expect(&events, |k| street_of[k].clone());
        for (code, x) in &expected {
            check(&rows_by_code(&v)[code], x, &format!("street {code}"));
        }
    } else {
        assert!(std::env::var("GRIDMAP_REQUIRE_PG").is_err(), "GRIDMAP_REQUIRE_PG is set but PostGIS is absent");
    }

    // Departments: the register's code for 区城管局, the imported name for the one not in the register.
    let (_, v) = get(&s, &format!("/api/v1/assessment?by=department&{period}")).await;
    let depts = rows_by_code(&v);
    let expected = expect(&events, |k| Some(if k % 2 == 0 { "cg".into() } else { "街道办".into() }));
    check(&depts["cg"], &expected["cg"], "department cg");
    check(&depts["街道办"], &expected["街道办"], "department 街道办");
    assert_eq!((depts["cg"]["name"].as_str(), depts["cg"]["per_km2"].as_f64()), (Some("区城管局"), None));

    // A category filter and a period with nothing in it.
    let (_, v) = get(&s, &format!("/api/v1/assessment?by=department&{period}&category=fire")).await;
    assert!(v["rows"].as_array().expect("rows").iter().all(|r| r["reported"] == 0), "{v}");

    // CSV and XLSX: the same rows.
    let csv_text = reqwest::get(s.url(&format!("/api/v1/assessment?by=grid&{period}&format=csv"))).await.expect("csv");
    assert_eq!(csv_text.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = csv_text.headers()["content-disposition"].to_str().expect("ascii").to_owned();
    assert_eq!(disposition, "attachment; filename=\"assessment-grid-2025-03-01-2025-04-01.csv\"");
    let body = csv_text.text().await.expect("text");
    let mut reader = ::csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
    assert_eq!(&header[..4], ["code", "name", "reported", "closed"]);
    let records: Vec<::csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), grids.len());
    for r in &records {
        assert_eq!(r[2].parse::<u64>().ok(), grids[&r[0]]["reported"].as_u64(), "{r:?}");
    }
    let xlsx = reqwest::get(s.url(&format!("/api/v1/assessment?by=grid&{period}&format=xlsx"))).await.expect("xlsx");
    let bytes = xlsx.bytes().await.expect("bytes").to_vec();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX workbook");
    let sheet = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    assert_eq!(sheet.get((0, 2)).map(|c| c.to_string()), Some("上报数".into()));
    assert_eq!(sheet.height(), grids.len() + 1);
    for r in 1..sheet.height() {
        let code = sheet.get((r, 0)).expect("code").to_string();
        let reported = sheet.get((r, 2)).and_then(calamine::DataType::as_f64);
        assert_eq!(reported, grids[&code]["reported"].as_f64(), "xlsx row {r}");
    }

    // Refusals.
    let (st, v) = get(&s, &format!("/api/v1/assessment?from={}&to={}", urlencode(TO), urlencode(FROM))).await;
    assert_eq!((st, v["error"]["code"].as_str()), (422, Some("invalid_period")), "{v}");
    let (st, _) = get(&s, "/api/v1/assessment?by=planet").await;
    assert_eq!(st, 400);
}

async fn responders_and_returns(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, r) =
        post(&s, "/api/v1/responders", json!({"name": "李四", "kind": "grid_worker", "location": [118.79, 32.02]}))
            .await;
    let (_, idle) =
        post(&s, "/api/v1/responders", json!({"name": "王五", "kind": "grid_worker", "location": [118.79, 32.02]}))
            .await;
    let (_, inc) = post(&s, "/api/v1/incidents", json!({"location": [118.79, 32.02], "category": "fire"})).await;
    let (st, v) = post(&s, &format!("/api/v1/incidents/{}/assign", inc["id"]), json!({"responder_id": r["id"]})).await;
    assert!(st < 300, "{v}");
    post(&s, &format!("/api/v1/incidents/{}/status", inc["id"]), json!({"status": "on_scene"})).await;
    let (st, v) = post(&s, &format!("/api/v1/incidents/{}/status", inc["id"]), json!({"status": "resolved"})).await;
    assert_eq!(st, 200, "{v}");
    let (_, v) = get(&s, "/api/v1/assessment?by=responder").await;
    let rows = rows_by_code(&v);
    let row = &rows[&r["id"].to_string()];
    assert_eq!(
        (row["name"].as_str(), row["reported"].as_u64(), row["closed"].as_u64()),
        (Some("李四"), Some(1), Some(1))
    );
    assert_eq!(rows[&idle["id"].to_string()]["reported"], 0, "the roster is listed, incidents or not: {v}");
    // A rating recorded now counts at once, for the grid as for the responder.
    let url = s.url(&format!("/api/v1/incidents/{}/satisfaction", inc["id"]));
    let (st, v) = call(reqwest::Method::PUT, url, Some(json!({"rating": 4}))).await;
    assert_eq!(st, 200, "{v}");
    let (_, v) = get(&s, "/api/v1/assessment?by=grid").await;
    let grid = &rows_by_code(&v)[inc["grid_code"].as_str().expect("grid")];
    assert_eq!((grid["satisfaction_mean"].as_f64(), grid["closed"].as_u64()), (Some(4.0), Some(1)), "{grid}");
    let (_, v) = get(&s, "/api/v1/assessment?by=responder").await;
    assert_eq!(rows_by_code(&v)[&r["id"].to_string()]["satisfaction_n"], 1, "{v}");

    // A return counts for the department that made it, not for the one the incident was sent to next.
    for (code, name, category) in [("cg", "城管局", "sanitation"), ("jt", "交通局", "traffic")] {
        let body = json!({"name": name, "categories": [category]});
        call(reqwest::Method::PUT, s.url(&format!("/api/v1/departments/{code}")), Some(body)).await;
    }
    let (_, inc) = post(&s, "/api/v1/incidents", json!({"location": [118.79, 32.02], "category": "sanitation"})).await;
    let routing = format!("/api/v1/incidents/{}/routing", inc["id"]);
    let (st, v) = post(&s, &routing, json!({"action": "return", "reason": "不属本部门"})).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(&s, &routing, json!({"action": "route", "department": "jt"})).await;
    assert_eq!(st, 200, "{v}");
    let (_, v) = get(&s, "/api/v1/assessment?by=department").await;
    let rows = rows_by_code(&v);
    assert_eq!((rows["cg"]["returned"].as_u64(), rows["cg"]["reported"].as_u64()), (Some(1), Some(0)), "{v}");
    assert_eq!((rows["jt"]["returned"].as_u64(), rows["jt"]["reported"].as_u64()), (Some(0), Some(1)), "{v}");
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

both_stores!(assessed_like_postgis, responders_and_returns);
