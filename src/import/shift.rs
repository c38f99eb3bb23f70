//! Vendor-shift detection: many Chinese boundary files are in GCJ-02 (or Baidu's BD-09) while claiming or being
//! assumed WGS84. Such a file sits a few hundred metres off everywhere, and undoing the vendor's offset brings it
//! within metres. It is judged against the layer it replaces (features with the same code) or, when that layer is
//! empty or shares no codes, against the active parent layer (the children of one parent, taken together, cover
//! the parent: their area-weighted centroid is the parent's). The report then says so, with both median offsets and
//! the `--crs` to use.

use std::collections::HashMap;

use geo::{Area, Centroid, Distance, Haversine, MultiPolygon, Point};

use crate::crs::{bd09_to_gcj02, gcj02_to_wgs84};
use crate::layers::Feature;

/// Fewest same-code pairs (or complete parents) to judge by.
const MIN_PAIRS: usize = 3;

/// A file is suspect when its median offset lies in this range (GCJ-02 offsets are ~100–700 m in eastern China,
/// BD-09 adds ~1 km more).
const SUSPECT_M: std::ops::Range<f64> = 80.0..3000.0;

/// A correction explains the offset when it leaves at most this many metres (and a tenth of the raw offset).
const EXPLAINED_M: f64 = 30.0;

/// A parent is compared only when its children's areas add up to this share of its own (the file holds all of it).
const COMPLETE_SHARE: std::ops::RangeInclusive<f64> = 0.9..=1.1;

/// What the file was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// The features with the same codes in the layer the file replaces.
    Replaced,
    /// The parent features the file's children fill, in the active parent layer.
    Parent,
}

/// A detected vendor offset.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorShift {
    /// `gcj02` or `bd09`: the `--crs` to import with.
    pub crs: &'static str,
    /// Median centroid offset from the reference as read, metres.
    pub median_raw_m: f64,
    /// Median offset once the correction is applied, metres.
    pub median_corrected_m: f64,
    /// Same-code features (or parents) compared.
    pub pairs: usize,
    /// What the file was compared with.
    pub reference: Reference,
}

impl VendorShift {
    /// GCJ-02 or BD-09.
    fn name(&self) -> &'static str {
        if self.crs == "bd09" { "BD-09" } else { "GCJ-02" }
    }

    /// The report's sentence.
    pub fn message(&self) -> String {
        let against = match self.reference {
            Reference::Replaced => "from the features with the same codes in the layer they replace",
            Reference::Parent => "from the parents they fill in the active parent layer (children taken together)",
        };
        format!(
            "the features sit a median {:.0} m {against} ({} compared), and {:.1} m once read as {}: the file is \
             probably in {} (a Chinese map vendor's offset) although it was read as WGS84; import it again with \
             --crs {}",
            self.median_raw_m,
            self.pairs,
            self.median_corrected_m,
            self.name(),
            self.name(),
            self.crs
        )
    }
}

/// Compares the import's feature centroids with the same codes in `previous`; `None` when fewer than three codes
/// match, when the file already lines up, or when no vendor correction explains the offset.
pub fn detect(previous: &[Feature], import: &[Feature]) -> Option<VendorShift> {
    let old: HashMap<&str, Point<f64>> =
        previous.iter().filter_map(|f| Some((f.code.as_str(), f.geometry.centroid()?))).collect();
    let pairs: Vec<(Point<f64>, Point<f64>)> =
        import.iter().filter_map(|f| Some((f.geometry.centroid()?, *old.get(f.code.as_str())?))).collect();
    judge(&pairs, Reference::Replaced)
}

/// Compares, for each parent whose children the file holds completely, the children's area-weighted centroid with
/// the parent's centroid; `None` as for [`detect`].
pub fn detect_against_parent(parents: &[(String, MultiPolygon<f64>)], import: &[Feature]) -> Option<VendorShift> {
    // Per parent code: Σ area, Σ area·x, Σ area·y of its children (planar degrees: the parents are a few km wide).
    let mut sums: HashMap<&str, (f64, f64, f64)> = HashMap::new();
    for f in import {
        let (Some(parent), Some(c)) = (f.parent_code.as_deref(), f.geometry.centroid()) else { continue };
        let a = f.geometry.unsigned_area();
        let s = sums.entry(parent).or_default();
        *s = (s.0 + a, s.1 + a * c.x(), s.2 + a * c.y());
    }
    let pairs: Vec<(Point<f64>, Point<f64>)> = parents
        .iter()
        .filter_map(|(code, shape)| {
            let &(a, ax, ay) = sums.get(code.as_str())?;
            let own = shape.unsigned_area();
            (own > 0.0 && COMPLETE_SHARE.contains(&(a / own)))
                .then(|| Some((Point::new(ax / a, ay / a), shape.centroid()?)))?
        })
        .collect();
    judge(&pairs, Reference::Parent)
}

