//! `vm-units`: the pieces of virtual memory on their own, before any process uses them:
//! a page table's map/unmap and the accessed and dirty bits the hardware sets through
//! it, the frame table's clock (pinned frames skipped, shared owners counted), and the
//! swap slots' counts and a page's round trip through the swap disk (hd1:1, if present).

use crate::arch::io::with_frame;
use crate::arch::paging::{probe_user, PageTable, Unmapped, USER_LIMIT};
use crate::threads::palloc::PGSIZE;
use crate::vm::{frame, swap};

/// A tid no thread has: the frame table only records owners.
const NOBODY: u64 = u64::MAX;

pub fn test_vm_units() {
    page_table();
    frame_clock();
    swap_slots();
}

fn page_table() {
    let Some(mut pt) = PageTable::new() else { fail!("no page for a page table") };
    let va = 0x1234_5000;
    let Some(kva) = frame::take_free((NOBODY, va)) else { fail!("no user frame") };
    if !pt.map(va, kva, false) || pt.map(va, kva, false) {
        fail!("map: a fresh page maps once");
    }
    if pt.map(va + 1, kva, true) || pt.map(USER_LIMIT, kva, true) {
        fail!("map: unaligned and kernel addresses refused");
    }
    if pt.translate(va + 5) != Some((kva + 5, false)) {
        fail!("translate: {:?}", pt.translate(va + 5));
    }
    with_frame(kva, |p| p[7] = 0x5a);
    if pt.test_and_clear_accessed(va) {
        fail!("accessed before any access");
    }
    if probe_user(&pt, va + 7, false) != 0x5a {
        fail!("read through the page table");
    }
    if !pt.test_and_clear_accessed(va) || pt.test_and_clear_accessed(va) {
        fail!("accessed bit: set by the read, then cleared");
    }
    if pt.is_dirty(va) {
        fail!("dirty after a read");
    }
    pt.set_writable(va, true);
    probe_user(&pt, va + 7, true);
    if !pt.is_dirty(va) || pt.translate(va) != Some((kva, true)) {
        fail!("dirty and writable after a write");
    }
    if pt.unmap(va) != Some(Unmapped { frame: kva, dirty: true }) || pt.unmap(va).is_some() || pt.translate(va).is_some() {
        fail!("unmap gives the frame back once");
    }
    msg!("page table: map, translate, accessed and dirty bits, unmap");
    drop(pt);
    frame::release(kva, (NOBODY, va));
}

fn frame_clock() {
    let before = frame::count();
    let frames: [u64; 3] = core::array::from_fn(|i| frame::take_free((NOBODY, i as u64 * PGSIZE)).unwrap_or_else(|| fail!("no user frame")));
    if frame::next_candidate().is_some() && before == 0 {
        fail!("the clock picked a pinned frame");
    }
    frame::unpin(frames[0]);
    frame::unpin(frames[2]);
    // The hand only ever stops at the two unpinned frames, each in turn.
    let picks: [u64; 4] = core::array::from_fn(|_| frame::next_candidate().unwrap_or_else(|| fail!("no candidate")).0);
    if before == 0 && (picks[0] == picks[1] || picks[0] != picks[2] || picks[1] != picks[3] || picks.contains(&frames[1])) {
        fail!("clock order {picks:x?} over {frames:x?}");
    }
    frame::share(frames[0], (NOBODY, 0x9000));
    if frame::owner_count(frames[0]) != 2 || frame::release(frames[0], (NOBODY, 0)) != 1 {
        fail!("a shared frame counts its owners");
    }
    frame::release(frames[0], (NOBODY, 0x9000));
    frame::release(frames[1], (NOBODY, PGSIZE));
    frame::release(frames[2], (NOBODY, 2 * PGSIZE));
    if frame::count() != before {
        fail!("frames left in the table: {} (was {before})", frame::count());
    }
    msg!("frame table: clock skips pinned frames, shared frames count owners");
}

fn swap_slots() {
    let (free, all) = swap::stats();
    if all == 0 {
        msg!("swap: no swap disk");
        return;
    }
    let Some(slot) = swap::alloc(1) else { fail!("no free slot of {all}") };
    swap::share(slot);
    swap::free(slot);
    if swap::stats().0 != free - 1 {
        fail!("a slot still used by one page is not free");
    }
    let kva = frame::take_free((NOBODY, 0)).unwrap_or_else(|| fail!("no user frame"));
    with_frame(kva, |p| p.iter_mut().enumerate().for_each(|(i, b)| *b = (i * 13 + 5) as u8));
    swap::write(slot, kva);
    with_frame(kva, |p| p.fill(0));
    swap::read(slot, kva);
    if !with_frame(kva, |p| p.iter().enumerate().all(|(i, &b)| b == (i * 13 + 5) as u8)) {
        fail!("a page does not come back from swap slot {slot}");
    }
    frame::release(kva, (NOBODY, 0));
    swap::free(slot);
    if swap::stats() != (free, all) {
        fail!("swap slots: {:?}, was {:?}", swap::stats(), (free, all));
    }
    msg!("swap: {all} slots, counts and a page's round trip");
}
