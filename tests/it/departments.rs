//! Departments (issue 29 item 1) over HTTP on both stores: the register's rules, routing by category on report and by
//! hand, accept, return (with a reason), transfer, every step in history with actor and time, and every refusal
//! leaving the incident as it was.

use crate::common::{TestServer, call, get, post};
use reqwest::Method;
use serde_json::{Value, json};

const IN_GRID: [f64; 2] = [118.79, 32.02];

async fn put(s: &TestServer, code: &str, body: Value) -> (u16, Value) {
    call(Method::PUT, s.url(&format!("/api/v1/departments/{code}")), Some(body)).await
}

fn code(v: &Value) -> Option<&str> {
    v["error"]["code"].as_str()
}

async fn register_rules(url: &str) {
    let s = TestServer::start(url, true).await;
    let (st, v) =
        put(&s, "cg", json!({"name": "区城管局", "categories": ["sanitation", "illegal_construction"]})).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["categories"], json!(["sanitation", "illegal_construction"]));
    let (st, v) = put(&s, "cg", json!({"name": "城管局", "categories": ["sanitation", "illegal_construction"]})).await;
    assert_eq!((st, v["name"].as_str()), (200, Some("城管局")), "a second put replaces");
    for (c, body, status, err) in [
        ("sw", json!({"name": "水务局", "categories": ["sanitation"]}), 409, "category_taken"),
        ("sw", json!({"name": "水务局", "categories": ["no_such"]}), 422, "unknown_category"),
        ("bad code", json!({"name": "x", "categories": []}), 422, "invalid_department_code"),
        ("sw", json!({"name": "  ", "categories": []}), 422, "invalid_department_name"),
    ] {
        let (st, v) = put(&s, c, body.clone()).await;
        assert_eq!((st, code(&v)), (status, Some(err)), "{c} {body} → {v}");
    }
    let (st, v) = put(&s, "sw", json!({"name": "水务局", "categories": ["flood"]})).await;
    assert_eq!(st, 201, "{v}");
    let (_, list) = get(&s, "/api/v1/departments").await;
    let codes: Vec<&str> = list.as_array().expect("list").iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, ["cg", "sw"], "refused puts stored nothing");

    // A department with an open incident cannot be removed; once it is closed, it can.
    let (_, inc) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "flood"})).await;
    let (st, v) = call(Method::DELETE, s.url("/api/v1/departments/sw"), None).await;
    assert_eq!((st, code(&v)), (409, Some("department_in_use")), "{v}");
    let id = &inc["id"];
    post(&s, &format!("/api/v1/incidents/{id}/status"), json!({"status": "cancelled"})).await;
    let (st, v) = call(Method::DELETE, s.url("/api/v1/departments/sw"), None).await;
    assert_eq!((st, v["code"].as_str()), (200, Some("sw")), "{v}");
    let (st, v) = call(Method::DELETE, s.url("/api/v1/departments/sw"), None).await;
    assert_eq!((st, code(&v)), (404, Some("department_not_found")), "{v}");
    let (_, audit) = get(&s, "/api/v1/audit?action=department.removed").await;
    assert_eq!(audit["items"][0]["target"], "department:sw", "{audit}");
}

