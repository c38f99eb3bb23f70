//! History import (issue 29 item 4) on both stores, over HTTP and the CLI: a GBK CSV with Chinese headers and US-style
//! dates, an XLSX workbook with date cells and a GeoJSON of points, each read through a map; every unmapped status
//! listed, a bad date named by row and field, the whole file refused with nothing stored, a dry run storing nothing
//! and the same file twice adding nothing.

use crate::common::{TestServer, call, get, gridmap};
use reqwest::Method;
use serde_json::{Value, json};

/// Inside a sample grid (the bundled Qinhuai boundaries).
const AT: [f64; 2] = [118.79, 32.02];

const CSV_HEADER: &str = "事件编号,经度,纬度,上报时间,结案时间,事件类型,状态,处置部门,描述,满意度";

/// 40 rows in the old system's shape; `status_of(k)` and `date_of(k)` let a test spoil one.
fn csv(status_of: impl Fn(usize) -> &'static str, date_of: impl Fn(usize) -> String) -> Vec<u8> {
    let mut text = format!("{CSV_HEADER}\r\n");
    for k in 0..40 {
        let (kind, dept) =
            if k % 2 == 0 { ("市容环境", "区城管局") } else { ("违章搭建", "街道综合执法队") };
        let closed = if status_of(k) == "网格员关闭" {
            format!("03/{:02}/2025 18:00:00", 1 + k % 28)
        } else {
            String::new()
        };
        let rating = if k % 3 == 0 { "5" } else { "" };
        text.push_str(&format!(
            "SZ-2025-{k:04},{},{},{},{closed},{kind},{},{dept},第{k}号事件 \"路边\",{rating}\r\n",
            AT[0] + (k % 5) as f64 * 0.0002,
            AT[1],
            date_of(k),
            status_of(k),
        ));
    }
    encoding_rs::GBK.encode(&text).0.into_owned()
}

fn good_date(k: usize) -> String {
    format!("03/{:02}/2025 09:30:00", 1 + k % 28)
}

fn csv_map() -> Value {
    json!({
        "id": "事件编号", "lon": "经度", "lat": "纬度",
        "reported_at": {"field": "上报时间", "format": "%m/%d/%Y %H:%M:%S"},
        "closed_at": {"field": "结案时间", "format": "%m/%d/%Y %H:%M:%S"},
        "category": {"field": "事件类型", "values": {"市容环境": "sanitation", "违章搭建": "illegal_construction"}},
        "status": {"field": "状态", "values": {"网格员关闭": "closed", "处置中": "dispatched"}},
        "department": "处置部门", "description": "描述", "satisfaction": "满意度"
    })
}

async fn upload(s: &TestServer, name: &str, file: Vec<u8>, map: &Value, dry_run: bool) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(file).file_name(name.to_owned()))
        .part("map", reqwest::multipart::Part::bytes(map.to_string().into_bytes()));
    let url = s.url(&format!("/api/v1/incidents/load?dry_run={dry_run}"));
    let r = reqwest::Client::new().post(url).multipart(form).send().await.expect("upload");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON"))
}

async fn all_incidents(s: &TestServer) -> Vec<Value> {
    let (st, v) =
        get(s, "/api/v1/incidents?status=reported,dispatched,on_scene,resolved,closed,cancelled&limit=1000").await;
    assert_eq!(st, 200, "{v}");
    v["items"].as_array().expect("items").clone()
}

