//! Road files: an OpenStreetMap extract (`.osm.pbf`, read with osmpbf in two passes: the ways with a `highway` tag,
//! then the coordinates of their nodes) or GeoJSON LineStrings/MultiLineStrings with `highway`, `oneway`,
//! `maxspeed` (and any other OpenStreetMap-style) properties, as municipal road data comes. Ways that are not roads
//! (`highway=proposed`, areas, …) are dropped and counted by reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Cursor, Read};
use std::path::Path;

use serde::Serialize;

use super::{KEPT_TAGS, RoadError, RoadWay};

/// `highway` values that are not roads one can travel on (yet, any more, or at all).
const NOT_ROADS: [&str; 10] = [
    "proposed",
    "construction",
    "abandoned",
    "disused",
    "razed",
    "platform",
    "bus_stop",
    "rest_area",
    "elevator",
    "no",
];

/// What reading a road file found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReadReport {
    /// The file.
    pub file: String,
    /// `osm_pbf` or `geojson`.
    pub format: String,
    /// Ways (or line features) with a `highway` tag.
    pub ways_read: usize,
    /// Ways kept, by `highway` class.
    pub kept_by_class: BTreeMap<String, usize>,
    /// Ways dropped, by reason (`not a road (highway=construction)`, `an area (area=yes)`, `fewer than two nodes`, …).
    pub dropped: BTreeMap<String, usize>,
    /// Node references to nodes the extract does not hold (ways cut at its edge are split there).
    pub missing_nodes: usize,
}

/// Reads a road file from disk by its extension (`.pbf` → OpenStreetMap, `.geojson`/`.json` → GeoJSON).
pub fn read_file(path: &Path) -> Result<(Vec<RoadWay>, ReadReport), RoadError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| RoadError::Io { file: file.clone(), source })?;
    read_bytes(&file, &bytes)
}

/// Reads a road file held in memory; `name` (a path or an upload's file name) picks the format by its extension,
/// else by the first bytes.
pub fn read_bytes(name: &str, bytes: &[u8]) -> Result<(Vec<RoadWay>, ReadReport), RoadError> {
    let lower = name.to_lowercase();
    let json = lower.ends_with(".geojson")
        || lower.ends_with(".json")
        || (!lower.ends_with(".pbf") && bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'));
    let (ways, report) = if json { geojson(name, bytes)? } else { osm_pbf(name, bytes)? };
    if ways.is_empty() {
        let reason = if report.dropped.is_empty() {
            "no way has a highway tag".to_owned()
        } else {
            report.dropped.iter().map(|(why, n)| format!("{n} {why}")).collect::<Vec<_>>().join(", ")
        };
        return Err(RoadError::Empty { file: name.to_owned(), reason });
    }
    Ok((ways, report))
}

/// The kept tags of a way, or why it is not a road.
fn road_tags<'a>(tags: impl Iterator<Item = (&'a str, &'a str)>) -> Option<Result<BTreeMap<String, String>, String>> {
    let mut kept = BTreeMap::new();
    let mut area = false;
    for (k, v) in tags {
        if k == "area" && v == "yes" {
            area = true;
        }
        if KEPT_TAGS.contains(&k) {
            kept.insert(k.to_owned(), v.to_owned());
        }
    }
    let class = kept.get("highway")?.clone();
    if NOT_ROADS.contains(&class.as_str()) {
        return Some(Err(format!("not a road (highway={class})")));
    }
    if area {
        return Some(Err("an area (area=yes)".to_owned()));
    }
    Some(Ok(kept))
}

fn format_err(file: &str, reason: impl Into<String>) -> RoadError {
    RoadError::Format { file: file.to_owned(), reason: reason.into() }
}

