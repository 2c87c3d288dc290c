//! Pintos `pt-write-code2`: read() into the program's own (read-only) code must end the
//! process with -1. Expected output: tests/expected/vm/pt-write-code2.exp.
#![no_std]
#![no_main]

use user::syscall::{nr, open, raw};
use user::{check, fail};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let code = test_main as fn() as u64;
    // SAFETY: the kernel must refuse to write into the text segment and end the process.
    unsafe { raw::syscall3(nr::READ, fd as u64, code, 1) };
    fail!("survived reading data into code segment");
}
