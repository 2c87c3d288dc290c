//! Pintos `bad-read`: a load from address 0 must kill the process.
//! Expected output: tests/expected/userprog/bad-read.exp.
#![no_std]
#![no_main]

use user::{fail, msg};

user::test_main!(test_main);

fn test_main() {
    let v: i32;
    // SAFETY: none; this load is meant to fault (the kernel ends the process).
    unsafe { core::arch::asm!("mov {0:e}, [{1}]", out(reg) v, in(reg) 0usize, options(nostack)) };
    msg!("Congratulations - you have successfully dereferenced NULL: {}", v);
    fail!("should have exited with -1");
}
