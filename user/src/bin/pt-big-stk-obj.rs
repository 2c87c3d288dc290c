//! Pintos `pt-big-stk-obj`: a 64 KiB object on the stack, zeroed then XORed with the
//! ARC4 stream of "foobar", must work (the stack grows over 16 pages).
//! Expected output: tests/expected/vm/pt-big-stk-obj.exp.
#![no_std]
#![no_main]

use user::arc4::Arc4;
use user::cksum::cksum;
use user::msg;

user::test_main!(test_main);

fn test_main() {
    let mut big = [0u8; 65536];
    // Make sure the object really lives on the stack and is written there.
    let obj = core::hint::black_box(&mut big);
    Arc4::new(b"foobar").crypt(obj);
    msg!("cksum: {}", cksum(obj));
}
