//! Pintos `child-read`: opens sample.txt itself and reads all of it (exec-read).
#![no_std]
#![no_main]

#[path = "shared/sample.rs"]
mod sample;

use user::syscall::{close, open, read};
use user::{check, fail, msg};

user::test_main!(test_main);

fn test_main() {
    let want = sample::SAMPLE;
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    let mut buf = [0u8; 1024];
    check!(read(fd, buf.get_mut(..20).unwrap_or(&mut [])) == 20, "read \"sample.txt\" first 20 bytes");
    let rest = want.len() - 20;
    check!(read(fd, buf.get_mut(20..want.len()).unwrap_or(&mut [])) == rest as i32, "read \"sample.txt\" remainders");
    if buf.get(..want.len()) != Some(want) {
        fail!("child read the wrong text");
    }
    msg!("Child success");
    close(fd);
}
