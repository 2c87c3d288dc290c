//! Pintos `halt`: powers the machine off from user mode. Expected output: `(halt) begin`.
#![no_std]
#![no_main]

use user::fail;
use user::syscall::halt;

user::test_main!(test_main);

fn test_main() {
    halt();
    #[allow(unreachable_code)]
    {
        fail!("should have halted");
    }
}
