//! Pintos `write-normal`: creates test.txt and writes the sample text to it.
//! Expected output: tests/expected/userprog/write-normal.exp.
#![no_std]
#![no_main]

#[path = "shared/sample.rs"]
mod sample;

use user::{check, fail};
use user::syscall::{create, open, write};

user::test_main!(test_main);

fn test_main() {
    let want = sample::SAMPLE;
    check!(create(c"test.txt", want.len() as u32), "create \"test.txt\"");
    let fd = open(c"test.txt");
    check!(fd > 1, "open \"test.txt\"");
    let n = write(fd, want);
    if n as usize != want.len() {
        fail!("write() returned {} instead of {}", n, want.len());
    }
}
