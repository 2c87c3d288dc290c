//! Pintos `pt-bad-read`: read() into the page below the one holding a local variable
//! (below the stack pointer, so not stack growth) must end the process with -1.
//! Expected output: tests/expected/vm/pt-bad-read.exp.
#![no_std]
#![no_main]

use user::syscall::{nr, open, raw};
use user::{check, fail};

user::test_main!(test_main);

fn test_main() {
    let mut fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // The variable's address keeps it in the current frame, a few bytes above rsp.
    let local = core::hint::black_box(core::ptr::addr_of_mut!(fd));
    let target = (local as u64).wrapping_sub(4096);
    // SAFETY: the kernel must refuse to write there and end the process.
    unsafe { raw::syscall3(nr::READ, fd as u64, target, 1) };
    fail!("survived reading data into bad address");
}
