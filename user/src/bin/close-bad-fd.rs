//! Pintos `close-bad-fd`: closing a descriptor that was never opened fails or kills the process.
//! Expected output: tests/expected/userprog/close-bad-fd.exp.
#![no_std]
#![no_main]

use user::syscall::close;

user::test_main!(test_main);

fn test_main() {
    close(0x2010_1234);
}
