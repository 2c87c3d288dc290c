//! Pintos `mmap-zero-len`: a mapping of length 0 must fail (or end the process with -1).
//! Expected output: tests/expected/vm/mmap-zero-len.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_sample.rs"]
mod sample;

use user::check;
use user::syscall::{create, mmap, open};

user::test_main!(test_main);

fn test_main() {
    check!(create(c"sample.txt", sample::SAMPLE_LEN as u32), "create \"sample.txt\"");
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: the call must fail; nothing gets mapped.
    let map = unsafe { mmap(0x1000_0000 as *mut u8, 0, false, fd, 0) };
    check!(map.is_null(), "try to mmap zero length");
}
