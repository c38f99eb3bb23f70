//! Plausibility of the counts binary formats declare, checked before a parser allocates for them: a Shapefile
//! record or a GeoPackage geometry claiming more points than its bytes can hold is refused, instead of letting the
//! reader reserve gigabytes for them (both found by fuzzing: `tests/fuzz`).

/// A shape or geometry whose counts do not fit in its bytes.
pub type Implausible = String;

fn u32_at(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let raw: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian { u32::from_be_bytes(raw) } else { u32::from_le_bytes(raw) })
}

/// Checks every record of a `.shp` and returns the index (`.shx`) to read it by: the file's own, whose every
/// offset is checked, or, without one, an index built by walking the records by their declared lengths. Read by an
/// index the reader seeks to each checked record instead of parsing on from wherever the previous one ended (which,
/// after a record shorter than declared, lands in unchecked bytes).
pub fn shp_records(shp: &[u8], shx: Option<&[u8]>) -> Result<Vec<u8>, Implausible> {
    let header = shp.get(..100).ok_or("the 100-byte header is cut short")?;
    if let Some(shx) = shx {
        for (n, entry) in shx.get(100..).unwrap_or_default().chunks_exact(8).enumerate() {
            let offset = u32_at(entry, 0, true).unwrap_or(0) as usize * 2;
            if offset + 8 <= shp.len() {
                shp_record(shp, offset).map_err(|e| format!("feature {n} (at the .shx offset {offset}): {e}"))?;
            }
        }
        return Ok(shx.to_vec());
    }
    let mut index = header.to_vec();
    let mut at = 100;
    let mut n = 0;
    while at + 8 <= shp.len() {
        let next = shp_record(shp, at).map_err(|e| format!("feature {n}: {e}"))?;
        index.extend(((at / 2) as u32).to_be_bytes());
        index.extend((((next - at - 8) / 2) as u32).to_be_bytes());
        at = next;
        n += 1;
    }
    // The index's own length, in 16-bit words, at bytes 24–27 of its header.
    let words = (index.len() / 2) as u32;
    index[24..28].copy_from_slice(&words.to_be_bytes());
    Ok(index)
}

/// One record at `at`: its content fits in the file and its point and part counts fit in its content. Returns where
/// the next record starts.
fn shp_record(shp: &[u8], at: usize) -> Result<usize, Implausible> {
    let words = u32_at(shp, at + 4, true).ok_or("truncated record header")? as usize;
    let content = at + 8..at + 8 + words * 2;
    let body = shp.get(content.clone()).ok_or_else(|| {
        format!(
            "truncated: its header says {} bytes, but the file ends {} bytes after it",
            words * 2,
            shp.len() - at - 8
        )
    })?;
    let Some(kind) = u32_at(body, 0, false) else { return Ok(content.end) };
    // (bytes before the counts, counts are parts + points?, bytes per part, bytes per point)
    let layout = match kind {
        8 | 18 | 28 => Some((36, false, 0, 16)),
        3 | 5 | 13 | 15 | 23 | 25 => Some((36, true, 4, 16)),
        31 => Some((36, true, 8, 16)),
        _ => None,
    };
    if let Some((head, with_parts, per_part, per_point)) = layout {
        let parts = if with_parts { u32_at(body, head, false).ok_or("truncated counts")? as u64 } else { 0 };
        let points_at = if with_parts { head + 4 } else { head };
        let points = u32_at(body, points_at, false).ok_or("truncated counts")? as u64;
        let need = (points_at as u64 + 4) + parts * per_part + points * per_point;
        if need > body.len() as u64 {
            return Err(format!(
                "shape type {kind} claims {parts} parts and {points} points ({need} bytes) but holds {} bytes",
                body.len()
            ));
        } // Each part starts at a point of the record, in order (a reader slices the points by them).
        let mut previous = 0;
        for k in 0..parts as usize {
            let start = u32_at(body, points_at + 4 + 4 * k, false).ok_or("truncated parts")?;
            if u64::from(start) >= points.max(1) || start < previous {
                return Err(format!("shape type {kind}: part {k} starts at point {start} of {points}"));
            }
            previous = start;
        }
    }
    Ok(content.end)
}

/// Checks a GeoPackage geometry blob: header, envelope, then a WKB walk comparing every count with the bytes left.
pub fn gpkg_geometry(blob: &[u8]) -> Result<(), Implausible> {
    if blob.get(0..2) != Some(b"GP") {
        return Err("not a GeoPackage geometry (no GP magic)".into());
    }
    let flags = *blob.get(3).ok_or("truncated header")?;
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => return Err(format!("envelope indicator {e} is not defined")),
    };
    let mut at = 8 + envelope;
    if at > blob.len() {
        return Err("truncated header".into());
    }
    wkb(blob, &mut at, 0)
}

/// Most nesting of WKB collections.
const MAX_DEPTH: u32 = 32;

