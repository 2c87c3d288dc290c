//! Pintos `bad-jump`: a call to address 0 must kill the process.
//! Expected output: tests/expected/userprog/bad-jump.exp.
#![no_std]
#![no_main]

use user::{fail, msg};

user::test_main!(test_main);

fn test_main() {
    let v: i32;
    // SAFETY: none; this call is meant to fault (the kernel ends the process).
    unsafe { core::arch::asm!("call {f}", f = in(reg) 0usize, lateout("eax") v, clobber_abi("C")) };
    msg!("Congratulations - you have successfully called NULL: {}", v);
    fail!("should have exited with -1");
}
