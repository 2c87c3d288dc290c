//! Pintos `read-bad-fd`: reads from descriptors that were never opened fail or kill the process.
//! Expected output: tests/expected/userprog/read-bad-fd.exp.
#![no_std]
#![no_main]

use user::syscall::read;

user::test_main!(test_main);

fn test_main() {
    let mut buf = [0u8; 1];
    for fd in [0x2010_1234, 5, 1234, -1, -1024, i32::MIN, i32::MAX] {
        read(fd, &mut buf);
    }
}
