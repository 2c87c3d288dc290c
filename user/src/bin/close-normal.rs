//! Pintos `close-normal`: closing an open file.
//! Expected output: tests/expected/userprog/close-normal.exp.
#![no_std]
#![no_main]

use user::{check, msg};
use user::syscall::{close, open};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    msg!("close \"sample.txt\"");
    close(fd);
}
