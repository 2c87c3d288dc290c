//! Pintos `mmap-over-stk`: a mapping over the page of the stack in use must be refused.
//! Expected output: tests/expected/vm/mmap-over-stk.exp.
#![no_std]
#![no_main]

use user::check;
use user::syscall::{mmap, open};

user::test_main!(test_main);

fn test_main() {
    let local = 0u32;
    let stack_page = core::hint::black_box(&local as *const u32 as usize) & !0xfff;
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: the call must fail; if it worked, our stack would be replaced.
    let map = unsafe { mmap(stack_page as *mut u8, 4096, false, fd, 0) };
    check!(map.is_null(), "try to mmap over stack segment");
}
