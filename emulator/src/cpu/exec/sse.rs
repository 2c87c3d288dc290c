//! (sse family: to be implemented)

use super::Table;

pub fn register(_t: &mut Table) {}
