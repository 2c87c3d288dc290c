//! Pintos `exec-bad-ptr`: exec with an unmapped string pointer fails or kills.
#![no_std]
#![no_main]

use user::syscall::{nr, raw};

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the kernel must refuse to read this address for us.
    unsafe { raw::syscall1(nr::EXEC, 0x2010_1234) };
}
