//! The HTTP contract. Every endpoint is declared once, on its handler, with `#[utoipa::path]`: method and route,
//! the access it needs (as its OpenAPI security requirement: no requirement is open, else the `bearer` scheme with
//! one scope, `read`, `report`, `dispatch` or `admin`), whether a street- or community-scoped key may call it (the
//! `x-area-keys` extension), its parameters and its typed request and response bodies. The router
//! (`utoipa_axum::routes!`), the OpenAPI document and the access check ([`AccessTable`]) are all derived from those
//! declarations, so they cannot disagree.
//!
//! Also here: the extractors that keep every refusal in the JSON error shape ([`ApiQuery`], [`ApiJson`]) and the
//! answers for unknown routes and methods.

use std::collections::{HashMap, HashSet};

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::json;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Response, ResponseBuilder};

use super::ApiError;
use crate::auth::Access;

/// The name of the security scheme (`Authorization: Bearer KEY`).
pub(super) const BEARER: &str = "bearer";
/// The operation extension saying a street- or community-scoped key may call the endpoint (it narrows what it
/// answers to the key's area).
pub(super) const AREA_KEYS: &str = "x-area-keys";

/// The document and the access rules, derived once from the declarations.
struct Contract {
    json: String,
    table: AccessTable,
}

fn contract() -> &'static Contract {
    static CONTRACT: std::sync::OnceLock<Contract> = std::sync::OnceLock::new();
    CONTRACT.get_or_init(|| {
        let mut doc = super::declared().into_openapi();
        finish(&mut doc);
        let json =
            serde_json::to_string(&doc).unwrap_or_else(|e| panic!("the OpenAPI document does not serialise: {e}"));
        Contract { json, table: AccessTable::from_openapi(&doc) }
    })
}

/// The OpenAPI 3.1 document of every declared endpoint (`GET /openapi.json`).
pub fn document() -> &'static str {
    &contract().json
}

/// What each declared route needs.
pub fn access() -> &'static AccessTable {
    &contract().table
}

/// The access level of a security scope name.
fn access_of_scope(scope: &str) -> Option<Access> {
    match scope {
        "read" => Some(Access::Read),
        "report" => Some(Access::Report),
        "dispatch" => Some(Access::Dispatch),
        "admin" => Some(Access::Admin),
        _ => None,
    }
}

/// Routes served without being part of the API (the console's page and files): open.
const UNDOCUMENTED_OPEN: [&str; 3] = ["/", "/web/{*path}", "/docs"];

/// What a route needs, read from the OpenAPI document once at start.
#[derive(Debug, Default)]
pub struct AccessTable {
    rules: HashMap<(Method, String), Rule>,
    paths: HashSet<String>,
}

/// One operation's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The level a caller needs.
    pub access: Access,
    /// Whether a key restricted to an area may call it.
    pub area_keys: bool,
}

impl AccessTable {
    /// The rules of every operation in `doc`. Panics on an operation whose security does not name one known
    /// scope: a declaration mistake, caught by the first test that starts a server.
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let mut table = AccessTable::default();
        for (path, item) in &doc.paths.paths {
            let route = path.replace("{path}", "{*path}");
            table.paths.insert(route.clone());
            for (method, op) in operations(item) {
                table.rules.insert((method.clone(), route.clone()), rule_of(&method, path, op));
            }
        }
        table
    }

    /// The rule for a request routed to `matched` (the route template). A route of the contract asked with a
    /// method it does not serve is open (axum answers 405 without running anything); a route outside the contract
    /// is closed unless it is one of the console's files.
    pub fn rule(&self, method: &Method, matched: Option<&str>) -> Rule {
        let open = Rule { access: Access::Public, area_keys: true };
        let Some(path) = matched else { return open };
        let method = if method == Method::HEAD { &Method::GET } else { method };
        if let Some(rule) = self.rules.get(&(method.clone(), path.to_owned())) {
            return *rule;
        }
        if self.paths.contains(path) || UNDOCUMENTED_OPEN.contains(&path) {
            return open;
        }
        Rule { access: Access::Admin, area_keys: false }
    }
}

