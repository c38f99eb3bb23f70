//! Where a long import is, for a progress bar: each phase with its number of steps, then the steps as they complete.
//! The CLI draws it on a terminal; everything else passes the default, which does nothing.

use std::sync::Arc;

/// Told what an import is doing.
pub trait Progress: Send + Sync {
    /// A phase begins with `total` steps (0: unknown, e.g. while a file is parsed or written).
    fn phase(&self, name: &'static str, total: u64);
    /// `n` more steps of the current phase are done.
    fn advance(&self, n: u64);
}

/// An optional [`Progress`], cheap to clone and to call when absent.
#[derive(Clone, Default)]
pub struct Tracker(Option<Arc<dyn Progress>>);

impl Tracker {
    /// Reports to `progress`.
    pub fn new(progress: Arc<dyn Progress>) -> Self {
        Self(Some(progress))
    }

    /// See [`Progress::phase`].
    pub fn phase(&self, name: &'static str, total: usize) {
        if let Some(p) = &self.0 {
            p.phase(name, total as u64);
        }
    }

    /// One more step done.
    pub fn tick(&self) {
        if let Some(p) = &self.0 {
            p.advance(1);
        }
    }
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Tracker(on)" } else { "Tracker(off)" })
    }
}
