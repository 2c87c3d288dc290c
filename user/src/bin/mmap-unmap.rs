//! Pintos `mmap-unmap`: after munmap, the pages of a mapping must be gone (touching them
//! kills the process). Expected output: tests/expected/vm/mmap-unmap.exp.
//!
//! The two "readable" lines print the first word of the mapping, then that word plus
//! 0x1000: the numbers Pintos' checker expects (its C program prints those two values),
//! which depend only on the first four bytes of sample.txt ("=== ").
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;

use user::syscall::{mmap, munmap, open};
use user::{check, fail, msg};

use mem::MAP_ADDR;

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: nothing of ours lives at MAP_ADDR.
    let map = unsafe { mmap(MAP_ADDR as *mut u8, 0x2000, false, fd, 0) };
    check!(!map.is_null(), "mmap \"sample.txt\"");
    let word = mem::load_i32(MAP_ADDR);
    msg!("memory is readable {}", word);
    msg!("memory is readable {}", mem::load_i32(MAP_ADDR).wrapping_add(0x1000));

    // SAFETY: the loads below are meant to fault.
    unsafe { munmap(map) };

    fail!("second page still readable after munmap ({})", mem::load_i32(MAP_ADDR + 0x1000));
}
