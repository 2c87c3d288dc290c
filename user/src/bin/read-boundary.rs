//! Pintos `read-boundary`: read() into a buffer that straddles a page boundary.
//! Expected output: tests/expected/userprog/read-boundary.exp.
#![no_std]
#![no_main]

#[path = "shared/boundary.rs"]
mod boundary;
#[path = "shared/sample.rs"]
mod sample;

use user::{check, fail, msg};
use user::syscall::{nr, open, raw};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let want = sample::SAMPLE;
    // SAFETY: the area has room for the sample on both sides of the boundary.
    let buf = unsafe { boundary::boundary_area().sub((want.len() + 1) / 2) };
    // SAFETY: the buffer is ours and large enough.
    let n = unsafe { raw::syscall3(nr::READ, fd as u64, buf as u64, want.len() as u64) } as i32;
    if n as usize != want.len() {
        fail!("read() returned {} instead of {}", n, want.len());
    }
    // SAFETY: `n` bytes were just read into the buffer.
    let got = unsafe { core::slice::from_raw_parts(buf, want.len()) };
    if got != want {
        msg!("expected text:\n{}", want);
        msg!("text actually read:\n{}", got);
        fail!("expected text differs from actual");
    }
}
