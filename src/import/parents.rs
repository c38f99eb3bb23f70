//! Parents for files without a parent field (`--parent-from`): the parent whose polygon covers the largest share of
//! each child (`location`), or the parent whose code is the longest prefix of the child's code (`prefix`:
//! `SQ-3-2` lies in `SQ-3`, a 14-digit national grid code starts with its 12-digit community code). Wherever both
//! could apply (either mode, or a file without a parent field whose report suggests one), children whose code names
//! another parent than the polygon they lie in are listed in one warning.

use std::collections::{HashMap, HashSet};

use geo::{BooleanOps, BoundingRect, ChamberlainDuquetteArea, CoordsIter, MultiPolygon};
use rayon::prelude::*;
use rstar::{AABB, RTree, primitives::GeomWithData, primitives::Rectangle};
use serde::{Deserialize, Serialize};

use crate::geometry::PreparedArea;

use super::{HierarchyContext, Kind, Parsed, Problem};

/// Where a child's parent code comes from when the file has no parent field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ParentFrom {
    /// The parent covering the largest share of the child's area (at least half).
    Location,
    /// The parent whose code is the longest prefix of the child's code.
    Prefix,
}

impl ParentFrom {
    /// As written on the command line and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ParentFrom::Location => "location",
            ParentFrom::Prefix => "prefix",
        }
    }
}

/// A child must lie in its location parent by at least this share of its area.
pub const MIN_SHARE: f64 = 0.5;

/// A vertex this close to a parent's boundary (degrees, ~5 cm) counts as inside it, as in the containment check.
const ON_BOUNDARY_DEG: f64 = 5e-7;

/// Children listed by name in the warning about codes naming another parent.
const LISTED: usize = 5;

/// Fills every feature's parent code from `ctx`'s parent layer as `parsed.parent_from` says (nothing to do without
/// it, for streets, or when the parent layer is empty: the parent-code check reports that).
pub fn assign(parsed: &mut Parsed, ctx: &HierarchyContext) {
    let (Some(how), Some(parent_layer)) = (parsed.parent_from, parsed.report.layer.parent()) else { return };
    if ctx.parent_shapes.is_empty() {
        return;
    }
    let codes: HashSet<&str> = ctx.parent_shapes.iter().map(|(c, _)| c.as_str()).collect();
    let by_prefix: Vec<Option<String>> =
        parsed.features.iter().map(|f| prefix_parent(&f.code, &codes).map(str::to_owned)).collect();
    // Both ways are worked out in either mode: the one not asked for is the check of the other.
    let by_location = locate(parsed, ctx, parent_layer);
    let mut problems = Vec::new();
    let mismatched = mismatches(parsed, &by_prefix, &by_location);
    for (k, f) in parsed.features.iter_mut().enumerate() {
        let i = parsed.source_index[k];
        f.parent_code = match how {
            ParentFrom::Prefix => {
                if by_prefix[k].is_none() {
                    problems.push(Problem::at(
                        Kind::ParentNotFound,
                        i,
                        Some(&f.code),
                        "code",
                        format!("no {parent_layer} code is a prefix of {} (--parent-from prefix)", f.code),
                    ));
                }
                by_prefix[k].clone()
            }
            ParentFrom::Location => match &by_location[k] {
                Ok(parent) => Some(parent.clone()),
                Err(p) => {
                    problems.push(p.clone());
                    None
                }
            },
        };
    }
    for p in problems {
        parsed.report.error(p);
    }
    let used = match how {
        ParentFrom::Location => "the location was used",
        ParentFrom::Prefix => "the code was used",
    };
    warn_mismatches(parsed, parent_layer, &mismatched, used);
}

/// For a file without a usable parent field whose report suggests `--parent-from`: the children whose code names
/// another parent than the polygon holding them, listed before the user picks one way (nothing is assigned).
pub fn compare_suggested(parsed: &mut Parsed, ctx: &HierarchyContext) {
    let suggested = parsed.report.suggested.as_ref().and_then(|m| m.parent_from);
    let (Some(_), Some(parent_layer)) = (suggested, parsed.report.layer.parent()) else { return };
    if parsed.parent_from.is_some() || ctx.parent_shapes.is_empty() {
        return;
    }
    let codes: HashSet<&str> = ctx.parent_shapes.iter().map(|(c, _)| c.as_str()).collect();
    let by_prefix: Vec<Option<String>> =
        parsed.features.iter().map(|f| prefix_parent(&f.code, &codes).map(str::to_owned)).collect();
    let by_location = locate(parsed, ctx, parent_layer);
    let mismatched = mismatches(parsed, &by_prefix, &by_location);
    warn_mismatches(parsed, parent_layer, &mismatched, "choose --parent-from prefix or location knowing it");
}

