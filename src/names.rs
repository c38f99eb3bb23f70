//! English display names for boundary features, for the style's English labels: the file's own English name when
//! it has one (`name_en`, `NAME_EN`, `name_eng`, `ENAME`), else the Chinese name in Hanyu Pinyin with the
//! administrative words translated the way Chinese maps do it (夫子庙街道 → Fuzimiao Subdistrict, 第2网格 → Grid 2).

use pinyin::ToPinyin;

/// Attributes read as the English name, first present wins.
const ENGLISH_FIELDS: [&str; 5] = ["name_en", "NAME_EN", "name_eng", "NAME_ENG", "ENAME"];

/// Administrative words and their English, longest first so 社区 wins over 区.
const TERMS: [(&str, &str); 14] = [
    ("居委会", "Residents' Committee"),
    ("村委会", "Village Committee"),
    ("街道办", "Subdistrict"),
    ("开发区", "Development Zone"),
    ("街道", "Subdistrict"),
    ("社区", "Community"),
    ("网格", "Grid"),
    ("小区", "Estate"),
    ("园区", "Park"),
    ("片区", "Area"),
    ("区", "District"),
    ("镇", "Town"),
    ("乡", "Township"),
    ("村", "Village"),
];

/// The English name of a feature: an English attribute of the source file, else [`transliterate`] of `name`.
pub fn english_name(name: &str, properties: &serde_json::Map<String, serde_json::Value>) -> String {
    ENGLISH_FIELDS
        .iter()
        .find_map(|k| properties.get(*k).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty()))
        .map_or_else(|| transliterate(name), str::to_owned)
}

/// Pinyin with administrative words in English: each run of other Han characters becomes one capitalised word,
/// `第N` before a term becomes `Term N`, single-character terms (区, 镇, 乡, 村) count only at the end of the name or
/// before `第`. Other characters (digits, Latin) are kept.
pub fn transliterate(name: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut run = String::new();
    let mut rest = name.trim();
    while let Some(c) = rest.chars().next() {
        if let Some((number, english, len)) = ordinal(rest) {
            flush(&mut run, &mut words);
            words.push(format!("{english} {number}"));
            rest = &rest[len..];
        } else if let Some((english, len)) = term(rest) {
            flush(&mut run, &mut words);
            words.push(english.to_owned());
            rest = &rest[len..];
        } else if let Some(p) = c.to_pinyin() {
            run.push_str(p.plain());
            rest = &rest[c.len_utf8()..];
        } else {
            flush(&mut run, &mut words);
            let end = rest.find(|ch: char| ch.to_pinyin().is_some() || ch.is_whitespace()).unwrap_or(rest.len());
            let end = if end == 0 { c.len_utf8() } else { end };
            let literal = rest[..end].trim();
            if !literal.is_empty() {
                words.push(literal.to_owned());
            }
            rest = &rest[end..];
        }
    }
    flush(&mut run, &mut words);
    words.join(" ")
}

/// `第12社区…` → (12, Community, bytes used).
fn ordinal(s: &str) -> Option<(&str, &'static str, usize)> {
    let after = s.strip_prefix('第')?;
    let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
    if digits == 0 {
        return None;
    }
    let (english, len) = term(&after[digits..])?;
    Some((&after[..digits], english, '第'.len_utf8() + digits + len))
}

/// An administrative word at the start of `s`: (English, bytes used).
fn term(s: &str) -> Option<(&'static str, usize)> {
    TERMS.iter().find_map(|(zh, en)| {
        let rest = s.strip_prefix(zh)?;
        let single = zh.chars().count() == 1;
        (!single || rest.is_empty() || rest.starts_with('第')).then_some((*en, zh.len()))
    })
}

fn flush(run: &mut String, words: &mut Vec<String>) {
    if run.is_empty() {
        return;
    }
    let mut chars = run.chars();
    let word: String = chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect();
    words.push(word);
    run.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streets_communities_and_grids() {
        assert_eq!(transliterate("夫子庙街道"), "Fuzimiao Subdistrict");
        assert_eq!(transliterate("夫子庙街道第1社区第12网格"), "Fuzimiao Subdistrict Community 1 Grid 12");
        assert_eq!(transliterate("秦淮区"), "Qinhuai District");
        assert_eq!(transliterate("止马营社区"), "Zhimaying Community");
        assert_eq!(transliterate("湖熟镇"), "Hushu Town");
    }

    #[test]
    fn single_character_terms_only_at_the_end() {
        // 区 inside a name is part of the name; 村 at the end is a village.
        assert_eq!(transliterate("区庄村"), "Quzhuang Village");
    }

    #[test]
    fn latin_and_digits_are_kept() {
        assert_eq!(transliterate("A3 区"), "A3 District");
        assert_eq!(transliterate("A3区域"), "A3 Quyu");
        assert_eq!(transliterate("Grid 7"), "Grid 7");
    }

    #[test]
    fn the_files_english_name_wins() {
        let mut p = serde_json::Map::new();
        p.insert("NAME_EN".into(), "Confucius Temple".into());
        assert_eq!(english_name("夫子庙街道", &p), "Confucius Temple");
        assert_eq!(english_name("夫子庙街道", &serde_json::Map::new()), "Fuzimiao Subdistrict");
    }
}
