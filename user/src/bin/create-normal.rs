//! Pintos `create-normal`: creating a new empty file succeeds.
//! Expected output: tests/expected/userprog/create-normal.exp.
#![no_std]
#![no_main]

use user::check;
use user::syscall::create;

user::test_main!(test_main);

fn test_main() {
    check!(create(c"quux.dat", 0), "create quux.dat");
}
