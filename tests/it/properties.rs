//! Property tests (proptest) of the geometry underneath every answer:
//! - point lookup (cell cache + R-tree + prepared polygons) equals a brute-force scan of every polygon, lowest code
//!   first, for points anywhere over the sample, on shared edges and vertices included;
//! - GCJ-02 and BD-09 conversions round-trip to < 0.1 m over China;
//! - a .prj / EPSG reprojection to WGS84 inverts proj4rs's forward projection (CGCS2000 Gauss–Krüger, UTM, Web
//!   Mercator, New York State Plane feet) to < 1 mm.
//!
//! Tile clipping ("never loses a feature that intersects the tile") is a property test beside the clipper
//! (`src/tiles/clip.rs`), where the tile-local types live.

use std::sync::OnceLock;

use geo::Coord;
use gridmap::index::BoundaryIndex;
use gridmap::layers::{Feature, Layer};
use proptest::prelude::*;

fn sample() -> &'static BoundaryIndex {
    static INDEX: OnceLock<BoundaryIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let layers: Vec<Vec<Feature>> = Layer::ALL
            .iter()
            .map(|l| {
                let path = format!("{}/boundaries/qinhuai/{}.geojson", env!("CARGO_MANIFEST_DIR"), l.as_str());
                let bytes = std::fs::read(&path).expect("sample file");
                gridmap::import::read(&path, &bytes, &gridmap::import::ReadOptions::new(*l)).expect("sample").features
            })
            .collect();
        let [s, c, g]: [Vec<Feature>; 3] = layers.try_into().expect("three layers");
        BoundaryIndex::build(None, [s, c, g])
    })
}

/// The lowest-code feature covering `p`, by testing every polygon.
fn brute_force(layer: Layer, p: Coord<f64>) -> Option<String> {
    let li = sample().layer(layer);
    li.entries().iter().find(|e| e.covers(p)).map(|e| e.feature.code.clone())
}

/// Points over the sample's box, a tenth of them snapped onto a polygon vertex (shared by neighbours).
fn points() -> impl Strategy<Value = Coord<f64>> {
    let b = sample().layer(Layer::Streets).bbox().expect("bbox");
    let (min, max) = (b.min(), b.max());
    prop_oneof![
        9 => (min.x - 0.01..max.x + 0.01, min.y - 0.01..max.y + 0.01).prop_map(|(x, y)| Coord { x, y }),
        1 => (0usize..100_000, 0usize..10_000).prop_map(|(f, v)| {
            let grids = sample().layer(Layer::Grids).entries();
            let ring = grids[f % grids.len()].feature.geometry.0[0].exterior();
            ring.0[v % ring.0.len()]
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn lookup_equals_a_brute_force_scan(p in points()) {
        for layer in Layer::ALL {
            let li = sample().layer(layer);
            let fast = li.locate(p).map(|i| li.entry(i).feature.code.clone());
            prop_assert_eq!(&fast, &brute_force(layer, p), "layer {} at {:?}", layer.as_str(), p);
            prop_assert_eq!(li.locate_by_tree(p).map(|i| li.entry(i).feature.code.clone()), fast);
        }
    }

    #[test]
    fn gcj02_and_bd09_round_trip_within_a_decimetre(lon in 73.6f64..134.8, lat in 18.2f64..53.5) {
        let (gx, gy) = gridmap::crs::wgs84_to_gcj02(lon, lat);
        let (x, y) = gridmap::crs::gcj02_to_wgs84(gx, gy);
        prop_assert!(metres((lon, lat), (x, y)) < 0.1, "GCJ-02 {lon},{lat} → {x},{y}");
        let (bx, by) = gridmap::crs::gcj02_to_bd09(gx, gy);
        let (gx2, gy2) = gridmap::crs::bd09_to_gcj02(bx, by);
        prop_assert!(metres((gx, gy), (gx2, gy2)) < 0.1, "BD-09 {gx},{gy} → {gx2},{gy2}");
        // The shift is the one every Chinese map vendor applies: hundreds of metres (more in the west), never zero.
        prop_assert!((10.0..5000.0).contains(&metres((lon, lat), (gx, gy))));
    }

    #[test]
    fn reprojection_inverts_proj4rs(code in prop::sample::select(vec![4549u16, 4547, 32650, 3857, 2263]),
                                    dlon in -1.4f64..1.4, dlat in -2.0f64..2.0) {
        // Near each system's area of use (Gauss–Krüger zones are 3° wide).
        let (lon0, lat0) = match code {
            4549 => (120.0, 32.0),
            4547 => (114.0, 30.0),
            32650 => (117.0, 35.0),
            2263 => (-74.0, 40.7),
            _ => (118.8, 32.0),
        };
        let (lon, lat) = (lon0 + dlon, lat0 + dlat);
        let to = proj4rs::Proj::from_epsg_code(code).expect("projection");
        let from = proj4rs::Proj::from_epsg_code(4326).expect("wgs84");
        let mut pt = (lon.to_radians(), lat.to_radians(), 0.0);
        proj4rs::transform::transform(&from, &to, &mut pt).expect("forward");
        let back = gridmap::crs::ImportCrs::from_epsg(code).expect("known").reprojector().expect("reprojector");
        let (x, y) = back.to_wgs84(pt.0, pt.1).expect("inverse");
        prop_assert!(metres((lon, lat), (x, y)) < 0.001, "EPSG:{code} {lon},{lat} → {x},{y}");
    }
}

/// Great-circle metres between two lon/lat points.
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dla = la2 - la1;
    let dlo = (b.0 - a.0).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}
