//! Pintos `write-boundary`: write() from a buffer that straddles a page boundary.
//! Expected output: tests/expected/userprog/write-boundary.exp.
#![no_std]
#![no_main]

#[path = "shared/boundary.rs"]
mod boundary;
#[path = "shared/sample.rs"]
mod sample;

use user::{check, fail};
use user::syscall::{nr, open, raw};

user::test_main!(test_main);

fn test_main() {
    let want = sample::SAMPLE;
    let buf = boundary::copy_across_boundary(want);
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: the buffer is ours and holds the sample.
    let n = unsafe { raw::syscall3(nr::WRITE, fd as u64, buf as u64, want.len() as u64) } as i32;
    if n as usize != want.len() {
        fail!("write() returned {} instead of {}", n, want.len());
    }
}
