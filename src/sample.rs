//! The bundled sample boundaries (synthetic Qinhuai hierarchy, see `boundaries/README.md`), compiled in.

use crate::catalog::ImportFile;
use crate::import::ReadOptions;
use crate::layers::Layer;

const STREETS: &str = include_str!("../boundaries/qinhuai/streets.geojson");
const COMMUNITIES: &str = include_str!("../boundaries/qinhuai/communities.geojson");
const GRIDS: &str = include_str!("../boundaries/qinhuai/grids.geojson");

/// The three sample layers as import files.
pub fn files() -> Vec<ImportFile> {
    [(Layer::Streets, STREETS), (Layer::Communities, COMMUNITIES), (Layer::Grids, GRIDS)]
        .into_iter()
        .map(|(layer, text)| ImportFile {
            name: format!("boundaries/qinhuai/{layer}.geojson"),
            bytes: text.as_bytes().to_vec(),
            options: ReadOptions::new(layer),
        })
        .collect()
}
