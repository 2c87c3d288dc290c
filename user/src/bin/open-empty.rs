//! Pintos `open-empty`: opening the empty name returns -1.
//! Expected output: tests/expected/userprog/open-empty.exp.
#![no_std]
#![no_main]

use user::fail;
use user::syscall::open;

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"");
    if fd != -1 {
        fail!("open() returned {} instead of -1", fd);
    }
}
