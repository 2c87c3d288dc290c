//! Entering user mode and the `syscall` entry.
//!
//! `syscall` arrives at `syscall_entry` on the user's stack with interrupts masked
//! (SFMASK clears IF, DF, TF and AC), RCX = user RIP and R11 = user RFLAGS. The stub
//! parks the user RSP in a scratch static (one CPU, interrupts off, so nothing else
//! runs in between), switches to TSS.RSP0 (the running thread's kernel stack, the same
//! stack interrupts from user mode use), and builds an `IntrFrame` there exactly as the
//! interrupt stub would for a user-mode interrupt (SS, RSP, RFLAGS, CS, RIP, error 0,
//! vector `SYSCALL_VEC`, the GPRs, FXSAVE). The handler gets `&mut IntrFrame`, and the
//! return path is the interrupt stub's: restore and `iretq`. Using `iretq` instead of
//! `sysretq` avoids SYSRET's non-canonical-RCX pitfall and gives one return path.
//! The kernel does not use GS, so no `swapgs` is needed.

use core::arch::{asm, global_asm};

use super::gdt::{SEL_KCSEG, SEL_UCSEG, SEL_UDSEG, TSS};
use super::intr::IntrFrame;

/// The `vec` value of a system call's frame (not a real vector).
pub const SYSCALL_VEC: u64 = 0x100;

const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_SFMASK: u32 = 0xc000_0084;

/// User RSP between `syscall` and the switch to the kernel stack.
#[no_mangle]
static mut SYSCALL_USER_RSP: u64 = 0;

global_asm!(
    r#"
    .text
    .globl syscall_entry
syscall_entry:
    movq %rsp, SYSCALL_USER_RSP(%rip)
    movq {tss}+4(%rip), %rsp
    pushq ${udseg}
    pushq SYSCALL_USER_RSP(%rip)
    pushq %r11
    pushq ${ucseg}
    pushq %rcx
    pushq $0
    pushq ${vec}
    pushq %rax
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
    call {handler}
    movq %rsp, %rdi
    jmp user_return

    /* rdi = &IntrFrame on the kernel stack: restore it and iretq. */
    .globl user_return
user_return:
    movq %rdi, %rsp
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
    udseg = const SEL_UDSEG,
    ucseg = const SEL_UCSEG,
    vec = const SYSCALL_VEC,
    handler = sym syscall_handler,
    options(att_syntax)
);

extern "C" {
    fn syscall_entry();
    fn user_return(frame: *const IntrFrame) -> !;
}

extern "C" fn syscall_handler(frame: &mut IntrFrame) {
    crate::userprog::syscall::syscall_handler(frame);
}

fn wrmsr(msr: u32, value: u64) {
    // SAFETY: writes one of the syscall MSRs with a value `init` computed.
    unsafe { asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack, preserves_flags)) }
}

/// Programs STAR/LSTAR/SFMASK (EFER.SCE is set at boot).
pub fn init() {
    // STAR[47:32]: kernel CS (SS = +8); STAR[63:48] + 16 = user CS, + 8 = user SS, as
    // SYSRET would use them (0x10 → 0x1b/0x23).
    let star = ((SEL_KCSEG as u64) << 32) | (((SEL_UDSEG as u64 & !3) - 8) << 48);
    wrmsr(MSR_STAR, star);
    wrmsr(MSR_LSTAR, syscall_entry as *const () as u64);
    // IF | DF | TF | AC.
    wrmsr(MSR_SFMASK, 0x200 | 0x400 | 0x100 | 0x4_0000);
}

/// Enters user mode at `rip` with stack `rsp`, rdi = `rdi`, rsi = `rsi`, all other
/// registers zero, interrupts on. The running thread's address space must be active
/// and TSS.RSP0 must point at its kernel stack.
pub fn enter_user(rip: u64, rsp: u64, rdi: u64, rsi: u64) -> ! {
    resume_user(user_frame(rip, rsp, rdi, rsi))
}

/// The registers of a fresh user context: `rip`, stack `rsp`, rdi = `rdi`, rsi = `rsi`,
/// all other registers zero, interrupts on.
pub fn user_frame(rip: u64, rsp: u64, rdi: u64, rsi: u64) -> IntrFrame {
    // SAFETY: an all-zero IntrFrame is valid (plain integers); it is then filled in.
    let mut f: IntrFrame = unsafe { core::mem::MaybeUninit::zeroed().assume_init() };
    // Reset x87 control word and MXCSR (all exceptions masked).
    f.fx.0[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
    f.fx.0[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
    f.rip = rip;
    f.rsp = rsp;
    f.rdi = rdi;
    f.rsi = rsi;
    f.cs = SEL_UCSEG as u64;
    f.ss = SEL_UDSEG as u64;
    f.rflags = 0x202;
    f
}

/// Returns to user mode with the registers of `frame` (from `user_frame`, or saved at a
/// system call, e.g. the parent's for a forked child). The running thread's address space must be
/// active and TSS.RSP0 must point at its kernel stack.
pub fn resume_user(frame: IntrFrame) -> ! {
    super::cpu::disable_interrupts();
    // SAFETY: `frame` comes from `user_frame` or is a copy of a frame saved on entry from
    // user mode, so its selectors and flags describe a user context (IF set); the stub
    // only reads it before `iretq` leaves the kernel, and this stack is abandoned.
    unsafe { user_return(&frame) }
}
