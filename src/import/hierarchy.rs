//! Children against their parents' polygons: the part of each child outside its parent (area and share of the
//! child) and the gaps inside each parent that none of its children covers (area and location).
//!
//! A child whose vertices all lie in its parent (boundary included: shared edges are the rule) is inside without an
//! exact overlay; only the others are cut with a boolean difference. A parent whose children are all inside and add
//! up to its area has no gap; only the others get one union of their children.

use std::collections::{HashMap, HashSet};

use geo::{BooleanOps, ChamberlainDuquetteArea, Coord, CoordsIter, InteriorPoint, MultiPolygon, unary_union};

use rayon::prelude::*;

use crate::geometry::PreparedArea;
use crate::layers::Feature;

/// Parts outside the parent or gaps smaller than this are slivers of imperfect noding: counted, not listed.
pub const SLIVER_M2: f64 = 10.0;

/// A child with at least this share of its area outside its parent is an error; less is a warning.
pub const OUTSIDE_ERROR_SHARE: f64 = 0.01;

/// A child reaching outside its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct Outside {
    /// Position of the child in the import's features.
    pub feature: usize,
    /// Area outside the parent, m².
    pub area_m2: f64,
    /// That area over the child's.
    pub share: f64,
    /// A point in the outside part.
    pub at: [f64; 2],
}

/// Part of a parent no child covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    /// The parent's code.
    pub parent_code: String,
    /// Area, m².
    pub area_m2: f64,
    /// A point inside the gap.
    pub at: [f64; 2],
}

/// What the checks found; slivers are only counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    /// Children outside their parent by more than a sliver.
    pub outside: Vec<Outside>,
    /// Gaps larger than a sliver.
    pub gaps: Vec<Gap>,
    /// Outside parts and gaps below [`SLIVER_M2`].
    pub slivers: usize,
}

/// Checks `children` (but those at positions in `skip`: invalid geometry) against `parents` (code → polygon).
/// Children whose parent is unknown are left to the code checks; parents without any child in this import are not checked for gaps (nothing of theirs was replaced).
pub fn check(
    children: &[Feature],
    skip: &HashSet<usize>,
    parents: &[(String, MultiPolygon<f64>)],
    progress: &super::Tracker,
) -> Findings {
    let mut found = Findings::default();
    let by_code: HashMap<&str, &MultiPolygon<f64>> = parents.iter().map(|(c, g)| (c.as_str(), g)).collect();
    let prepared: HashMap<&str, PreparedArea> =
        parents.iter().filter_map(|(c, g)| PreparedArea::new(g).map(|p| (c.as_str(), p))).collect();
    progress.phase("checking containment", children.len());
    // Each child against its parent on every core (rayon), then gathered in input order.
    let placed: Vec<(usize, &str, Placement)> = children
        .par_iter()
        .enumerate()
        .filter(|(k, _)| !skip.contains(k))
        .filter_map(|(k, child)| {
            progress.tick();
            let parent_code = child.parent_code.as_deref()?;
            let (parent, fast) = (by_code.get(parent_code)?, prepared.get(parent_code)?);
            Some((k, parent_code, place(k, &child.geometry, parent, fast)))
        })
        .collect();
    let mut families: HashMap<&str, Family> = HashMap::new();
    for (k, parent_code, placement) in placed {
        let family = families.entry(parent_code).or_default();
        family.members.push(&children[k].geometry);
        match placement {
            Placement::Inside { area_m2 } => family.inside_m2 += area_m2,
            Placement::Out(outside) => {
                family.all_inside = false;
                match outside {
                    None => {}
                    Some(o) if o.area_m2 < SLIVER_M2 => found.slivers += 1,
                    Some(o) => found.outside.push(o),
                }
            }
        }
    }
    let mut codes: Vec<&str> = families.keys().copied().collect();
    codes.sort_unstable();
    progress.phase("checking gaps", codes.len());
    let pieces: Vec<Vec<(&str, MultiPolygon<f64>, f64)>> = codes
        .par_iter()
        .map(|&code| {
            progress.tick();
            let (Some(parent), Some(family)) = (by_code.get(code), families.get(code)) else { return Vec::new() };
            // Children all inside and not overlapping (overlaps are checked apart): what they leave is the
            // difference of the areas. Only a parent with room left, or with a child reaching out, needs the exact
            // overlay.
            if family.all_inside && parent.chamberlain_duquette_unsigned_area() - family.inside_m2 < SLIVER_M2 {
                return Vec::new();
            }
            let covered = unary_union(family.members.iter().copied());
            let rest = parent.difference(&covered);
            rest.0
                .into_iter()
                .map(|hole| {
                    let piece = MultiPolygon(vec![hole]);
                    let area_m2 = piece.chamberlain_duquette_unsigned_area();
                    (code, piece, area_m2)
                })
                .collect()
        })
        .collect();
    for (code, piece, area_m2) in pieces.into_iter().flatten() {
        if area_m2 < SLIVER_M2 {
            found.slivers += 1;
            continue;
        }
        found.gaps.push(Gap { parent_code: code.to_owned(), area_m2, at: point_in(&piece) });
    }
    found
}

