//! Pintos `sm-random`: writes a file in 13-byte blocks in random order, reads it back in random order.
//! Expected output: tests/expected/filesys/base/sm-random.exp.
#![no_std]
#![no_main]

#[path = "shared/random_order.rs"]
mod shared;

use core::ptr::addr_of_mut;

const TEST_SIZE: usize = 13 * 123;
const BLOCK_SIZE: usize = 13;

/// The file's contents (in the data segment: the stack is one page).
static mut BUF: [u8; TEST_SIZE] = [0; TEST_SIZE];

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the only reference to BUF, taken once.
    let buf = unsafe { &mut *addr_of_mut!(BUF) };
    shared::run(buf, BLOCK_SIZE);
}
