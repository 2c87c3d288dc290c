//! Pintos `pt-grow-bad`: a load 4096 bytes below the stack pointer is not stack growth;
//! it must end the process with -1. Expected output: tests/expected/vm/pt-grow-bad.exp.
#![no_std]
#![no_main]

user::test_main!(test_main);

fn test_main() {
    // SAFETY: none; the kernel must kill the process on this load.
    unsafe { core::arch::asm!("mov rax, qword ptr [rsp - 4096]", out("rax") _, options(nostack, readonly)) };
}
