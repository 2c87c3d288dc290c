//! Return addresses of the current call chain, for panic messages. The kernel is built
//! with frame pointers, so each frame starts with [saved RBP, return address].

use core::arch::asm;

use super::{BOOT_MAPPED, KERN_BASE};

/// Calls `f` with each return address, innermost first (at most `max`).
pub fn for_each_return_address(max: usize, mut f: impl FnMut(u64)) {
    let mut rbp: u64;
    // SAFETY: reads the frame-pointer register.
    unsafe { asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags)) }
    for _ in 0..max {
        // Only follow frames inside the mapped kernel memory, so a corrupt chain ends
        // the walk instead of faulting.
        if rbp % 8 != 0 || rbp < KERN_BASE || rbp >= KERN_BASE + BOOT_MAPPED - 16 {
            break;
        }
        // SAFETY: rbp..rbp+16 is inside the KERN_BASE map of RAM (checked above), so it is
        // readable; any bit pattern is a valid u64.
        let (next, ret) = unsafe { ((rbp as *const u64).read_volatile(), ((rbp + 8) as *const u64).read_volatile()) };
        if ret == 0 {
            break;
        }
        f(ret);
        if next <= rbp {
            break;
        }
        rbp = next;
    }
}
