//! Pintos `mmap-remove`: a mapping outlives the close and removal of its file, even when a
//! new file is created that could reuse the old one's sectors.
//! Expected output: tests/expected/vm/mmap-remove.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_sample.rs"]
mod sample;

use user::syscall::{close, create, munmap, open, remove};
use user::{check, fail, Hex};

use mem::MAP_ADDR;
use sample::SAMPLE;

user::test_main!(test_main);

fn test_main() {
    let (fd, map) = mem::map_sample(MAP_ADDR, 4096);

    close(fd);
    check!(remove(c"sample.txt"), "remove \"sample.txt\"");
    check!(open(c"sample.txt") == -1, "try to open \"sample.txt\"");
    check!(create(c"another", 10 * 4096), "create \"another\"");

    // SAFETY: the page is still mapped.
    let page = unsafe { mem::region(MAP_ADDR, 4096) };
    let (text, tail) = page.split_at(SAMPLE.len());
    if text != SAMPLE {
        fail!("the mapping of the removed file does not hold its text");
    }
    if let Some(i) = mem::first_nonzero(tail) {
        let at = SAMPLE.len() + i;
        fail!("mapped byte {} past the end of the file is {} instead of 0", at, Hex(tail.get(i).copied().unwrap_or(0)));
    }
    // SAFETY: `page` is not used after this.
    unsafe { munmap(map) };
}
