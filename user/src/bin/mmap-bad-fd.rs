//! Pintos `mmap-bad-fd`: mmap of an fd no file has (0x5678) must fail, or end the process with -1.
//! Expected output: tests/expected/vm/mmap-bad-fd.exp.
#![no_std]
#![no_main]

use user::check;
use user::syscall::mmap;

user::test_main!(test_main);

fn test_main() {
    // SAFETY: nothing of ours lives at the address (and the call must not map anything).
    let map = unsafe { mmap(0x1000_0000 as *mut u8, 4096, false, 0x5678, 0) };
    check!(map.is_null(), "try to mmap invalid fd");
}
