//! Pintos `child-swap` (for swap-fork): prints `begin`, writes one byte in each page of
//! a 1 MiB static buffer, reads them all back, and exits with 0 (without `end`).
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;

use user::syscall::exit;
use user::{fail, msg, Args};

const PAGE: usize = 4096;
const SIZE: usize = 1024 * 1024;
const PAGES: usize = SIZE / PAGE;

static mut CHUNK: [u8; SIZE] = [0; SIZE];

fn page(i: usize) -> *mut u8 {
    // SAFETY: i < PAGES keeps the address inside CHUNK; only a raw pointer is made.
    unsafe { addr_of_mut!(CHUNK).cast::<u8>().add(i * PAGE) }
}

user::main!(main);

fn main(_args: Args) -> i32 {
    msg!("begin");
    for i in 0..PAGES {
        // SAFETY: a byte of CHUNK.
        unsafe { page(i).write_volatile(i as u8) };
    }
    for i in 0..PAGES {
        // SAFETY: a byte of CHUNK.
        if unsafe { page(i).read_volatile() } != i as u8 {
            fail!("data is inconsistent");
        }
    }
    exit(0)
}
