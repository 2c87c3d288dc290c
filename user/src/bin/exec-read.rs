//! Pintos `exec-read`: an exec'd child (child-read) reads sample.txt on its own
//! descriptor; the parent's position is unaffected.
#![no_std]
#![no_main]

#[path = "shared/sample.rs"]
mod sample;

use user::syscall::{close, exec, fork, open, read, wait};
use user::{check, fail, msg};

user::test_main!(test_main);

fn test_main() {
    let want = sample::SAMPLE;
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let mut buf = [0u8; 1024];
    check!(read(fd, buf.get_mut(..20).unwrap_or(&mut [])) == 20, "read \"sample.txt\" first 20 bytes");
    let pid = fork(c"child-read");
    if pid == 0 {
        exec(c"child-read");
        fail!("exec returned");
    }
    if wait(pid) != 0 {
        fail!("child-read failed");
    }
    let rest = want.len() - 20;
    if read(fd, buf.get_mut(20..want.len()).unwrap_or(&mut [])) != rest as i32 || buf.get(..want.len()) != Some(want) {
        fail!("parent read the wrong text");
    }
    msg!("Parent success");
    close(fd);
}
