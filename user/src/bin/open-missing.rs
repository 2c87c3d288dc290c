//! Pintos `open-missing`: opening a file that does not exist returns -1.
//! Expected output: tests/expected/userprog/open-missing.exp.
#![no_std]
#![no_main]

use user::fail;
use user::syscall::open;

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"no-such-file");
    if fd != -1 {
        fail!("open() returned {}", fd);
    }
}
