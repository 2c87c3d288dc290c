//! Pintos `mmap-off`: maps the second page of large.txt (offset 0x1000), checks it,
//! overwrites it with zeros through the mapping and unmaps it; read() must then find page
//! 0 unchanged and page 1 zeroed. Expected output: tests/expected/vm/mmap-off.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_large.rs"]
mod large;

use user::syscall::{close, mmap, munmap, open, read};
use user::{check, fail, msg};

use large::LARGE;
use mem::MAP_ADDR;

user::test_main!(test_main);

const PAGE: usize = 0x1000;

fn page_of_large(n: usize) -> &'static [u8] {
    LARGE.get(n * PAGE..(n + 1) * PAGE).unwrap_or(&[])
}

fn validated(ok: bool) {
    if ok {
        msg!("validated.");
    } else {
        fail!("validate fail.");
    }
}

fn test_main() {
    let fd = open(c"large.txt");
    check!(fd > 1, "open \"large.txt\"");
    // SAFETY: nothing of ours lives at MAP_ADDR.
    let map = unsafe { mmap(MAP_ADDR as *mut u8, PAGE, true, fd, PAGE as i64) };
    check!(map as usize == MAP_ADDR, "try to mmap with offset 0x1000");
    close(fd);

    msg!("validate mmap.");
    {
        // SAFETY: the page is mapped writable; the slice ends before munmap.
        let page = unsafe { mem::region(MAP_ADDR, PAGE) };
        validated(page == page_of_large(1));
        msg!("write to mmap");
        page.fill(0);
    }
    // SAFETY: no reference into the mapping is left.
    unsafe { munmap(map) };

    msg!("validate contents.");
    let fd = open(c"large.txt");
    check!(fd > 1, "open \"large.txt\"");
    let mut buf = [0u8; PAGE];
    check!(read(fd, &mut buf) == PAGE as i32, "read \"large.txt\" Page 0");
    msg!("validate page 0.");
    validated(buf[..] == *page_of_large(0));
    check!(read(fd, &mut buf) == PAGE as i32, "read \"large.txt\" Page 1");
    msg!("validate page 1.");
    validated(mem::first_nonzero(&buf).is_none());
    close(fd);
    msg!("success");
}