/// Where one child lies against its parent.
enum Placement {
    /// Inside (boundary included), with the child's area.
    Inside { area_m2: f64 },
    /// Not every vertex inside: the part outside, if it has an area.
    Out(Option<Outside>),
}

/// Where child `feature` lies against its parent.
fn place(feature: usize, child: &MultiPolygon<f64>, parent: &MultiPolygon<f64>, fast: &PreparedArea) -> Placement {
    // Inside when every vertex is: in the parent, or within a few centimetres of its boundary (shared edges computed
    // by another tool rarely match to the last bit).
    let inside = child.coords_iter().all(|c| fast.covers(c) || fast.near_boundary(c, ON_BOUNDARY_DEG));
    if inside {
        return Placement::Inside { area_m2: child.chamberlain_duquette_unsigned_area() };
    }
    let outside = child.difference(parent);
    let area_m2 = outside.chamberlain_duquette_unsigned_area();
    if area_m2 <= 0.0 {
        return Placement::Out(None);
    }
    let child_m2 = child.chamberlain_duquette_unsigned_area().max(f64::MIN_POSITIVE);
    Placement::Out(Some(Outside { feature, area_m2, share: (area_m2 / child_m2).min(1.0), at: point_in(&outside) }))
}

/// A vertex this close to the parent's boundary (in degrees, ≈ 5 cm) counts as on it.
const ON_BOUNDARY_DEG: f64 = 5e-7;

/// The children of one parent.
#[derive(Debug)]
struct Family<'a> {
    members: Vec<&'a MultiPolygon<f64>>,
    /// Summed area of the members found inside, m².
    inside_m2: f64,
    all_inside: bool,
}

impl Default for Family<'_> {
    fn default() -> Self {
        Self { members: Vec::new(), inside_m2: 0.0, all_inside: true }
    }
}

fn point_in(mp: &MultiPolygon<f64>) -> [f64; 2] {
    let p = mp.interior_point().map_or(Coord { x: f64::NAN, y: f64::NAN }, |p| p.0);
    [p.x, p.y]
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn rect(code: &str, parent: Option<&str>, x0: f64, y0: f64, x1: f64, y1: f64) -> Feature {
        Feature {
            code: code.into(),
            name: code.into(),
            parent_code: parent.map(Into::into),
            geometry: MultiPolygon(vec![
                polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)],
            ]),
            properties: Default::default(),
        }
    }

    #[test]
    fn children_inside_and_tiling_their_parent_find_nothing() {
        let parents = vec![("P".to_owned(), rect("P", None, 118.0, 32.0, 118.02, 32.01).geometry)];
        let kids =
            [rect("a", Some("P"), 118.0, 32.0, 118.01, 32.01), rect("b", Some("P"), 118.01, 32.0, 118.02, 32.01)];
        assert_eq!(check(&kids, &HashSet::new(), &parents, &Default::default()), Findings::default());
    }

    #[test]
    fn a_child_reaching_out_and_a_gap_are_found_with_area_and_place() {
        let parents = vec![("P".to_owned(), rect("P", None, 118.0, 32.0, 118.02, 32.01).geometry)];
        // a sticks out 0.001° west of the parent; b leaves 118.015–118.02 uncovered.
        let kids =
            [rect("a", Some("P"), 117.999, 32.0, 118.01, 32.01), rect("b", Some("P"), 118.01, 32.0, 118.015, 32.01)];
        let f = check(&kids, &HashSet::new(), &parents, &Default::default());
        assert_eq!(f.outside.len(), 1);
        let o = &f.outside[0];
        // 0.001° × 0.01° at 32°N ≈ 94.4 m × 1 109 m ≈ 104 700 m², a tenth of a's 11 × that.
        assert_eq!(o.feature, 0);
        assert!((o.area_m2 - 104_700.0).abs() < 2_000.0, "{o:?}");
        assert!((o.share - 1.0 / 11.0).abs() < 0.01, "{o:?}");
        assert!(o.at[0] < 118.0, "{o:?}");
        assert_eq!(f.gaps.len(), 1);
        let g = &f.gaps[0];
        assert_eq!(g.parent_code, "P");
        assert!((g.area_m2 - 5.0 * 104_700.0).abs() < 10_000.0, "{g:?}");
        assert!(g.at[0] > 118.015 && g.at[0] < 118.02, "{g:?}");
    }
}
