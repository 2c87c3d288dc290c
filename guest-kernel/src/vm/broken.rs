//! Deliberate bugs, for testing the grader that checks a kernel's claims against the
//! hardware (`docs/claims.md`). Built only with the cargo feature `broken`
//! (`disk_images::build_variant(&["broken"])`); the product kernel has none of this.
//! The kernel option `-broken=KIND` picks one bug; each leaves the output of most tests
//! as it was, so only what the hardware saw (or the kernel's own figures) gives it away:
//!
//! - `eager`: at exec, every page holding executable bytes is loaded and mapped before
//!   the program's first instruction (as if each had faulted): no page faults for
//!   them, and their `lazy-load` claims follow no fault.
//! - `offset`: pages of a segment past its file bytes (bss) are read from the file at
//!   the offset where the segment's bytes would go on (segment offset + distance from
//!   the segment's start), as far as the file goes, instead of being zero-filled.
//!   Where the file ends first (most programs) they still come out zero; their
//!   `lazy-load` claims name that file offset instead of `u64::MAX`.
//! - `noswap`: evicted anonymous pages are kept in the kernel heap (zero runs packed)
//!   instead of on the swap disk, which is never touched; `swap-out`/`swap-in` claims
//!   name slots of that store. An eviction fails (as with a full swap disk) while the
//!   kernel pool is low.
//! - `leak`: every process exit leaks one of its user frames (kept, pinned and ownerless,
//!   in the frame table): the kernel counts it, so the power-off `Frames` line and
//!   `frames` claim show it in use.
//! - `race`: an exiting process wakes its waiting parent before it stores its exit
//!   status; a timer interrupt in between lets the parent read it too early. Whether a
//!   run fails depends on where interrupts land: some `--jitter` seeds make it fail.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, Ordering};

use super::uninit::{Piece, Uninit};
use super::{frame, Kind, Spt};
use crate::arch::cell::IrqCell;
use crate::arch::io::with_frame;
use crate::filesys::file::File;
use crate::threads::palloc::{self, PGSIZE};
use crate::userprog::process::with_current;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Bug {
    None,
    Eager,
    Offset,
    NoSwap,
    Leak,
    Race,
}

static BUG: AtomicU8 = AtomicU8::new(Bug::None as u8);

/// `-broken=KIND`: selects the bug (see the module docs).
pub fn select(kind: &str) {
    let bug = match kind {
        "eager" => Bug::Eager,
        "offset" => Bug::Offset,
        "noswap" => Bug::NoSwap,
        "leak" => Bug::Leak,
        "race" => Bug::Race,
        _ => panic!("unknown bug `{kind}' for -broken (eager, offset, noswap, leak, race)"),
    };
    BUG.store(bug as u8, Ordering::Relaxed);
}

/// Whether `bug` was selected.
pub fn active(bug: Bug) -> bool {
    BUG.load(Ordering::Relaxed) == bug as u8
}

/// `eager`: loads every page of the running process that holds executable bytes, as a
/// fault would (`sp`: the process's stack pointer). Called after exec, before the first
/// instruction.
pub fn load_eagerly(sp: u64) {
    if !active(Bug::Eager) {
        return;
    }
    let pages: Vec<u64> = with_current(|p| p.spt.pages.iter().filter(|(_, pg)| pg.frame.is_none() && matches!(pg.kind, Kind::Uninit(Uninit::Segment { .. }))).map(|(&va, _)| va).collect());
    for va in pages {
        super::handle_fault(va, false, sp);
    }
}

/// `offset`: the piece of `file` that a bss page (its part of the segment starting
/// `page_offset` bytes into it) reads: from `file_offset`, as far as the file goes.
/// None when the bug is off (the page is zero-filled).
pub fn bss_piece(file: &File, file_offset: u64, page_offset: u16) -> Option<Piece> {
    if !active(Bug::Offset) {
        return None;
    }
    let len = (file.length() as u64).saturating_sub(file_offset).min(PGSIZE - page_offset as u64);
    Some(Piece { file_offset: u32::try_from(file_offset).ok()?, page_offset, len: len as u16 })
}

/// `leak`: takes one frame of the exiting process out of its table `spt` (that of the
/// lowest resident anonymous page that shares its frame with nobody) and leaks it.
pub fn leak_frame(mut spt: Spt) -> Spt {
    if !active(Bug::Leak) {
        return spt;
    }
    let victim = spt.pages.iter().find(|(_, pg)| matches!(pg.kind, Kind::Anon(_)) && pg.frame.is_some_and(|k| frame::owner_count(k) == 1)).map(|(&va, pg)| (va, pg.frame.unwrap()));
    if let Some((va, kva)) = victim {
        spt.pages.remove(&va);
        // Pinned with no owner: the clock never takes it and nothing frees it.
        frame::try_pin(kva);
        frame::clear_owners(kva);
    }
    spt
}

/// `noswap`'s store: page contents by slot number, with how many pages share each.
struct Kept {
    slots: BTreeMap<usize, (u16, Vec<u8>)>,
    /// Slot numbers given back, and the next never used.
    free: Vec<usize>,
    next: usize,
}

