//! Pintos `read-stdout`: reading from the standard output descriptor fails or kills the process.
//! Expected output: tests/expected/userprog/read-stdout.exp.
#![no_std]
#![no_main]

use user::syscall::{read, STDOUT_FILENO};

user::test_main!(test_main);

fn test_main() {
    let mut buf = [0u8; 1];
    read(STDOUT_FILENO, &mut buf);
}
