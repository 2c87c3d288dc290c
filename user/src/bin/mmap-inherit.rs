//! Pintos `mmap-inherit`: a program exec'd by a forked child does not see the parent's
//! mapping (child-inherit dies touching its address), and the parent's mapping is left as
//! it was. Expected output: tests/expected/vm/mmap-inherit.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_sample.rs"]
mod sample;

use user::syscall::{exec, fork, wait};
use user::test::set_quiet;
use user::{check, fail};

use sample::SAMPLE;

user::test_main!(test_main);

/// Where the parent maps sample.txt (child-inherit writes there).
const ADDR: usize = 0x5432_1000;

fn mapped_text() -> &'static [u8] {
    // SAFETY: the page at ADDR is mapped read-only for the whole test.
    unsafe { mem::region(ADDR, SAMPLE.len()) }
}

fn test_main() {
    let (_fd, _map) = mem::map_sample(ADDR, 4096);
    if mapped_text() != SAMPLE {
        fail!("the mapped page does not hold the text of sample.txt");
    }

    let child = fork(c"child-inherit");
    if child == 0 {
        // As Pintos' CHECK, the message goes out before exec runs.
        check!(exec(c"child-inherit") != -1, "exec \"child-inherit\"");
    } else {
        set_quiet(true);
        check!(wait(child) == -1, "wait for child (should return -1)");
        set_quiet(false);
    }

    check!(mapped_text() == SAMPLE, "checking that mmap'd file still has same data");
}