async fn route_accept_return_transfer(url: &str) {
    let s = TestServer::start(url, true).await;
    put(&s, "cg", json!({"name": "城管局", "categories": ["sanitation"]})).await;
    put(&s, "jt", json!({"name": "交通局", "categories": ["traffic"]})).await;
    // Routed on report by its category.
    let (_, inc) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "sanitation"})).await;
    assert_eq!((inc["department"].as_str(), inc["department_state"].as_str()), (Some("cg"), Some("routed")), "{inc}");
    let id = inc["id"].as_i64().expect("id");
    let step = |body: Value| {
        let url = s.url(&format!("/api/v1/incidents/{id}/routing"));
        async move { call(Method::POST, url, Some(body)).await }
    };
    // Refusals change nothing.
    for (body, status, err) in [
        (json!({"action": "route", "department": "jt"}), 409, "invalid_routing_step"),
        (json!({"action": "return"}), 422, "reason_required"),
        (json!({"action": "return", "reason": "   "}), 422, "reason_required"),
        (json!({"action": "transfer", "department": "nobody"}), 422, "unknown_department"),
        (json!({"action": "transfer", "department": "cg"}), 409, "same_department"),
        (json!({"action": "transfer"}), 400, "missing_field"),
        (json!({"action": "approve"}), 400, "invalid_json"),
    ] {
        let (st, v) = step(body.clone()).await;
        assert_eq!((st, code(&v)), (status, Some(err)), "{body} → {v}");
    }
    let (_, one) = get(&s, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!((one["department"].as_str(), one["department_state"].as_str()), (Some("cg"), Some("routed")));
    assert_eq!(one["history"].as_array().map(Vec::len), Some(2), "reported + routed by policy: {one}");

    let (st, v) = step(json!({"action": "accept", "actor": "城管甲"})).await;
    assert_eq!((st, v["department_state"].as_str()), (200, Some("accepted")), "{v}");
    let (st, v) = step(json!({"action": "accept"})).await;
    assert_eq!((st, code(&v)), (409, Some("invalid_routing_step")), "{v}");
    let (st, v) = step(json!({"action": "return", "reason": " 不属本部门职责 ", "actor": "城管甲"})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["department"].clone(), v["department_state"].as_str(), v["returned"].as_i64()),
        (Value::Null, Some("returned"), Some(1))
    );
    let (st, v) = step(json!({"action": "accept"})).await;
    assert_eq!((st, code(&v)), (409, Some("invalid_routing_step")), "a returned incident is the router's: {v}");
    let (st, v) = step(json!({"action": "route", "department": "jt", "actor": "分拨员"})).await;
    assert_eq!((st, v["department"].as_str()), (200, Some("jt")), "{v}");
    let (st, v) =
        step(json!({"action": "transfer", "department": "cg", "reason": "占道堆物", "actor": "交通乙"})).await;
    assert_eq!(
        (st, v["department"].as_str(), v["department_state"].as_str()),
        (200, Some("cg"), Some("routed")),
        "{v}"
    );

    let (_, one) = get(&s, &format!("/api/v1/incidents/{id}")).await;
    let steps: Vec<(Value, Value, Value, Value)> = one["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| (e["action"].clone(), e["department"].clone(), e["actor"].clone(), e["note"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (Value::Null, Value::Null, json!("anonymous"), Value::Null),
            (json!("routed"), json!("cg"), json!("policy"), Value::Null),
            (json!("accepted"), json!("cg"), json!("城管甲"), Value::Null),
            (json!("returned"), json!("cg"), json!("城管甲"), json!("不属本部门职责")),
            (json!("routed"), json!("jt"), json!("分拨员"), Value::Null),
            (json!("transferred"), json!("cg"), json!("交通乙"), json!("占道堆物")),
        ],
        "{one}"
    );
    assert!(
        one["history"].as_array().expect("history").iter().all(|e| e["at"].as_str().is_some_and(|t| t.ends_with('Z')))
    );

    // A category nobody handles is not routed; a closed incident is not routed at all.
    let (_, other) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "fire"})).await;
    assert_eq!((other["department"].clone(), other["department_state"].clone()), (Value::Null, Value::Null));
    let oid = &other["id"];
    post(&s, &format!("/api/v1/incidents/{oid}/status"), json!({"status": "resolved"})).await;
    let (_, closed) =
        post(&s, &format!("/api/v1/incidents/{oid}/status"), json!({"status": "closed", "note": "ok"})).await;
    assert!(closed["resolved_at"].is_string() && closed["closed_at"].is_string(), "{closed}");
    let (st, v) = call(
        Method::POST,
        s.url(&format!("/api/v1/incidents/{oid}/routing")),
        Some(json!({"action": "route", "department": "cg"})),
    )
    .await;
    assert_eq!((st, code(&v)), (409, Some("incident_not_open")), "{v}");
    let (st, v) =
        call(Method::POST, s.url("/api/v1/incidents/999999/routing"), Some(json!({"action": "accept"}))).await;
    assert_eq!((st, code(&v)), (404, Some("incident_not_found")), "{v}");
}

both_stores!(register_rules, route_accept_return_transfer);
