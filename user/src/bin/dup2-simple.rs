//! Pintos `dup2-simple` (tests/userprog/dup2): with stdin closed, opens `sample.txt`,
//! reads its first 10 bytes, dup2()s the descriptor to 0x1CE and reads the rest through
//! the copy (which shares the position) into a buffer that straddles a page boundary.
//! Expected output: tests/expected/userprog/dup2/dup2-simple.exp.
#![no_std]
#![no_main]

#[path = "shared/boundary.rs"]
mod boundary;
#[path = "shared/sample.rs"]
mod sample;

use user::syscall::{close, dup2, nr, open, raw};
use user::{check, fail, msg, Args};

user::main!(main);

/// read() into raw memory; returns the count (or -1).
fn read_at(fd: i32, buf: *mut u8, len: usize) -> i32 {
    // SAFETY: the callers' buffers lie inside the boundary area with room for `len`.
    unsafe { raw::syscall3(nr::READ, fd as i64 as u64, buf as u64, len as u64) as i32 }
}

fn main(_args: Args) -> i32 {
    let want = sample::SAMPLE;
    // Pintos' `sizeof sample`: the text and its NUL.
    let size = want.len() + 1;
    let fd2 = 0x1CE;
    close(0);
    let fd1 = open(c"sample.txt");
    check!(fd1 > -1, "open \"sample.txt\"");
    let buffer = boundary::boundary_area().wrapping_sub(size / 2);
    let mut byte_cnt = read_at(fd1, buffer, 10);
    check!(dup2(fd1, fd2) > 1, "first dup2()");
    byte_cnt += read_at(fd2, buffer.wrapping_offset(byte_cnt as isize), size.wrapping_sub(byte_cnt as usize));
    // SAFETY: the area around the boundary has room for the text and its NUL.
    let got = unsafe { core::slice::from_raw_parts(buffer, size) };
    if got.split_last() != Some((&0, want)) {
        msg!("expected text:\n{}", want);
        msg!("text actually read:\n{}", got.split(|&b| b == 0).next().unwrap_or(&[]));
        fail!("expected text differs from actual");
    }
    msg!("Parent success");
    0
}
