//! Pintos `swap-file`: with 8 MiB of memory, maps `large.txt` (about 2 MB) read-only and
//! compares it with the copy compiled into the program, then checks that the rest of the
//! mapping's last page reads as zeros. Expected output: tests/expected/vm/swap-file.exp.
#![no_std]
#![no_main]

#[path = "shared/vm_large.rs"]
mod vm_large;

use user::syscall::{close, mmap, munmap, open};
use user::{check, fail, Hex};

user::test_main!(test_main);

const MAP_AT: usize = 0x1000_0000;
const PAGE: usize = 4096;

fn test_main() {
    let fd = open(c"large.txt");
    check!(fd > 1, "open \"large.txt\"");
    // SAFETY: nothing of this program lives at MAP_AT.
    let map = unsafe { mmap(MAP_AT as *mut u8, vm_large::SIZE, false, fd, 0) };
    check!(!map.is_null(), "mmap \"large.txt\"");

    let len = vm_large::TEXT_LEN;
    let page_end = len.div_ceil(PAGE) * PAGE;
    // SAFETY: the mapping covers the pages up to page_end.
    let mapped = unsafe { core::slice::from_raw_parts(MAP_AT as *const u8, page_end) };
    if mapped.get(..len) != Some(vm_large::text()) {
        fail!("read of mmap'd file reported bad data");
    }
    // Past the file's end (and the byte the mapping's length adds) the page is zeros.
    for (i, &b) in mapped.iter().enumerate().skip(len + 1) {
        if b != 0 {
            fail!("byte {} of mmap'd region has value {} (should be 0)", i, Hex(b));
        }
    }

    // SAFETY: `mapped` is not used after this.
    unsafe { munmap(map) };
    close(fd);
}
