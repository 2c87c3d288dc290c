//! Pintos `rox-simple`: a running executable cannot be written. Expected output:
//! `(rox-simple) begin`, the three checks, `(rox-simple) end`, `rox-simple: exit(0)`.
#![no_std]
#![no_main]

use user::check;
use user::syscall::{open, read, write};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"rox-simple");
    check!(fd > 1, "open \"rox-simple\"");
    let mut b = [0u8; 1];
    check!(read(fd, &mut b) == 1, "read \"rox-simple\"");
    check!(write(fd, &b) == 0, "try to write \"rox-simple\"");
}
