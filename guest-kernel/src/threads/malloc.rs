//! The kernel heap (`alloc`'s global allocator), on top of the kernel page pool.
//!
//! Small blocks come from power-of-two size classes, 16 to 1024 bytes, in slabs: a page
//! of one class starts with a `Slab` header (its free-block list, how many blocks are in
//! use, and links in its class's list of slabs with free blocks), then holds blocks of
//! that size. A block's slab is its page (`ptr & !(PGSIZE - 1)`). When the last block of
//! a slab is freed, the page goes back to the pool at once, so the pages the heap holds
//! always match what is in use: after every process has exited, the free-page count and
//! the heap statistics (`heap_stats`) are back where they started, which the leak tests
//! check. Bigger requests take whole pages.
//!
//! The heap may use the kernel pool's reserve (`palloc::heap_pages`), which other kernel
//! allocations leave alone: code that a user program can make allocate (fork, open,
//! dup2) first checks `palloc::kernel_low()` and fails cleanly, so the bounded heap use
//! of one such call always finds pages, and an allocation failure (which would abort the
//! kernel) does not happen.
//!
//! This is the one place outside `arch` with `unsafe`: `GlobalAlloc` is an unsafe trait,
//! and the slab headers and free lists live inside the memory they describe.

use core::alloc::{GlobalAlloc, Layout};

use super::palloc::{self, PGSIZE};
use crate::arch::cell::IrqCell;

const MIN_CLASS: usize = 16;
const CLASSES: usize = 7; // 16, 32, ..., 1024
/// Bytes at the start of a slab page taken by its header.
const HEADER: u64 = 32;

/// The header at the start of a slab page.
#[repr(C)]
struct Slab {
    /// Next and previous slab of this class with a free block (0 = none).
    next: u64,
    prev: u64,
    /// First free block (0 = none); each free block's first word links the next.
    free: u64,
    /// Blocks handed out.
    used: u64,
}

struct Heap {
    /// Per class, the first slab with a free block (0 = none).
    partial: [u64; CLASSES],
    /// Live allocations and the bytes they asked for.
    blocks: u64,
    bytes: u64,
}

static STATE: IrqCell<Heap> = IrqCell::new(Heap { partial: [0; CLASSES], blocks: 0, bytes: 0 });

/// Heap use: (bytes requested by live allocations, live allocations).
pub fn heap_stats() -> (u64, u64) {
    STATE.with(|h| (h.bytes, h.blocks))
}

struct Allocator;

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(MIN_CLASS).next_power_of_two();
    let c = size.trailing_zeros() as usize - MIN_CLASS.trailing_zeros() as usize;
    (c < CLASSES).then_some(c)
}

fn pages_of(layout: Layout) -> usize {
    layout.size().div_ceil(PGSIZE as usize).max(1)
}

fn slab(page: u64) -> *mut Slab {
    page as *mut Slab
}

// SAFETY (for the helpers below): `page` is a slab page the heap owns (from
// `heap_pages`, not yet freed), so its header is valid and only touched inside STATE.
fn unlink(h: &mut Heap, c: usize, page: u64) {
    unsafe {
        let s = &mut *slab(page);
        if s.prev == 0 {
            h.partial[c] = s.next;
        } else {
            (*slab(s.prev)).next = s.next;
        }
        if s.next != 0 {
            (*slab(s.next)).prev = s.prev;
        }
        s.next = 0;
        s.prev = 0;
    }
}

fn push(h: &mut Heap, c: usize, page: u64) {
    unsafe {
        let s = &mut *slab(page);
        s.prev = 0;
        s.next = h.partial[c];
        if s.next != 0 {
            (*slab(s.next)).prev = page;
        }
        h.partial[c] = page;
    }
}

/// A fresh slab of class `c` on its class's list, or None when out of pages.
fn new_slab(h: &mut Heap, c: usize) -> Option<u64> {
    let page = palloc::heap_pages(1)?;
    let size = (MIN_CLASS << c) as u64;
    let first = size.max(HEADER);
    let mut free = 0;
    let mut b = page + PGSIZE - size;
    while b >= page + first {
        // SAFETY: b is inside the fresh page we own, 8-aligned, past the header.
        unsafe { (b as *mut u64).write(free) };
        free = b;
        b -= size;
    }
    // SAFETY: the header lies at the start of the fresh page.
    unsafe { slab(page).write(Slab { next: 0, prev: 0, free, used: 0 }) };
    push(h, c, page);
    Some(page)
}

// SAFETY: small blocks are at least `layout.size()` bytes and aligned to the class size
// (≥ the alignment: blocks sit at multiples of their size within a page-aligned page,
// after the header); big ones are whole pages. A block is on a free list only after
// `dealloc`, so no live allocation overlaps another or a slab header.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > PGSIZE as usize {
            return core::ptr::null_mut();
        }
        STATE.with(|h| {
            let ptr = match class_of(layout) {
                None => palloc::heap_pages(pages_of(layout)).unwrap_or(0),
                Some(c) => {
                    let page = if h.partial[c] != 0 { Some(h.partial[c]) } else { new_slab(h, c) };
                    match page {
                        None => 0,
                        Some(page) => {
                            // SAFETY: a slab on the partial list has a free block, whose
                            // first word links the next.
                            unsafe {
                                let s = &mut *slab(page);
                                let b = s.free;
                                s.free = (b as *const u64).read();
                                s.used += 1;
                                if s.free == 0 {
                                    unlink(h, c, page);
                                }
                                b
                            }
                        }
                    }
                }
            };
            if ptr != 0 {
                h.blocks += 1;
                h.bytes += layout.size() as u64;
            }
            ptr as *mut u8
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        STATE.with(|h| {
            h.blocks -= 1;
            h.bytes -= layout.size() as u64;
            match class_of(layout) {
                None => palloc::free_multiple(ptr as u64, pages_of(layout)),
                Some(c) => {
                    let page = ptr as u64 & !(PGSIZE - 1);
                    // SAFETY: the caller gives back a block of this class it no longer
                    // uses; its page is a live slab of the class.
                    unsafe {
                        let s = &mut *slab(page);
                        let was_full = s.free == 0;
                        (ptr as *mut u64).write(s.free);
                        s.free = ptr as u64;
                        s.used -= 1;
                        if was_full {
                            push(h, c, page);
                        }
                        if s.used == 0 {
                            unlink(h, c, page);
                            palloc::free_page(page);
                        }
                    }
                }
            }
        })
    }
}
