//! Pintos `mmap-bad-off`: a file offset that is not page-aligned must be refused.
//! Expected output: tests/expected/vm/mmap-bad-off.exp.
#![no_std]
#![no_main]

use user::check;
use user::syscall::{mmap, open};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"large.txt");
    check!(fd > 1, "open \"large.txt\"");
    // SAFETY: the call must fail; nothing gets mapped.
    let map = unsafe { mmap(0x1000_0000 as *mut u8, 4096, false, fd, 0x1234) };
    check!(map.is_null(), "try to mmap invalid offset");
}
