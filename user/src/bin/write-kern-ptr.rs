//! `write` from a kernel address (KERN_BASE) must kill the process, not leak kernel
//! memory. Expected output: `(write-kern-ptr) begin` then `write-kern-ptr: exit(-1)`.
#![no_std]
#![no_main]

use user::fail;
use user::syscall::{nr, raw, STDOUT_FILENO};

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the kernel must refuse the buffer (kernel space).
    unsafe { raw::syscall3(nr::WRITE, STDOUT_FILENO as u64, 0x80_0400_0000, 16) };
    fail!("should have exited with -1");
}
