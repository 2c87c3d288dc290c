//! Thread contexts: the saved stack pointers of threads that are not running, and the
//! switch between two of them.
//!
//! A switched-out thread's stack holds, from its saved RSP upwards: its FXSAVE area (the
//! precompiled `core` keeps data in XMM registers, which the SysV ABI makes caller-saved,
//! but MXCSR/x87 control words are callee-saved and cheap to keep whole), 8 bytes of
//! padding, the callee-saved registers r15, r14, r13, r12, rbx, rbp, and the return
//! address. Everything else is caller-saved, so the compiler has already spilled it
//! around the `call`.
//!
//! The saved RSPs live here, in a fixed table of slots that the scheduler hands out (one
//! per live thread), so the safe interface is "switch from slot A to slot B": a slot holds
//! either 0 (its thread is running or never ran), or an RSP written by `switch`, or the
//! initial frame written by `prepare`.
//!
//! Interrupts must be off across a switch (the scheduler's caller guarantees it); the
//! interrupt flag is not part of the context: each path that switched restores its own.

use core::arch::global_asm;
use core::cell::UnsafeCell;

/// Most threads alive at once.
pub const MAX_THREADS: usize = 256;

struct Slots(UnsafeCell<[u64; MAX_THREADS]>);
// SAFETY: one CPU, and slots are only touched with interrupts off (see `switch`).
unsafe impl Sync for Slots {}

static SLOTS: Slots = Slots(UnsafeCell::new([0; MAX_THREADS]));

global_asm!(
    r#"
    .text
    .globl context_switch
    /* rdi = &from slot, rsi = &to slot. */
context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $520, %rsp
    fxsave64 (%rsp)
    movq %rsp, (%rdi)
    movq (%rsi), %rsp
    movq $0, (%rsi)
    fxrstor64 (%rsp)
    addq $520, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

    /* A new thread's first "return" lands here: r12 = argument, r13 = entry. */
    .globl context_thread_start
context_thread_start:
    movq %r12, %rdi
    callq *%r13
    ud2
"#,
    options(att_syntax)
);

extern "C" {
    fn context_switch(from: *mut u64, to: *const u64);
    static context_thread_start: u8;
}

/// Bytes `prepare` puts on a new stack (FXSAVE area, padding, 6 registers, return).
const FRAME: u64 = 512 + 8 + 6 * 8 + 8;

/// Writes a new thread's initial frame on the stack whose top is `stack_top` and points
/// slot `slot` at it: the first switch to the slot calls `entry(arg)` on that stack.
/// `stack_top` must be the top of memory the caller owns and that nothing else uses
/// (a freshly allocated kernel stack page), 16-byte aligned.
pub fn prepare(slot: usize, stack_top: u64, entry: extern "C" fn(u64) -> !, arg: u64) {
    assert!(stack_top % 16 == 0 && stack_top >= super::KERN_BASE);
    // After `ret` pops the return address, RSP = sp + FRAME, which must be 16-aligned
    // for the `call` in context_thread_start: FRAME is a multiple of 16.
    let sp = stack_top - 64 - FRAME;
    // r15 r14 r13 r12 rbx rbp ret, lowest first: r13 = entry, r12 = arg, rbp = 0 (ends
    // the backtrace walk).
    let regs: [u64; 7] = [0, 0, entry as u64, arg, 0, 0, &raw const context_thread_start as u64];
    // SAFETY: [sp, stack_top) is the caller's unused stack memory (see above); the
    // FXSAVE area gets the reset x87 control word and MXCSR (all exceptions masked).
    unsafe {
        let p = sp as *mut u8;
        core::ptr::write_bytes(p, 0, (stack_top - sp) as usize);
        (p as *mut u16).write(0x037f);
        (p.add(24) as *mut u32).write(0x1f80);
        let regs_at = p.add(520) as *mut u64;
        for (i, v) in regs.iter().enumerate() {
            regs_at.add(i).write(*v);
        }
        (*SLOTS.0.get())[slot] = sp;
    }
}

/// Saves the running thread's context in slot `from` and resumes the thread of slot `to`;
/// returns when some thread switches back to `from`. Interrupts must be off, and `to`
/// must hold a context (saved by `switch` or made by `prepare`) whose stack is alive.
pub fn switch(from: usize, to: usize) {
    assert!(!super::cpu::interrupts_enabled(), "context switch with interrupts on");
    assert!(from != to && from < MAX_THREADS && to < MAX_THREADS);
    // SAFETY: interrupts are off on one CPU, so nothing else touches the slots; `to`
    // holds a valid saved context (the scheduler's invariant, checked non-zero here).
    unsafe {
        let slots = SLOTS.0.get() as *mut u64;
        assert!(*slots.add(to) != 0, "switch to slot {to}, which holds no context");
        context_switch(slots.add(from), slots.add(to));
    }
}
