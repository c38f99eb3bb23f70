//! Point → street / community / grid, plus the point's H3 cell: the answer behind `/locate`.

use std::sync::Arc;

use arc_swap::ArcSwap;
use h3o::{CellIndex, LatLng, Resolution};
use serde::Serialize;

use crate::coord::LonLat;
use crate::index::{BoundaryIndex, LayerIndex};
use crate::layers::{GenerationId, Layer};

/// Which layers a lookup should answer (the `layers=` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerSet([bool; 3]);

impl LayerSet {
    /// All three layers.
    pub const ALL: LayerSet = LayerSet([true; 3]);

    /// Only the listed layers.
    pub fn of(layers: &[Layer]) -> Self {
        let mut set = [false; 3];
        for l in layers {
            set[l.index()] = true;
        }
        Self(set)
    }

    /// True when the layer is asked for.
    pub fn contains(self, layer: Layer) -> bool {
        self.0[layer.index()]
    }
}

/// Holds the active index and swaps it atomically; readers never wait for a swap.
#[derive(Debug)]
pub struct Locator {
    index: ArcSwap<BoundaryIndex>,
    resolution: Resolution,
}

/// One layer's part of an answer.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, utoipa::ToSchema)]
pub struct AreaRef<'a> {
    /// Feature code.
    pub code: &'a str,
    /// Feature name.
    pub name: &'a str,
}

/// The answer for one point; borrows names and codes from the index it came from.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Location<'a> {
    /// Street covering the point, if any (and asked for).
    pub street: Option<AreaRef<'a>>,
    /// Community covering the point.
    pub community: Option<AreaRef<'a>>,
    /// Grid covering the point.
    pub grid: Option<AreaRef<'a>>,
    /// H3 cell of the point at the configured resolution.
    #[serde(serialize_with = "serialize_cell")]
    #[schema(value_type = String, example = "8a30c0a6a86ffff")]
    pub h3: CellIndex,
    /// Generation the answer came from (null before any boundaries are loaded).
    pub generation: Option<GenerationId>,
}

fn serialize_cell<S: serde::Serializer>(cell: &CellIndex, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(cell)
}

impl Locator {
    /// A locator answering from `index`, with H3 cells at `resolution`.
    pub fn new(index: BoundaryIndex, resolution: Resolution) -> Self {
        Self { index: ArcSwap::from_pointee(index), resolution }
    }

    /// The index in force now; hold it for the duration of one request.
    pub fn current(&self) -> Arc<BoundaryIndex> {
        self.index.load_full()
    }

    /// Replaces the index; requests already running finish on the old one.
    pub fn swap(&self, index: BoundaryIndex) {
        self.index.store(Arc::new(index));
    }

    /// H3 resolution of answers.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }
}

/// Answers one point from one index snapshot.
pub fn locate<'a>(index: &'a BoundaryIndex, resolution: Resolution, p: LonLat, layers: LayerSet) -> Location<'a> {
    let find = |layer: Layer| -> Option<AreaRef<'a>> {
        if !layers.contains(layer) {
            return None;
        }
        let li: &'a LayerIndex = index.layer(layer);
        li.locate(p.coord()).map(|i| {
            let f = &li.entry(i).feature;
            AreaRef { code: &f.code, name: &f.name }
        })
    };
    Location {
        street: find(Layer::Streets),
        community: find(Layer::Communities),
        grid: find(Layer::Grids),
        h3: h3_cell(p, resolution),
        generation: index.generation(),
    }
}

/// Where an item falls in the boundary hierarchy, fixed when it is written (and refreshed on activation while open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Geocode {
    /// Street covering the point.
    pub street_code: Option<String>,
    /// Community covering the point.
    pub community_code: Option<String>,
    /// Grid covering the point.
    pub grid_code: Option<String>,
    /// H3 cell of the point at the service's resolution.
    pub h3: String,
    /// Generation the codes come from.
    pub generation: Option<GenerationId>,
}

/// The codes and cell of a point, as stored with operational items.
pub fn geocode(index: &BoundaryIndex, resolution: Resolution, p: LonLat) -> Geocode {
    let l = locate(index, resolution, p, LayerSet::ALL);
    let code = |a: Option<AreaRef<'_>>| a.map(|a| a.code.to_owned());
    Geocode {
        street_code: code(l.street),
        community_code: code(l.community),
        grid_code: code(l.grid),
        h3: l.h3.to_string(),
        generation: l.generation,
    }
}

/// The H3 cell of a validated point.
pub fn h3_cell(p: LonLat, resolution: Resolution) -> CellIndex {
    // LonLat is finite and in range, which is all LatLng::new checks.
    match LatLng::new(p.lat(), p.lon()) {
        Ok(ll) => ll.to_cell(resolution),
        Err(_) => unreachable!("LonLat is validated"),
    }
}

/// The grid covering a point and that grid's community (its parent code); off the grids, the community covering it.
pub fn grid_and_community(index: &BoundaryIndex, p: LonLat) -> (Option<String>, Option<String>) {
    let grids = index.layer(Layer::Grids);
    match grids.locate(p.coord()) {
        Some(i) => {
            let f = &grids.entry(i).feature;
            (Some(f.code.clone()), f.parent_code.clone())
        }
        None => (None, index.layer(Layer::Communities).code_at(p.coord()).map(str::to_owned)),
    }
}

/// The items whose codes differ under `index`, with their new codes (for re-geocoding after an activation).
pub fn regeocoded<I>(
    index: &BoundaryIndex,
    resolution: Resolution,
    items: Vec<(I, LonLat, Geocode)>,
) -> Vec<(I, Geocode)> {
    items
        .into_iter()
        .filter_map(|(id, p, old)| {
            let new = geocode(index, resolution, p);
            (new != old).then_some((id, new))
        })
        .collect()
}
