//! Point layers (incidents, responders): points placed in the tile, and at low zoom merged per small square so a
//! tile stays small and the map readable. A merged feature carries `cluster = 1` and `count`.

use std::collections::BTreeMap;

use geo::Coord;

use super::mercator::{EXTENT, TileId, project, world_px};
use super::mvt::{Attr, LayerBuilder, Px};

/// Below this zoom, points closer than [`CLUSTER_PX`] are merged.
pub const CLUSTER_BELOW_ZOOM: u8 = 15;

/// Side of the merge square, in tile pixels (8 screen pixels on a 512-pixel tile).
pub const CLUSTER_PX: i32 = 64;

/// Points whose symbol can reach into the tile, in tile pixels outside it.
pub const POINT_BUFFER_PX: i32 = 64;

/// Tile pixel of a lon/lat point, if it falls within the tile plus the buffer.
pub fn tile_px(tile: TileId, p: Coord<f64>) -> Option<Px> {
    let w = project(p);
    let scale = world_px(tile.z());
    let (ox, oy) = tile.origin_px();
    let x = (w.x * scale - ox as f64).round();
    let y = (w.y * scale - oy as f64).round();
    let (lo, hi) = (f64::from(-POINT_BUFFER_PX), f64::from(EXTENT as i32 + POINT_BUFFER_PX));
    ((lo..=hi).contains(&x) && (lo..=hi).contains(&y)).then_some([x as i32, y as i32])
}

/// Encodes points; `attrs` gives each item's attributes when it is drawn alone.
pub fn render<T>(
    name: &str,
    tile: TileId,
    items: &[(Px, T)],
    attrs: impl Fn(&T) -> Vec<(&'static str, Attr<'_>)>,
) -> Vec<u8> {
    let mut out = LayerBuilder::new(name);
    if tile.z() >= CLUSTER_BELOW_ZOOM {
        for (p, item) in items {
            out.add_point(*p, &attrs(item));
        }
        return out.encode();
    }
    let mut squares: BTreeMap<(i32, i32), Vec<usize>> = BTreeMap::new();
    for (i, (p, _)) in items.iter().enumerate() {
        squares.entry((p[0].div_euclid(CLUSTER_PX), p[1].div_euclid(CLUSTER_PX))).or_default().push(i);
    }
    for members in squares.values() {
        if let [single] = members.as_slice() {
            let (p, item) = &items[*single];
            out.add_point(*p, &attrs(item));
            continue;
        }
        let n = members.len() as i64;
        let (sx, sy) = members
            .iter()
            .fold((0i64, 0i64), |(sx, sy), &i| (sx + i64::from(items[i].0[0]), sy + i64::from(items[i].0[1])));
        out.add_point([(sx / n) as i32, (sy / n) as i32], &[("cluster", Attr::Int(1)), ("count", Attr::Int(n))]);
    }
    out.encode()
}

#[cfg(test)]
mod tests {
    use geozero::mvt::{Message, Tile};

    use super::*;

    #[test]
    fn merges_close_points_below_the_cluster_zoom() {
        let items: Vec<(Px, i64)> = vec![([10, 10], 1), ([20, 20], 2), ([2000, 2000], 3)];
        fn attrs(id: &i64) -> Vec<(&'static str, Attr<'_>)> {
            vec![("id", Attr::Int(*id))]
        }
        let low =
            Tile::decode(render("x", TileId::new(12, 0, 0).expect("valid"), &items, attrs).as_slice()).expect("mvt");
        assert_eq!(low.layers[0].features.len(), 2);
        let high =
            Tile::decode(render("x", TileId::new(16, 0, 0).expect("valid"), &items, attrs).as_slice()).expect("mvt");
        assert_eq!(high.layers[0].features.len(), 3);
    }
}
