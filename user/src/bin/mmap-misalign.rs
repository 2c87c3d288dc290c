//! Pintos `mmap-misalign`: a mapping at an address that is not page-aligned must be
//! refused. Expected output: tests/expected/vm/mmap-misalign.exp.
#![no_std]
#![no_main]

use user::check;
use user::syscall::{mmap, open};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: the call must fail; nothing gets mapped.
    let map = unsafe { mmap(0x1000_1234 as *mut u8, 4096, false, fd, 0) };
    check!(map.is_null(), "try to mmap at misaligned address");
}