/// `CODE (code says A, lies in B)` for each child whose prefix parent and location parent both exist and differ.
fn mismatches(parsed: &Parsed, by_prefix: &[Option<String>], by_location: &[Result<String, Problem>]) -> Vec<String> {
    parsed
        .features
        .iter()
        .zip(by_prefix.iter().zip(by_location))
        .filter_map(|(f, (named, placed))| match (named, placed) {
            (Some(named), Ok(parent)) if named != parent => {
                Some(format!("{} (code says {named}, lies in {parent})", f.code))
            }
            _ => None,
        })
        .collect()
}

fn warn_mismatches(parsed: &mut Parsed, parent_layer: crate::layers::Layer, mismatched: &[String], then: &str) {
    if mismatched.is_empty() {
        return;
    }
    let more = if mismatched.len() > LISTED { "; …" } else { "" };
    parsed.report.warn(Problem::file(
        Kind::ParentMismatch,
        format!(
            "{} {}: the code names another {parent_layer} than the one holding the polygon: {}{more}; {then}",
            mismatched.len(),
            parsed.report.layer,
            mismatched.iter().take(LISTED).cloned().collect::<Vec<_>>().join("; ")
        ),
    ));
}

/// The longest code of `parents` that `code` starts with and continues after with a separator (`-_./` or a space),
/// or with anything when neither code has separators (`320104001001` → `32010400100101`).
pub fn prefix_parent<'a>(code: &str, parents: &HashSet<&'a str>) -> Option<&'a str> {
    let separator = |c: char| "-_./ ".contains(c);
    let plain = !code.contains(separator);
    (1..code.len()).rev().filter(|&l| code.is_char_boundary(l)).find_map(|l| {
        let head = parents.get(&code[..l])?;
        let rest = &code[l..];
        (rest.starts_with(separator) || (plain && !head.contains(separator))).then_some(*head)
    })
}

/// Each feature's location parent (or the error saying why it has none), on every core.
fn locate(parsed: &Parsed, ctx: &HierarchyContext, parent_layer: crate::layers::Layer) -> Vec<Result<String, Problem>> {
    type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;
    let entries: Vec<Entry> = ctx
        .parent_shapes
        .iter()
        .enumerate()
        .filter_map(|(k, (_, g))| {
            let r = g.bounding_rect()?;
            Some(GeomWithData::new(Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), k))
        })
        .collect();
    let tree = RTree::bulk_load(entries);
    let prepared: HashMap<usize, PreparedArea> =
        ctx.parent_shapes.iter().enumerate().filter_map(|(k, (_, g))| PreparedArea::new(g).map(|p| (k, p))).collect();
    parsed
        .features
        .par_iter()
        .zip(&parsed.source_index)
        .map(|(f, &i)| {
            let outside = |message: String| Problem::at(Kind::ParentNotFound, i, Some(&f.code), "geometry", message);
            let Some(r) = f.geometry.bounding_rect() else {
                return Err(outside("no area to place".into()));
            };
            let candidates: Vec<usize> = tree
                .locate_in_envelope_intersecting(&AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]))
                .map(|e| e.data)
                .collect();
            // Fast path: every vertex inside (or on the edge of) one candidate.
            for &k in &candidates {
                if let Some(p) = prepared.get(&k)
                    && f.geometry.coords_iter().all(|c| p.covers(c) || p.near_boundary(c, ON_BOUNDARY_DEG))
                {
                    return Ok(ctx.parent_shapes[k].0.clone());
                }
            }
            let area = f.geometry.chamberlain_duquette_unsigned_area();
            let best = candidates
                .iter()
                .map(|&k| (k, share(&f.geometry, &ctx.parent_shapes[k].1, area)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match best {
                Some((k, s)) if s >= MIN_SHARE => Ok(ctx.parent_shapes[k].0.clone()),
                Some((k, s)) if s > 0.0 => Err(Problem::at(
                    Kind::ParentShareLow,
                    i,
                    Some(&f.code),
                    "geometry",
                    format!(
                        "no {parent_layer} covers half of it: the most is {} with {:.0} % of its area \
                         (--parent-from location)",
                        ctx.parent_shapes[k].0,
                        s * 100.0
                    ),
                )),
                _ => Err(outside(format!("lies outside every {parent_layer} (--parent-from location)"))),
            }
        })
        .collect()
}

