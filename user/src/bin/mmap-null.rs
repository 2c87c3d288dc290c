//! Pintos `mmap-null`: a mapping at address 0 must be refused.
//! Expected output: tests/expected/vm/mmap-null.exp.
#![no_std]
#![no_main]

use user::check;
use user::syscall::{mmap, open};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: the call must fail; nothing gets mapped.
    let map = unsafe { mmap(core::ptr::null_mut(), 4096, false, fd, 0) };
    check!(map.is_null(), "try to mmap at address 0");
}
