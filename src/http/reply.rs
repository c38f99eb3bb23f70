//! A typed JSON answer whose coordinates are written in the coordinate system the caller asked for (`crs=`): only
//! its [`crate::crs::Position`] and [`crate::crs::GeometryOut`] fields are converted, while it is serialised.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::ApiError;
use crate::crs::{Crs, written_in};

/// An answer written in `crs`.
#[derive(Debug)]
pub struct Reply<T> {
    value: T,
    crs: Crs,
    status: StatusCode,
}

/// `200` with `value` written in `crs`.
pub fn reply<T: Serialize>(value: T, crs: Crs) -> Reply<T> {
    Reply { value, crs, status: StatusCode::OK }
}

/// `201` with the created `value` written in `crs`.
pub fn created<T: Serialize>(value: T, crs: Crs) -> Reply<T> {
    Reply { value, crs, status: StatusCode::CREATED }
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        match written_in(self.crs, || serde_json::to_vec(&self.value)) {
            Ok(body) => (self.status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
            Err(e) => ApiError::internal(&e).into_response(),
        }
    }
}

/// One page of a list, newest first; `next_cursor` (the last item's id, as text) asks for the next page and is
/// null on the last.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page of `items` asked for with `limit`: a full page has a next one, from its last item's id.
    pub fn of(items: Vec<T>, limit: u32, id: impl Fn(&T) -> String) -> Self {
        let next_cursor = (items.len() == limit as usize).then(|| items.last().map(id)).flatten();
        Self { items, next_cursor }
    }

    /// The answer of a list whose filter asks for something outside the caller's area.
    pub fn empty() -> Self {
        Self { items: Vec::new(), next_cursor: None }
    }
}
