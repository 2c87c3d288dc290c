//! Helper of Pintos `mmap-exit`: creates sample.txt, maps it writable, writes the text
//! (and a NUL byte) through the mapping and exits without munmap: the kernel must write
//! the dirty page back when the process ends.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_sample.rs"]
mod sample;

use user::check;
use user::syscall::{create, mmap, open};

use mem::MAP_ADDR;
use sample::SAMPLE_NUL;

user::test_main!(test_main);

fn test_main() {
    let len = SAMPLE_NUL.len();
    check!(create(c"sample.txt", len as u32), "create \"sample.txt\"");
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: nothing of ours lives at MAP_ADDR.
    let map = unsafe { mmap(MAP_ADDR as *mut u8, len, true, fd, 0) };
    check!(!map.is_null(), "mmap \"sample.txt\"");
    // SAFETY: the range was just mapped writable.
    let dst = unsafe { mem::region(MAP_ADDR, len) };
    for (d, &s) in dst.iter_mut().zip(SAMPLE_NUL.iter()) {
        *d = s;
    }
}
