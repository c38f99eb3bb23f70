//! The attributes a file has, and which of them most likely hold code, name and parent code: what the report shows
//! GIS staff (and the console fills in) when the file does not use gridmap's default field names.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::feature::Properties;
use crate::layers::Layer;

/// Distinct values remembered per field; beyond it a field counts as unique (a bounded cost for huge files).
const DISTINCT_CAP: usize = 50_000;

/// Example values shown per field.
const SAMPLES: usize = 3;

/// One attribute of the file.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldInfo {
    /// Attribute name as in the file.
    pub name: String,
    /// Features with a non-empty value.
    pub filled: usize,
    /// Distinct values (at most the cap).
    pub distinct: usize,
    /// The first few values.
    pub samples: Vec<String>,
}

/// Which attributes hold code, name and parent code.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Mapping {
    /// Attribute for the code.
    pub code_field: String,
    /// Attribute for the name.
    pub name_field: Option<String>,
    /// Attribute for the parent code (communities and grids).
    pub parent_field: Option<String>,
    /// Without a parent field: where parents can come from instead (`prefix` when every code starts with a parent's
    /// code, else `location`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_from: Option<super::ParentFrom>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Seen {
    filled: usize,
    /// Value → features having it (up to [`DISTINCT_CAP`] values).
    values: HashMap<String, usize>,
    samples: Vec<String>,
    /// Values with Chinese characters, values that look like codes (ASCII letters, digits, `-_.`).
    cjk: usize,
    codelike: usize,
}

/// Attribute statistics gathered while a file is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// Some feature lacked its code or parent code under the mapping used.
    pub missing_keys: bool,
    features: usize,
    fields: BTreeMap<String, Seen>,
}

