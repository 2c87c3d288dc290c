//! Pintos `create-bad-ptr`: create() with a name at an unmapped address kills the process.
//! Expected output: tests/expected/userprog/create-bad-ptr.exp.
#![no_std]
#![no_main]

use user::msg;
use user::syscall::{nr, raw};

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the kernel must refuse the unmapped name and end the process.
    let r = unsafe { raw::syscall2(nr::CREATE, 0x2010_1234, 0) };
    msg!("create(0x20101234): {}", r as i32);
}