static KEPT: IrqCell<Kept> = IrqCell::new(Kept { slots: BTreeMap::new(), free: Vec::new(), next: 0 });

/// Whether `noswap` keeps evicted pages (swap.rs asks before touching the disk).
pub fn keeps_swap() -> bool {
    active(Bug::NoSwap)
}

/// A slot of the store for `pages` pages; None (like a full swap disk) while the kernel
/// pool is low.
pub fn keep_alloc(pages: u16) -> Option<usize> {
    if palloc::kernel_low() {
        return None;
    }
    KEPT.with(|k| {
        let slot = k.free.pop().unwrap_or_else(|| {
            k.next += 1;
            k.next - 1
        });
        k.slots.insert(slot, (pages, Vec::new()));
        Some(slot)
    })
}

/// Stores the page at `kva` in `slot`.
pub fn keep_write(slot: usize, kva: u64) {
    let packed = with_frame(kva, |page| pack(page));
    KEPT.with(|k| k.slots.get_mut(&slot).expect("write to a free slot").1 = packed);
}

/// Reads `slot` back into the page at `kva`.
pub fn keep_read(slot: usize, kva: u64) {
    KEPT.with(|k| with_frame(kva, |page| unpack(&k.slots.get(&slot).expect("read of a free slot").1, page)));
}

/// One more page shares `slot`.
pub fn keep_share(slot: usize) {
    KEPT.with(|k| k.slots.get_mut(&slot).expect("sharing a free slot").0 += 1);
}

/// One page no longer needs `slot`; it is dropped once none does.
pub fn keep_free(slot: usize) {
    let dropped = KEPT.with(|k| {
        let users = &mut k.slots.get_mut(&slot).expect("slot freed twice").0;
        *users -= 1;
        if *users > 0 {
            return None;
        }
        let data = k.slots.remove(&slot).map(|(_, d)| d);
        k.free.push(slot);
        if k.slots.is_empty() {
            // No heap kept once nothing is stored.
            k.slots = BTreeMap::new();
            k.free = Vec::new();
            k.next = 0;
        }
        data
    });
    drop(dropped);
}

/// Zero runs of at least this many bytes end a run of literal bytes.
const MIN_ZEROS: usize = 8;

/// The page as runs: (zero bytes, then literal bytes), covering it in order.
fn runs(page: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut i = 0;
    core::iter::from_fn(move || {
        if i == page.len() {
            return None;
        }
        let zeros = page[i..].iter().take_while(|&&b| b == 0).count();
        let start = i + zeros;
        let mut end = start;
        while end < page.len() && page[end..(end + MIN_ZEROS).min(page.len())].iter().any(|&b| b != 0) {
            end += 1;
        }
        i = end;
        Some((zeros, &page[start..end]))
    })
}

/// A page packed as (u16 zero count, u16 literal count, literals)*, or the page itself
/// when that is no smaller.
fn pack(page: &[u8]) -> Vec<u8> {
    let len: usize = runs(page).map(|(_, lit)| 4 + lit.len()).sum();
    if len >= page.len() {
        return page.to_vec();
    }
    let mut out = Vec::with_capacity(len);
    for (zeros, lit) in runs(page) {
        out.extend_from_slice(&(zeros as u16).to_le_bytes());
        out.extend_from_slice(&(lit.len() as u16).to_le_bytes());
        out.extend_from_slice(lit);
    }
    out
}

fn unpack(packed: &[u8], page: &mut [u8]) {
    if packed.len() == page.len() {
        page.copy_from_slice(packed);
        return;
    }
    let (mut at, mut i) = (0, 0);
    while i < packed.len() {
        let zeros = u16::from_le_bytes([packed[i], packed[i + 1]]) as usize;
        let lits = u16::from_le_bytes([packed[i + 2], packed[i + 3]]) as usize;
        page[at..at + zeros].fill(0);
        at += zeros;
        page[at..at + lits].copy_from_slice(&packed[i + 4..i + 4 + lits]);
        at += lits;
        i += 4 + lits;
    }
    assert_eq!(at, page.len(), "a packed page that does not fill its page");
}

/// `race`: an exiting process wakes its waiting parent *before* storing its exit status,
/// then works for a while (interrupts on) before it stores it. A timer interrupt in that
/// window lets the parent run and read the status too early: whether a run fails depends
/// on where the timer interrupts land, which `--jitter` seeds move. Returns whether the
/// bug handled the wake-up (the caller then stores the status itself, late).
pub fn wake_early(done: &crate::threads::synch::Semaphore) -> bool {
    if !active(Bug::Race) {
        return false;
    }
    crate::threads::synch::sema_up(done);
    // About 12 M instructions: just short of where the exiting thread's time slice ends
    // at the default clock rate, so the jitter's stalls decide whether it ends inside the
    // window. wait-simple then fails under seeds 1, 3, 4 and 9 of 1..=12, like a
    // student's race that fails 2 or 3 runs in 10.
    let mut x = 0u64;
    for i in 0..3_100_000u64 {
        x = core::hint::black_box(x.wrapping_add(i));
    }
    true
}