impl Observed {
    /// Counts one feature's attributes.
    pub fn add(&mut self, props: Option<&Properties>) {
        self.features += 1;
        for (k, v) in props.into_iter().flatten() {
            let seen = self.fields.entry(k.clone()).or_default();
            let Some(text) = super::feature::value_text(v) else { continue };
            seen.filled += 1;
            seen.cjk += usize::from(text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
            seen.codelike += usize::from(text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
            if seen.samples.len() < SAMPLES && !seen.samples.contains(&text) {
                seen.samples.push(text.clone());
            }
            if seen.values.len() < DISTINCT_CAP || seen.values.contains_key(&text) {
                *seen.values.entry(text).or_default() += 1;
            }
        }
    }

    /// The fields with their counts and samples, in name order.
    pub fn summary(&self) -> Vec<FieldInfo> {
        self.fields
            .iter()
            .map(|(name, s)| FieldInfo {
                name: name.clone(),
                filled: s.filled,
                distinct: s.values.len(),
                samples: s.samples.clone(),
            })
            .collect()
    }

    /// The likeliest code, name and parent fields for `layer`: the code field is filled everywhere, code-like and
    /// unique, or repeated only as parts of one area repeat it (at least half its values distinct, ASCII codes); the parent field holds codes of the parent layer (`parent_codes`) for most features, or failing
    /// that is named like one; the name field is mostly Chinese text or named like a name. `None` without a
    /// plausible code field.
    pub fn suggest(&self, layer: Layer, parent_codes: Option<&HashSet<String>>) -> Option<Mapping> {
        let n = self.features.max(1) as f64;
        let named = |field: &str, hints: &[&str]| {
            let f = field.to_lowercase();
            hints.iter().any(|h| f == *h || f.contains(h))
        };
        let unique = |s: &Seen| s.values.len() >= DISTINCT_CAP || s.values.len() == s.filled;
        // Rows of a multi-part area repeat its code; a field like that is a code field too, after the unique ones.
        let parts_like = |s: &Seen| s.codelike == s.filled && 2 * s.values.len() >= s.filled;
        let row_number =
            |k: &str| ["objectid", "fid", "ogc_fid", "ogr_fid", "gid"].contains(&k.to_lowercase().as_str());
        let parent_field = layer.parent().and_then(|_| {
            let share = |s: &Seen| match parent_codes {
                Some(codes) => s.values.iter().filter(|(v, _)| codes.contains(*v)).map(|(_, c)| c).sum::<usize>(),
                None => 0,
            } as f64
                / n;
            let by_codes = self
                .fields
                .iter()
                .map(|(k, s)| (k, share(s)))
                .filter(|(_, sh)| *sh >= 0.9)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(k, _)| k.clone());
            by_codes.or_else(|| {
                self.fields
                    .iter()
                    .filter(|(k, s)| {
                        named(k, &["parent", "上级", "所属", "pcode", "p_code", "sjbm", "sqbm", "jdbm"])
                            && s.filled as f64 >= 0.95 * n
                    })
                    .map(|(k, _)| k.clone())
                    .next()
            })
        });
        let code_hints = ["code", "bm", "编码", "代码", "dm", "id", "bh", "编号"];
        let code_field = self
            .fields
            .iter()
            .filter(|(k, s)| {
                Some(*k) != parent_field.as_ref()
                    && !row_number(k)
                    && s.filled as f64 >= 0.95 * n
                    && (unique(s) || parts_like(s))
                    && s.cjk == 0
            })
            .max_by_key(|(k, s)| (named(k, &code_hints), s.codelike == s.filled, unique(s), std::cmp::Reverse(k.len())))
            .map(|(k, _)| k.clone())?;
        let name_field = self
            .fields
            .iter()
            .filter(|(k, _)| **k != code_field && Some(*k) != parent_field.as_ref())
            .filter(|(k, s)| s.cjk as f64 >= 0.5 * n || named(k, &["name", "mc", "名称", "名字"]))
            .max_by_key(|(k, s)| {
                (named(k, &["name", "mc", "名称", "名字"]) && !named(k, &["en", "py"]), s.cjk, s.values.len())
            })
            .map(|(k, _)| k.clone());
        let parent_from = match (layer.parent(), &parent_field) {
            (Some(_), None) => {
                let parents: HashSet<&str> = parent_codes.into_iter().flatten().map(String::as_str).collect();
                let values = &self.fields[&code_field].values;
                let by_prefix =
                    !parents.is_empty() && values.keys().all(|v| super::parents::prefix_parent(v, &parents).is_some());
                Some(if by_prefix { super::ParentFrom::Prefix } else { super::ParentFrom::Location })
            }
            _ => None,
        };
        Some(Mapping { code_field, name_field, parent_field, parent_from })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn observed(rows: &[Value]) -> Observed {
        let mut o = Observed::default();
        for r in rows {
            o.add(r.as_object());
        }
        o
    }

    #[test]
    fn chinese_style_fields_are_suggested() {
        let rows: Vec<Value> = (0..20)
            .map(|i| {
                json!({"WGBM": format!("32010400100{i:02}"), "WGMC": format!("第{i}网格"),
                       "SQBM": format!("3201040010{:02}", i % 3), "MJ": 1.5, "BZ": "备注"})
            })
            .collect();
        let parents: HashSet<String> = (0..3).map(|i| format!("3201040010{i:02}")).collect();
        let m = observed(&rows).suggest(Layer::Grids, Some(&parents)).expect("a mapping");
        assert_eq!(
            m,
            Mapping {
                code_field: "WGBM".into(),
                name_field: Some("WGMC".into()),
                parent_field: Some("SQBM".into()),
                parent_from: None
            }
        );
        // Without the parent layer, the parent field is found by its name.
        let m = observed(&rows).suggest(Layer::Grids, None).expect("a mapping");
        assert_eq!(m.parent_field.as_deref(), Some("SQBM"));
        // Streets have no parent field; the adcode-style field is the code.
        let rows: Vec<Value> =
            (0..5).map(|i| json!({"adcode": 320100 + i, "name": format!("{i}区"), "level": "district"})).collect();
        let m = observed(&rows).suggest(Layer::Streets, None).expect("a mapping");
        assert_eq!((m.code_field.as_str(), m.name_field.as_deref(), m.parent_field), ("adcode", Some("name"), None));
    }

    #[test]
    fn codes_repeated_by_parts_are_suggested_and_parents_from_their_prefix() {
        // 6 rows, 4 codes (SQ-1 and SQ-3 in two parts), an OBJECTID, no parent field.
        let rows: Vec<Value> = [1, 1, 2, 3, 3, 4]
            .iter()
            .enumerate()
            .map(|(i, k)| json!({"OBJECTID": i, "社区编码": format!("SQ-{k}"), "社区": format!("第{k}社区")}))
            .collect();
        let streets: HashSet<String> = ["SQ".to_owned()].into();
        let m = observed(&rows).suggest(Layer::Communities, Some(&streets)).expect("a mapping");
        assert_eq!(m.code_field, "社区编码");
        assert_eq!((m.parent_field, m.parent_from), (None, Some(crate::import::ParentFrom::Prefix)));
        let elsewhere: HashSet<String> = ["JD-1".to_owned()].into();
        let m = observed(&rows).suggest(Layer::Communities, Some(&elsewhere)).expect("a mapping");
        assert_eq!(m.parent_from, Some(crate::import::ParentFrom::Location));
    }

    #[test]
    fn no_unique_field_means_no_suggestion() {
        let rows: Vec<Value> = (0..5).map(|_| json!({"kind": "grid"})).collect();
        assert_eq!(observed(&rows).suggest(Layer::Streets, None), None);
        let info = observed(&rows).summary();
        assert_eq!((info[0].filled, info[0].distinct, info[0].samples.len()), (5, 1, 1));
    }
}
