//! Anonymous pages (Pintos-KAIST's `anon`): the stack, an executable's pages once loaded,
//! and anything else with no file behind it. Evicted to a swap slot, read back (and the
//! slot freed) on the next fault.

use super::swap;

/// Where an anonymous page's contents are while it has no frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Anon {
    pub slot: Option<usize>,
}

/// Writes the page at `kva`, shared by `pages` user pages, out to a fresh swap slot;
/// None if swap is full or absent.
pub fn swap_out(kva: u64, pages: u16) -> Option<usize> {
    let slot = swap::alloc(pages)?;
    swap::write(slot, kva);
    Some(slot)
}

/// Reads `slot` back into the page at `kva`; this page no longer needs the slot.
pub fn swap_in(slot: usize, kva: u64) {
    swap::read(slot, kva);
    swap::free(slot);
}
