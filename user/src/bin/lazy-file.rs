//! Pintos `lazy-file`: the pages of a file mapping get frames only when touched. Maps the
//! three pages small.txt spans and checks with get_phys_addr, page by page, that exactly
//! the pages read so far are present. Expected output: tests/expected/vm/lazy-file.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_small.rs"]
mod small;

use user::syscall::{close, get_phys_addr, mmap, munmap, open};
use user::{check, fail, msg};

use mem::MAP_ADDR;
use small::SMALL;

user::test_main!(test_main);

const PAGE: usize = 4096;

fn test_main() {
    let fd = open(c"small.txt");
    check!(fd > 1, "open \"small.txt\"");
    // The size a C program's `sizeof` gives the text: with its NUL byte.
    let size = SMALL.len() + 1;
    msg!("sizeof small: {}", size);
    let map_len = size.div_ceil(PAGE) * PAGE;
    msg!("page aligned size of small: {}", map_len);
    // SAFETY: nothing of ours lives at MAP_ADDR.
    let map = unsafe { mmap(MAP_ADDR as *mut u8, map_len, false, fd, 0) };
    check!(!map.is_null(), "mmap \"small.txt\"");
    let pages = map_len / PAGE;
    let page_addr = |i: usize| (MAP_ADDR + i * PAGE) as *const u8;

    msg!("initial pages status");
    for i in 0..pages {
        check!(get_phys_addr(page_addr(i)) == 0, "check if page is not loaded");
    }

    msg!("load pages ({})", pages);
    for i in 0..pages {
        msg!("load page [{}]", i);
        // Touch page i only: compare its first ten bytes with the file's.
        // SAFETY: the page is mapped read-only.
        let head = unsafe { mem::region(MAP_ADDR + i * PAGE, 10) };
        if Some(&*head) != SMALL.get(i * PAGE..i * PAGE + 10) {
            fail!("page {} of the mapping does not start with the file's bytes", i);
        }
        for j in 0..pages {
            let pa = get_phys_addr(page_addr(j));
            if j <= i {
                check!(pa != 0, "check if page is loaded");
            } else {
                check!(pa == 0, "check if page is not loaded");
            }
        }
    }

    // SAFETY: no reference into the mapping is left.
    unsafe { munmap(map) };
    close(fd);
}
