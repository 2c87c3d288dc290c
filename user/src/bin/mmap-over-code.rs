//! Pintos `mmap-over-code`: a mapping over the page holding the program's code must be
//! refused. Expected output: tests/expected/vm/mmap-over-code.exp.
#![no_std]
#![no_main]

use user::check;
use user::syscall::{mmap, open};

user::test_main!(test_main);

fn test_main() {
    let code_page = (test_main as fn() as usize) & !0xfff;
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: the call must fail; if it worked, our code would be replaced.
    let map = unsafe { mmap(code_page as *mut u8, 4096, false, fd, 0) };
    check!(map.is_null(), "try to mmap over code segment");
}
