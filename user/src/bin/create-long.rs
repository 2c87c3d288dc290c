//! Pintos `create-long`: a 511-character file name is refused (create returns false).
//! Expected output: tests/expected/userprog/create-long.exp.
#![no_std]
#![no_main]

use user::{fail, msg};
use user::syscall::create;
use core::ffi::CStr;

user::test_main!(test_main);

fn test_main() {
    let mut name = [b'x'; 512];
    name[511] = 0;
    // No `unwrap`: its panic path would pull in core::fmt, which uses SSE.
    let Ok(name) = CStr::from_bytes_with_nul(&name) else { fail!("bad name") };
    msg!("create(\"x...\"): {}", create(name, 0) as i32);
}
