//! Pintos `swap-anon`: one byte written in each page of a 20 MiB static buffer (more than
//! the machine's 10 MiB of memory, so pages go to swap), then every page read back.
//! Expected output: tests/expected/vm/swap-anon.exp.
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;

use user::{fail, msg};

user::test_main!(test_main);

const PAGE: usize = 4096;
const SIZE: usize = 20 * 1024 * 1024;
const PAGES: usize = SIZE / PAGE;

static mut CHUNK: [u8; SIZE] = [0; SIZE];

fn page(i: usize) -> *mut u8 {
    // SAFETY: i < PAGES keeps the address inside CHUNK; only a raw pointer is made.
    unsafe { addr_of_mut!(CHUNK).cast::<u8>().add(i * PAGE) }
}

fn test_main() {
    for i in 0..PAGES {
        if i % 512 == 0 {
            msg!("write sparsely over page {}", i);
        }
        // SAFETY: a byte of CHUNK.
        unsafe { page(i).write_volatile(i as u8) };
    }
    for i in 0..PAGES {
        // SAFETY: a byte of CHUNK.
        if unsafe { page(i).read_volatile() } != i as u8 {
            fail!("data is inconsistent");
        }
        if i % 512 == 0 {
            msg!("check consistency in page {}", i);
        }
    }
}
