//! Pintos `write-bad-ptr`: `write` from an unmapped buffer must kill the process.
//! Expected output: `(write-bad-ptr) begin` then `write-bad-ptr: exit(-1)`.
#![no_std]
#![no_main]

use user::fail;
use user::syscall::{nr, raw, STDOUT_FILENO};

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the kernel must refuse the buffer (an unmapped user address).
    unsafe { raw::syscall3(nr::WRITE, STDOUT_FILENO as u64, 0x1012_3420, 123) };
    fail!("should have exited with -1");
}
