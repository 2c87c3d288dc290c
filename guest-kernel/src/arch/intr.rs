//! The IDT, the interrupt entry stubs and the interrupt frame.
//!
//! # Why interrupts cannot clobber the red zone
//!
//! Kernel code is built with `-C no-redzone=yes`, but the precompiled `core`/`alloc` are
//! not: their leaf functions may keep data in the 128 bytes below RSP. A CPU interrupt
//! pushes its frame at the interrupted RSP, which would overwrite those bytes. So:
//! 1. every IDT gate names an IST stack (`gdt::IST_ENTRY`, or `IST_DOUBLE_FAULT` for #DF),
//!    so the CPU never pushes anything on the interrupted stack;
//! 2. the common stub then copies the CPU frame (and the two registers it needs) to the
//!    interrupted stack *below its red zone* — `(RSP - 128) & !15` — or to TSS.RSP0 for an
//!    interrupt from user mode, and continues there. The handler thus runs on the
//!    thread's own stack (so a thread can be switched away inside a handler and the IST
//!    stack reused by the next interrupt) and never touches `[RSP-128, RSP)`.
//!
//! The stub runs with interrupts off (all gates are interrupt gates), so nothing can
//! reuse IST1 between entry and the move. Only a fault during the move itself (the
//! interrupted stack unmapped) would nest on IST1; such a kernel is dead anyway.
//! The double fault stays on its own IST2 stack. The disk-images boot test checks, on the
//! linked kernel after boot, that all 256 gates are present and have an IST, and the
//! kernel's `redzone` self-test (`run redzone`) checks that timer interrupts leave the
//! bytes below a spinning leaf's RSP intact.

use core::arch::{asm, global_asm};
use core::mem::size_of;

use super::gdt::{IST_DOUBLE_FAULT, IST_ENTRY, SEL_KCSEG, TSS};

/// The FXSAVE area: x87/MMX/SSE state (512 bytes, 16-byte aligned).
#[derive(Clone)]
#[repr(C, align(16))]
pub struct FxArea(pub [u8; 512]);

/// What the stub saved, lowest address first. The stub passes its address to
/// `threads::interrupt::dispatch`; the handler may change it (e.g. RAX for a system call,
/// or the whole frame to switch threads), and the stub restores from it.
#[derive(Clone)]
#[repr(C)]
pub struct IntrFrame {
    pub fx: FxArea,
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Vector number, pushed by the per-vector stub.
    pub vec: u64,
    /// The CPU's error code, or 0 for vectors without one.
    pub error: u64,
    /// The CPU-pushed part: where to return.
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

const _: () = assert!(size_of::<IntrFrame>() == 512 + 15 * 8 + 7 * 8);
const _: () = assert!(size_of::<IntrFrame>() % 16 == 0);

/// Bytes between stubs (each is at most 12 bytes: push 0, push vector, jmp).
const STUB_SIZE: u64 = 16;

global_asm!(
    r#"
    .text
    .p2align 4
    .globl intr_stubs
intr_stubs:
    .set intr_vec, 0
    .rept 256
    .p2align 4
    .if (intr_vec == 8) || ((intr_vec >= 10) && (intr_vec <= 14)) || (intr_vec == 17) || (intr_vec == 21) || (intr_vec == 29) || (intr_vec == 30)
    .else
    pushq $0
    .endif
    pushq $intr_vec
    jmp intr_common
    .set intr_vec, intr_vec + 1
    .endr

    /* Stack here (IST): vector, error, RIP, CS, RFLAGS, RSP, SS. */
intr_common:
    cmpq $8, (%rsp)
    je 2f
    pushq %rax
    pushq %rcx
    testb $3, 24+16(%rsp)
    jnz 1f
    movq 40+16(%rsp), %rax
    subq $128, %rax
    andq $-16, %rax
    jmp 3f
1:  movq {tss}+4(%rip), %rax
3:  subq $72, %rax
    .set intr_off, 0
    .rept 9
    movq intr_off(%rsp), %rcx
    movq %rcx, intr_off(%rax)
    .set intr_off, intr_off + 8
    .endr
    movq %rax, %rsp
    popq %rcx
    popq %rax
2:  pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $512, %rsp
    fxsave64 (%rsp)
    movq %rsp, %rdi
    cld
    call {dispatch}
    fxrstor64 (%rsp)
    addq $512, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq
"#,
    tss = sym TSS,
    dispatch = sym dispatch,
    options(att_syntax)
);

extern "C" {
    static intr_stubs: u8;
}

extern "C" fn dispatch(frame: &mut IntrFrame) {
    crate::threads::interrupt::dispatch(frame);
}

#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    offset_lo: u16,
    selector: u16,
    ist: u8,
    attr: u8,
    offset_mid: u16,
    offset_hi: u32,
    _reserved: u32,
}

const EMPTY: Gate = Gate { offset_lo: 0, selector: 0, ist: 0, attr: 0, offset_mid: 0, offset_hi: 0, _reserved: 0 };
static mut IDT: [Gate; 256] = [EMPTY; 256];

/// Vector of the double fault, which keeps its own stack.
const DOUBLE_FAULT: usize = 8;

fn gate(vec: usize, dpl: u8) -> Gate {
    let addr = &raw const intr_stubs as u64 + vec as u64 * STUB_SIZE;
    Gate {
        offset_lo: addr as u16,
        selector: SEL_KCSEG,
        ist: if vec == DOUBLE_FAULT { IST_DOUBLE_FAULT } else { IST_ENTRY },
        attr: 0x8e | (dpl << 5), // present, 64-bit interrupt gate
        offset_mid: (addr >> 16) as u16,
        offset_hi: (addr >> 32) as u32,
        _reserved: 0,
    }
}

/// Fills all 256 gates (DPL 0) and loads the IDT.
pub fn init() {
    #[repr(C, packed)]
    struct Pseudo {
        limit: u16,
        base: u64,
    }
    // SAFETY: at boot with interrupts off; the IDT is a static, so it outlives its use.
    unsafe {
        let idt = &raw mut IDT;
        for v in 0..256 {
            (*idt)[v] = gate(v, 0);
        }
        let desc = Pseudo { limit: (size_of::<[Gate; 256]>() - 1) as u16, base: idt as u64 };
        asm!("lidt [{}]", in(reg) &desc, options(readonly, nostack, preserves_flags));
    }
}

/// Lets user mode raise vector `vec` with `int` (DPL 3), as system-call-style vectors
/// such as 0x42 need.
pub fn allow_user(vec: u8) {
    // SAFETY: one gate store with interrupts off; the CPU reads gates only on delivery.
    super::cpu::without_interrupts(|| unsafe { (*&raw mut IDT)[vec as usize] = gate(vec as usize, 3) })
}

/// Raises software interrupt `VEC` with `rdx` and `rcx` as arguments and returns the
/// `rax` its handler leaves in the frame: how kernel tests call vectors that user
/// programs reach with `int` (Pintos-KAIST's 0x43/0x44 disk counters).
pub fn raise<const VEC: u8>(rdx: u64, rcx: u64) -> u64 {
    let rax: u64;
    // SAFETY: the stub saves and restores every register and the flags around the
    // handler, which changes only the frame's rax here; not `nomem`, since the handler
    // runs arbitrary kernel code.
    unsafe { asm!("int {v}", v = const VEC, in("rdx") rdx, in("rcx") rcx, lateout("rax") rax) }
    rax
}
