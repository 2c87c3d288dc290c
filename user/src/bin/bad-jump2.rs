//! Pintos `bad-jump2`: a call into kernel space (KERN_BASE) must kill the process.
//! Expected output: tests/expected/userprog/bad-jump2.exp.
#![no_std]
#![no_main]

use user::{fail, msg};

user::test_main!(test_main);

fn test_main() {
    let v: i32;
    // SAFETY: none; this call is meant to fault (the kernel ends the process).
    unsafe { core::arch::asm!("call {f}", f = in(reg) 0x80_0400_0000usize, lateout("eax") v, clobber_abi("C")) };
    msg!("Congratulations - you have successfully called kernel code: {}", v);
    fail!("should have exited with -1");
}
