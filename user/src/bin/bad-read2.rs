//! Pintos `bad-read2`: a load from kernel space (KERN_BASE) must kill the process.
//! Expected output: tests/expected/userprog/bad-read2.exp.
#![no_std]
#![no_main]

use user::{fail, msg};

user::test_main!(test_main);

fn test_main() {
    let v: i32;
    // SAFETY: none; this load is meant to fault (the kernel ends the process).
    unsafe { core::arch::asm!("mov {0:e}, [{1}]", out(reg) v, in(reg) 0x80_0400_0000usize, options(nostack)) };
    msg!("Congratulations - you have successfully read kernel memory: {}", v);
    fail!("should have exited with -1");
}
