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

use user::syscall::munmap;
use user::{fail, msg};

use mem::MAP_ADDR;

user::test_main!(test_main);

fn test_main() {
    let (_fd, map) = mem::map_sample(MAP_ADDR, 0x2000);
    let word = mem::load_i32(MAP_ADDR);
    msg!("memory is readable {}", word);
    msg!("memory is readable {}", mem::load_i32(MAP_ADDR).wrapping_add(0x1000));

    // SAFETY: the loads below are meant to fault.
    unsafe { munmap(map) };

    fail!("second page still readable after munmap ({})", mem::load_i32(MAP_ADDR + 0x1000));
}
