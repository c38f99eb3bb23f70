//! Which access level each request needs, from its method and path: one table, so a new endpoint is closed unless
//! it is listed as open here.

use axum::http::Method;

use super::Access;

/// Item layers of `/tiles`: they show people and events, so they need a key.
const ITEM_TILE_LAYERS: [&str; 5] = ["incidents", "hazards", "responders", "resources", "heatmap"];

/// The access level a request needs.
pub fn required(method: &Method, path: &str) -> Access {
    if let Some(api) = path.strip_prefix("/api/v1") {
        return api_access(method, api);
    }
    if let Some(rest) = path.strip_prefix("/tiles/") {
        let layer = rest.split(['/', '.']).next().unwrap_or_default();
        return if ITEM_TILE_LAYERS.contains(&layer) { Access::Read } else { Access::Public };
    }
    // Health, metrics, OpenAPI, OGC API Features (boundary layers only) and the console's files.
    Access::Public
}

fn api_access(method: &Method, api: &str) -> Access {
    let segments: Vec<&str> = api.trim_matches('/').split('/').collect();
    let reads = method == Method::GET || method == Method::HEAD;
    match segments.as_slice() {
        // Boundary reads: open.
        ["locate"] | ["layers", ..] | ["areas", ..] | ["lookup", ..] | ["h3", ..] => Access::Public,
        ["incident-categories"] | ["resource-categories"] | ["hazard-categories"] if reads => Access::Public,
        ["audit", ..] | ["keys", ..] => Access::Admin,
        _ if reads => Access::Read,
        // Writes.
        ["imports", ..] | ["generations", ..] | ["responders", "load"] | ["resources", ..] => Access::Admin,
        ["incidents", _, "assign" | "unassign" | "recommend"] => Access::Dispatch,
        ["responders"] => Access::Dispatch,
        ["positions"] | ["responders", _, "position" | "status"] | ["patrols", ..] => Access::Report,
        ["incidents", ..] | ["hazards", ..] => Access::Report,
        _ => Access::Admin,
    }
}

/// Whether a key restricted to a street or community may use the path: only the endpoints that filter what they
/// return by the scope (incidents, hazards, fixed resources) and the open ones; the rest would show items outside it.
pub fn scopable(method: &Method, path: &str) -> bool {
    if required(method, path) == Access::Public {
        return true;
    }
    let Some(api) = path.strip_prefix("/api/v1") else { return false };
    let segments: Vec<&str> = api.trim_matches('/').split('/').collect();
    let reads = method == Method::GET || method == Method::HEAD;
    match segments.as_slice() {
        ["incidents" | "hazards"] | ["incidents" | "hazards", _, "status"] => true,
        ["incidents" | "hazards" | "resources", _] | ["resources"] => reads,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_are_open_and_the_rest_is_not() {
        let get = |p: &str| required(&Method::GET, p);
        let post = |p: &str| required(&Method::POST, p);
        assert_eq!(get("/api/v1/locate"), Access::Public);
        assert_eq!(post("/api/v1/locate"), Access::Public);
        assert_eq!(get("/tiles/grids/14/1/2.mvt"), Access::Public);
        assert_eq!(get("/tiles/incidents/14/1/2.mvt"), Access::Read);
        assert_eq!(get("/tiles/heatmap.json"), Access::Read);
        assert_eq!(get("/ogc/collections/grids/items"), Access::Public);
        assert_eq!(get("/api/v1/incidents"), Access::Read);
        assert_eq!(get("/api/v1/live"), Access::Read);
        assert_eq!(post("/api/v1/positions"), Access::Report);
        assert_eq!(required(&Method::PUT, "/api/v1/responders/7/position"), Access::Report);
        assert_eq!(post("/api/v1/incidents"), Access::Report);
        assert_eq!(post("/api/v1/incidents/4/assign"), Access::Dispatch);
        assert_eq!(post("/api/v1/incidents/4/recommend"), Access::Dispatch);
        assert_eq!(post("/api/v1/imports"), Access::Admin);
        assert_eq!(post("/api/v1/generations/3/activate"), Access::Admin);
        assert_eq!(get("/api/v1/audit"), Access::Admin);
        assert_eq!(required(&Method::DELETE, "/api/v1/something-new"), Access::Admin);
    }
}
