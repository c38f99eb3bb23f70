//! The incident categories a service accepts (configurable; an unknown category is refused).

/// Built-in categories: `(code, 中文)`.
pub const DEFAULT_CATEGORIES: &[(&str, &str)] = &[
    ("fire", "火情"),
    ("traffic", "交通"),
    ("public_order", "治安"),
    ("dispute", "矛盾纠纷"),
    ("environment", "环境污染"),
    ("sanitation", "市容环卫"),
    ("infrastructure", "市政设施"),
    ("flood", "防汛"),
    ("medical", "医疗救助"),
    ("safety_hazard", "安全隐患"),
    ("illegal_construction", "违法建设"),
    ("other", "其他"),
];

/// The accepted category codes.
#[derive(Debug, Clone)]
pub struct Categories(Vec<String>);

impl Default for Categories {
    fn default() -> Self {
        Self(DEFAULT_CATEGORIES.iter().map(|(c, _)| (*c).to_owned()).collect())
    }
}

impl Categories {
    /// A custom list.
    pub fn new(codes: impl IntoIterator<Item = String>) -> Self {
        Self(codes.into_iter().collect())
    }

    /// True when `code` is accepted.
    pub fn contains(&self, code: &str) -> bool {
        self.0.iter().any(|c| c == code)
    }

    /// All accepted codes.
    pub fn codes(&self) -> &[String] {
        &self.0
    }
}
