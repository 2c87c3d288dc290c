//! The claims port (`docs/claims.md`): the kernel's own account of what its
//! virtual-memory code did, written to port 0x6f0 for the emulator's grader to check
//! against what the hardware saw. On a PC or under QEMU nothing listens there and the
//! writes are ignored.
//!
//! A record is a header dword (`0x5056_0000 | kind`) and its arguments, each a u64 as two
//! dwords, low half first, written with interrupts off so no other record lands inside
//! it. A record is about the address space loaded in CR3; one about a page of another
//! address space (eviction takes frames from any process, and may run in a fork's child
//! or a new process that has not loaded its own tables yet) is preceded, in the same
//! interrupts-off stretch, by an `address-space` record naming that space's PML4, and
//! the next record about the loaded space by one naming it again.
//!
//! Every record states a fact that is already true: callers write it after the page is
//! mapped, the slot written, the frame taken.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::cpu;
use crate::arch::io::outl;

const PORT: u16 = 0x6f0;
const HEADER: u32 = 0x5056_0000;

/// The `offset` of a `lazy-load` record for a page that is all zeros.
pub const ZERO_PAGE: u64 = u64::MAX;

/// Record kinds (docs/claims.md, "Records").
#[derive(Clone, Copy)]
#[repr(u32)]
enum Kind {
    LazyLoad = 1,
    SwapOut = 2,
    SwapIn = 3,
    StackGrowth = 4,
    CowCopy = 5,
    Evict = 6,
    Frames = 7,
    AddressSpace = 8,
}

/// An address space, by the physical address of its PML4 (what CR3 holds).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Space(pub u64);

fn send(kind: Kind, args: &[u64]) {
    outl(PORT, HEADER | kind as u32);
    for &a in args {
        outl(PORT, a as u32);
        outl(PORT, (a >> 32) as u32);
    }
}

/// The space the last `address-space` record named, if it was not the one loaded then
/// (0: none). Only touched with interrupts off.
static NAMED: AtomicU64 = AtomicU64::new(0);

/// Writes one record about address space `space`. An `address-space` record holds until
/// the next one or the next CR3 load, so one goes first when `space` is not the loaded
/// one, and when an earlier one that named another space may still hold.
fn record(space: Space, kind: Kind, args: &[u64]) {
    cpu::without_interrupts(|| {
        let loaded = cpu::cr3() & !0xfff;
        if space.0 != loaded || NAMED.load(Ordering::Relaxed) != 0 {
            send(Kind::AddressSpace, &[space.0]);
            NAMED.store(if space.0 != loaded { space.0 } else { 0 }, Ordering::Relaxed);
        }
        send(kind, args);
    })
}

/// `lazy-load`: the page at `va` of `space` was loaded and mapped, `bytes` bytes of it
/// read from file offset `offset` (`ZERO_PAGE`, 0 for a page of zeros). A page whose
/// file bytes do not start at its base gives one record per run, `va` being where the
/// run starts.
pub fn lazy_load(space: Space, va: u64, offset: u64, bytes: u64) {
    record(space, Kind::LazyLoad, &[va, offset, bytes]);
}

/// `swap-out`: the page at `va` was written to swap slot `slot` and unmapped.
pub fn swap_out(space: Space, va: u64, slot: usize) {
    record(space, Kind::SwapOut, &[va, slot as u64]);
}

/// `swap-in`: the page that was in `slot` was read back and mapped at `va`.
pub fn swap_in(space: Space, slot: usize, va: u64) {
    record(space, Kind::SwapIn, &[slot as u64, va]);
}

/// `stack-growth`: a new stack page was mapped at `va` for a fault.
pub fn stack_growth(space: Space, va: u64) {
    record(space, Kind::StackGrowth, &[va]);
}

/// `cow-copy`: a write to the shared page at `va` got a private copy.
pub fn cow_copy(space: Space, va: u64) {
    record(space, Kind::CowCopy, &[va]);
}

/// `evict`: the page at `va` lost its frame, written back to its file or swap if
/// `to_disk`, dropped clean otherwise.
pub fn evict(space: Space, va: u64, to_disk: bool) {
    record(space, Kind::Evict, &[va, to_disk as u64]);
}

/// `frames`: user frames in use and free swap slots, by the kernel's count.
pub fn frames(in_use: usize, swap_free: usize) {
    cpu::without_interrupts(|| send(Kind::Frames, &[in_use as u64, swap_free as u64]));
}
