//! Pintos `mmap-close`: a mapping stays readable after its file descriptor is closed.
//! Expected output: tests/expected/vm/mmap-close.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_sample.rs"]
mod sample;

use user::syscall::{close, mmap, munmap, open};
use user::{check, fail};

use mem::MAP_ADDR;
use sample::SAMPLE;

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: nothing of ours lives at MAP_ADDR.
    let map = unsafe { mmap(MAP_ADDR as *mut u8, 4096, false, fd, 0) };
    check!(!map.is_null(), "mmap \"sample.txt\"");

    close(fd);

    // SAFETY: the page is mapped; closing the descriptor must not undo that.
    let text = unsafe { mem::region(MAP_ADDR, SAMPLE.len()) };
    if text != SAMPLE {
        fail!("after close, the mapping no longer holds the text of sample.txt");
    }
    // SAFETY: `text` is not used after this.
    unsafe { munmap(map) };
}
