//! Pintos `mmap-close`: a mapping stays readable after its file descriptor is closed.
//! Expected output: tests/expected/vm/mmap-close.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_sample.rs"]
mod sample;

use user::syscall::{close, munmap};
use user::fail;

use mem::MAP_ADDR;
use sample::SAMPLE;

user::test_main!(test_main);

fn test_main() {
    let (fd, map) = mem::map_sample(MAP_ADDR, 4096);

    close(fd);

    // SAFETY: the page is mapped; closing the descriptor must not undo that.
    let text = unsafe { mem::region(MAP_ADDR, SAMPLE.len()) };
    if text != SAMPLE {
        fail!("after close, the mapping no longer holds the text of sample.txt");
    }
    // SAFETY: `text` is not used after this.
    unsafe { munmap(map) };
}
