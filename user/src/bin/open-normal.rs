//! Pintos `open-normal`: opening an existing file gives a descriptor above 1.
//! Expected output: tests/expected/userprog/open-normal.exp.
#![no_std]
#![no_main]

use user::fail;
use user::syscall::open;

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    if fd < 2 {
        fail!("open() returned {}", fd);
    }
}
