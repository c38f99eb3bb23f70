//! Prometheus metrics (`GET /metrics`, text exposition via prometheus-client): requests and latency by route,
//! points looked up, position fixes accepted, tile cache hits and misses, live clients, responders and incidents
//! held in memory.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a request counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// HTTP method.
    pub method: &'static str,
    /// The route template (`/api/v1/incidents/{id}`), never the raw path.
    pub route: &'static str,
    /// Status code.
    pub status: u16,
}

/// Labels of the latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// HTTP method.
    pub method: &'static str,
    /// The route template.
    pub route: &'static str,
}

/// Counters shared by the parts of the process that count things.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// Points answered by `/locate` (a batch counts each point).
    pub lookups: Counter,
    /// Position fixes accepted.
    pub positions: Counter,
    /// Tiles served from the cache.
    pub tile_hits: Counter,
    /// Tiles cut on request.
    pub tile_misses: Counter,
}

/// Values read when scraped.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// Open live WebSocket connections.
    pub live_clients: Gauge,
    /// Responders in the in-memory fleet.
    pub responders: Gauge,
    /// Incidents in the in-memory ledger.
    pub incidents: Gauge,
    /// Bytes of encoded tiles in the tile cache (bounded by `--tile-cache-mb`).
    pub tile_cache_bytes: Gauge,
}

/// The registry and the request metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    /// Counters the services increment.
    pub counters: Counters,
    /// Gauges set at scrape time.
    pub gauges: Gauges,
}

impl Metrics {
    /// Registers everything under the `gridmap_` prefix.
    pub fn new(counters: Counters) -> Self {
        let mut registry = Registry::with_prefix("gridmap");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 50 µs … ~1.6 s.
            Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
        });
        registry.register("http_requests", "HTTP requests by route and status", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by route", latency.clone());
        registry.register("lookups", "Points answered by /locate", counters.lookups.clone());
        registry.register("position_fixes", "Position fixes accepted", counters.positions.clone());
        registry.register("tile_cache_hits", "Tiles served from the cache", counters.tile_hits.clone());
        registry.register("tile_cache_misses", "Tiles cut on request", counters.tile_misses.clone());
        let gauges = Gauges::default();
        registry.register("live_clients", "Open live WebSocket connections", gauges.live_clients.clone());
        registry.register("responders", "Responders in the in-memory fleet", gauges.responders.clone());
        registry.register("incidents", "Incidents in the in-memory ledger", gauges.incidents.clone());
        registry.register(
            "tile_cache_bytes",
            "Bytes of encoded tiles in the tile cache (bounded by --tile-cache-mb)",
            gauges.tile_cache_bytes.clone(),
        );
        Self { registry, requests, latency, counters, gauges }
    }

    /// Counts one request. Labels are interned (`&'static str`): no allocation per request once a route was seen.
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let (method, route) = (intern(method), intern(route));
        self.latency.get_or_create(&RouteLabels { method, route }).observe(elapsed.as_secs_f64());
        self.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// The one `&'static str` of a label value (methods and route templates: a few dozen, each leaked once).
fn intern(value: &str) -> &'static str {
    static SEEN: std::sync::OnceLock<std::sync::RwLock<std::collections::HashSet<&'static str>>> =
        std::sync::OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(v) = seen.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(value) {
        return v;
    }
    let mut w = seen.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(v) = w.get(value) {
        return v;
    }
    let leaked: &'static str = Box::leak(value.to_owned().into_boxed_str());
    w.insert(leaked);
    leaked
}
