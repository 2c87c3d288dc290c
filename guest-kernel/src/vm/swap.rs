//! Swap slots on the swap disk (hd1:1, role `Swap`): page-sized runs of 8 sectors, handed
//! out from a bitmap. Reading or writing a slot sleeps on the disk; the bitmap is only
//! touched with interrupts off.

use alloc::vec::Vec;

use crate::arch::cell::IrqCell;
use crate::arch::io::with_frame;
use crate::devices::block::{self, Block, Role, SectorBuf, SECTOR_SIZE};
use crate::threads::palloc::PGSIZE;

const SECTORS_PER_SLOT: u32 = (PGSIZE / SECTOR_SIZE as u64) as u32;

struct Slots {
    /// One bit per slot, set when in use.
    used: Vec<u64>,
    count: usize,
    free: usize,
}

static SLOTS: IrqCell<Slots> = IrqCell::new(Slots { used: Vec::new(), count: 0, free: 0 });

fn disk() -> Option<&'static Block> {
    block::block_get_role(Role::Swap)
}

/// Sizes the bitmap to the swap disk, if there is one (`vm_anon_init`).
pub fn init() {
    let count = disk().map_or(0, |d| (d.size() / SECTORS_PER_SLOT) as usize);
    SLOTS.with(|s| {
        s.used = alloc::vec![0; count.div_ceil(64)];
        s.count = count;
        s.free = count;
    });
}

/// (free slots, all slots).
pub fn stats() -> (usize, usize) {
    SLOTS.with(|s| (s.free, s.count))
}

/// Takes a free slot; None when the swap disk is full or absent.
pub fn alloc() -> Option<usize> {
    SLOTS.with(|s| {
        let word = s.used.iter().position(|&w| w != u64::MAX)?;
        let bit = (!s.used[word]).trailing_zeros() as usize;
        let slot = word * 64 + bit;
        if slot >= s.count {
            return None;
        }
        s.used[word] |= 1 << bit;
        s.free -= 1;
        Some(slot)
    })
}

/// Gives `slot` back.
pub fn free(slot: usize) {
    SLOTS.with(|s| {
        assert!(s.used[slot / 64] & (1 << (slot % 64)) != 0, "swap slot {slot} freed twice");
        s.used[slot / 64] &= !(1 << (slot % 64));
        s.free += 1;
    });
}

/// Writes the page at kernel address `kva` to `slot`.
pub fn write(slot: usize, kva: u64) {
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
    let d = disk().expect("swap slot without a swap disk");
    with_frame(kva, |page| {
        for (i, chunk) in page.chunks_exact_mut(SECTOR_SIZE).enumerate() {
            let buf: &mut SectorBuf = chunk.try_into().unwrap();
            d.read(slot as u32 * SECTORS_PER_SLOT + i as u32, buf);
        }
    })
}