fn operations(item: &utoipa::openapi::PathItem) -> Vec<(Method, &Operation)> {
    [
        (Method::GET, &item.get),
        (Method::POST, &item.post),
        (Method::PUT, &item.put),
        (Method::DELETE, &item.delete),
        (Method::PATCH, &item.patch),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_ref().map(|op| (m, op)))
    .collect()
}

fn rule_of(method: &Method, path: &str, op: &Operation) -> Rule {
    let declared = op.security.as_ref().unwrap_or_else(|| panic!("{method} {path} declares no security(...)"));
    let requirement = serde_json::to_value(declared).unwrap_or_default();
    let scopes: Vec<&str> = requirement
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.get(BEARER))
        .filter_map(|s| s.as_array())
        .flatten()
        .filter_map(|s| s.as_str())
        .collect();
    let access = match scopes.as_slice() {
        [] => Access::Public,
        [one] => access_of_scope(one).unwrap_or_else(|| panic!("{method} {path}: unknown scope {one:?}")),
        more => panic!("{method} {path}: one scope per operation, got {more:?}"),
    };
    let area_keys = access == Access::Public
        || op.extensions.as_ref().is_some_and(|e| e.get(AREA_KEYS).is_some_and(|v| v == &json!(true)));
    Rule { access, area_keys }
}

/// Completes the document built from the declarations: info, the security scheme, the error shape, and on every
/// operation the error answers and a description of who may call it.
pub(super) fn finish(doc: &mut OpenApi) {
    doc.info.title = "gridmap".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "Boundary layers, lookups, incidents, dispatch, tiles and OGC API Features for grid-based urban governance. \
         Coordinates are [lon, lat] WGS84 unless `crs` says otherwise; every error is \
         {\"error\": {\"code\", \"message\", \"details\"}}."
            .into(),
    );
    doc.info.license = None;
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An API key from `gridmap keys create`"))
                .build(),
        ),
    );
    components.schemas.insert("Error".into(), <ErrorBody as utoipa::PartialSchema>::schema());
    let mut ids = HashSet::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch].into_iter().flatten()
        {
            // Handlers are named within their module (`list`, `create`); ids must be unique in the document (client
            // generators name their functions after them): the tag goes in front.
            let tag = op.tags.as_ref().and_then(|t| t.first()).cloned().unwrap_or_default();
            let id = format!("{tag}_{}", op.operation_id.take().unwrap_or_default());
            assert!(ids.insert(id.clone()), "operation id {id} twice ({path})");
            op.operation_id = Some(id);
            let rule = rule_of(&Method::GET, path, op);
            let who = rule.access.needs();
            let area = if rule.area_keys && rule.access != Access::Public {
                " A key restricted to a street or community gets the answer narrowed to its area."
            } else {
                ""
            };
            let text = op.description.take().unwrap_or_default();
            op.description = Some(format!("{text}{}Access: {who}.{area}", if text.is_empty() { "" } else { "\n\n" }));
            let error = |what: &str| -> RefOr<Response> {
                ResponseBuilder::new()
                    .description(what)
                    .content(
                        "application/json",
                        utoipa::openapi::ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Error"))))
                            .build(),
                    )
                    .build()
                    .into()
            };
            let responses = &mut op.responses.responses;
            // OpenAPI requires a description on every response; the declarations name the body, not always a text.
            for (status, answer) in responses.iter_mut() {
                if let RefOr::T(answer) = answer
                    && answer.description.is_empty()
                {
                    answer.description = match status.as_str() {
                        "201" => "Created",
                        "204" => "No content",
                        _ => "Success",
                    }
                    .into();
                }
            }
            responses.entry("default".into()).or_insert_with(|| error("An error: the code says which"));
            if rule.access != Access::Public {
                responses.entry("401".into()).or_insert_with(|| error("No key, or an unknown or revoked key"));
                responses.entry("403".into()).or_insert_with(|| error("The key's role or area may not do this"));
            }
        }
    }
}

