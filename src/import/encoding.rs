//! Text encoding of DBF attributes: which one applies (`--encoding`, `.cpg`, the DBF code-page byte, else UTF-8),
//! and a strict decoder for `dbase` that refuses bytes invalid in it instead of storing mojibake.

use std::borrow::Cow;

use encoding_rs::{Encoding, GB18030, UTF_8, WINDOWS_1252};

/// An encoding name gridmap does not know.
#[derive(Debug, thiserror::Error)]
pub enum EncodingError {
    /// `--encoding` or a `.cpg` names something unknown.
    #[error("{file}: unknown text encoding {name:?} ({origin}); use e.g. utf-8, gbk, gb18030, big5, latin1, cp1251")]
    Unknown {
        /// File the name applies to.
        file: String,
        /// The name.
        name: String,
        /// Where it came from (`--encoding`, the `.cpg` file).
        origin: &'static str,
    },
}

/// Resolves an encoding label, including the Windows code-page numbers `.cpg` files use (`936`, `CP936`, `ANSI 1252`).
pub(super) fn by_label(label: &str) -> Option<&'static Encoding> {
    let t = label.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
    let number = t.trim_start_matches("ansi").trim_start_matches("cp").trim_start_matches("windows-").trim();
    let by_number = match number {
        "65001" | "utf8" => Some(UTF_8),
        "936" => Some(encoding_rs::GBK),
        "54936" => Some(GB18030),
        "950" => Some(encoding_rs::BIG5),
        "932" => Some(encoding_rs::SHIFT_JIS),
        "949" => Some(encoding_rs::EUC_KR),
        "866" => Some(encoding_rs::IBM866),
        "874" => Some(encoding_rs::WINDOWS_874),
        n if n.len() == 4 && n.starts_with("125") => Encoding::for_label(format!("windows-{n}").as_bytes()),
        _ => None,
    };
    by_number.or_else(|| Encoding::for_label(t.as_bytes()))
}

/// The encoding a DBF header's language-driver byte (offset 29) names, for the common ones.
pub(super) fn by_code_page_byte(b: u8) -> Option<&'static Encoding> {
    Some(match b {
        0x03 | 0x57 | 0x58 | 0x59 => WINDOWS_1252,
        0x4D => encoding_rs::GBK,
        0x4E => encoding_rs::EUC_KR,
        0x4F => encoding_rs::BIG5,
        0x13 | 0x7B => encoding_rs::SHIFT_JIS,
        0x65 => encoding_rs::IBM866,
        0x7D => encoding_rs::WINDOWS_1255,
        0x7E => encoding_rs::WINDOWS_1256,
        0xC8 => encoding_rs::WINDOWS_1250,
        0xC9 => encoding_rs::WINDOWS_1251,
        0xCA => encoding_rs::WINDOWS_1254,
        0xCB => encoding_rs::WINDOWS_1253,
        _ => return None,
    })
}

/// Strict decoding: `None` when the bytes are not valid text in `enc`.
pub(super) fn decode<'a>(enc: &'static Encoding, bytes: &'a [u8]) -> Option<Cow<'a, str>> {
    if enc == UTF_8 {
        return std::str::from_utf8(bytes).ok().map(Cow::Borrowed);
    }
    enc.decode_without_bom_handling_and_without_replacement(bytes)
}

/// A sentence naming the encodings the bytes do decode in, with a preview, to suggest `--encoding`.
pub(super) fn suggestion(bytes: &[u8]) -> String {
    let mut tries = Vec::new();
    for (label, enc) in [("utf-8", UTF_8), ("gb18030", GB18030), ("latin1", WINDOWS_1252)] {
        if let Some(text) = decode(enc, bytes) {
            tries.push(format!("--encoding {label} reads it as {:?}", text.trim_end()));
        }
    }
    if tries.is_empty() { "no common encoding reads it".to_owned() } else { tries.join("; ") }
}

/// Raw bytes of a string `dbase` decoded as Windows-1252, which maps every byte to a distinct character: reading
/// with it and encoding back gives the file's bytes, which are then decoded strictly in the right encoding.
pub(super) fn raw_bytes(windows_1252: &str) -> Vec<u8> {
    WINDOWS_1252.encode(windows_1252).0.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_code_pages() {
        assert_eq!(by_label("CP936"), Some(encoding_rs::GBK));
        assert_eq!(by_label("GB18030"), Some(GB18030));
        assert_eq!(by_label("GB2312"), Some(encoding_rs::GBK));
        assert_eq!(by_label("ISO-8859-1"), Some(WINDOWS_1252));
        assert_eq!(by_label("UTF-8"), Some(UTF_8));
        assert_eq!(by_label("ANSI 1251"), Some(encoding_rs::WINDOWS_1251));
        assert_eq!(by_code_page_byte(0x4D), Some(encoding_rs::GBK));
        assert_eq!(by_label("klingon"), None);
    }

    #[test]
    fn windows_1252_round_trips_every_byte() {
        let all: Vec<u8> = (1..=255).collect();
        let (text, _, had_errors) = WINDOWS_1252.decode(&all);
        assert!(!had_errors);
        assert_eq!(raw_bytes(&text), all);
    }

    #[test]
    fn gbk_bytes_are_refused_as_utf8_with_a_suggestion() {
        let (gbk, _, _) = encoding_rs::GBK.encode("秦淮区");
        assert!(decode(UTF_8, &gbk).is_none());
        assert!(suggestion(&gbk).contains("gb18030 reads it as \"秦淮区\""), "{}", suggestion(&gbk));
    }
}