/// The share of `child` (of area `area`) that `parent` covers.
fn share(child: &MultiPolygon<f64>, parent: &MultiPolygon<f64>, area: f64) -> f64 {
    if area <= 0.0 {
        return 0.0;
    }
    child.intersection(parent).chamberlain_duquette_unsigned_area() / area
}

#[cfg(test)]
mod tests {
    use geo::{MultiPolygon, polygon};

    use super::*;
    use crate::import::Report;
    use crate::layers::{Feature, Layer};

    #[test]
    fn prefixes_need_a_separator_unless_codes_have_none() {
        let parents: HashSet<&str> = ["SQ-3", "SQ-32", "320104001001", "SQ"].into();
        assert_eq!(prefix_parent("SQ-3-2", &parents), Some("SQ-3"));
        assert_eq!(prefix_parent("SQ-32-1", &parents), Some("SQ-32"));
        assert_eq!(prefix_parent("SQ-33", &parents), Some("SQ"), "SQ-3 is no prefix of SQ-33 (no separator after)");
        assert_eq!(prefix_parent("32010400100101", &parents), Some("320104001001"));
        assert_eq!(prefix_parent("XX-1", &parents), None);
        assert_eq!(prefix_parent("SQ-3", &parents), Some("SQ"), "a code is not its own parent");
    }

    fn square(code: &str, x0: f64, y0: f64, side: f64) -> Feature {
        let (x1, y1) = (x0 + side, y0 + side);
        Feature {
            code: code.into(),
            name: code.into(),
            parent_code: None,
            geometry: MultiPolygon(vec![
                polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)],
            ]),
            properties: Default::default(),
        }
    }

    #[test]
    fn location_takes_the_largest_share_and_names_the_best_below_half() {
        let parents = vec![square("A", 118.0, 32.0, 0.01), square("B", 118.01, 32.0, 0.01)];
        let ctx = HierarchyContext {
            parent_codes: Some(["A".to_owned(), "B".to_owned()].into()),
            children: Vec::new(),
            parent_shapes: parents.into_iter().map(|f| (f.code, f.geometry)).collect(),
        };
        let mut parsed = Parsed::new(Report::new("g.geojson", Layer::Grids));
        parsed.parent_from = Some(ParentFrom::Location);
        parsed.features = vec![
            square("A-1", 118.001, 32.001, 0.002),  // inside A
            square("B-1", 118.0095, 32.001, 0.003), // 5/6 in B: B, as its code says
            square("A-2", 118.009, 32.001, 0.003),  // 2/3 in B: B, though its code says A
            square("Z-9", 118.03, 32.0, 0.002),     // outside both
        ];
        parsed.source_index = (0..4).collect();
        assign(&mut parsed, &ctx);
        let parents: Vec<Option<&str>> = parsed.features.iter().map(|f| f.parent_code.as_deref()).collect();
        assert_eq!(parents, [Some("A"), Some("B"), Some("B"), None]);
        assert_eq!(parsed.report.errors.len(), 1, "{:?}", parsed.report.errors);
        assert_eq!(parsed.report.errors[0].kind, Kind::ParentNotFound);
        assert_eq!(parsed.report.warnings[0].kind, Kind::ParentMismatch);
        assert!(parsed.report.warnings[0].message.contains("A-2 (code says A, lies in B)"));

        // A child across three parents, none holding half of it.
        let ctx3 = HierarchyContext {
            parent_codes: None,
            children: Vec::new(),
            parent_shapes: vec![
                ("A".into(), square("A", 118.0, 32.0, 0.01).geometry),
                ("B".into(), square("B", 118.01, 32.0, 0.01).geometry),
                ("C".into(), square("C", 118.02, 32.0, 0.01).geometry),
            ],
        };
        let mut wide = Parsed::new(Report::new("g.geojson", Layer::Grids));
        wide.parent_from = Some(ParentFrom::Location);
        let mut f = square("W", 118.005, 32.001, 0.002);
        f.geometry = MultiPolygon(vec![
            polygon![(x: 118.004, y: 32.001), (x: 118.026, y: 32.001), (x: 118.026, y: 32.002), (x: 118.004, y: 32.002), (x: 118.004, y: 32.001)],
        ]);
        wide.features = vec![f];
        wide.source_index = vec![0];
        assign(&mut wide, &ctx3);
        assert_eq!(wide.report.errors[0].kind, Kind::ParentShareLow, "{:?}", wide.report.errors);
        assert!(wide.report.errors[0].message.contains("the most is B with 45 %"), "{}", wide.report.errors[0].message);
    }
}
