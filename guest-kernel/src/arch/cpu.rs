//! Interrupt flag, HLT and control registers.
//!
//! CLI, STI and HLT are declared as touching memory (no `nomem`): they must be compiler
//! barriers, or the compiler could move a critical section's loads and stores past the
//! CLI/STI that guard it.

use core::arch::asm;

const IF: u64 = 1 << 9;

fn rflags() -> u64 {
    let f: u64;
    // SAFETY: reads RFLAGS through the stack (push/pop balance).
    unsafe { asm!("pushfq", "pop {}", out(reg) f, options(nomem, preserves_flags)) }
    f
}

pub fn interrupts_enabled() -> bool {
    rflags() & IF != 0
}

pub fn enable_interrupts() {
    // SAFETY: handlers and the IDT are installed before the first call (threads::init).
    unsafe { asm!("sti", options(nostack)) }
}

pub fn disable_interrupts() {
    // SAFETY: masking interrupts cannot break memory safety.
    unsafe { asm!("cli", options(nostack)) }
}

/// Runs `f` with interrupts off, restoring the previous state.
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    let was = interrupts_enabled();
    disable_interrupts();
    let r = f();
    if was {
        enable_interrupts();
    }
    r
}

/// Enables interrupts and halts until the next one, atomically (STI's one-instruction
/// shadow covers HLT, so an interrupt cannot slip in between).
pub fn wait_for_interrupt() {
    // SAFETY: as for `enable_interrupts`.
    unsafe { asm!("sti", "hlt", options(nostack)) }
}

/// Spins `loops` times in a bare countdown loop (`sub; jnz`). The emulator recognises the
/// loop and skips ahead in it with the same result (emulator/src/cpu/spin.rs), so delay
/// loops cost almost no host time there; on hardware it is an ordinary delay loop.
#[inline(always)]
pub fn countdown(loops: u64) {
    if loops == 0 {
        return;
    }
    // SAFETY: touches only the counter register and the flags.
    unsafe { asm!("2:", "sub {n}, 1", "jnz 2b", n = inout(reg) loops => _, options(nomem, nostack)) }
}

/// Stops the CPU for good.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: cli; hlt only stops the CPU.
        unsafe { asm!("cli", "hlt", options(nostack)) }
    }
}

pub fn cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

pub fn cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}
