//! Pintos `write-stdin`: writing to the standard input descriptor fails or kills the process.
//! Expected output: tests/expected/userprog/write-stdin.exp.
#![no_std]
#![no_main]

use user::syscall::{write, STDIN_FILENO};

user::test_main!(test_main);

fn test_main() {
    write(STDIN_FILENO, &[123]);
}
