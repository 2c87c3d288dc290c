//! Pintos `mmap-overlap`: a second mapping over the page of an existing one must be
//! refused. Expected output: tests/expected/vm/mmap-overlap.exp.
#![no_std]
#![no_main]

use user::check;
use user::syscall::{mmap, open};

user::test_main!(test_main);

const ADDR: *mut u8 = 0x1000_0000 as *mut u8;

fn test_main() {
    let first = open(c"zeros");
    check!(first > 1, "open \"zeros\" once");
    // SAFETY: nothing of ours lives at ADDR.
    let map = unsafe { mmap(ADDR, 4096, false, first, 0) };
    check!(!map.is_null(), "mmap \"zeros\"");
    let second = open(c"zeros");
    check!(second > 1 && second != first, "open \"zeros\" again");
    // SAFETY: the call must fail; the first mapping stays.
    let again = unsafe { mmap(ADDR, 4096, false, second, 0) };
    check!(again.is_null(), "try to mmap \"zeros\" again");
}
