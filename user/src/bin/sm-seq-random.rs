//! Pintos `sm-seq-random`: writes a 5678-byte file sequentially in random-sized blocks, then reads it back.
//! Expected output: tests/expected/filesys/base/sm-seq-random.exp.
#![no_std]
#![no_main]

#[path = "shared/seq_random.rs"]
mod shared;

use core::ptr::addr_of_mut;

const TEST_SIZE: usize = 5678;

/// The file's contents (in the data segment: the stack is one page).
static mut BUF: [u8; TEST_SIZE] = [0; TEST_SIZE];

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the only reference to BUF, taken once.
    let buf = unsafe { &mut *addr_of_mut!(BUF) };
    shared::run(buf);
}
