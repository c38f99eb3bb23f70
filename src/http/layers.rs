//! `GET /layers`: what is loaded.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use crate::layers::Layer;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/layers", get(list))
}

async fn list(State(state): State<AppState>) -> Json<Value> {
    let index = state.locator.current();
    let layers: Vec<Value> = Layer::ALL
        .iter()
        .map(|&l| {
            let li = index.layer(l);
            json!({
                "name": l.as_str(),
                "features": li.len(),
                "generation": index.generation(),
                "bbox": li.bbox().map(|b| [b.min().x, b.min().y, b.max().x, b.max().y]),
            })
        })
        .collect();
    Json(json!({"generation": index.generation(), "layers": layers}))
}
