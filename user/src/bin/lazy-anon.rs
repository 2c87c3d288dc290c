//! Pintos `lazy-anon`: the pages of a zero-initialised static buffer get a frame only
//! when first touched; `get_phys_addr` shows which pages are present.
//! Expected output: tests/expected/vm/lazy-anon.exp.
#![no_std]
#![no_main]

use user::syscall::get_phys_addr;
use user::{check, msg};

user::test_main!(test_main);

const PAGE: usize = 4096;
const PAGES: usize = 3;

/// Page-aligned, so each of its pages holds nothing else the program touches.
#[repr(C, align(4096))]
struct Chunk([u8; PAGES * PAGE]);

static mut CHUNK: Chunk = Chunk([0; PAGES * PAGE]);

/// The first byte of page `i` of the buffer.
fn page(i: usize) -> *mut u8 {
    // SAFETY: i < PAGES, so the address is inside CHUNK; only raw pointers are made.
    unsafe { core::ptr::addr_of_mut!(CHUNK.0).cast::<u8>().add(i * PAGE) }
}

fn test_main() {
    msg!("initial pages status");
    for i in 0..PAGES {
        check!(get_phys_addr(page(i)) == 0, "check if page is not loaded");
    }

    msg!("load pages");
    for i in 0..PAGES {
        msg!("load page [{}]", i);
        // SAFETY: `page(i)` is a valid byte of CHUNK; this store loads the page.
        unsafe { page(i).write_volatile(i as u8) };
        for j in 0..PAGES {
            let present = get_phys_addr(page(j)) != 0;
            if j <= i {
                check!(present, "check if page is loaded");
                // SAFETY: a valid byte of CHUNK.
                let v = unsafe { page(j).read_volatile() };
                check!(v == j as u8, "check memory content");
            } else {
                check!(!present, "check if page is not loaded");
            }
        }
    }
}
