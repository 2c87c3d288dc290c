//! Pintos `mmap-kernel`: mappings that start in kernel space, wrap around the top of the
//! address space, or start in user space and reach the kernel must all be refused.
//! Expected output: tests/expected/vm/mmap-kernel.exp.
#![no_std]
#![no_main]

use user::check;
use user::syscall::{mmap, open};

user::test_main!(test_main);

/// Where kernel space begins (Pintos-KAIST's KERN_BASE).
const KERN_BASE: usize = 0x80_0400_0000;

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    // (address, length) of each attempt.
    let attempts: [(usize, usize); 3] = [
        (KERN_BASE, 4096),
        (0usize.wrapping_sub(0x1000), 0x2000),
        (KERN_BASE - 0x1000, 0usize.wrapping_sub(KERN_BASE).wrapping_add(0x1000)),
    ];
    for (i, &(addr, len)) in attempts.iter().enumerate() {
        // SAFETY: each call must fail; nothing gets mapped.
        let map = unsafe { mmap(addr as *mut u8, len, false, fd, 0) };
        check!(map.is_null(), "try to mmap over kernel {}", i);
    }
}
