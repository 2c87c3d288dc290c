//! Pintos `pt-write-code`: a store into the program's own code must end the process with
//! -1 (the harness checks it with its process-death rule).
#![no_std]
#![no_main]

use user::fail;

user::test_main!(test_main);

fn test_main() {
    let code = test_main as fn() as usize;
    // SAFETY: none; the text segment is read-only, so the kernel must kill us here.
    unsafe { core::arch::asm!("mov dword ptr [{0}], 0", in(reg) code, options(nostack)) };
    fail!("writing the code segment succeeded");
}
