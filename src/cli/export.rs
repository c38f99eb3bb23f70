//! `gridmap export-tiles`: a PMTiles archive of the served layers for offline grid terminals, with a progress bar.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use geo::{Coord, Rect};
use indicatif::{ProgressBar, ProgressStyle};

use super::{DbArgs, EXIT_REJECTED};
use crate::layers::Layer;
use crate::service::{self, Options};
use crate::tiles::TileLayer;
use crate::tiles::export::{ExportError, ExportPlan, export};

/// `gridmap export-tiles`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Layers to include (comma list): streets, communities, grids, incidents, hazards, resources, heatmap.
    #[arg(long, value_delimiter = ',', default_value = "streets,communities,grids")]
    pub layers: Vec<TileLayer>,
    /// Shallowest zoom.
    #[arg(long, default_value_t = 10)]
    pub minzoom: u8,
    /// Deepest zoom (boundary layers are cut down to 18; clients overzoom beyond).
    #[arg(long, default_value_t = 16)]
    pub maxzoom: u8,
    /// min_lon,min_lat,max_lon,max_lat (WGS84); default: the streets layer's extent.
    #[arg(long)]
    pub bbox: Option<String>,
    /// The .pmtiles file to write (replaced only once the archive is complete).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Cuts the tiles through the same services `serve` runs and writes the archive beside `out`, renaming it into place
/// when complete, so an interrupted export never leaves a truncated file under the asked name.
pub async fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_store(&args.db.db, false).await?;
    let started = service::start(store, Options { sample: false, tile_cache_bytes: 16 << 20, ..Options::default() })
        .await
        .context("loading the layers")?;
    let tiles = started.state.tiles.clone();
    let bbox = match args.bbox.as_deref().map(parse_bbox).transpose() {
        Ok(Some(b)) => b,
        Ok(None) => match tiles.bounds(TileLayer::Boundary(Layer::Streets)) {
            Some(b) => b,
            None => {
                eprintln!("rejected: no boundaries are active in this database; import and activate some first");
                return Ok(ExitCode::from(EXIT_REJECTED));
            }
        },
        Err(e) => {
            eprintln!("rejected: {e}");
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
    };
    let plan = ExportPlan { layers: args.layers.clone(), min_zoom: args.minzoom, max_zoom: args.maxzoom, bbox };
    let total = match plan.tiles() {
        Ok(t) => t.len() as u64,
        Err(e) => {
            eprintln!("rejected: {e}");
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
    };
    let partial = args.out.with_extension("pmtiles.partial");
    let file = std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    // Drawn only when stderr is a terminal.
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} tiles {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let clock = Instant::now();
    let result = export(&tiles, &plan, std::io::BufWriter::new(file), |done| bar.set_position(done)).await;
    bar.finish_and_clear();
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return match e {
                ExportError::Zooms(_) => {
                    eprintln!("rejected: {e}");
                    Ok(ExitCode::from(EXIT_REJECTED))
                }
                other => Err(other).context("exporting tiles"),
            };
        }
    };
    std::fs::rename(&partial, &args.out).with_context(|| format!("moving the archive to {}", args.out.display()))?;
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    let names: Vec<&str> = args.layers.iter().map(|l| l.as_str()).collect();
    println!(
        "wrote {} ({} of {} tiles held features; {}, z{}–{}): {:.1} MB, largest tile {:.1} KB uncompressed, in {:.1} s",
        args.out.display(),
        summary.tiles_written,
        summary.tiles_considered,
        names.join(","),
        args.minzoom,
        args.maxzoom,
        size as f64 / 1e6,
        summary.largest_tile_bytes as f64 / 1e3,
        clock.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_bbox(raw: &str) -> Result<Rect<f64>, String> {
    let n: Vec<f64> = raw
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("--bbox {raw:?}: expected four numbers min_lon,min_lat,max_lon,max_lat"))?;
    match n[..] {
        [a, b, c, d] if a < c && b < d && (-180.0..=180.0).contains(&a) && (-180.0..=180.0).contains(&c) => {
            if (-90.0..=90.0).contains(&b) && (-90.0..=90.0).contains(&d) {
                Ok(Rect::new(Coord { x: a, y: b }, Coord { x: c, y: d }))
            } else {
                Err(format!("--bbox {raw:?}: latitudes must lie within ±90"))
            }
        }
        _ => Err(format!(
            "--bbox {raw:?}: expected min_lon,min_lat,max_lon,max_lat with min < max, longitudes within ±180"
        )),
    }
}
