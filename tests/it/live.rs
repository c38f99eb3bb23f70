//! `GET /api/v1/live`: events reach WebSocket clients; a client that stops reading is dropped without holding up
//! the others. Both stores.

use std::time::Duration;

use crate::common::TestServer;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(s: &TestServer) -> Ws {
    let url = format!("{}/api/v1/live", s.base.replace("http://", "ws://"));
    let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("WebSocket connect");
    ws
}

/// The next event of a type, within a few seconds.
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.unwrap_or_else(|_| panic!("no {kind} event"));
        if let Some(Ok(Message::Text(t))) = msg {
            let v: Value = serde_json::from_str(&t).expect("event JSON");
            if v["type"] == kind {
                return v;
            }
        }
    }
}

async fn events_reach_clients(url: &str) {
    let s = TestServer::start(url, true).await;
    let mut ws = connect(&s).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let client = reqwest::Client::new();
    let inc: Value = client
        .post(s.url("/api/v1/incidents"))
        .json(&json!({"location": [118.79, 32.02], "category": "fire"}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    let e = next_of(&mut ws, "incident.created").await;
    assert_eq!(e["data"]["id"], inc["id"]);
    assert_eq!(e["data"]["grid_code"], "32010400600507");
    client
        .post(s.url(&format!("/api/v1/incidents/{}/status", inc["id"])))
        .json(&json!({"status": "dispatched"}))
        .send()
        .await
        .expect("POST");
    let e = next_of(&mut ws, "incident.updated").await;
    assert_eq!(e["data"]["status"], "dispatched");

    let r: Value = client
        .post(s.url("/api/v1/responders"))
        .json(&json!({"name": "李", "kind": "grid_worker", "location": [118.79, 32.02], "at": "2026-11-01T00:00:00Z"}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    client
        .put(s.url(&format!("/api/v1/responders/{}/position", r["id"])))
        .json(&json!({"location": [118.80, 32.03]}))
        .send()
        .await
        .expect("PUT");
    let e = next_of(&mut ws, "responder.moved").await;
    assert_eq!((e["data"]["id"].clone(), e["data"]["location"].clone()), (r["id"].clone(), json!([118.80, 32.03])));

    let grids = crate::common::sample_layer("grids");
    let files = vec![gridmap::catalog::ImportFile {
        name: "grids.geojson".into(),
        bytes: grids.to_string().into_bytes(),
        options: gridmap::import::ReadOptions::new(gridmap::layers::Layer::Grids),
    }];
    let mode = gridmap::catalog::ImportMode { activate: true, ..Default::default() };
    let g = s.catalog.import(files, mode).await.expect("import")[0].generation.expect("generation");
    let e = next_of(&mut ws, "generation.activated").await;
    assert_eq!(e["data"]["generation"], json!(g.0));
    ws.close(None).await.expect("close");
}

async fn a_client_that_stops_reading_is_dropped(url: &str) {
    let s = TestServer::start(url, false).await;
    let slow = connect(&s).await;
    let mut fast = connect(&s).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The fast client reads everything while the slow one reads nothing.
    let reader = tokio::spawn(async move {
        let mut n = 0u32;
        while let Some(Ok(msg)) = fast.next().await {
            if let Message::Text(t) = msg {
                n += 1;
                if t.contains("\"last\"") {
                    return n;
                }
            }
        }
        n
    });
    let filler = "x".repeat(16 * 1024);
    for i in 0..12_000u32 {
        s.events.publish("test.filler", &json!({"i": i, "filler": filler}));
        if i % 500 == 0 {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    s.events.publish("test.filler", &json!({"last": true}));
    let got = tokio::time::timeout(Duration::from_secs(20), reader).await.expect("fast client finished").expect("task");
    assert_eq!(got, 12_001, "the fast client got every event");

    // The slow client: whatever was buffered, then a close frame saying it was too slow.
    let mut slow = slow;
    let mut closed = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, slow.next()).await {
        match msg {
            Ok(Message::Close(frame)) => {
                closed = frame;
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let frame = closed.expect("the slow client was closed");
    assert_eq!(u16::from(frame.code), 1008);
    assert!(frame.reason.contains("too slow"), "{}", frame.reason);
}

both_stores!(events_reach_clients, a_client_that_stops_reading_is_dropped, deadlines_pass_and_are_announced_once);

/// The `overdue` attribute of every incident feature in a tile, by id.
fn overdue_in_tile(mvt: &[u8]) -> std::collections::BTreeMap<i64, i64> {
    use geozero::mvt::{Message as _, Tile};
    let mut out = std::collections::BTreeMap::new();
    if mvt.is_empty() {
        return out;
    }
    let tile = Tile::decode(mvt).expect("tile decodes");
    let l = &tile.layers[0];
    let key = |name: &str| l.keys.iter().position(|k| k == name);
    let int = |f: &geozero::mvt::tile::Feature, k: Option<usize>| {
        let v = f.tags.chunks(2).find(|t| Some(t[0] as usize) == k).map(|t| &l.values[t[1] as usize])?;
        v.int_value.or(v.sint_value).or(v.uint_value.map(|u| u as i64))
    };
    for f in &l.features {
        if let (Some(id), Some(o)) = (int(f, key("id")), int(f, key("overdue"))) {
            out.insert(id, o);
        }
    }
    out
}

/// Issue 29, deadlines (时限): `due_at` is the report time plus the policy's hours for the category and priority
/// (a category entry first); once it passes, the open incident is listed as overdue, its tile says so, and live
/// clients get one `incident.overdue`; a resolved one is no longer overdue; a priority without a deadline has none.
async fn deadlines_pass_and_are_announced_once(url: &str) {
    use std::collections::BTreeMap;
    let deadlines = gridmap::incidents::Deadlines {
        by_priority_h: BTreeMap::from([("1".to_owned(), 2.0 / 3600.0)]),
        by_category_h: BTreeMap::from([("fire".to_owned(), BTreeMap::from([("1".to_owned(), 1.0 / 3600.0)]))]),
    };
    let s = TestServer::start_with(url, true, |o| {
        o.dispatch.deadlines = deadlines;
        o.deadline_tick = Duration::from_millis(200);
    })
    .await;
    let mut ws = connect(&s).await;
    let client = reqwest::Client::new();
    let post = |body: Value| {
        let req = client.post(s.url("/api/v1/incidents")).json(&body);
        async move { req.send().await.expect("post").json::<Value>().await.expect("json") }
    };
    let at: [f64; 2] = [118.79, 32.02];
    let fire = post(json!({"location": at, "category": "fire", "priority": 1})).await;
    let traffic = post(json!({"location": at, "category": "traffic", "priority": 1})).await;
    let none = post(json!({"location": at, "category": "traffic", "priority": 3})).await;
    let ts = |v: &Value, k: &str| {
        time::OffsetDateTime::parse(v[k].as_str().expect(k), &time::format_description::well_known::Rfc3339)
            .expect("time")
    };
    assert_eq!(ts(&fire, "due_at") - ts(&fire, "reported_at"), time::Duration::seconds(1), "{fire}");
    assert_eq!(ts(&traffic, "due_at") - ts(&traffic, "reported_at"), time::Duration::seconds(2), "{traffic}");
    assert_eq!((none["due_at"].clone(), none["overdue"].clone()), (Value::Null, json!(false)), "{none}");
    assert_eq!(fire["overdue"], false);

    let z = 16;
    let (x, y) = {
        let n = f64::from(1u32 << z);
        let lat = at[1].to_radians();
        (
            ((at[0] + 180.0) / 360.0 * n) as u32,
            ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32,
        )
    };
    let tile = || {
        let url = s.url(&format!("/tiles/incidents/{z}/{x}/{y}.mvt"));
        async move { reqwest::get(url).await.expect("tile").bytes().await.expect("bytes").to_vec() }
    };
    let before = overdue_in_tile(&tile().await);
    assert_eq!(before.get(&fire["id"].as_i64().expect("id")), Some(&0), "{before:?}");

    // One event per incident as its deadline passes (fire after 1 s, traffic after 2 s), none for the other.
    let first = next_of(&mut ws, "incident.overdue").await;
    let second = next_of(&mut ws, "incident.overdue").await;
    assert_eq!(
        (first["data"]["id"].clone(), second["data"]["id"].clone()),
        (fire["id"].clone(), traffic["id"].clone())
    );
    assert_eq!(first["data"]["overdue"], true, "{first}");
    let extra = tokio::time::timeout(Duration::from_millis(1200), next_of(&mut ws, "incident.overdue")).await;
    assert!(extra.is_err(), "announced twice: {extra:?}");

    let list: Value =
        client.get(s.url("/api/v1/incidents?overdue=true")).send().await.expect("list").json().await.expect("json");
    let ids: Vec<i64> = list["items"].as_array().expect("items").iter().filter_map(|i| i["id"].as_i64()).collect();
    assert_eq!(ids, vec![traffic["id"].as_i64().expect("id"), fire["id"].as_i64().expect("id")], "{list}");
    let after = overdue_in_tile(&tile().await);
    assert_eq!(after.get(&fire["id"].as_i64().expect("id")), Some(&1), "the tile cut before is not served: {after:?}");

    let path = format!("/api/v1/incidents/{}/status", fire["id"]);
    let moved: Value = client
        .post(s.url(&path))
        .json(&json!({"status": "resolved"}))
        .send()
        .await
        .expect("move")
        .json()
        .await
        .expect("json");
    assert_eq!(moved["overdue"], false, "{moved}");
    let list: Value =
        client.get(s.url("/api/v1/incidents?overdue=true")).send().await.expect("list").json().await.expect("json");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
}
