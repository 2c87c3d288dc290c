//! Pintos `mmap-ro`: a store into a read-only mapping must kill the process.
//! Expected output: tests/expected/vm/mmap-ro.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;

use user::syscall::{close, mmap, munmap, open};
use user::{check, fail, msg};

use mem::MAP_ADDR;

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"large.txt");
    check!(fd > 1, "open \"large.txt\"");
    // SAFETY: nothing of ours lives at MAP_ADDR.
    let map = unsafe { mmap(MAP_ADDR as *mut u8, 4096, false, fd, 0) };
    check!(!map.is_null(), "mmap \"large.txt\" with writable=0");
    msg!("about to write into read-only mmap'd memory");
    mem::store_i32(map as usize, 0);
    // SAFETY: only reached when the store wrongly worked.
    unsafe { munmap(map) };
    close(fd);
    fail!("the store into a read-only mapping did not fault");
}
