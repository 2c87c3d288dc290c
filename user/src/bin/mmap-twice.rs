//! Pintos `mmap-twice`: the same file, opened twice, mapped at two addresses; both
//! mappings show its text. Expected output: tests/expected/vm/mmap-twice.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_sample.rs"]
mod sample;

use user::check;
use user::syscall::{mmap, open};

use sample::SAMPLE;

user::test_main!(test_main);

const ADDRS: [usize; 2] = [0x1000_0000, 0x2000_0000];

fn test_main() {
    for (i, &addr) in ADDRS.iter().enumerate() {
        let fd = open(c"sample.txt");
        check!(fd > 1, "open \"sample.txt\" #{}", i);
        // SAFETY: nothing of ours lives at these addresses.
        let map = unsafe { mmap(addr as *mut u8, 4096, false, fd, 0) };
        check!(!map.is_null(), "mmap \"sample.txt\" #{} at {}", i, addr as *const u8);
    }
    for (i, &addr) in ADDRS.iter().enumerate() {
        // SAFETY: both pages are mapped.
        let text = unsafe { mem::region(addr, SAMPLE.len()) };
        check!(text == SAMPLE, "compare mmap'd file {} against data", i);
    }
}