/// The error shape, for the document.
#[derive(Debug, utoipa::ToSchema)]
#[schema(as = Error)]
#[expect(dead_code, reason = "describes ApiError's JSON for the OpenAPI document; never built")]
pub(super) struct ErrorBody {
    #[schema(inline)]
    error: ErrorDetail,
}

#[derive(Debug, utoipa::ToSchema)]
#[expect(dead_code, reason = "describes ApiError's JSON for the OpenAPI document; never built")]
struct ErrorDetail {
    /// A snake_case code, stable for programs.
    code: String,
    /// A sentence for people: what was refused and why.
    message: String,
    /// What the code needs (the parameter, the index in a batch, the report of a rejected import, …).
    #[schema(value_type = Object)]
    details: serde_json::Value,
}

/// The error code of a query parameter that does not parse: the same parameter means the same thing everywhere,
/// so its code is fixed here once.
fn parameter_code(name: &str) -> &'static str {
    match name {
        "lon" | "lat" => "invalid_coordinate",
        "crs" | "bbox-crs" => "invalid_crs",
        "bbox" => "invalid_bbox",
        "from" | "to" | "at" | "since" | "datetime" => "invalid_time",
        "status" => "invalid_status",
        "layers" | "layer" => "invalid_layers",
        "limit" => "invalid_limit",
        "cursor" | "id" => "invalid_id",
        "lang" => "invalid_lang",
        _ => "invalid_parameter",
    }
}

/// Query parameters deserialised into `T`; a refusal is a 400 in the JSON error shape that names the parameter
/// (`details.parameter`), never axum's plain-text rejection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// Parses a query string into `T` with the parameter named in any refusal.
pub(super) fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // A missing field is reported at the top level with the field's name in the message.
        let missing = inner.strip_prefix("missing field `").and_then(|r| r.split('`').next()).map(str::to_owned);
        let unknown = inner.strip_prefix("unknown field `").and_then(|r| r.split('`').next()).map(str::to_owned);
        if let Some(name) = missing {
            return ApiError::bad_request("missing_parameter", format!("parameter {name} is required"))
                .with_details(json!({"parameter": name}));
        }
        if let Some(name) = unknown {
            return ApiError::bad_request("unknown_parameter", format!("unknown parameter {name}: {inner}"))
                .with_details(json!({"parameter": name}));
        }
        let name = path.split(['.', '[']).next().unwrap_or_default().to_owned();
        let value = form_urlencoded_parse(query).find(|(k, _)| *k == name).map(|(_, v)| v.into_owned());
        ApiError::bad_request(
            parameter_code(&name),
            format!("parameter {name}={:?}: {inner}", value.as_deref().unwrap_or("")),
        )
        .with_details(json!({"parameter": name, "value": value}))
    })
}

/// The `application/x-www-form-urlencoded` pairs of a query string.
fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// A JSON request body deserialised into `T`: too large → 413, malformed → 400 with line and column, a field of
/// the wrong type → 400 naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = axum::body::Bytes::from_request(req, state).await;
        super::json::parse(body).map(ApiJson)
    }
}

/// An optional JSON body: absent or blank is `None`, anything else must parse as `T` (as [`ApiJson`]).
#[derive(Debug, Clone, Default)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = axum::body::Bytes::from_request(req, state).await;
        match &body {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(OptionalJson(None)),
            _ => super::json::parse(body).map(|v| OptionalJson(Some(v))),
        }
    }
}

/// `404 not_found` for a path no route serves.
pub(super) async fn no_route(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such endpoint: {method} {}", uri.path()))
        .with_details(json!({"path": uri.path(), "documentation": "/openapi.json"}))
}

