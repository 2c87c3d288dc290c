//! The frame table: every user-pool page that holds a user page, with the (process,
//! address) pairs it backs (more than one while a forked child shares it copy-on-write),
//! and the clock hand that eviction sweeps with.
//!
//! A frame is pinned from the moment it is allocated until the page it backs is
//! installed in a process's tables (or while eviction writes it out), so the clock never
//! picks a frame whose owner cannot be found yet. The table is only touched with
//! interrupts off; choosing and evicting a victim happen under the VM lock (`vm`).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::arch::cell::IrqCell;
use crate::threads::palloc::{self, Pool};
use crate::threads::thread::Tid;

/// A (process, user page address) pair.
pub type Owner = (Tid, u64);

pub struct Frame {
    /// The user pages it backs: one, or several sharing it copy-on-write.
    pub owners: Vec<Owner>,
    pub pinned: bool,
}

struct Table {
    /// Frames by kernel virtual address (faults and releases find them in log time; the
    /// clock sweeps them in address order).
    frames: BTreeMap<u64, Frame>,
    /// The clock hand: the next frame looked at is the first at or above it.
    hand: u64,
}

static FRAMES: IrqCell<Table> = IrqCell::new(Table { frames: BTreeMap::new(), hand: 0 });

/// A fresh user-pool page for `owner`, pinned, if the pool has one (no eviction here: see
/// `vm::frame_for`).
pub fn take_free(owner: Owner) -> Option<u64> {
    let kva = palloc::get_page(Pool::User, false)?;
    FRAMES.with(|t| t.frames.insert(kva, Frame { owners: alloc::vec![owner], pinned: true }));
    Some(kva)
}

fn find(t: &mut Table, kva: u64) -> &mut Frame {
    t.frames.get_mut(&kva).unwrap_or_else(|| panic!("unknown frame {kva:#x}"))
}

/// Gives a frame (an evicted one, still pinned) to a new owner.
pub fn reassign(kva: u64, owner: Owner) {
    FRAMES.with(|t| {
        let f = find(t, kva);
        f.owners.clear();
        f.owners.push(owner);
        f.pinned = true;
    });
}

/// Adds an owner sharing `kva` (a forked child's copy-on-write page).
pub fn share(kva: u64, owner: Owner) {
    FRAMES.with(|t| find(t, kva).owners.push(owner));
}

/// Removes `owner` from `kva`; frees the page if nobody else uses it. Returns how many
/// owners remain.
pub fn release(kva: u64, owner: Owner) -> usize {
    let left = FRAMES.with(|t| {
        let f = find(t, kva);
        let i = f.owners.iter().position(|&o| o == owner).expect("release: not an owner");
        f.owners.swap_remove(i);
        let left = f.owners.len();
        if left == 0 {
            t.frames.remove(&kva);
            if t.frames.is_empty() {
                // No heap kept once no process has pages (the leak checks compare).
                t.frames = BTreeMap::new();
            }
        }
        left
    });
    if left == 0 {
        palloc::free_page(kva);
    }
    left
}

/// How many user pages share `kva`.
pub fn owner_count(kva: u64) -> usize {
    FRAMES.with(|t| find(t, kva).owners.len())
}

/// Lets the clock consider `kva` again.
pub fn unpin(kva: u64) {
    FRAMES.with(|t| {
        if let Some(f) = t.frames.get_mut(&kva) {
            f.pinned = false;
        }
    });
}

/// The frame under the clock hand that is not pinned, advancing the hand past it; None
/// if every frame is pinned (or there are none).
pub fn next_candidate() -> Option<(u64, Vec<Owner>)> {
    FRAMES.with(|t| {
        let hand = t.hand;
        let (&kva, f) = t.frames.range(hand..).chain(t.frames.range(..hand)).find(|(_, f)| !f.pinned)?;
        let owners = f.owners.clone();
        t.hand = kva + 1;
        Some((kva, owners))
    })
}

/// Takes every owner off `kva` (eviction moved them all elsewhere); the frame stays,
/// pinned, for its next owner.
pub fn clear_owners(kva: u64) {
    FRAMES.with(|t| find(t, kva).owners.clear());
}

/// Pins `kva` if it is still unpinned; returns whether it did (eviction takes it).
pub fn try_pin(kva: u64) -> bool {
    FRAMES.with(|t| match t.frames.get_mut(&kva) {
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
