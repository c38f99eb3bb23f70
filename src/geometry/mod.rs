//! Geometry helpers that `geo` does not provide in the shape gridmap needs.

pub mod clip;
mod prepared;
pub mod validity;

pub use prepared::PreparedArea;
