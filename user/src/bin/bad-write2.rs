//! Pintos `bad-write2`: a store to kernel space (KERN_BASE) must kill the process.
//! Expected output: tests/expected/userprog/bad-write2.exp.
#![no_std]
#![no_main]

use user::fail;

user::test_main!(test_main);

fn test_main() {
    // SAFETY: none; this store is meant to fault (the kernel ends the process).
    unsafe { core::arch::asm!("mov dword ptr [{0}], 42", in(reg) 0x80_0400_0000usize, options(nostack)) };
    fail!("should have exited with -1");
}
