//! Pintos `write-bad-ptr`: `write` to an open file from an unmapped buffer must fail or
//! kill the process. Expected output: tests/expected/userprog/write-bad-ptr.exp.
#![no_std]
#![no_main]

use user::syscall::{nr, open, raw};
use user::{check, fail};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: the kernel must refuse the buffer (an unmapped user address).
    unsafe { raw::syscall3(nr::WRITE, fd as u64, 0x1012_3420, 123) };
    fail!("should have exited with -1");
}
