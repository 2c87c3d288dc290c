//! Pintos `create-bound`: create() with a name that straddles a page boundary succeeds.
//! Expected output: tests/expected/userprog/create-bound.exp.
#![no_std]
#![no_main]

#[path = "shared/boundary.rs"]
mod boundary;

use user::msg;
use user::syscall::{nr, raw};

user::test_main!(test_main);

fn test_main() {
    let name = boundary::copy_across_boundary(b"quux.dat");
    // SAFETY: a valid NUL-terminated name in our own memory.
    let r = unsafe { raw::syscall2(nr::CREATE, name as u64, 0) };
    msg!("create(\"quux.dat\"): {}", (r & 0xff != 0) as i32);
}
