//! Pintos `write-bad-fd`: writes to descriptors that were never opened fail or kill the process.
//! Expected output: tests/expected/userprog/write-bad-fd.exp.
#![no_std]
#![no_main]

use user::syscall::write;

user::test_main!(test_main);

fn test_main() {
    for fd in [0x0101_2342, 7, 2546, -5, -8192, i32::MIN + 1, i32::MAX - 1] {
        write(fd, &[123]);
    }
}
