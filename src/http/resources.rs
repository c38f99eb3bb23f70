//! `/resources`: fixed resources, one at a time or a GeoJSON file of points at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::{narrow, visible};
use super::contract::{ApiJson, ApiQuery};
use super::incidents::View;
use super::locate::point;
use super::params::{Bbox, CrsParam, crs};
use super::reply::{Page, Reply, created, reply};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::resources::{Resource, ResourceError, ResourceFilter, ResourceId, ResourceInput};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(load))
        .routes(routes!(read))
        .routes(routes!(categories))
}

impl From<ResourceError> for ApiError {
    fn from(e: ResourceError) -> Self {
        let (status, code) = match &e {
            ResourceError::Field { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_resource"),
            ResourceError::Duplicate(_) => (StatusCode::CONFLICT, "duplicate_id"),
            ResourceError::NotFound(_) => (StatusCode::NOT_FOUND, "resource_not_found"),
            ResourceError::Store(s) => return ApiError::store(s),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// A fixed resource.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewResource {
    /// One of `GET /resource-categories`.
    #[schema(example = "hydrant")]
    category: String,
    /// Display name.
    name: String,
    /// `[lon, lat]` in `crs`.
    #[schema(example = json!([118.79, 32.02]))]
    location: [f64; 2],
    /// Other attributes, kept as given.
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: Map<String, Value>,
    /// The source's own id (unique when given).
    external_id: Option<String>,
    /// Coordinate system of `location` (default wgs84).
    #[schema(value_type = Option<String>)]
    crs: Option<CrsParam>,
}

/// Add a fixed resource
#[utoipa::path(
    post, path = "/resources", tag = "resources",
    request_body = NewResource,
    security(("bearer" = ["admin"])),
    responses((status = 201, body = Resource))
)]
async fn create(State(state): State<AppState>, ApiJson(b): ApiJson<NewResource>) -> Result<Reply<Resource>, ApiError> {
    let [x, y] = b.location;
    let crs = crs(b.crs);
    let input = ResourceInput {
        label: "resource".into(),
        external_id: b.external_id,
        category: b.category,
        name: b.name,
        attributes: b.attributes,
        location: point(crs, x, y, None)?,
    };
    let mut stored = state.resources.create(vec![input]).await?;
    let one = stored.pop().ok_or_else(|| ApiError::internal(&"a created resource was not returned"))?;
    Ok(created(one, crs))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LoadQuery {
    /// Category of every feature (else each feature's `category` property).
    category: Option<String>,
    /// Property holding the name (default `name`).
    name_field: Option<String>,
    /// Property holding the source's id (default `id`).
    id_field: Option<String>,
    /// Coordinate system of the points.
    #[param(inline)]
    crs: Option<CrsParam>,
    /// The file's name, for messages.
    name: Option<String>,
}

/// What a load stored.
#[derive(Debug, Serialize, ToSchema)]
struct Loaded {
    /// How many.
    loaded: usize,
    /// Their ids, in file order.
    ids: Vec<ResourceId>,
}

/// Load fixed resources from a file
///
/// A GeoJSON FeatureCollection of points; every feature's other properties become attributes; a feature without a
/// name is named by its id. All or none.
#[utoipa::path(
    post, path = "/resources/load", tag = "resources",
    params(LoadQuery),
    request_body(content = Object, description = "A GeoJSON FeatureCollection of points"),
    security(("bearer" = ["admin"])),
    responses((status = 201, body = Loaded))
)]
async fn load(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LoadQuery>,
    ApiJson(fc): ApiJson<geojson::FeatureCollection>,
) -> Result<(StatusCode, Json<Loaded>), ApiError> {
    let file = q.name.as_deref().unwrap_or("request body");
    let crs = crs(q.crs);
    let name_field = q.name_field.as_deref().unwrap_or("name");
    let id_field = q.id_field.as_deref().unwrap_or("id");
    let invalid = |i: usize, field: &str, problem: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_resource",
            format!("{file}: feature {i}: field {field}: {problem}"),
        )
    };
    let mut inputs = Vec::with_capacity(fc.features.len());
    for (i, f) in fc.features.into_iter().enumerate() {
        let [x, y] = match f.geometry.as_ref().map(|g| &g.value) {
            Some(geojson::GeometryValue::Point { coordinates }) if coordinates.as_slice().len() >= 2 => {
                [coordinates.as_slice()[0], coordinates.as_slice()[1]]
            }
            _ => return Err(invalid(i, "geometry", "expected a Point".into())),
        };
        let mut attributes = f.properties.unwrap_or_default();
        let text = |v: Option<Value>| match v {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let external_id = text(attributes.remove(id_field));
        let category = match &q.category {
            Some(c) => c.clone(),
            None => text(attributes.remove("category"))
                .ok_or_else(|| invalid(i, "category", "is missing (or give category= for the whole file)".into()))?,
        };
        // Unnamed features (common in OSM extracts) are named by their id.
        let name = match (text(attributes.remove(name_field)), &external_id) {
            (Some(n), _) => n,
            (None, Some(id)) => format!("{category} {id}"),
            (None, None) => {
                return Err(invalid(
                    i,
                    name_field,
                    format!("is missing or empty and there is no {id_field} to name it by"),
                ));
            }
        };
        let location = point(crs, x, y, Some(i))
            .map_err(|_| invalid(i, "geometry", format!("[{x}, {y}] is not a valid coordinate")))?;
        inputs.push(ResourceInput {
            label: format!("{file}: feature {i}"),
            external_id,
            category,
            name,
            attributes,
            location,
        });
    }
    let stored = state.resources.create(inputs).await?;
    Ok((StatusCode::CREATED, Json(Loaded { loaded: stored.len(), ids: stored.iter().map(|r| r.id).collect() })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only those inside `min_lon,min_lat,max_lon,max_lat` (in `crs`).
    #[param(inline)]
    bbox: Option<Bbox>,
    /// Category code.
    category: Option<String>,
    /// Street code.
    street: Option<String>,
    /// Community code.
    community: Option<String>,
    /// Grid code.
    grid: Option<String>,
    /// Page size, 1 … 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// Coordinate system of `bbox` and of the answer.
    #[param(inline)]
    crs: Option<CrsParam>,
}

/// Fixed resources
#[utoipa::path(
    get, path = "/resources", tag = "resources",
    params(ListQuery),
    security(("bearer" = ["read"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = Page<Resource>))
)]
async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(mut q): ApiQuery<ListQuery>,
) -> Result<Reply<Page<Resource>>, ApiError> {
    let crs = crs(q.crs);
    if !narrow(&caller, &mut q.street, &mut q.community) {
        return Ok(reply(Page::empty(), crs));
    }
    let limit = super::params::limit(q.limit, 100, 1000)?;
    let filter = ResourceFilter {
        bbox: q.bbox.map(|b| b.wgs84(crs)),
        category: q.category,
        street: q.street,
        community: q.community,
        grid: q.grid,
        before_id: q.cursor.map(ResourceId),
        limit,
    };
    let items = state.resources.list(&filter).await?;
    Ok(reply(Page::of(items, limit, |r| r.id.0.to_string()), crs))
}

/// One fixed resource
#[utoipa::path(
    get, path = "/resources/{id}", tag = "resources",
    params(("id" = i64, Path), View),
    security(("bearer" = ["read"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = Resource))
)]
async fn read(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(view): ApiQuery<View>,
) -> Result<Reply<Resource>, ApiError> {
    let id: i64 = super::params::id(&id, "resource")?;
    let resource = state.resources.get(id).await?;
    visible(&caller, &resource.geocode, || {
        ApiError::new(StatusCode::NOT_FOUND, "resource_not_found", format!("resource {id} does not exist"))
    })?;
    Ok(reply(resource, crs(view.crs)))
}

/// A resource category.
#[derive(Debug, Serialize, ToSchema)]
struct ResourceCategory {
    /// Code.
    code: String,
    /// Chinese name.
    name: String,
}

/// Fixed resource categories
#[utoipa::path(
    get, path = "/resource-categories", tag = "resources",
    security(()),
    responses((status = 200, body = Vec<ResourceCategory>))
)]
async fn categories(State(state): State<AppState>) -> Json<Vec<ResourceCategory>> {
    Json(state.resources.categories().into_iter().map(|(code, name)| ResourceCategory { code, name }).collect())
}
