//! Pintos `swap-iter`: with 10 MiB of memory, a byte written in each page of a 20 MiB
//! static buffer, then `large.txt` mapped and compared with the compiled-in copy, every
//! anonymous page checked, and the mapping compared again: file-backed, anonymous and
//! executable pages all go out and come back. Expected output: tests/expected/vm/swap-iter.exp.
#![no_std]
#![no_main]

#[path = "shared/vm_large.rs"]
mod vm_large;

use core::ptr::addr_of_mut;

use user::syscall::{close, mmap, munmap, open};
use user::{check, fail, msg};

user::test_main!(test_main);

const MAP_AT: usize = 0x1000_0000;
const PAGE: usize = 4096;
const SIZE: usize = 20 * 1024 * 1024;
const PAGES: usize = SIZE / PAGE;

static mut CHUNK: [u8; SIZE] = [0; SIZE];

fn page(i: usize) -> *mut u8 {
    // SAFETY: i < PAGES keeps the address inside CHUNK; only a raw pointer is made.
    unsafe { addr_of_mut!(CHUNK).cast::<u8>().add(i * PAGE) }
}

fn compare_mapping() {
    // SAFETY: the mapping covers TEXT_LEN bytes from MAP_AT.
    let mapped = unsafe { core::slice::from_raw_parts(MAP_AT as *const u8, vm_large::TEXT_LEN) };
    if mapped != vm_large::text() {
        fail!("read of mmap'd file reported bad data");
    }
}

fn test_main() {
    for i in 0..PAGES {
        if i % 512 == 0 {
            msg!("write sparsely over page {}", i);
        }
        // SAFETY: a byte of CHUNK.
        unsafe { page(i).write_volatile(i as u8) };
    }

    let fd = open(c"large.txt");
    check!(fd > 1, "open \"large.txt\"");
    // SAFETY: nothing of this program lives at MAP_AT.
    let map = unsafe { mmap(MAP_AT as *mut u8, vm_large::SIZE, false, fd, 0) };
    check!(!map.is_null(), "mmap \"large.txt\"");

    compare_mapping();
    for i in 0..PAGES {
        // SAFETY: a byte of CHUNK.
        if unsafe { page(i).read_volatile() } != i as u8 {
            fail!("data is inconsistent");
        }
        if i % 512 == 0 {
            msg!("check consistency in page {}", i);
        }
    }
    compare_mapping();

    // SAFETY: the mapping is not used after this.
    unsafe { munmap(map) };
    close(fd);
}
