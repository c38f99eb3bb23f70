//! Spatial questions about the boundary features of one index, for other modules: one area with its parent chain,
//! children and neighbours; features intersecting a box or polygon; features within a distance of a point; the
//! grids under an H3 cell and a grid's H3 cover. Pure functions over a [`BoundaryIndex`]; HTTP lives in
//! `http::areas`.

use geo::{
    BoundingRect, Closest, ClosestPoint, Coord, Distance, Geometry, Haversine, Intersects, MultiPolygon, Point,
    Polygon, Rect,
};
use h3o::{CellIndex, Resolution};

use crate::coord::LonLat;
use crate::index::{BoundaryIndex, LayerIndex};
use crate::layers::{Feature, Layer};

/// Metres per degree of latitude (and of longitude at the equator), for growing a search box.
const M_PER_DEGREE: f64 = 111_320.0;

/// The feature with a code.
pub fn find<'a>(index: &'a BoundaryIndex, layer: Layer, code: &str) -> Option<&'a Feature> {
    index.layer(layer).find(code)
}

/// The features above one: its parent, the parent's parent, … (those whose codes are found).
pub fn parents<'a>(index: &'a BoundaryIndex, layer: Layer, feature: &'a Feature) -> Vec<(Layer, &'a Feature)> {
    let mut chain = Vec::new();
    let (mut layer, mut current) = (layer, feature);
    while let (Some(up), Some(code)) = (layer.parent(), current.parent_code.as_deref()) {
        let Some(parent) = find(index, up, code) else { break };
        chain.push((up, parent));
        (layer, current) = (up, parent);
    }
    chain
}

/// The features of the next layer down that name this code as parent, in code order.
pub fn children<'a>(index: &'a BoundaryIndex, layer: Layer, code: &str) -> Vec<&'a Feature> {
    let Some(down) = layer.child() else { return Vec::new() };
    index.layer(down).entries().iter().map(|e| &e.feature).filter(|f| f.parent_code.as_deref() == Some(code)).collect()
}

/// Features of the same layer that touch or overlap this one, in code order.
pub fn neighbours<'a>(li: &'a LayerIndex, feature: &Feature) -> Vec<&'a Feature> {
    let Some(rect) = feature.geometry.bounding_rect() else { return Vec::new() };
    let grown = grow(rect, 1e-7);
    li.candidates_in(grown)
        .into_iter()
        .map(|i| &li.entry(i).feature)
        .filter(|f| f.code != feature.code && f.geometry.intersects(&feature.geometry))
        .collect()
}

/// Features intersecting a geometry (a box, a polygon, a line or a point), in code order.
pub fn intersecting<'a>(li: &'a LayerIndex, geometry: &Geometry<f64>) -> Vec<&'a Feature> {
    let Some(rect) = geometry.bounding_rect() else { return Vec::new() };
    li.candidates_in(rect)
        .into_iter()
        .map(|i| &li.entry(i).feature)
        .filter(|f| f.geometry.intersects(geometry))
        .collect()
}

/// Features within `distance_m` of a point (0 when the point is inside), nearest first, with the distance:
/// great-circle (haversine) to the closest point of the feature's boundary found in lon/lat.
pub fn within(li: &LayerIndex, p: LonLat, distance_m: f64) -> Vec<(&Feature, f64)> {
    let lat_deg = distance_m / M_PER_DEGREE;
    let lon_deg = distance_m / (M_PER_DEGREE * p.lat().to_radians().cos().max(0.01));
    let c = p.coord();
    let rect = Rect::new(Coord { x: c.x - lon_deg, y: c.y - lat_deg }, Coord { x: c.x + lon_deg, y: c.y + lat_deg });
    let mut found: Vec<(&Feature, f64)> = li
        .candidates_in(rect)
        .into_iter()
        .filter_map(|i| {
            let e = li.entry(i);
            let d = if e.covers(c) { 0.0 } else { distance_m_to(&e.feature.geometry, Point(c))? };
            (d <= distance_m).then_some((&e.feature, d))
        })
        .collect();
    found.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.code.cmp(&b.0.code)));
    found
}

fn distance_m_to(area: &MultiPolygon<f64>, p: Point<f64>) -> Option<f64> {
    match area.closest_point(&p) {
        Closest::Intersection(_) => Some(0.0),
        Closest::SinglePoint(q) => Some(Haversine.distance(p, q)),
        Closest::Indeterminate => None,
    }
}

fn grow(r: Rect<f64>, by: f64) -> Rect<f64> {
    Rect::new(Coord { x: r.min().x - by, y: r.min().y - by }, Coord { x: r.max().x + by, y: r.max().y + by })
}

/// An H3 cell's hexagon (or pentagon) as a polygon in lon/lat.
pub fn cell_polygon(cell: CellIndex) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = cell.boundary().iter().map(|ll| Coord { x: ll.lng(), y: ll.lat() }).collect();
    Polygon::new(ring.into(), Vec::new())
}

/// The cells at `resolution` whose centres lie inside an area (each cell belongs to one area of a partition).
pub fn h3_cover(area: &MultiPolygon<f64>, resolution: Resolution) -> Vec<CellIndex> {
    let mut tiler = h3o::geom::TilerBuilder::new(resolution).build();
    for polygon in area {
        // Stored polygons passed import validation; one the tiler still refuses is skipped, not fatal.
        let _ = tiler.add(polygon.clone());
    }
    let mut cells: Vec<CellIndex> = tiler.into_coverage().collect();
    cells.sort_unstable();
    cells.dedup();
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_to_a_square_from_outside() {
        let square: MultiPolygon<f64> = MultiPolygon(vec![Polygon::new(
            vec![(0.0, 0.0), (0.01, 0.0), (0.01, 0.01), (0.0, 0.01), (0.0, 0.0)].into(),
            vec![],
        )]);
        let d = distance_m_to(&square, Point::new(0.02, 0.005)).expect("distance");
        // 0.01° of a great circle of radius 6 371 008.8 m.
        let want = 0.01_f64.to_radians() * 6_371_008.8;
        assert!((d - want).abs() < 0.01, "{d} vs {want}");
        let hex = cell_polygon(CellIndex::try_from(0x8a1fb46622dffff).expect("cell"));
        assert_eq!(hex.exterior().0.len(), 7, "six corners, closed");
    }
}
