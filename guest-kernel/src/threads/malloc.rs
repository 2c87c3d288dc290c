//! The kernel heap (`alloc`'s global allocator), on top of the kernel page pool.
//!
//! Small blocks come from power-of-two size classes, 16 to 2048 bytes: a page is
//! carved into blocks of one class, and freed blocks go on that class's free list (a
//! pointer stored in the free block itself). Bigger requests take whole pages. Pages of
//! small blocks are never returned to the pool; that keeps the allocator simple and is
//! enough for a teaching kernel.
//!
//! This is the one place outside `arch` with `unsafe`: `GlobalAlloc` is an unsafe trait,
//! and the free lists live inside the free memory they describe.

use core::alloc::{GlobalAlloc, Layout};

use super::palloc::{self, Pool, PGSIZE};
use crate::arch::cell::IrqCell;

const MIN_CLASS: usize = 16;
const CLASSES: usize = 8; // 16, 32, ..., 2048

/// Free-list heads per class (0 = empty), as kernel virtual addresses.
static FREE: IrqCell<[u64; CLASSES]> = IrqCell::new([0; CLASSES]);

struct Heap;

#[global_allocator]
static HEAP: Heap = Heap;

fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(MIN_CLASS).next_power_of_two();
    let c = size.trailing_zeros() as usize - MIN_CLASS.trailing_zeros() as usize;
    (c < CLASSES).then_some(c)
}

fn pages_of(layout: Layout) -> usize {
    layout.size().div_ceil(PGSIZE as usize).max(1)
}

// SAFETY: blocks handed out are at least `layout.size()` bytes, aligned to the class size
// (≥ the alignment, carved from page-aligned pages) or to a page; a block is on a free
// list only after `dealloc`, so no live allocation overlaps another.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > PGSIZE as usize {
            return core::ptr::null_mut();
        }
        let Some(c) = class_of(layout) else {
            return palloc::get_multiple(Pool::Kernel, pages_of(layout), false).map_or(core::ptr::null_mut(), |va| va as *mut u8);
        };
        FREE.with(|free| {
            if free[c] == 0 {
                let Some(page) = palloc::get_page(Pool::Kernel, false) else {
                    return core::ptr::null_mut();
                };
                let size = (MIN_CLASS << c) as u64;
                let mut b = page + PGSIZE - size;
                loop {
                    // SAFETY: b is inside the fresh page we own, 8-aligned.
                    unsafe { (b as *mut u64).write(free[c]) };
                    free[c] = b;
                    if b == page {
                        break;
                    }
                    b -= size;
                }
            }
            let b = free[c];
            // SAFETY: b is a free block of this class, whose first word is the next link.
            free[c] = unsafe { (b as *const u64).read() };
            b as *mut u8
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class_of(layout) {
            Some(c) => FREE.with(|free| {
                // SAFETY: the caller gives back a block of this class it no longer uses.
                unsafe { (ptr as *mut u64).write(free[c]) };
                free[c] = ptr as u64;
            }),
            None => palloc::free_multiple(ptr as u64, pages_of(layout)),
        }
    }
}
