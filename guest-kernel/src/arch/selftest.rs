//! Machine-level checks that need assembly (called from `tests/`).

use core::arch::asm;

/// Fills the 128-byte red zone below RSP with a pattern, spins with interrupts on until
/// `ticks` more timer ticks have happened, and reports whether the pattern survived.
pub fn red_zone_survives(ticks: u64) -> bool {
    let counter = crate::devices::timer::ticks_counter();
    let target = counter.load(core::sync::atomic::Ordering::Relaxed) + ticks;
    let bad: u64;
    // SAFETY: the block writes only [RSP-128, RSP), which no compiled code uses (the kernel
    // is built with no-redzone and this function's frame is above RSP), and reads the
    // tick counter, a valid AtomicU64, with plain loads (the interrupt handler updates it).
    unsafe {
        asm!(
            "lea rdi, [rsp - 128]",
            "mov rax, 0x5a5a000000000000",
            "mov ecx, 16",
            "2:",
            "mov [rdi], rax",
            "add rdi, 8",
            "inc rax",
            "dec ecx",
            "jnz 2b",
            "sti",
            "3:",
            "cmp [{counter}], {target}",
            "jb 3b",
            "lea rdi, [rsp - 128]",
            "mov rax, 0x5a5a000000000000",
            "mov ecx, 16",
            "xor {bad:e}, {bad:e}",
            "4:",
            "cmp [rdi], rax",
            "setne dl",
            "movzx edx, dl",
            "add {bad}, rdx",
            "add rdi, 8",
            "inc rax",
            "dec ecx",
            "jnz 4b",
            counter = in(reg) counter.as_ptr(),
            target = in(reg) target,
            bad = out(reg) bad,
            out("rax") _, out("rcx") _, out("rdx") _, out("rdi") _,
        );
    }
    bad == 0
}

/// Executes `int3`: with no handler for #BP, the kernel dumps the registers and panics.
pub fn breakpoint() {
    // SAFETY: int3 only raises the breakpoint exception, handled like any other vector.
    // Not `nomem`: the handler reads and writes memory, so no access may move across it.
    unsafe { asm!("int3", options(nostack)) }
}
