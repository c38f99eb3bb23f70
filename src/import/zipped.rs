//! Zipped Shapefiles as they are mailed around: the layer may sit in a sub-folder, an archive may hold several
//! layers (`--member` picks one). Entries with `..` or absolute paths are refused, and so is more than
//! [`MAX_UNCOMPRESSED_BYTES`] of content (counted while inflating, not trusted from the directory), and an entry that
//! inflates more than [`MAX_RATIO`] times its compressed size beyond [`RATIO_FLOOR`] (a zip bomb: refused after at most
//! that many bytes). Entry names without the zip's UTF-8 flag are read as UTF-8 when they are (Linux tools write
//! them so), else as GBK/GB18030 when that reads (Chinese Windows), else as the format's CP437.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use super::shapefile::FileSet;

/// Most bytes gridmap inflates out of one archive (2 GiB).
pub const MAX_UNCOMPRESSED_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// An entry may inflate to this many times its compressed size (beyond [`RATIO_FLOOR`]); real Shapefiles compress
/// 2–20×, a zip bomb thousands of times.
pub const MAX_RATIO: u64 = 100;

/// Inflating up to this many bytes per entry is always allowed, whatever the ratio (64 MiB).
pub const RATIO_FLOOR: u64 = 64 * 1024 * 1024;

/// A zip archive that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// Not a zip, or a damaged one.
    #[error("{file}: not a readable zip archive: {reason}")]
    Corrupt {
        /// Archive name.
        file: String,
        /// Reader's message.
        reason: String,
    },
    /// An entry name escapes the archive.
    #[error("{file}: entry {entry:?} has an unsafe path (absolute or with ..); refusing the archive")]
    UnsafePath {
        /// Archive name.
        file: String,
        /// Entry name.
        entry: String,
    },
    /// The content is larger than gridmap accepts.
    #[error("{file}: the archive inflates to more than {limit} bytes; refusing it")]
    TooLarge {
        /// Archive name.
        file: String,
        /// The limit.
        limit: u64,
    },
    /// An entry inflates far beyond what its compressed size makes plausible.
    #[error(
        "{file}: entry {entry:?} inflates to more than {limit} bytes from {compressed} compressed (over {MAX_RATIO}:1): \
         a zip bomb; refusing the archive"
    )]
    Bomb {
        /// Archive name.
        file: String,
        /// Entry name.
        entry: String,
        /// Its compressed size.
        compressed: u64,
        /// Where inflating stopped.
        limit: u64,
    },
    /// No Shapefile in the archive.
    #[error("{file}: no .shp in the archive (entries: {entries:?})")]
    NoLayer {
        /// Archive name.
        file: String,
        /// What is in it.
        entries: Vec<String>,
    },
    /// Several layers and no `--member`.
    #[error("{file}: the archive holds {} layers: {layers:?}; choose one with --member NAME", layers.len())]
    SeveralLayers {
        /// Archive name.
        file: String,
        /// Layer paths.
        layers: Vec<String>,
    },
    /// `--member` names no layer.
    #[error("{file}: no layer {member:?} in the archive; its layers are {layers:?}")]
    NoSuchMember {
        /// Archive name.
        file: String,
        /// Requested.
        member: String,
        /// Available.
        layers: Vec<String>,
    },
}

/// An entry's name from its stored bytes: UTF-8 when valid, else GBK/GB18030 when it decodes without error, else
/// `cp437` (the zip crate's reading when the UTF-8 flag is off).
fn entry_name(raw: &[u8], cp437: &str) -> String {
    if let Ok(utf8) = std::str::from_utf8(raw) {
        return utf8.to_owned();
    }
    let (text, _, errors) = encoding_rs::GB18030.decode(raw);
    if errors { cp437.to_owned() } else { text.into_owned() }
}

fn unsafe_path(name: &str) -> bool {
    let n = name.replace('\\', "/");
    n.starts_with('/') || n.split('/').any(|part| part == "..") || n.as_bytes().get(1) == Some(&b':')
}

/// The layer paths without extension (`folder/nybb`) of an archive's `.shp` entries.
fn stem_of(name: &str) -> Option<(&str, String)> {
    let (stem, ext) = name.rsplit_once('.')?;
    Some((stem, ext.to_ascii_lowercase()))
}

/// Extracts one Shapefile layer (its `.shp` and sidecars) from a zip.
pub(super) fn shapefile_set(file: &str, bytes: &[u8], member: Option<&str>) -> Result<FileSet, ZipError> {
    extract(file, bytes, member, MAX_UNCOMPRESSED_BYTES)
}

