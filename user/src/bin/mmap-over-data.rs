//! Pintos `mmap-over-data`: a mapping over a page of the program's data segment (here
//! that of a zero-initialised static) must be refused.
//! Expected output: tests/expected/vm/mmap-over-data.exp.
#![no_std]
#![no_main]

use core::ptr::addr_of;

use user::check;
use user::syscall::{mmap, open};

user::test_main!(test_main);

static mut BYTE: u8 = 0;

fn test_main() {
    let data_page = core::hint::black_box(addr_of!(BYTE) as usize) & !0xfff;
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: the call must fail; if it worked, our data would be replaced.
    let map = unsafe { mmap(data_page as *mut u8, 4096, false, fd, 0) };
    check!(map.is_null(), "try to mmap over data segment");
}
