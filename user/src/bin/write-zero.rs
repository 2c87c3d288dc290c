//! Pintos `write-zero`: a zero-byte write returns 0.
//! Expected output: tests/expected/userprog/write-zero.exp.
#![no_std]
#![no_main]

use user::{check, fail};
use user::syscall::{open, write};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let buf = [123u8; 1];
    let n = write(fd, &buf[..0]);
    if n != 0 {
        fail!("write() returned {} instead of 0", n);
    }
}
