//! The integration suite in one test binary (a 2-core machine links one binary instead of twenty-two): every
//! module drives the real HTTP API or CLI against real SQLite files and a real PostGIS (`both_stores!`). The crash,
//! outage, console and fuzz-replay tests stay in binaries of their own: they kill processes, cut connections or
//! drive a browser, and run apart from the rest.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod acceptance_locate;
mod access;
mod areas;
mod assessment;
mod boundary_files;
mod cli;
mod contract;
mod departments;
mod dispatch;
mod hazards;
mod history;
mod hostile;
mod http_api;
mod import_formats;
mod incidents;
mod live;
mod ogc;
mod openapi_fuzz;
mod patrols;
mod properties;
mod replicas;
mod resources;
mod responders;
mod roads;
mod stats;
mod store;
mod tiles;
