//! Mapbox Vector Tile encoding (spec 2.1): one layer at a time, keys and values deduplicated, geometry as
//! zig-zag command streams. The protobuf types come from geozero (prost); the commands are written here because the
//! winding and clipping rules are ours.

use std::collections::HashMap;

use geozero::mvt::tile::{Feature, GeomType, Layer, Value};
use geozero::mvt::{Message, Tile};

use super::mercator::EXTENT;

/// A tile-local integer coordinate (0..4096 inside the tile, the buffer outside).
pub type Px = [i32; 2];

/// A closed ring in tile coordinates, without the repeated closing point.
pub type Ring = Vec<Px>;

/// An attribute value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attr<'a> {
    /// Text.
    Str(&'a str),
    /// Whole number.
    Int(i64),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ValueKey {
    Str(String),
    Int(i64),
}

/// Builds one layer of a tile.
#[derive(Debug)]
pub struct LayerBuilder {
    layer: Layer,
    keys: HashMap<&'static str, u32>,
    values: HashMap<ValueKey, u32>,
}

impl LayerBuilder {
    /// An empty layer named `name`.
    pub fn new(name: &str) -> Self {
        let layer = Layer { version: 2, name: name.to_owned(), extent: Some(EXTENT), ..Layer::default() };
        Self { layer, keys: HashMap::new(), values: HashMap::new() }
    }

    /// Adds a polygon feature: each polygon is an exterior ring then its holes. Rings are re-wound as the spec
    /// wants (exterior positive area in tile coordinates, holes negative).
    pub fn add_polygons(&mut self, polygons: &[Vec<Ring>], attrs: &[(&'static str, Attr<'_>)]) {
        let mut geometry = Vec::new();
        let mut cursor = [0i32; 2];
        for polygon in polygons {
            for (i, ring) in polygon.iter().enumerate() {
                let positive = signed_area2(ring) > 0;
                let want_positive = i == 0;
                if positive == want_positive {
                    push_ring(&mut geometry, &mut cursor, ring.iter().copied());
                } else {
                    push_ring(&mut geometry, &mut cursor, ring.iter().rev().copied());
                }
            }
        }
        if !geometry.is_empty() {
            self.push(GeomType::Polygon, geometry, attrs);
        }
    }

    /// Adds a point feature.
    pub fn add_point(&mut self, p: Px, attrs: &[(&'static str, Attr<'_>)]) {
        let geometry = vec![command(1, 1), zigzag(p[0]), zigzag(p[1])];
        self.push(GeomType::Point, geometry, attrs);
    }

    fn push(&mut self, kind: GeomType, geometry: Vec<u32>, attrs: &[(&'static str, Attr<'_>)]) {
        let mut tags = Vec::with_capacity(attrs.len() * 2);
        for &(key, value) in attrs {
            tags.push(self.key(key));
            tags.push(self.value(value));
        }
        self.layer.features.push(Feature { id: None, tags, r#type: Some(kind as i32), geometry });
    }

    fn key(&mut self, key: &'static str) -> u32 {
        let next = self.keys.len() as u32;
        *self.keys.entry(key).or_insert_with(|| {
            self.layer.keys.push(key.to_owned());
            next
        })
    }

    fn value(&mut self, value: Attr<'_>) -> u32 {
        let key = match value {
            Attr::Str(s) => ValueKey::Str(s.to_owned()),
            Attr::Int(i) => ValueKey::Int(i),
        };
        let next = self.values.len() as u32;
        *self.values.entry(key).or_insert_with(|| {
            self.layer.values.push(match value {
                Attr::Str(s) => Value { string_value: Some(s.to_owned()), ..Value::default() },
                Attr::Int(i) => Value { int_value: Some(i), ..Value::default() },
            });
            next
        })
    }

    /// The encoded tile holding this one layer; empty bytes when the layer has no feature.
    pub fn encode(self) -> Vec<u8> {
        if self.layer.features.is_empty() {
            return Vec::new();
        }
        Tile { layers: vec![self.layer] }.encode_to_vec()
    }
}

/// Twice the signed area by the surveyor's formula, in tile coordinates (positive = clockwise on screen).
pub fn signed_area2(ring: &[Px]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

fn push_ring(out: &mut Vec<u32>, cursor: &mut Px, ring: impl Iterator<Item = Px>) {
    let start = out.len();
    let mut count = 0u32;
    for p in ring {
        if count == 0 {
            out.push(command(1, 1));
        } else if count == 1 {
            out.push(0); // LineTo header, patched once the count is known
        }
        out.push(zigzag(p[0] - cursor[0]));
        out.push(zigzag(p[1] - cursor[1]));
        *cursor = p;
        count += 1;
    }
    if count < 3 {
        out.truncate(start);
        return;
    }
    out[start + 3] = command(2, count - 1);
    out.push(command(7, 1));
}

fn command(id: u32, count: u32) -> u32 {
    (id & 0x7) | (count << 3)
}

fn zigzag(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

#[cfg(test)]
mod tests {
    use geozero::mvt::Message;

    use super::*;

    #[test]
    fn encodes_a_square_per_the_spec_example() {
        // Spec 4.3.4.3: a square with its exterior clockwise on screen.
        let mut layer = LayerBuilder::new("grids");
        let negative: Ring = vec![[3, 6], [3, 12], [8, 12], [8, 6]];
        assert!(signed_area2(&negative) < 0);
        layer.add_polygons(&[vec![negative]], &[("code", Attr::Str("a")), ("n", Attr::Int(2))]);
        layer.add_point([25, 17], &[("code", Attr::Str("a"))]);
        let tile = Tile::decode(layer.encode().as_slice()).expect("decodes");
        let l = &tile.layers[0];
        assert_eq!((l.name.as_str(), l.extent, l.keys.len(), l.values.len()), ("grids", Some(4096), 2, 2));
        let f = &l.features[0];
        // Rewound to positive area, so it starts from the last input vertex: MoveTo(8,6) LineTo×3 ClosePath.
        assert_eq!(f.geometry, vec![9, 16, 12, 26, 0, 12, 9, 0, 0, 11, 15]);
        assert_eq!(l.features[1].geometry, vec![9, 50, 34]);
        assert_eq!(l.features[1].tags, vec![0, 0]);
    }

    #[test]
    fn empty_layer_encodes_to_nothing() {
        assert!(LayerBuilder::new("x").encode().is_empty());
    }
}