/// Ways first (they name the nodes needed), then the nodes' coordinates: two passes over the blobs, so an extract's
/// millions of other nodes are never held.
fn osm_pbf(file: &str, bytes: &[u8]) -> Result<(Vec<RoadWay>, ReadReport), RoadError> {
    use osmpbf::{Element, ElementReader};
    let mut report = ReadReport { file: file.to_owned(), format: "osm_pbf".into(), ..ReadReport::default() };
    let mut raw: Vec<(i64, BTreeMap<String, String>, Vec<i64>)> = Vec::new();
    let pbf_err = |e: osmpbf::Error| format_err(file, format!("not a readable OpenStreetMap PBF file: {e}"));
    ElementReader::new(Cursor::new(bytes))
        .for_each(|e| {
            if let Element::Way(w) = e {
                match road_tags(w.tags()) {
                    None => {}
                    Some(Err(why)) => {
                        report.ways_read += 1;
                        *report.dropped.entry(why).or_default() += 1;
                    }
                    Some(Ok(tags)) => {
                        report.ways_read += 1;
                        raw.push((w.id(), tags, w.refs().collect()));
                    }
                }
            }
        })
        .map_err(pbf_err)?;
    let wanted: HashSet<i64> = raw.iter().flat_map(|(_, _, n)| n.iter().copied()).collect();
    let mut coords: HashMap<i64, [f64; 2]> = HashMap::with_capacity(wanted.len());
    ElementReader::new(Cursor::new(bytes))
        .for_each(|e| match e {
            Element::DenseNode(n) if wanted.contains(&n.id()) => {
                coords.insert(n.id(), [n.lon(), n.lat()]);
            }
            Element::Node(n) if wanted.contains(&n.id()) => {
                coords.insert(n.id(), [n.lon(), n.lat()]);
            }
            _ => {}
        })
        .map_err(pbf_err)?;
    let mut ways = Vec::with_capacity(raw.len());
    for (id, tags, refs) in raw {
        // Runs of nodes the extract holds: a way cut at the extract's edge keeps what lies inside.
        let mut runs: Vec<(Vec<i64>, Vec<[f64; 2]>)> = vec![(Vec::new(), Vec::new())];
        for r in refs {
            match coords.get(&r) {
                Some(c) if c[0].is_finite() && c[1].is_finite() => {
                    let run = runs.last_mut().expect("one run at least");
                    run.0.push(r);
                    run.1.push(*c);
                }
                _ => {
                    report.missing_nodes += 1;
                    runs.push((Vec::new(), Vec::new()));
                }
            }
        }
        let mut kept_any = false;
        for (nodes, c) in runs.into_iter().filter(|(n, _)| n.len() >= 2) {
            kept_any = true;
            ways.push(RoadWay { id, tags: tags.clone(), nodes, coords: c });
        }
        if kept_any {
            *report.kept_by_class.entry(tags["highway"].clone()).or_default() += 1;
        } else {
            *report.dropped.entry("fewer than two nodes in the file".to_owned()).or_default() += 1;
        }
    }
    Ok((ways, report))
}

