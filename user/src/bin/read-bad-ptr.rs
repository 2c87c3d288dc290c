//! Pintos `read-bad-ptr`: read() into a kernel address fails or kills the process.
//! Expected output: tests/expected/userprog/read-bad-ptr.exp.
#![no_std]
#![no_main]

use user::{check, fail};
use user::syscall::{nr, open, raw};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: the kernel must refuse to write to this address for us.
    unsafe { raw::syscall3(nr::READ, fd as u64, 0xc010_0000, 123) };
    fail!("should not have survived read()");
}