/// `405 method_not_allowed` for a route asked with a method it does not serve.
pub(super) async fn wrong_method(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not answer {method} (see /openapi.json for the methods it does answer)", uri.path()),
    )
    .with_details(json!({"path": uri.path(), "method": method.as_str()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_comes_from_the_declarations() {
        let t = access();
        let rule = |m: Method, p: &str| t.rule(&m, Some(p)).access;
        assert_eq!(rule(Method::GET, "/api/v1/locate"), Access::Public);
        assert_eq!(rule(Method::POST, "/api/v1/locate"), Access::Public);
        assert_eq!(rule(Method::HEAD, "/api/v1/layers"), Access::Public, "HEAD is GET's");
        assert_eq!(rule(Method::GET, "/tiles/{layer}/{z}/{x}/{y}"), Access::Public);
        assert_eq!(rule(Method::GET, "/tiles/incidents/{z}/{x}/{y}"), Access::Read);
        assert_eq!(rule(Method::GET, "/tiles/heatmap.json"), Access::Read);
        assert_eq!(rule(Method::GET, "/ogc/collections/{id}/items"), Access::Public);
        assert_eq!(rule(Method::GET, "/api/v1/incidents"), Access::Read);
        assert_eq!(rule(Method::GET, "/api/v1/live"), Access::Read);
        assert_eq!(rule(Method::POST, "/api/v1/positions"), Access::Report);
        assert_eq!(rule(Method::PUT, "/api/v1/responders/{id}/position"), Access::Report);
        assert_eq!(rule(Method::POST, "/api/v1/incidents"), Access::Report);
        assert_eq!(rule(Method::POST, "/api/v1/incidents/{id}/assign"), Access::Dispatch);
        assert_eq!(rule(Method::POST, "/api/v1/imports"), Access::Admin);
        assert_eq!(rule(Method::POST, "/api/v1/generations/{generation}/activate"), Access::Admin);
        assert_eq!(rule(Method::GET, "/api/v1/audit"), Access::Admin);
        assert_eq!(rule(Method::GET, "/metrics"), Access::Read);
        assert_eq!(rule(Method::DELETE, "/api/v1/locate"), Access::Public, "answered 405 by the router");
        assert_eq!(rule(Method::GET, "/an/undeclared/{route}"), Access::Admin, "closed unless declared");
        assert_eq!(rule(Method::GET, "/web/{*path}"), Access::Public, "the console's files");
        assert!(t.rule(&Method::GET, Some("/api/v1/incidents")).area_keys);
        assert!(!t.rule(&Method::POST, Some("/api/v1/incidents/{id}/assign")).area_keys);
    }

    #[test]
    fn the_document_is_whole() {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("JSON");
        // Every reference resolves.
        let text = document();
        for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = r.split('"').next().unwrap_or_default();
            assert!(doc["components"]["schemas"].get(name).is_some(), "dangling $ref {name}");
        }
        // Every operation says who may call it, and answers errors in the error shape.
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("operations") {
                assert!(op["security"].is_array(), "{method} {path}: no security");
                assert!(op["responses"]["default"].is_object(), "{method} {path}: no error answer");
                assert!(op["description"].as_str().is_some_and(|d| d.contains("Access:")), "{method} {path}");
            }
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Q {
        #[expect(dead_code, reason = "only parsed")]
        limit: u32,
        #[expect(dead_code, reason = "only parsed")]
        distance_m: f64,
    }

    #[test]
    fn refused_parameters_are_named() {
        let e = parse_query::<Q>("limit=abc&distance_m=3").expect_err("not a number");
        let (code, details) = e.code_and_details();
        assert_eq!(
            (code, details["parameter"].as_str(), details["value"].as_str()),
            ("invalid_limit", Some("limit"), Some("abc"))
        );
        let e = parse_query::<Q>("limit=3").expect_err("missing");
        let (code, details) = e.code_and_details();
        assert_eq!((code, details["parameter"].as_str()), ("missing_parameter", Some("distance_m")));
        let e = parse_query::<Q>("limit=-1&distance_m=3").expect_err("negative");
        assert_eq!(e.code_and_details().1["parameter"], "limit");
    }
}
