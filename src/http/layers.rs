//! `GET /layers`: what is loaded.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::layers::{GenerationId, Layer};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// One loaded layer.
#[derive(Debug, Serialize, ToSchema)]
struct LoadedLayer {
    /// streets, communities or grids.
    name: Layer,
    /// Feature count.
    features: usize,
    /// The generation served.
    generation: Option<GenerationId>,
    /// `[min_lon, min_lat, max_lon, max_lat]`, absent when empty.
    bbox: Option<[f64; 4]>,
}

/// The layers served.
#[derive(Debug, Serialize, ToSchema)]
struct Layers {
    /// The generation served.
    generation: Option<GenerationId>,
    /// Streets, communities, grids.
    layers: Vec<LoadedLayer>,
}

/// Loaded layers: feature counts, generation, bbox
#[utoipa::path(get, path = "/layers", tag = "lookup", security(()), responses((status = 200, body = Layers)))]
async fn list(State(state): State<AppState>) -> Json<Layers> {
    let index = state.locator.current();
    let layers = Layer::ALL
        .iter()
        .map(|&l| {
            let li = index.layer(l);
            LoadedLayer {
                name: l,
                features: li.len(),
                generation: index.generation(),
                bbox: li.bbox().map(|b| [b.min().x, b.min().y, b.max().x, b.max().y]),
            }
        })
        .collect();
    Json(Layers { generation: index.generation(), layers })
}
