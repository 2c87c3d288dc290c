//! Pintos `create-null`: create(NULL) must kill the process with exit(-1).
//! Expected output: tests/expected/userprog/create-null.exp.
#![no_std]
#![no_main]

use user::msg;
use user::syscall::{nr, raw};

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the kernel must refuse the null name and end the process.
    let r = unsafe { raw::syscall2(nr::CREATE, 0, 0) };
    msg!("create(NULL): {}", r as i32);
}
