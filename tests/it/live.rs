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

both_stores!(events_reach_clients, a_client_that_stops_reading_is_dropped);
