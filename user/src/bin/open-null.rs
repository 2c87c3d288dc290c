//! Pintos `open-null`: open(NULL) fails or kills the process.
//! Expected output: tests/expected/userprog/open-null.exp.
#![no_std]
#![no_main]

use user::syscall::{nr, raw};

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the kernel must refuse the null name.
    unsafe { raw::syscall1(nr::OPEN, 0) };
}
