//! Pintos `open-boundary`: open() with a name that straddles a page boundary succeeds.
//! Expected output: tests/expected/userprog/open-boundary.exp.
#![no_std]
#![no_main]

#[path = "shared/boundary.rs"]
mod boundary;

use user::check;
use user::syscall::{nr, raw};

user::test_main!(test_main);

fn test_main() {
    let name = boundary::copy_across_boundary(b"sample.txt");
    // SAFETY: a valid NUL-terminated name in our own memory.
    let fd = unsafe { raw::syscall1(nr::OPEN, name as u64) } as i32;
    check!(fd > 1, "open \"sample.txt\"");
}
