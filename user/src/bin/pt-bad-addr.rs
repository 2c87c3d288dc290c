//! Pintos `pt-bad-addr`: a load from an address no segment covers (0x04000000) must end
//! the process with -1 (the harness checks it with its process-death rule).
#![no_std]
#![no_main]

use user::fail;

user::test_main!(test_main);

fn test_main() {
    let v: i32;
    // SAFETY: none; nothing is mapped there, so the kernel must kill us on this load.
    unsafe { core::arch::asm!("mov {0:e}, dword ptr [{1}]", out(reg) v, in(reg) 0x0400_0000usize, options(nostack)) };
    fail!("bad addr read as {}", v);
}
