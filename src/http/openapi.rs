//! `GET /openapi.json` (OpenAPI 3.0) and `GET /docs` (a page that renders it, offline). The document is built from
//! [`ROUTES`], one line per endpoint, and from the access policy in code (`auth::policy::required`), so each
//! operation's security requirement is the one the server enforces. A test reads the routers' sources and fails
//! when an endpoint is routed but not listed here, or listed but not routed.

use std::sync::OnceLock;

use axum::Router;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::AppState;
use crate::auth::{Access, policy};

/// One endpoint: method, full path (axum `{param}` syntax), tag, summary, query parameters (`!` = required).
type Route = (&'static str, &'static str, &'static str, &'static str, &'static [&'static str]);

const CRS: &str = "crs";

/// Every endpoint the server routes.
pub(super) const ROUTES: &[Route] = &[
    ("GET", "/api/v1/locate", "lookup", "Street, community and grid at a point", &["lon!", "lat!", CRS, "layers"]),
    ("POST", "/api/v1/locate", "lookup", "Street, community and grid of up to 200 000 points, in input order", &[]),
    ("GET", "/api/v1/layers", "lookup", "Loaded layers: feature counts, generation, bbox", &[]),
    ("GET", "/api/v1/areas/{layer}", "lookup", "Areas intersecting a bbox", &["bbox!", CRS]),
    (
        "GET",
        "/api/v1/areas/{layer}/near",
        "lookup",
        "Areas within a distance of a point, nearest first",
        &["lon!", "lat!", "distance_m!", "limit", CRS],
    ),
    ("POST", "/api/v1/areas/{layer}/intersecting", "lookup", "Areas a GeoJSON geometry intersects", &[]),
    (
        "GET",
        "/api/v1/areas/{layer}/{code}",
        "lookup",
        "One area with its parent chain, children and neighbours",
        &["geometry", CRS],
    ),
    ("GET", "/api/v1/areas/{layer}/{code}/h3", "lookup", "The H3 cells whose centres lie in an area", &["resolution"]),
    ("GET", "/api/v1/h3/{cell}/grids", "lookup", "The grids an H3 cell touches", &[]),
    ("GET", "/api/v1/generations", "boundaries", "Generations, newest first", &[]),
    ("POST", "/api/v1/generations/{generation}/activate", "boundaries", "Make a generation the active one", &[]),
    ("POST", "/api/v1/generations/rollback", "boundaries", "Return to the generation active before", &[]),
    (
        "DELETE",
        "/api/v1/generations/{generation}",
        "boundaries",
        "Discard a staged generation that was never active (409 otherwise)",
        &[],
    ),
    (
        "POST",
        "/api/v1/imports",
        "boundaries",
        "Upload a boundary file (multipart): validate, stage, optionally activate",
        &[],
    ),
    ("POST", "/api/v1/incidents", "incidents", "Report an incident (geocoded on write)", &[]),
    (
        "GET",
        "/api/v1/incidents",
        "incidents",
        "Incidents, newest first",
        &["crs", "bbox", "street", "community", "grid", "status", "category", "from", "to", "limit", "cursor"],
    ),
    ("GET", "/api/v1/incidents/{id}", "incidents", "One incident with history and assignments", &["crs"]),
    ("POST", "/api/v1/incidents/{id}/status", "incidents", "Move an incident along its lifecycle", &[]),
    ("POST", "/api/v1/incidents/{id}/assign", "dispatch", "Assign a responder (replace / additional)", &[]),
    ("POST", "/api/v1/incidents/{id}/unassign", "dispatch", "Release a responder or everyone", &[]),
    ("POST", "/api/v1/incidents/{id}/recommend", "dispatch", "Responders ranked by the dispatch policy", &[]),
    ("GET", "/api/v1/incident-categories", "incidents", "Accepted incident categories", &[]),
    (
        "GET",
        "/api/v1/dispatch/nearest",
        "dispatch",
        "Nearest available responders",
        &["lon!", "lat!", "k", "skill", "team", "max_distance_m", CRS],
    ),
    ("GET", "/api/v1/dispatch/policy", "dispatch", "The dispatch policy in force", &[]),
    ("POST", "/api/v1/responders", "responders", "Add a responder", &[]),
    ("GET", "/api/v1/responders", "responders", "Responders with live positions", &["crs"]),
    ("GET", "/api/v1/responders/{id}", "responders", "One responder", &["crs"]),
    ("PUT", "/api/v1/responders/{id}/status", "responders", "Change availability", &[]),
    ("PUT", "/api/v1/responders/{id}/position", "responders", "Report one position", &[]),
    ("GET", "/api/v1/responders/{id}/positions", "responders", "Position history", &["from", "to"]),
    ("POST", "/api/v1/responders/load", "responders", "Load a roster (CSV or GeoJSON), all or none", &["crs", "name"]),
    ("POST", "/api/v1/positions", "responders", "Report a batch of positions", &[]),
    ("POST", "/api/v1/patrols", "patrols", "Store a patrol track (cells and grids covered)", &[]),
    ("POST", "/api/v1/patrols/gpx", "patrols", "Store a GPX track as a patrol", &["responder_id!", "name"]),
    ("GET", "/api/v1/patrols/unpatrolled-grids", "patrols", "Grids not patrolled in the last days", &["days"]),
    ("GET", "/api/v1/grids/{code}/patrol-coverage", "patrols", "Share of a grid's cells patrolled", &["from", "to"]),
    ("POST", "/api/v1/resources", "resources", "Add fixed resources", &[]),
    (
        "GET",
        "/api/v1/resources",
        "resources",
        "Fixed resources",
        &["crs", "bbox", "category", "street", "community", "grid", "limit", "cursor"],
    ),
    ("GET", "/api/v1/resources/{id}", "resources", "One fixed resource", &["crs"]),
    (
        "POST",
        "/api/v1/resources/load",
        "resources",
        "Load fixed resources from a file",
        &["category", "name_field", "id_field", "crs", "name"],
    ),
    ("GET", "/api/v1/resource-categories", "resources", "Fixed resource categories", &[]),
    ("POST", "/api/v1/hazards", "hazards", "Report a hazard (point or area)", &[]),
    (
        "GET",
        "/api/v1/hazards",
        "hazards",
        "Hazards, newest first",
        &["crs", "bbox", "street", "community", "grid", "status", "category", "overdue", "limit", "cursor"],
    ),
    (
        "GET",
        "/api/v1/hazards/overdue",
        "hazards",
        "Hazards past their deadline",
        &["crs", "bbox", "street", "community", "grid", "category", "limit", "cursor"],
    ),
    ("GET", "/api/v1/hazards/{id}", "hazards", "One hazard with history", &["crs"]),
    ("POST", "/api/v1/hazards/{id}/status", "hazards", "Move a hazard along its lifecycle", &[]),
    ("GET", "/api/v1/hazard-categories", "hazards", "Hazard categories", &[]),
    (
        "GET",
        "/api/v1/heatmap",
        "statistics",
        "H3 hexagons with counts (GeoJSON)",
        &["source", "resolution", "zoom", "bbox", "from", "to", "category", "status", "street", "community", "grid"],
    ),
    (
        "GET",
        "/api/v1/stats/grids",
        "statistics",
        "Per-grid counts, density, open/closed, time to close",
        &["from", "to", "category"],
    ),
    ("GET", "/api/v1/live", "live", "WebSocket of JSON events", &["access_token"]),
    ("GET", "/api/v1/audit", "operations", "The audit log (gis_admin)", &["action", "actor", "limit", "cursor"]),
    ("GET", "/tiles/{layer}/{z}/{x}/{y}", "tiles", "A Mapbox Vector Tile ({y} ends in .mvt)", &[]),
    (
        "GET",
        "/tiles/{file}",
        "tiles",
        "TileJSON ({layer}.json) or the MapLibre style (style.json; lang=en for English labels)",
        &["lang"],
    ),
    ("GET", "/ogc", "ogc", "OGC API Features landing page", &[]),
    ("GET", "/ogc/", "ogc", "OGC API Features landing page", &[]),
    ("GET", "/ogc/conformance", "ogc", "Conformance classes", &[]),
    ("GET", "/ogc/collections", "ogc", "Boundary layers", &[]),
    ("GET", "/ogc/collections/{id}", "ogc", "One boundary layer", &[]),
    (
        "GET",
        "/ogc/collections/{id}/items",
        "ogc",
        "Features",
        &["bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "code", "name", "parent_code"],
    ),
    ("GET", "/ogc/collections/{id}/items/{feature}", "ogc", "One feature", &["crs"]),
    ("GET", "/healthz", "operations", "Liveness", &[]),
    ("GET", "/readyz", "operations", "Readiness (store answers, boundaries loaded)", &[]),
    ("GET", "/metrics", "operations", "Prometheus metrics", &[]),
    ("GET", "/openapi.json", "operations", "This document", &[]),
    ("GET", "/docs", "operations", "API documentation page", &[]),
    ("GET", "/", "console", "The dispatch console", &[]),
    ("GET", "/web/{*path}", "console", "The console's files", &[]),
];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(document)).route("/docs", get(docs))
}

