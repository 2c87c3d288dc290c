//! The frame table: every user-pool page that holds a user page, with the (process,
//! address) it backs, and the clock hand that eviction sweeps with.
//!
//! A frame is pinned from the moment it is allocated until the page it backs is
//! installed in a process's tables (or while eviction writes it out), so the clock never
//! picks a frame whose owner cannot be found yet. The table is only touched with
//! interrupts off; choosing and evicting a victim happen under the VM lock (`vm`).

use alloc::vec::Vec;

use crate::arch::cell::IrqCell;
use crate::threads::palloc::{self, Pool};
use crate::threads::thread::Tid;

pub struct Frame {
    /// Kernel virtual address of the page.
    pub kva: u64,
    /// The process and user page it backs.
    pub owner: (Tid, u64),
    pub pinned: bool,
}

struct Table {
    frames: Vec<Frame>,
    /// Next frame the clock looks at.
    hand: usize,
}

static FRAMES: IrqCell<Table> = IrqCell::new(Table { frames: Vec::new(), hand: 0 });

/// A fresh user-pool page for `owner`, pinned, if the pool has one (no eviction here: see
/// `vm::frame_for`).
pub fn take_free(owner: (Tid, u64)) -> Option<u64> {
    let kva = palloc::get_page(Pool::User, false)?;
    FRAMES.with(|t| t.frames.push(Frame { kva, owner, pinned: true }));
    Some(kva)
}

/// Gives a frame (an evicted one, still pinned) to a new owner.
pub fn reassign(kva: u64, owner: (Tid, u64)) {
    FRAMES.with(|t| {
        let f = t.frames.iter_mut().find(|f| f.kva == kva).expect("reassign: unknown frame");
        f.owner = owner;
        f.pinned = true;
    });
}

/// Lets the clock consider `kva` again.
pub fn unpin(kva: u64) {
    FRAMES.with(|t| {
        if let Some(f) = t.frames.iter_mut().find(|f| f.kva == kva) {
            f.pinned = false;
        }
    });
}

/// Removes `kva` from the table and frees the page.
pub fn free(kva: u64) {
    FRAMES.with(|t| {
        let i = t.frames.iter().position(|f| f.kva == kva).expect("free: unknown frame");
        t.frames.swap_remove(i);
        if t.hand >= t.frames.len() {
            t.hand = 0;
        }
        if t.frames.is_empty() {
            // No heap kept once no process has pages (the leak checks compare).
            t.frames = Vec::new();
        }
    });
    palloc::free_page(kva);
}

/// The frame under the clock hand that is not pinned, advancing the hand past it; None
/// if every frame is pinned (or there are none).
pub fn next_candidate() -> Option<(u64, (Tid, u64))> {
    FRAMES.with(|t| {
        for _ in 0..t.frames.len() {
            let i = t.hand;
            t.hand = (t.hand + 1) % t.frames.len();
            let f = &mut t.frames[i];
            if !f.pinned {
                return Some((f.kva, f.owner));
            }
        }
        None
    })
}

/// Pins `kva` if it is still unpinned; returns whether it did (eviction takes it).
pub fn try_pin(kva: u64) -> bool {
    FRAMES.with(|t| match t.frames.iter_mut().find(|f| f.kva == kva) {
        Some(f) if !f.pinned => {
            f.pinned = true;
            true
        }
        _ => false,
    })
}

/// Frames in the table.
pub fn count() -> usize {
    FRAMES.with(|t| t.frames.len())
}