async fn csv_gbk(url: &str) {
    let s = TestServer::start(url, true).await;
    let (st, v) = call(
        Method::PUT,
        s.url("/api/v1/departments/cg"),
        Some(json!({"name": "区城管局", "categories": ["sanitation"]})),
    )
    .await;
    assert_eq!(st, 201, "{v}");

    // An unmapped status (挂起) in three rows and a bad date in row 37: the report lists both, nothing is stored.
    let spoiled = csv(
        |k| if k % 13 == 5 { "挂起" } else { "网格员关闭" },
        |k| {
            if k == 35 { "2025-13-45 09:30:00".into() } else { good_date(k) }
        },
    );
    let (st, v) = upload(&s, "events.csv", spoiled, &csv_map(), false).await;
    assert_eq!((st, v["error"]["code"].as_str()), (422, Some("rows_rejected")), "{v}");
    let report = &v["error"]["details"]["report"];
    assert_eq!(report["statuses"]["unmapped"], json!({"挂起": 3}), "{report}");
    assert_eq!(report["statuses"]["mapped"]["网格员关闭"], json!({"to": "closed", "rows": 37}), "{report}");
    let date_error = report["errors"].as_array().expect("errors").iter().find(|e| e["field"] == "上报时间");
    let date_error = date_error.expect("the bad date is listed");
    assert_eq!((date_error["row"].as_u64(), date_error["value"].as_str()), (Some(37), Some("2025-13-45 09:30:00")));
    assert!(v["error"]["message"].as_str().expect("message").contains("events.csv"), "{v}");
    assert_eq!(report["error_count"], 4, "{report}");
    assert!(all_incidents(&s).await.is_empty(), "a refused file stores nothing");

    // The good file: a dry run reports and stores nothing; the import stores all 40 with their own times.
    let good = csv(|_| "网格员关闭", good_date);
    let (st, v) = upload(&s, "events.csv", good.clone(), &csv_map(), true).await;
    assert_eq!(
        (st, v["valid"].as_u64(), v["added"].as_u64(), v["dry_run"].as_bool()),
        (200, Some(40), Some(0), Some(true))
    );
    assert_eq!(v["departments"], json!({"cg": 20, "街道综合执法队": 20}), "register names become codes: {v}");
    assert!(all_incidents(&s).await.is_empty(), "a dry run stores nothing");
    let (st, v) = upload(&s, "events.csv", good.clone(), &csv_map(), false).await;
    assert_eq!((st, v["added"].as_u64(), v["already_present"].as_u64()), (201, Some(40), Some(0)), "{v}");
    let stored = all_incidents(&s).await;
    assert_eq!(stored.len(), 40);
    let first = stored.iter().find(|i| i["external_id"] == "SZ-2025-0000").expect("row 2 stored");
    let (_, here) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", AT[0], AT[1])).await;
    assert_eq!(first["grid_code"], here["grid"]["code"], "geocoded like a new incident: {here}");
    assert_eq!(first["reported_at"], "2025-03-01T01:30:00Z", "local +08:00 times are stored as UTC");
    assert_eq!(
        (first["closed_at"].as_str(), first["resolved_at"].as_str()),
        (Some("2025-03-01T10:00:00Z"), Some("2025-03-01T10:00:00Z"))
    );
    assert_eq!((first["status"].as_str(), first["category"].as_str()), (Some("closed"), Some("sanitation")));
    assert_eq!((first["department"].as_str(), first["satisfaction"]["rating"].as_i64()), (Some("cg"), Some(5)));
    assert_eq!(first["description"], "第0号事件 \"路边\"");
    let (_, one) = get(&s, &format!("/api/v1/incidents/{}", first["id"])).await;
    let history = one["history"].as_array().expect("history");
    assert_eq!((history.len(), history[0]["action"].as_str()), (1, Some("imported")), "one imported entry: {one}");
    assert_eq!(history[0]["to"], "closed", "{one}");

    // The same file again adds nothing; the audit log has the import once.
    let (st, v) = upload(&s, "events.csv", good, &csv_map(), false).await;
    assert_eq!((st, v["added"].as_u64(), v["already_present"].as_u64()), (200, Some(0), Some(40)), "{v}");
    assert_eq!(all_incidents(&s).await.len(), 40);
    let (_, audit) = get(&s, "/api/v1/audit?action=incidents.imported").await;
    assert_eq!(audit["items"][1]["details"]["added"], 40, "{audit}");

    // A map naming a field the file lacks, or an unknown category target: refused before any row is read.
    let mut map = csv_map();
    map["id"] = json!("编号");
    let (st, v) = upload(&s, "events.csv", csv(|_| "网格员关闭", good_date), &map, false).await;
    assert_eq!((st, v["error"]["code"].as_str()), (422, Some("invalid_map")), "{v}");
    assert!(v["error"]["message"].as_str().expect("message").contains("\"编号\""), "{v}");
    let (st, v) = upload(&s, "events.pdf", b"%PDF".to_vec(), &csv_map(), false).await;
    assert_eq!((st, v["error"]["code"].as_str()), (422, Some("unsupported_format")), "{v}");
}

