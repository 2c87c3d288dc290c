//! Pintos `create-exists`: creating a file that already exists fails; others still succeed.
//! Expected output: tests/expected/userprog/create-exists.exp.
#![no_std]
#![no_main]

use user::check;
use user::syscall::create;

user::test_main!(test_main);

fn test_main() {
    check!(create(c"quux.dat", 0), "create quux.dat");
    check!(create(c"warble.dat", 0), "create warble.dat");
    check!(!create(c"quux.dat", 0), "try to re-create quux.dat");
    check!(create(c"baffle.dat", 0), "create baffle.dat");
    // The message names quux.dat again, as Pintos' test prints it.
    check!(!create(c"warble.dat", 0), "try to re-create quux.dat");
}
