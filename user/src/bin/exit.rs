//! Pintos `exit`: exits with status 57 after `begin`. Expected output:
//! `(exit) begin` then the kernel's `exit: exit(57)`.
#![no_std]
#![no_main]

use user::fail;
use user::syscall::exit;

user::test_main!(test_main);

fn test_main() {
    exit(57);
    #[allow(unreachable_code)]
    {
        fail!("should have called exit(57)");
    }
}