async fn xlsx_and_geojson(url: &str) {
    let s = TestServer::start(url, true).await;
    // A workbook as an old system exports it: date cells, numbers as numbers, the data on a named sheet.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("事件").expect("sheet name");
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (c, h) in ["编号", "X", "Y", "时间", "类别", "状态", "紧急程度"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    for r in 1..=12u32 {
        let when =
            rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 6, r as u8).expect("date").and_hms(8, 15, 0).expect("time");
        sheet.write_number(r, 0, f64::from(1000 + r)).expect("id");
        sheet.write_number(r, 1, AT[0]).expect("x");
        sheet.write_number(r, 2, AT[1]).expect("y");
        sheet.write_datetime_with_format(r, 3, &when, &date_format).expect("when");
        sheet.write_string(r, 4, if r % 2 == 0 { "fire" } else { "井盖缺失" }).expect("kind");
        sheet.write_string(r, 5, "已办结").expect("status");
        sheet.write_number(r, 6, f64::from(1 + r % 5)).expect("priority");
    }
    let bytes = book.save_to_buffer().expect("xlsx");
    let map = json!({
        "id": "编号", "lon": "X", "lat": "Y", "sheet": "事件",
        "reported_at": {"field": "时间"},
        "category": {"field": "类别", "new": "add"},
        "status": {"field": "状态", "values": {"已办结": "resolved"}},
        "priority": "紧急程度"
    });
    let (st, v) = upload(&s, "旧系统导出.xlsx", bytes, &map, false).await;
    assert_eq!((st, v["added"].as_u64()), (201, Some(12)), "{v}");
    assert_eq!(v["categories"]["added"], json!({"井盖缺失": 6}), "{v}");
    let stored = all_incidents(&s).await;
    let one = stored.iter().find(|i| i["external_id"] == "1003").expect("id cell 1003");
    assert_eq!(
        (one["reported_at"].as_str(), one["priority"].as_i64()),
        (Some("2024-06-03T00:15:00Z"), Some(4)),
        "{one}"
    );
    assert_eq!((one["status"].as_str(), one["category"].as_str()), (Some("resolved"), Some("井盖缺失")));

    // GeoJSON points: the geometry is the location, in GCJ-02 as Chinese web maps give it.
    let gcj = {
        let (x, y) = gridmap::crs::Crs::Gcj02.from_wgs84(AT[0], AT[1]);
        [x, y]
    };
    let features: Vec<Value> = (0..3)
        .map(|k| json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": gcj},
            "properties": {"id": format!("g{k}"), "at": "2023-01-02T03:04:05+08:00", "kind": "flood", "state": "closed"}}))
        .collect();
    let fc = json!({"type": "FeatureCollection", "features": features}).to_string().into_bytes();
    let map = json!({"id": "id", "crs": "gcj02", "reported_at": {"field": "at"}, "category": {"field": "kind"},
        "status": {"field": "state"}});
    let (st, v) = upload(&s, "events.geojson", fc, &map, false).await;
    assert_eq!((st, v["added"].as_u64()), (201, Some(3)), "{v}");
    let stored = all_incidents(&s).await;
    let g = stored.iter().find(|i| i["external_id"] == "g1").expect("g1");
    let (lon, lat) = (g["location"][0].as_f64().expect("lon"), g["location"][1].as_f64().expect("lat"));
    assert!((lon - AT[0]).abs() < 1e-5 && (lat - AT[1]).abs() < 1e-5, "GCJ-02 shifted back to WGS84: {g}");
    assert_eq!(g["reported_at"], "2023-01-01T19:04:05Z");
}

