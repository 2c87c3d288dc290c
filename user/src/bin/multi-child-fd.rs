//! Pintos `multi-child-fd`: a child (child-close) closing its copy of a descriptor does
//! not close the parent's.
#![no_std]
#![no_main]

#[path = "shared/cmd.rs"]
mod cmd;
#[path = "shared/sample.rs"]
mod sample;

use user::syscall::{exec, fork, open, read, wait};
use user::{check, fail, msg};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let child = cmd::Cmd::new(b"child-close", fd);
    let pid = fork(c"child-close");
    if pid == 0 {
        exec(child.as_cstr());
        fail!("exec returned");
    }
    msg!("wait(exec()) = {}", wait(pid));
    let want = sample::SAMPLE;
    let mut buf = [0u8; 1024];
    let n = want.len().min(buf.len());
    let got = read(fd, &mut buf[..n]);
    if got as usize != want.len() || buf.get(..n) != Some(want) {
        fail!("read {} bytes, expected the {} bytes of sample.txt", got, want.len());
    }
    msg!("verified contents of \"sample.txt\"");
}