/// Median offsets of `(file, reference)` point pairs as read and under each vendor correction.
fn judge(pairs: &[(Point<f64>, Point<f64>)], reference: Reference) -> Option<VendorShift> {
    if pairs.len() < MIN_PAIRS {
        return None;
    }
    let median = |correct: &dyn Fn(f64, f64) -> (f64, f64)| {
        let mut d: Vec<f64> = pairs
            .iter()
            .map(|(new, old)| {
                let (x, y) = correct(new.x(), new.y());
                Haversine.distance(Point::new(x, y), *old)
            })
            .collect();
        d.sort_by(f64::total_cmp);
        d[d.len() / 2]
    };
    let raw = median(&|x, y| (x, y));
    if !SUSPECT_M.contains(&raw) {
        return None;
    }
    let gcj = median(&|x, y| gcj02_to_wgs84(x, y));
    let bd = median(&|x, y| {
        let (gx, gy) = bd09_to_gcj02(x, y);
        gcj02_to_wgs84(gx, gy)
    });
    let (crs, corrected) = if gcj <= bd { ("gcj02", gcj) } else { ("bd09", bd) };
    (corrected <= EXPLAINED_M && corrected <= raw / 10.0).then_some(VendorShift {
        crs,
        median_raw_m: raw,
        median_corrected_m: corrected,
        pairs: pairs.len(),
        reference,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::{gcj02_to_bd09, wgs84_to_gcj02};
    use geo::{MultiPolygon, polygon};

    fn square(code: &str, x: f64, y: f64, shift: &dyn Fn(f64, f64) -> (f64, f64)) -> Feature {
        let p = |dx: f64, dy: f64| {
            let (a, b) = shift(x + dx, y + dy);
            geo::coord! { x: a, y: b }
        };
        Feature {
            code: code.into(),
            name: code.into(),
            parent_code: None,
            geometry: MultiPolygon(vec![polygon![p(0.0, 0.0), p(0.01, 0.0), p(0.01, 0.01), p(0.0, 0.01), p(0.0, 0.0)]]),
            properties: Default::default(),
        }
    }

    fn layer(shift: &dyn Fn(f64, f64) -> (f64, f64)) -> Vec<Feature> {
        (0..6).map(|i| square(&format!("c{i}"), 118.7 + f64::from(i) * 0.02, 32.0, shift)).collect()
    }

    #[test]
    fn gcj02_and_bd09_files_are_recognised() {
        let wgs = layer(&|x, y| (x, y));
        let gcj = layer(&|x, y| wgs84_to_gcj02(x, y));
        let found = detect(&wgs, &gcj).expect("a GCJ-02 file");
        assert_eq!(found.crs, "gcj02");
        assert!(found.median_raw_m > 300.0 && found.median_corrected_m < 1.0, "{found:?}");
        assert!(found.message().contains("--crs gcj02"));
        let bd = layer(&|x, y| {
            let (a, b) = wgs84_to_gcj02(x, y);
            gcj02_to_bd09(a, b)
        });
        assert_eq!(detect(&wgs, &bd).map(|f| f.crs), Some("bd09"));
    }

    /// Four quarter-squares per parent square, parent codes `c0`…`c5`.
    fn children(shift: &dyn Fn(f64, f64) -> (f64, f64)) -> Vec<Feature> {
        let mut out = Vec::new();
        for (i, parent) in layer(&|x, y| (x, y)).iter().enumerate() {
            let Some(min) = geo::BoundingRect::bounding_rect(&parent.geometry) else { continue };
            for (q, (dx, dy)) in [(0.0, 0.0), (0.005, 0.0), (0.0, 0.005), (0.005, 0.005)].into_iter().enumerate() {
                let mut f = square(&format!("c{i}-{q}"), min.min().x + dx, min.min().y + dy, shift);
                // Quarter size: scale the 0.01° square about its first corner.
                let (ox, oy) = shift(min.min().x + dx, min.min().y + dy);
                geo::MapCoordsInPlace::map_coords_in_place(&mut f.geometry, |c| {
                    geo::coord! {
                        x: ox + (c.x - ox) / 2.0, y: oy + (c.y - oy) / 2.0
                    }
                });
                f.parent_code = Some(parent.code.clone());
                out.push(f);
            }
        }
        out
    }

    #[test]
    fn children_are_judged_against_their_parents() {
        let parents: Vec<(String, MultiPolygon<f64>)> =
            layer(&|x, y| (x, y)).into_iter().map(|f| (f.code, f.geometry)).collect();
        let found = detect_against_parent(&parents, &children(&|x, y| wgs84_to_gcj02(x, y))).expect("GCJ-02 children");
        assert_eq!((found.crs, found.reference, found.pairs), ("gcj02", Reference::Parent, 6));
        assert!(found.median_raw_m > 300.0 && found.median_corrected_m < 1.0, "{found:?}");
        assert!(found.message().contains("parents they fill"), "{}", found.message());
        assert_eq!(detect_against_parent(&parents, &children(&|x, y| (x, y))), None, "aligned children");
        // Only some children of each parent in the file: their centroid says nothing about an offset.
        let partial: Vec<Feature> =
            children(&|x, y| wgs84_to_gcj02(x, y)).into_iter().filter(|f| f.code.ends_with("-0")).collect();
        assert_eq!(detect_against_parent(&parents, &partial), None);
    }

    #[test]
    fn aligned_or_unrelated_files_are_not_flagged() {
        let wgs = layer(&|x, y| (x, y));
        assert_eq!(detect(&wgs, &wgs), None);
        // 500 m off, but not the vendor's offset: nothing explains it, so nothing is claimed.
        assert_eq!(detect(&wgs, &layer(&|x, y| (x + 0.0053, y))), None);
        assert_eq!(detect(&wgs[..2], &layer(&|x, y| wgs84_to_gcj02(x, y))[..2]), None, "too few codes to judge");
    }
}