async fn cli(url: &str) {
    let s = TestServer::start(url, true).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, map) = (dir.path().join("events.csv"), dir.path().join("map.json"));
    std::fs::write(&map, csv_map().to_string()).expect("map");
    let bad = csv(|_| "网格员关闭", |k| if k == 35 { "yesterday".into() } else { good_date(k) });
    std::fs::write(&file, bad).expect("file");
    let (file_arg, map_arg) = (file.display().to_string(), map.display().to_string());
    let (code, out, err) = gridmap(&["import-incidents", &file_arg, "--map", &map_arg, "--db", url]);
    assert_eq!(code, 1, "a bad row exits 1: {out} {err}");
    assert!(out.contains("row 37, field \"上报时间\": \"yesterday\""), "{out}");
    assert!(err.contains("nothing imported"), "{err}");
    std::fs::write(&file, csv(|_| "网格员关闭", good_date)).expect("file");
    let (code, out, err) =
        gridmap(&["import-incidents", &file_arg, "--map", &map_arg, "--dry-run", "--json", "--db", url]);
    assert_eq!(code, 0, "{out} {err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!((report["valid"].as_u64(), report["added"].as_u64()), (Some(40), Some(0)));
    let (code, out, err) = gridmap(&["import-incidents", &file_arg, "--map", &map_arg, "--db", url]);
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains("40 added"), "{out}");
    let (code, out, _) = gridmap(&["import-incidents", &file_arg, "--map", &map_arg, "--db", url]);
    assert_eq!((code, out.contains("40 already stored, 0 added")), (0, true), "{out}");
    let (code, _, err) = gridmap(&["import-incidents", &file_arg, "--map", "/nonexistent.json", "--db", url]);
    assert_eq!(code, 3, "{err}");
    drop(s);
    let s = TestServer::start(url, false).await;
    assert_eq!(all_incidents(&s).await.len(), 40, "the CLI's import is what a server serves");
    let (_, audit) = get(&s, "/api/v1/audit?action=incidents.imported").await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2), "{audit}");
}

both_stores!(csv_gbk, xlsx_and_geojson, cli, real_feed_with_unix_times);

/// A real feed (USGS earthquakes of a week, public domain, ../shared/data/points): GeoJSON points with Unix
/// millisecond times, imported whole where the service area is anywhere.
async fn real_feed_with_unix_times(url: &str) {
    let Some(data) = crate::common::shared_data() else { return };
    let file = std::fs::read(data.join("points/earthquakes/earthquakes.json")).expect("the USGS feed");
    let s = TestServer::start_with(url, true, |o| o.service_area = gridmap::incidents::ServiceArea::Anywhere).await;
    let map = json!({"id": "ids", "reported_at": {"field": "time", "format": "unix_ms"},
        "category": {"field": "type", "values": {"earthquake": "safety_hazard", "explosion": "safety_hazard",
            "quarry blast": "safety_hazard"}},
        "status": {"field": "status", "values": {"automatic": "reported", "reviewed": "closed"}}, "description": "place"});
    let (st, v) = upload(&s, "earthquakes.geojson", file, &map, false).await;
    assert_eq!((st, v["added"].as_u64()), (201, Some(1707)), "{v}");
    assert_eq!(v["statuses"]["mapped"]["reviewed"]["rows"], 1214, "{v}");
    let (_, page) =
        get(&s, "/api/v1/incidents?status=reported,closed&from=2018-02-07T01:26:00Z&to=2018-02-07T01:27:00Z").await;
    let first = page["items"].as_array().expect("items").iter().find(|i| i["external_id"] == ",ci37868143,");
    let first = first.expect("the feed's first event");
    assert_eq!(first["reported_at"], "2018-02-07T01:26:13.84Z", "{first}");
    assert_eq!(first["description"], "4km W of Castaic, CA");
    let mut bad = map.clone();
    bad["reported_at"]["format"] = json!("unix_s");
    bad.as_object_mut().expect("map").remove("description");
    let (st, v) = upload(&s, "earthquakes2.geojson", b"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]},\"properties\":{\"ids\":\"x\",\"time\":\"soon\",\"type\":\"earthquake\",\"status\":\"reviewed\"}}]}".to_vec(), &bad, false).await;
    assert_eq!((st, v["error"]["details"]["report"]["errors"][0]["field"].as_str()), (422, Some("time")), "{v}");
}
