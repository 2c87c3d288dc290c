//! Pintos `pt-grow-stack`: a 4 KiB object on the stack, filled with ARC4 bytes, must
//! work (the stack grows on the faults). Expected output: tests/expected/vm/pt-grow-stack.exp.
#![no_std]
#![no_main]

use user::arc4::Arc4;
use user::cksum::cksum;
use user::msg;

user::test_main!(test_main);

fn test_main() {
    let mut stack_obj = [0u8; 4096];
    // Keep the object on the stack and really written (not folded away).
    let obj = core::hint::black_box(&mut stack_obj);
    Arc4::new(b"foobar").crypt(obj);
    msg!("cksum: {}", cksum(obj));
}