/// GeoJSON lines with OpenStreetMap-style properties. Lines meeting at exactly the same coordinate share a node.
fn geojson(file: &str, bytes: &[u8]) -> Result<(Vec<RoadWay>, ReadReport), RoadError> {
    let mut report = ReadReport { file: file.to_owned(), format: "geojson".into(), ..ReadReport::default() };
    let mut text = String::new();
    Cursor::new(bytes).read_to_string(&mut text).map_err(|_| format_err(file, "not UTF-8 text (GeoJSON is UTF-8)"))?;
    let gj: geojson::GeoJson = text.parse().map_err(|e| format_err(file, format!("not GeoJSON: {e}")))?;
    let features = match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc.features,
        geojson::GeoJson::Feature(f) => vec![f],
        geojson::GeoJson::Geometry(_) => {
            return Err(format_err(file, "a bare geometry has no properties: give Features with a highway property"));
        }
    };
    // One node id per distinct coordinate (bit-exact: municipal data shares end points exactly where lines meet).
    let mut node_ids: HashMap<(u64, u64), i64> = HashMap::new();
    let mut ways = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let props = f.properties.as_ref();
        let value = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(if *b { "yes".into() } else { "no".into() }),
            _ => None,
        };
        let pairs: Vec<(String, String)> =
            props.map(|p| p.iter().filter_map(|(k, v)| value(v).map(|v| (k.clone(), v))).collect()).unwrap_or_default();
        let Some(tags) = road_tags(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) else {
            continue;
        };
        report.ways_read += 1;
        let tags = match tags {
            Ok(t) => t,
            Err(why) => {
                *report.dropped.entry(why).or_default() += 1;
                continue;
            }
        };
        let lines: Vec<&Vec<geojson::Position>> = match f.geometry.as_ref().map(|g| &g.value) {
            Some(geojson::GeometryValue::LineString { coordinates }) => vec![coordinates],
            Some(geojson::GeometryValue::MultiLineString { coordinates }) => coordinates.iter().collect(),
            Some(other) => {
                return Err(format_err(
                    file,
                    format!(
                        "feature {i}: field geometry: a {} is not a road line (LineString or MultiLineString)",
                        other.type_name()
                    ),
                ));
            }
            None => {
                *report.dropped.entry("no geometry".to_owned()).or_default() += 1;
                continue;
            }
        };
        let mut kept_any = false;
        for line in lines {
            let mut nodes = Vec::with_capacity(line.len());
            let mut coords = Vec::with_capacity(line.len());
            for (k, p) in line.iter().enumerate() {
                let (Some(&x), Some(&y)) = (p.as_slice().first(), p.as_slice().get(1)) else {
                    return Err(format_err(
                        file,
                        format!("feature {i}: field geometry: position {k} has fewer than two numbers"),
                    ));
                };
                if crate::coord::LonLat::new(x, y).is_err() {
                    return Err(format_err(
                        file,
                        format!(
                            "feature {i}: field geometry: position {k} [{x}, {y}] is not a WGS84 lon/lat (give the file in WGS84)"
                        ),
                    ));
                }
                let next = node_ids.len() as i64 + 1;
                let id = *node_ids.entry((x.to_bits(), y.to_bits())).or_insert(next);
                if nodes.last() != Some(&id) {
                    nodes.push(id);
                    coords.push([x, y]);
                }
            }
            if nodes.len() >= 2 {
                kept_any = true;
                ways.push(RoadWay { id: i as i64, tags: tags.clone(), nodes, coords });
            }
        }
        if kept_any {
            *report.kept_by_class.entry(tags["highway"].clone()).or_default() += 1;
        } else {
            *report.dropped.entry("fewer than two distinct points".to_owned()).or_default() += 1;
        }
    }
    Ok((ways, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geojson_lines_share_nodes_where_they_meet_and_non_roads_are_counted() {
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"highway":"residential","name":"中山路","oneway":"yes","maxspeed":30},
           "geometry":{"type":"LineString","coordinates":[[118.0,32.0],[118.001,32.0],[118.002,32.0]]}},
          {"type":"Feature","properties":{"highway":"footway"},
           "geometry":{"type":"LineString","coordinates":[[118.001,32.0],[118.001,32.001]]}},
          {"type":"Feature","properties":{"highway":"construction"},
           "geometry":{"type":"LineString","coordinates":[[118.0,32.0],[118.0,32.001]]}},
          {"type":"Feature","properties":{"name":"a river"},
           "geometry":{"type":"LineString","coordinates":[[118.0,32.0],[118.0,32.001]]}}
        ]}"#;
        let (ways, report) = read_bytes("roads.geojson", text.as_bytes()).expect("reads");
        assert_eq!(ways.len(), 2);
        assert_eq!(ways[0].nodes[1], ways[1].nodes[0], "the footway starts at the road's middle node");
        assert_eq!(ways[0].tags["maxspeed"], "30");
        assert_eq!(report.ways_read, 3);
        assert_eq!(report.dropped["not a road (highway=construction)"], 1);
        assert_eq!(report.kept_by_class["residential"], 1);
    }

    #[test]
    fn bad_files_name_feature_and_field() {
        let point = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"highway":"primary"},
            "geometry":{"type":"Point","coordinates":[118.0,32.0]}}]}"#;
        let e = read_bytes("r.geojson", point.as_bytes()).expect_err("a point is no road");
        assert!(e.to_string().contains("feature 0: field geometry: a Point"), "{e}");
        let projected = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"highway":"primary"},
            "geometry":{"type":"LineString","coordinates":[[500000,3500000],[500100,3500000]]}}]}"#;
        let e = read_bytes("r.geojson", projected.as_bytes()).expect_err("metres are not degrees");
        assert!(e.to_string().contains("feature 0: field geometry: position 0"), "{e}");
        let none = r#"{"type":"FeatureCollection","features":[]}"#;
        assert!(matches!(read_bytes("r.geojson", none.as_bytes()), Err(RoadError::Empty { .. })));
        let e = read_bytes("r.osm.pbf", b"not a pbf").expect_err("garbage");
        assert!(e.to_string().contains("not a readable OpenStreetMap PBF file"), "{e}");
    }
}