fn extract(file: &str, bytes: &[u8], member: Option<&str>, limit: u64) -> Result<FileSet, ZipError> {
    let corrupt = |e: zip::result::ZipError| ZipError::Corrupt { file: file.to_owned(), reason: e.to_string() };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    let mut names = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(corrupt)?;
        let name = entry_name(entry.name_raw(), entry.name());
        if unsafe_path(&name) || unsafe_path(entry.name()) || entry.enclosed_name().is_none() {
            return Err(ZipError::UnsafePath { file: file.to_owned(), entry: name });
        }
        if !entry.is_dir() && !name.starts_with("__MACOSX/") {
            index.insert(name.clone(), i);
            names.push(name);
        }
    }
    let layers: Vec<String> =
        names.iter().filter_map(|n| stem_of(n).filter(|(_, ext)| ext == "shp").map(|(s, _)| s.to_owned())).collect();
    let layer = match (layers.as_slice(), member) {
        ([], _) => return Err(ZipError::NoLayer { file: file.to_owned(), entries: names }),
        (_, Some(m)) => {
            let m = m.trim_end_matches(".shp");
            let found = layers
                .iter()
                .find(|l| l.as_str() == m || l.rsplit('/').next().is_some_and(|base| base.eq_ignore_ascii_case(m)));
            found.cloned().ok_or_else(|| ZipError::NoSuchMember {
                file: file.to_owned(),
                member: m.to_owned(),
                layers: layers.clone(),
            })?
        }
        ([one], None) => one.clone(),
        (_, None) => return Err(ZipError::SeveralLayers { file: file.to_owned(), layers }),
    };

    let mut parts: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut budget = limit;
    for name in &names {
        let Some((stem, ext)) = stem_of(name) else { continue };
        if !stem.eq_ignore_ascii_case(&layer) || !["shp", "shx", "dbf", "prj", "cpg"].contains(&ext.as_str()) {
            continue;
        }
        let entry = archive.by_index(index[name]).map_err(corrupt)?;
        let compressed = entry.compressed_size();
        let plausible = RATIO_FLOOR.max(compressed.saturating_mul(MAX_RATIO));
        let mut buf = Vec::new();
        entry
            .take(budget.min(plausible) + 1)
            .read_to_end(&mut buf)
            .map_err(|e| ZipError::Corrupt { file: file.to_owned(), reason: format!("{name}: {e}") })?;
        if buf.len() as u64 > plausible {
            return Err(ZipError::Bomb { file: file.to_owned(), entry: name.clone(), compressed, limit: plausible });
        }
        budget = budget.checked_sub(buf.len() as u64).ok_or(ZipError::TooLarge { file: file.to_owned(), limit })?;
        parts.insert(ext, buf);
    }
    let shp = parts.remove("shp").unwrap_or_default();
    Ok(FileSet {
        name: format!("{file}/{layer}.shp"),
        shp,
        shx: parts.remove("shx"),
        dbf: parts.remove("dbf"),
        prj: parts.remove("prj"),
        cpg: parts.remove("cpg"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths() {
        assert!(unsafe_path("../etc/passwd"));
        assert!(unsafe_path("/abs/x.shp"));
        assert!(unsafe_path("a/../../x.shp"));
        assert!(unsafe_path("C:\\x.shp"));
        assert!(!unsafe_path("nybb_16a/nybb.shp"));
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, opts).expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    /// A zip whose entry names are `names`' bytes as stored without the UTF-8 flag (written under ASCII names of the
    /// same length, which get no flag, then patched in the local headers and the central directory).
    fn zip_with_raw_names(names: &[Vec<u8>]) -> Vec<u8> {
        let placeholders: Vec<String> =
            names.iter().enumerate().map(|(k, n)| format!("{k}{}", "x".repeat(n.len() - 1))).collect();
        let entries: Vec<(&str, &[u8])> = placeholders.iter().map(|p| (p.as_str(), b"data".as_slice())).collect();
        let mut z = zip_of(&entries);
        for (p, raw) in placeholders.iter().zip(names) {
            let mut at = 0;
            while let Some(k) = z[at..].windows(p.len()).position(|w| w == p.as_bytes()) {
                z[at + k..at + k + p.len()].copy_from_slice(raw);
                at += k + p.len();
            }
        }
        z
    }

    #[test]
    fn entry_names_without_the_utf8_flag_are_read_as_utf8_then_gbk() {
        let utf8 = "秦淮区网格.shp".as_bytes().to_vec();
        let (gbk, _, _) = encoding_rs::GBK.encode("秦淮区社区.shp");
        let z = zip_with_raw_names(&[utf8, gbk.into_owned(), b"d\x81\x30.dbf".to_vec()]);
        let e = extract("names.zip", &z, Some("nothing"), MAX_UNCOMPRESSED_BYTES).expect_err("no such member");
        let ZipError::NoSuchMember { layers, .. } = &e else { panic!("{e}") };
        assert_eq!(layers, &["秦淮区网格", "秦淮区社区"], "{e}");
        let set = extract("names.zip", &z, Some("秦淮区社区"), MAX_UNCOMPRESSED_BYTES).expect("found by its GBK name");
        assert_eq!((set.name.as_str(), set.shp.as_slice()), ("names.zip/秦淮区社区.shp", b"data".as_slice()));
        assert_eq!(entry_name(&[0x81, 0x20], "ü "), "ü ", "neither UTF-8 nor GB18030: the CP437 reading");
    }

    #[test]
    fn a_zip_bomb_is_refused_after_the_plausible_size() {
        let zeros = vec![0_u8; RATIO_FLOOR as usize + 4096];
        let z = zip_of(&[("d/a.shp", &zeros)]);
        assert!(z.len() < 1 << 20, "{} bytes compressed", z.len());
        let e = extract("bomb.zip", &z, None, MAX_UNCOMPRESSED_BYTES).expect_err("a bomb");
        assert!(matches!(&e, ZipError::Bomb { limit, .. } if *limit == RATIO_FLOOR), "{e}");
        assert!(e.to_string().contains("bomb.zip") && e.to_string().contains("d/a.shp"), "{e}");
    }

    #[test]
    fn inflated_size_is_capped_while_reading() {
        let big = vec![0_u8; 100_000];
        let z = zip_of(&[("d/a.shp", &big), ("d/a.dbf", b"x")]);
        assert!(z.len() < 2_000, "deflated {} bytes", z.len());
        let e = extract("bomb.zip", &z, None, 50_000).expect_err("capped");
        assert!(matches!(e, ZipError::TooLarge { limit: 50_000, .. }), "{e}");
        assert!(e.to_string().contains("bomb.zip"), "{e}");
        let set = extract("ok.zip", &z, None, 200_000).expect("under the cap");
        assert_eq!((set.name.as_str(), set.shp.len()), ("ok.zip/d/a.shp", 100_000));
    }
}
