//! Pintos `child-bad`: points the stack at unmapped memory and pushes onto it; the
//! kernel must kill it (exit -1).
#![no_std]
#![no_main]

user::test_main!(test_main);

fn test_main() {
    // SAFETY: deliberately breaks the stack; the process must not survive.
    unsafe { core::arch::asm!("mov rsp, 0x20101234", "push rax", options(noreturn)) };
}
