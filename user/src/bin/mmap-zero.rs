//! Pintos `mmap-zero`: mapping an empty file may work or not, but either way nothing
//! readable appears at the address: reading it kills the process.
//! Expected output: tests/expected/vm/mmap-zero.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;

use user::syscall::{create, mmap, open};
use user::{check, fail, msg};

user::test_main!(test_main);

const ADDR: usize = 0x7f00_0000;

fn test_main() {
    check!(create(c"empty", 0), "create empty file \"empty\"");
    let fd = open(c"empty");
    check!(fd > 1, "open \"empty\"");
    msg!("mmap \"empty\"");
    // SAFETY: nothing of ours lives at ADDR. The result does not matter.
    let _ = unsafe { mmap(ADDR as *mut u8, 0, false, fd, 0) };
    fail!("read {} at the address of a mapping of nothing", mem::load_u8(ADDR));
}
