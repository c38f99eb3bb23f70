//! `gridmap import-roads FILE`: a road network (OpenStreetMap `.osm.pbf` or GeoJSON lines) read, built for every
//! profile, reported, and (unless `--dry-run`) stored as the active network. A server beside it picks it up at its
//! next reload poll.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::EXIT_REJECTED;
use crate::dispatch::DispatchPolicy;
use crate::events::Events;
use crate::roads::{ImportedNetwork, RoadError, RoadService};

/// Reads, builds, reports and stores; a file that cannot be read exits with `EXIT_REJECTED` and stores nothing.
pub async fn import(
    db: &str,
    file: &Path,
    dry_run: bool,
    json: bool,
    policy: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let policy = match policy {
        Some(path) => DispatchPolicy::from_file(path)?,
        None => DispatchPolicy::default(),
    };
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let store = super::open_store(db, !dry_run).await?;
    let roads = RoadService::new(store.clone(), policy.roads, Events::default());
    let actor = crate::audit::AuditLog::cli_actor();
    let name = file.display().to_string();
    let imported = match roads.import(&name, bytes, dry_run, &actor).await {
        Ok(i) => i,
        Err(e @ (RoadError::Format { .. } | RoadError::Empty { .. } | RoadError::Io { .. })) => {
            eprintln!("rejected: {e}");
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(n) = &imported.network {
        let details = serde_json::json!({"source": n.source, "ways": n.ways, "edges": imported.report.build.edges});
        crate::audit::AuditLog::new(store)
            .record(&actor, "roads.imported", Some(format!("road_network:{}", n.id)), details)
            .await;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&imported)?);
    } else {
        print!("{}", text(&imported));
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as a person reads it.
fn text(i: &ImportedNetwork) -> String {
    use std::fmt::Write;
    let (r, b) = (&i.report.read, &i.report.build);
    let mut out = String::new();
    let _ = writeln!(out, "{} ({}): {} ways with a highway tag", r.file, r.format, r.ways_read);
    let kept: Vec<String> = r.kept_by_class.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let _ = writeln!(out, "kept by class: {}", kept.join(", "));
    if !r.dropped.is_empty() {
        let dropped: Vec<String> = r.dropped.iter().map(|(why, n)| format!("{n} {why}")).collect();
        let _ = writeln!(out, "dropped: {}", dropped.join("; "));
    }
    if r.missing_nodes > 0 {
        let _ = writeln!(out, "{} node references outside the extract (ways cut there)", r.missing_nodes);
    }
    let _ = writeln!(
        out,
        "network: {} junctions, {} edges, {:.1} km, bbox {:.5},{:.5},{:.5},{:.5}; built in {} ms, {} MB",
        b.nodes, b.edges, b.length_km, b.bbox[0], b.bbox[1], b.bbox[2], b.bbox[3], b.build_ms, i.report.memory_mb
    );
    for (p, pr) in &b.profiles {
        let _ = writeln!(
            out,
            "  {p}: {} usable edges in {} components; routable {} edges, {:.1} km ({}% of the usable edges lie outside the largest component and are left out)",
            pr.usable_edges, pr.components, pr.routable_edges, pr.routable_km, pr.outside_largest_pct
        );
    }
    match &i.network {
        Some(n) => {
            let _ = writeln!(out, "stored as road network {} and made active", n.id);
        }
        None => {
            let _ = writeln!(out, "dry run: nothing stored");
        }
    }
    out
}
