//! `GET /live`: the event stream as a WebSocket of JSON text messages.

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upgrade))
}

/// WebSocket of JSON events
///
/// Each message is `{"type": "incident.created" | "incident.updated" | "responder.moved" | "generation.activated" |
/// …, "data": {…}}`. Browsers, which cannot set headers on a WebSocket, pass the key as `access_token=`.
#[utoipa::path(
    get, path = "/live", tag = "live",
    params(("access_token" = Option<String>, Query, description = "The API key, for browsers")),
    security(("bearer" = ["read"])),
    responses((status = 101, description = "Switching to the WebSocket protocol"))
)]
async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let rx = state.events.subscribe();
    ws.on_upgrade(move |socket| forward(socket, rx))
}

async fn forward(mut socket: WebSocket, mut rx: tokio::sync::broadcast::Receiver<std::sync::Arc<str>>) {
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(text) => {
                    if socket.send(Message::Text(text.as_ref().into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "live client too slow; closing it");
                    let frame = CloseFrame { code: 1008, reason: format!("too slow: {missed} events missed").into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
