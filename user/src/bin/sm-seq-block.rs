//! Pintos `sm-seq-block`: writes a 5678-byte file sequentially in 513-byte blocks, then reads it back.
//! Expected output: tests/expected/filesys/base/sm-seq-block.exp.
#![no_std]
#![no_main]

#[path = "shared/seq_block.rs"]
mod shared;

use core::ptr::addr_of_mut;

const TEST_SIZE: usize = 5678;
const BLOCK_SIZE: usize = 513;

/// The file's contents (in the data segment: the stack is one page).
static mut BUF: [u8; TEST_SIZE] = [0; TEST_SIZE];

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the only reference to BUF, taken once.
    let buf = unsafe { &mut *addr_of_mut!(BUF) };
    shared::run(buf, BLOCK_SIZE);
}
