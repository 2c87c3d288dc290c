//! Swap slots on the swap disk (hd1:1, role `Swap`): page-sized runs of 8 sectors, each
//! with a count of the pages stored in it (more than one when pages shared copy-on-write
//! were evicted together). Reading or writing a slot sleeps on the disk; the counts are
//! only touched with interrupts off.

use alloc::vec::Vec;

use crate::arch::cell::IrqCell;
use crate::arch::io::with_frame;
use crate::devices::block::{self, Block, Role, SectorBuf, SECTOR_SIZE};
use crate::threads::palloc::PGSIZE;

const SECTORS_PER_SLOT: u32 = (PGSIZE / SECTOR_SIZE as u64) as u32;

struct Slots {
    /// Pages stored in each slot (0: free).
    users: Vec<u16>,
    /// Where to start looking for a free slot.
    next: usize,
    free: usize,
}

static SLOTS: IrqCell<Slots> = IrqCell::new(Slots { users: Vec::new(), next: 0, free: 0 });

fn disk() -> Option<&'static Block> {
    block::block_get_role(Role::Swap)
}

/// Sizes the bitmap to the swap disk, if there is one (`vm_anon_init`).
pub fn init() {
    let count = disk().map_or(0, |d| (d.size() / SECTORS_PER_SLOT) as usize);
    SLOTS.with(|s| {
        s.users = alloc::vec![0; count];
        s.next = 0;
        s.free = count;
    });
}

/// (free slots, all slots).
pub fn stats() -> (usize, usize) {
    SLOTS.with(|s| (s.free, s.users.len()))
}

/// Takes a free slot for `pages` pages; None when the swap disk is full or absent.
pub fn alloc(pages: u16) -> Option<usize> {
    #[cfg(feature = "broken")]
    if super::broken::keeps_swap() {
        return super::broken::keep_alloc(pages);
    }
    SLOTS.with(|s| {
        let n = s.users.len();
        let slot = (0..n).map(|i| (s.next + i) % n).find(|&i| s.users[i] == 0)?;
        s.users[slot] = pages;
        s.next = (slot + 1) % n;
        s.free -= 1;
        Some(slot)
    })
}

/// One page stored in `slot` no longer needs it; the slot is free once none does.
pub fn free(slot: usize) {
    #[cfg(feature = "broken")]
    if super::broken::keeps_swap() {
        return super::broken::keep_free(slot);
    }
    SLOTS.with(|s| {
        assert!(s.users[slot] > 0, "swap slot {slot} freed twice");
        s.users[slot] -= 1;
        if s.users[slot] == 0 {
            s.free += 1;
        }
    });
}

/// One more page (a fork's copy-on-write copy) is stored in `slot`.
pub fn share(slot: usize) {
    #[cfg(feature = "broken")]
    if super::broken::keeps_swap() {
        return super::broken::keep_share(slot);
    }
    SLOTS.with(|s| {
        assert!(s.users[slot] > 0, "sharing free swap slot {slot}");
        s.users[slot] += 1;
    });
}

/// Writes the page at kernel address `kva` to `slot`.
pub fn write(slot: usize, kva: u64) {
    #[cfg(feature = "broken")]
    if super::broken::keeps_swap() {
        return super::broken::keep_write(slot, kva);
    }
    let d = disk().expect("swap slot without a swap disk");
    with_frame(kva, |page| {
        for (i, chunk) in page.chunks_exact(SECTOR_SIZE).enumerate() {
            let buf: &SectorBuf = chunk.try_into().unwrap();
            d.write(slot as u32 * SECTORS_PER_SLOT + i as u32, buf);
        }
    })
}

/// Reads `slot` into the page at kernel address `kva`.
pub fn read(slot: usize, kva: u64) {
    #[cfg(feature = "broken")]
    if super::broken::keeps_swap() {
        return super::broken::keep_read(slot, kva);
    }
    let d = disk().expect("swap slot without a swap disk");
    with_frame(kva, |page| {
        for (i, chunk) in page.chunks_exact_mut(SECTOR_SIZE).enumerate() {
            let buf: &mut SectorBuf = chunk.try_into().unwrap();
            d.read(slot as u32 * SECTORS_PER_SLOT + i as u32, buf);
        }
    })
}
