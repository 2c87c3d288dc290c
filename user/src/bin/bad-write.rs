//! Pintos `bad-write`: a store to address 0 must kill the process. Expected output:
//! `(bad-write) begin` then the kernel's `bad-write: exit(-1)`.
#![no_std]
#![no_main]

use user::fail;

user::test_main!(test_main);

fn test_main() {
    // SAFETY: none; this store is meant to fault (the kernel ends the process).
    unsafe { core::ptr::write_volatile(core::ptr::null_mut::<i32>(), 42) };
    fail!("should have exited with -1");
}