async fn document() -> Response {
    static DOC: OnceLock<String> = OnceLock::new();
    let body = DOC.get_or_init(|| build().to_string()).clone();
    ([(header::CONTENT_TYPE, "application/vnd.oai.openapi+json;version=3.0")], body).into_response()
}

async fn docs() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], include_str!("../../web/docs.html")).into_response()
}

/// `get_api_v1_incidents_id`-style ids, unique per method and path (a trailing slash is its own path).
fn operation_id(method: &str, path: &str) -> String {
    let mut id =
        format!("{}_{}", method.to_lowercase(), path.trim_matches('/').replace(['/', '{', '}', '-', '.', '*'], "_"));
    if path.len() > 1 && path.ends_with('/') {
        id.push_str("_index");
    }
    id
}

/// The OpenAPI 3.0 document.
pub(super) fn build() -> Value {
    let mut paths = Map::new();
    for &(method, path, tag, summary, query) in ROUTES {
        let openapi_path = path.replace("{*path}", "{path}");
        let http_method: Method = method.parse().unwrap_or(Method::GET);
        // Paths with parameters are classified with a sample value in each parameter's place.
        let sample: String =
            path.split('/').map(|s| if s.starts_with('{') { "x" } else { s }).collect::<Vec<_>>().join("/");
        let access = policy::required(&http_method, &sample);
        let mut parameters: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let name = name.trim_start_matches('*');
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
            })
            .collect();
        parameters.extend(query.iter().map(|q| {
            let (name, required) = q.strip_suffix('!').map_or((*q, false), |n| (n, true));
            json!({"name": name, "in": "query", "required": required, "schema": {"type": "string"}})
        }));
        let mut op = json!({
            "tags": [tag],
            "summary": summary,
            "description": format!("Access: {}.", access.needs()),
            "operationId": operation_id(method, &openapi_path),
            "parameters": parameters,
            "responses": {
                "200": {"description": "Success"},
                "400": {"description": "Bad request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
            "security": if access == Access::Public { json!([]) } else { json!([{"bearer": []}]) },
        });
        if access != Access::Public {
            op["responses"]["401"] = json!({"description": "No key, or an unknown or revoked key"});
            op["responses"]["403"] = json!({"description": "The key's role may not do this"});
        }
        if method == "DELETE" {
            op["responses"] = json!({"204": {"description": "Deleted"}, "409": {"description": "Cannot be deleted"}});
        }
        if method == "POST" || method == "PUT" {
            let content = match path {
                "/api/v1/imports" => json!({"multipart/form-data": {"schema": {"type": "object"}}}),
                "/api/v1/patrols/gpx" => json!({"application/gpx+xml": {"schema": {"type": "string"}}}),
                _ => json!({"application/json": {"schema": {"type": "object"}}}),
            };
            op["requestBody"] = json!({"required": !path.ends_with("/rollback"), "content": content});
        }
        let entry = paths.entry(openapi_path).or_insert_with(|| json!({}));
        entry[method.to_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "gridmap",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Boundary layers, lookups, incidents, dispatch, tiles and OGC API Features for grid-based urban governance. Coordinates are [lon, lat] WGS84 unless `crs` says otherwise; errors are {\"error\": {\"code\", \"message\", \"details\"}}.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API key from `gridmap keys create`"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}}}},
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Routers whose routes are not under `/api/v1`.
    const TOP_LEVEL: [&str; 6] = ["health.rs", "tiles.rs", "web.rs", "ogc.rs", "metrics.rs", "openapi.rs"];

    /// `(METHOD, full path)` of every `.route(...)` in the HTTP sources.
    fn routed() -> BTreeSet<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
        let mut out = BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("src/http") {
            let path = entry.expect("entry").path();
            let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_owned();
            let source = std::fs::read_to_string(&path).expect("source");
            let prefix = if TOP_LEVEL.contains(&file.as_str()) { "" } else { "/api/v1" };
            for chunk in source.split(".route(\"").skip(1) {
                let Some((route, rest)) = chunk.split_once('"') else { continue };
                if !route.starts_with('/') {
                    continue;
                }
                let call = rest.split(".route(").next().unwrap_or_default().split("\n}").next().unwrap_or_default();
                for (m, needle) in [("GET", "get("), ("POST", "post("), ("PUT", "put("), ("DELETE", "delete(")] {
                    if call.contains(needle) {
                        out.insert((m.to_owned(), format!("{prefix}{route}")));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_routed_endpoint_is_documented_and_nothing_else() {
        let documented: BTreeSet<(String, String)> =
            ROUTES.iter().map(|(m, p, ..)| ((*m).to_owned(), (*p).to_owned())).collect();
        let routed = routed();
        let missing: Vec<_> = routed.difference(&documented).collect();
        let stale: Vec<_> = documented.difference(&routed).collect();
        assert!(missing.is_empty() && stale.is_empty(), "undocumented: {missing:?}; not routed: {stale:?}");
    }

    #[test]
    fn security_follows_the_policy() {
        let doc = build();
        assert_eq!(doc["paths"]["/api/v1/locate"]["get"]["security"], json!([]));
        assert_eq!(doc["paths"]["/api/v1/imports"]["post"]["security"], json!([{"bearer": []}]));
        assert!(
            doc["paths"]["/api/v1/incidents/{id}/assign"]["post"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("dispatcher"))
        );
        assert_eq!(doc["paths"]["/api/v1/areas/{layer}/near"]["get"]["parameters"][0]["in"], "path");
    }
}
