//! Pintos `mmap-write`: writes a new file through a writable mapping, unmaps it, and reads
//! the file back with read(). Expected output: tests/expected/vm/mmap-write.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_sample.rs"]
mod sample;

use user::check;
use user::syscall::{close, create, mmap, munmap, open, read};

use mem::MAP_ADDR;
use sample::SAMPLE;

user::test_main!(test_main);

fn test_main() {
    check!(create(c"sample.txt", SAMPLE.len() as u32), "create \"sample.txt\"");
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: nothing of ours lives at MAP_ADDR.
    let map = unsafe { mmap(MAP_ADDR as *mut u8, 4096, true, fd, 0) };
    check!(!map.is_null(), "mmap \"sample.txt\"");
    {
        // SAFETY: the page is mapped writable; the slice ends before munmap.
        let dst = unsafe { mem::region(MAP_ADDR, SAMPLE.len()) };
        dst.copy_from_slice(SAMPLE);
    }
    // SAFETY: no reference into the mapping is left.
    unsafe { munmap(map) };

    let mut buf = [0u8; 1024];
    let got = buf.get_mut(..SAMPLE.len()).unwrap_or(&mut []);
    read(fd, got);
    check!(got == SAMPLE, "compare read data against written data");
    close(fd);
}
