//! Authentication and authorisation of every request (one middleware, reading each route's rule from the
//! [`AccessTable`] derived from the HTTP contract), and the scope checks handlers apply to what they return.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::contract::Rule;
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::coord::LonLat;
use crate::locate::Geocode;

/// Resolves the caller, refuses what its role may not do, and hands the caller to the handler as an extension.
pub(super) async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if !state.access.enabled {
        // Nothing to check: no copy of the path, no classification (the hot read paths pay nothing).
        req.extensions_mut().insert(Caller::Unchecked);
        return next.run(req).await;
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let rule = super::contract::access().rule(&method, req.extensions().get::<MatchedPath>().map(MatchedPath::as_str));
    let secret = presented(&req).map(|s| s.map(str::to_owned));
    match caller(&state, &method, &path, rule, secret).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(refusal) => {
            // The refusal goes out at once; the body the client may still be sending is drained behind it.
            super::limits::drain_behind(req.into_body());
            refusal
        }
    }
}

async fn caller(
    state: &AppState,
    method: &Method,
    path: &str,
    rule: Rule,
    secret: Result<Option<String>, &'static str>,
) -> Result<Caller, Response> {
    let access = rule.access;
    let caller = match secret.map_err(unauthorized)? {
        None => Caller::Anonymous,
        Some(secret) => match state.access.keyring.caller(&secret).await {
            Ok(Some(caller)) => caller,
            Ok(None) => return Err(unauthorized("the API key is unknown or revoked")),
            Err(e) => {
                tracing::error!(error = %e, "checking an API key failed");
                let e =
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", "keys cannot be checked now");
                return Err(e.into_response());
            }
        },
    };
    if !caller.allows(access) {
        return Err(match &caller {
            Caller::Key { role, .. } => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("a {role} key may not {method} {path} (needs {})", access.needs()),
            )
            .into_response(),
            _ => unauthorized(&format!("{method} {path} needs an API key (Authorization: Bearer KEY)")),
        });
    }
    if let Some(scope) = caller.scope()
        && !rule.area_keys
    {
        let message = format!("a key restricted to {scope} may not {method} {path}: it would show items outside it");
        return Err(ApiError::new(StatusCode::FORBIDDEN, "outside_scope", message).into_response());
    }
    Ok(caller)
}

/// The secret from `Authorization: Bearer …`, or from `access_token=` on the live feed (browsers cannot set headers
/// on a WebSocket).
fn presented(req: &Request) -> Result<Option<&str>, &'static str> {
    if let Some(value) = req.headers().get(AUTHORIZATION) {
        let value = value.to_str().map_err(|_| "the Authorization header is not text")?;
        return match value.split_once(' ') {
            Some((scheme, secret)) if scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty() => {
                Ok(Some(secret.trim()))
            }
            _ => Err("the Authorization header must be `Bearer KEY`"),
        };
    }
    if req.uri().path() == "/api/v1/live" {
        let token =
            req.uri().query().into_iter().flat_map(|q| q.split('&')).find_map(|kv| kv.strip_prefix("access_token="));
        return Ok(token.filter(|t| !t.is_empty()));
    }
    Ok(None)
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Hides an item outside the caller's scope as if it did not exist (`not_found` is the handler's own 404).
pub(super) fn visible(caller: &Caller, at: &Geocode, not_found: impl FnOnce() -> ApiError) -> Result<(), ApiError> {
    match caller.scope() {
        Some(scope) if !scope.contains(at.street_code.as_deref(), at.community_code.as_deref()) => Err(not_found()),
        _ => Ok(()),
    }
}

/// Narrows a list's street/community filter to the caller's scope; `false` when nothing asked for is inside it.
pub(super) fn narrow(caller: &Caller, street: &mut Option<String>, community: &mut Option<String>) -> bool {
    caller.scope().is_none_or(|s| s.narrow(street, community))
}

/// Refuses to place an item outside the caller's scope.
pub(super) fn may_place(state: &AppState, caller: &Caller, p: LonLat) -> Result<(), ApiError> {
    let Some(scope) = caller.scope() else { return Ok(()) };
    let g = crate::locate::geocode(&state.locator.current(), state.locator.resolution(), p);
    if scope.contains(g.street_code.as_deref(), g.community_code.as_deref()) {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::FORBIDDEN, "outside_scope", format!("the location is outside {scope}"))
            .with_details(json!({"location": [p.lon(), p.lat()]})))
    }
}
