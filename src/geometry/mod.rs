//! Geometry helpers that `geo` does not provide in the shape gridmap needs.

mod prepared;

pub use prepared::PreparedArea;