fn wkb(b: &[u8], at: &mut usize, depth: u32) -> Result<(), Implausible> {
    if depth > MAX_DEPTH {
        return Err(format!("collections nested deeper than {MAX_DEPTH}"));
    }
    let big = match b.get(*at) {
        Some(0) => true,
        Some(1) => false,
        Some(o) => return Err(format!("byte order {o} is neither 0 nor 1")),
        None => return Err("truncated geometry".into()),
    };
    let raw = u32_at(b, *at + 1, big).ok_or("truncated geometry")?;
    *at += 5;
    // ISO (1000s) and EWKB (high bits) dimensions; an EWKB SRID follows the type.
    let (mut z, mut m) = (raw & 0x8000_0000 != 0, raw & 0x4000_0000 != 0);
    if raw & 0x2000_0000 != 0 {
        *at += 4;
    }
    let iso = raw & 0x0FFF_FFFF;
    match iso / 1000 {
        1 => z = true,
        2 => m = true,
        3 => (z, m) = (true, true),
        _ => {}
    }
    let point = 8 * (2 + usize::from(z) + usize::from(m));
    let left = |at: usize| b.len().saturating_sub(at);
    let count = |at: &mut usize, each: usize, what: &str| -> Result<usize, Implausible> {
        let n = u32_at(b, *at, big).ok_or("truncated count")? as usize;
        *at += 4;
        if n.saturating_mul(each) > left(*at) {
            return Err(format!("{n} {what} declared, {} bytes left", left(*at)));
        }
        Ok(n)
    };
    match iso % 1000 {
        1 => *at += point,
        2 => *at += count(at, point, "points")? * point,
        3 => {
            for _ in 0..count(at, 4, "rings")? {
                *at += count(at, point, "points")? * point;
            }
        }
        4..=7 => {
            for _ in 0..count(at, 5, "geometries")? {
                wkb(b, at, depth + 1)?;
            }
        }
        t => return Err(format!("WKB geometry type {t} is not read (points, lines, polygons and their collections)")),
    }
    if *at > b.len() { Err("truncated geometry".into()) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polygon_record(points_claimed: u32, points_held: usize) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(5u32.to_le_bytes());
        body.extend([0u8; 32]);
        body.extend(1u32.to_le_bytes());
        body.extend(points_claimed.to_le_bytes());
        body.extend(0u32.to_le_bytes());
        body.extend(vec![0u8; points_held * 16]);
        let mut shp = vec![0u8; 100];
        shp.extend(1u32.to_be_bytes());
        shp.extend(((body.len() / 2) as u32).to_be_bytes());
        shp.extend(body);
        shp
    }

    #[test]
    fn shapefile_counts_must_fit() {
        let index = shp_records(&polygon_record(4, 4), None).expect("plausible");
        assert_eq!(index.len(), 108, "header and one entry");
        assert_eq!(&index[100..108], &[0, 0, 0, 50, 0, 0, 0, 56], "offset 100 bytes, 112 bytes of content");
        assert_eq!(&index[24..28], &54u32.to_be_bytes(), "108 bytes in 16-bit words");
        let e = shp_records(&polygon_record(1_400_000_000, 4), None).expect_err("22 GB of points in 120 bytes");
        assert!(e.contains("feature 0") && e.contains("1400000000 points"), "{e}");
        let mut bad_part = polygon_record(4, 4);
        bad_part[100 + 8 + 44..100 + 8 + 48].copy_from_slice(&(-452_984_832i32).to_le_bytes());
        let e = shp_records(&bad_part, None).expect_err("a part starting before the points");
        assert!(e.contains("part 0 starts at point"), "{e}");
        let mut truncated = polygon_record(4, 4);
        truncated.truncate(150);
        assert!(shp_records(&truncated, None).expect_err("cut short").contains("file ends"));
    }

    fn gpkg(wkb: &[u8]) -> Vec<u8> {
        let mut b = b"GP\0\x01".to_vec(); // little-endian, no envelope
        b.extend(4326u32.to_le_bytes());
        b.extend(wkb);
        b
    }

    #[test]
    fn geopackage_counts_must_fit() {
        let mut square = vec![1u8];
        square.extend(3u32.to_le_bytes());
        square.extend(1u32.to_le_bytes());
        square.extend(4u32.to_le_bytes());
        square.extend([0u8; 64]);
        assert_eq!(gpkg_geometry(&gpkg(&square)), Ok(()));
        let mut huge = vec![1u8];
        huge.extend(3u32.to_le_bytes());
        huge.extend(1u32.to_le_bytes());
        huge.extend(0xFFFF_FFE4u32.to_le_bytes());
        let e = gpkg_geometry(&gpkg(&huge)).expect_err("64 GB of points");
        assert!(e.contains("points declared"), "{e}");
        let mut deep = Vec::new();
        for _ in 0..40 {
            deep.push(1u8);
            deep.extend(7u32.to_le_bytes());
            deep.extend(1u32.to_le_bytes());
        }
        assert!(gpkg_geometry(&gpkg(&deep)).is_err());
        assert!(gpkg_geometry(b"XX").is_err());
    }
}
