//! Pintos `mmap-read`: maps sample.txt and reads it through the mapping; the text must be
//! there, and the rest of the page zeros. Expected output: tests/expected/vm/mmap-read.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_sample.rs"]
mod sample;

use user::syscall::{close, munmap};
use user::{fail, Hex};

use mem::MAP_ADDR;
use sample::SAMPLE;

user::test_main!(test_main);

fn test_main() {
    let (fd, map) = mem::map_sample(MAP_ADDR, 4096);

    // SAFETY: the page was just mapped.
    let page = unsafe { mem::region(MAP_ADDR, 4096) };
    let (text, tail) = page.split_at(SAMPLE.len());
    if text != SAMPLE {
        fail!("the mapped page does not hold the text of sample.txt");
    }
    if let Some(i) = mem::first_nonzero(tail) {
        let at = SAMPLE.len() + i;
        fail!("mapped byte {} past the end of the file is {} instead of 0", at, Hex(tail.get(i).copied().unwrap_or(0)));
    }

    // SAFETY: `page` is not used after this.
    unsafe { munmap(map) };
    close(fd);
}
