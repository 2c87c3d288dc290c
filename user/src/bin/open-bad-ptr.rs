//! Pintos `open-bad-ptr`: open() with a name at an unmapped address kills the process.
//! Expected output: tests/expected/userprog/open-bad-ptr.exp.
#![no_std]
#![no_main]

use user::{fail, msg};
use user::syscall::{nr, raw};

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the kernel must refuse the unmapped name.
    let r = unsafe { raw::syscall1(nr::OPEN, 0x2010_1234) };
    msg!("open(0x20101234): {}", r as i32);
    fail!("should have called exit(-1)");
}
