//! Pintos `fork-read`: a forked child reads from an inherited fd; the parent's position is its own.
#![no_std]
#![no_main]

#[path = "shared/sample.rs"]
mod sample;

use user::syscall::{close, fork, open, read, wait};
use user::{check, fail, msg};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let want = sample::SAMPLE;
    let mut b = [0u8; 16];
    if read(fd, &mut b) != 16 || want.get(..16) != Some(&b[..]) {
        fail!("parent's first read is wrong");
    }
    let pid = fork(c"child");
    if pid == 0 {
        msg!("child run");
        if read(fd, &mut b) != 16 || want.get(16..32) != Some(&b[..]) {
            fail!("child read the wrong bytes");
        }
        msg!("Child: pintos is funny!");
        return;
    }
    if wait(pid) != 0 {
        fail!("child failed");
    }
    if read(fd, &mut b) != 16 || want.get(16..32) != Some(&b[..]) {
        fail!("parent's position moved with the child's read");
    }
    msg!("Parent success");
    close(fd);
}
