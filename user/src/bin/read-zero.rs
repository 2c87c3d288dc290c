//! Pintos `read-zero`: a zero-byte read returns 0 and leaves the buffer alone.
//! Expected output: tests/expected/userprog/read-zero.exp.
#![no_std]
#![no_main]

use user::{check, fail};
use user::syscall::{open, read};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let mut buf = [123u8; 1];
    let n = read(fd, &mut buf[..0]);
    if n != 0 {
        fail!("read() returned {} instead of 0", n);
    } else if buf[0] != 123 {
        fail!("0-byte read() modified buffer");
    }
}
