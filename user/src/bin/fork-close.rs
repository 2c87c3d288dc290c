//! Pintos `fork-close`: a child closing an inherited fd leaves the parent's open.
#![no_std]
#![no_main]

use user::syscall::{close, fork, open, read, wait};
use user::{check, fail, msg};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let pid = fork(c"child");
    if pid == 0 {
        msg!("child run");
        close(fd);
        return;
    }
    if wait(pid) != 0 {
        fail!("child failed");
    }
    let mut b = [0u8; 8];
    if read(fd, &mut b) != 8 {
        fail!("parent's fd was closed");
    }
    msg!("Parent success");
    close(fd);
}
