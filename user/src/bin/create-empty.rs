//! Pintos `create-empty`: creating a file with an empty name fails (or kills the process).
//! Expected output: tests/expected/userprog/create-empty.exp.
#![no_std]
#![no_main]

use user::msg;
use user::syscall::create;

user::test_main!(test_main);

fn test_main() {
    msg!("create(\"\"): {}", create(c"", 0) as i32);
}
