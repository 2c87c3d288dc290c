//! Pintos `lg-create`: a newly created 75678-byte file reads back as zeros.
//! Expected output: tests/expected/filesys/base/lg-create.exp.
#![no_std]
#![no_main]

#[path = "shared/create.rs"]
mod shared;

use core::ptr::addr_of;

const TEST_SIZE: usize = 75678;

/// The file's contents (in the data segment: the stack is one page).
static mut BUF: [u8; TEST_SIZE] = [0; TEST_SIZE];

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the only reference to BUF, taken once.
    shared::run(unsafe { &*addr_of!(BUF) });
}
