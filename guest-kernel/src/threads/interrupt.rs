//! Interrupt handling above the hardware entry (`arch::intr`): the 8259A PIC pair,
//! the handler table, and what happens on an unhandled vector.
//!
//! Vectors 0x00-0x1f are CPU exceptions; 0x20-0x2f are the PIC's IRQ 0-15 (remapped
//! there, as Pintos does). All gates are interrupt gates: handlers run with interrupts
//! off.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::cell::IrqCell;
use crate::arch::{cpu, io::outb};

pub use crate::arch::intr::IntrFrame;

pub type Handler = fn(&mut IntrFrame);

#[derive(Clone, Copy)]
struct Entry {
    handler: Handler,
    name: &'static str,
}

static HANDLERS: IrqCell<[Option<Entry>; 256]> = IrqCell::new([None; 256]);

const PIC0_CTRL: u16 = 0x20;
const PIC0_DATA: u16 = 0x21;
const PIC1_CTRL: u16 = 0xa0;
const PIC1_DATA: u16 = 0xa1;
/// First vector of the PIC's IRQs.
pub const IRQ_BASE: u64 = 0x20;

/// Names of the CPU exceptions, for messages.
const EXCEPTIONS: [&str; 20] = [
    "#DE Divide Error",
    "#DB Debug Exception",
    "NMI Interrupt",
    "#BP Breakpoint Exception",
    "#OF Overflow Exception",
    "#BR BOUND Range Exceeded Exception",
    "#UD Invalid Opcode Exception",
    "#NM Device Not Available Exception",
    "#DF Double Fault Exception",
    "Coprocessor Segment Overrun",
    "#TS Invalid TSS Exception",
    "#NP Segment Not Present",
    "#SS Stack Fault Exception",
    "#GP General Protection Exception",
    "#PF Page-Fault Exception",
    "Reserved",
    "#MF x87 FPU Floating-Point Error",
    "#AC Alignment Check Exception",
    "#MC Machine-Check Exception",
    "#XF SIMD Floating-Point Exception",
];

/// The name of CPU exception `vec` (0-19).
pub fn exception_name(vec: u8) -> &'static str {
    EXCEPTIONS[vec as usize]
}

fn vector_name(vec: u64) -> &'static str {
    if let Some(n) = HANDLERS.try_with(|t| t[vec as usize].map(|e| e.name)).flatten() {
        return n;
    }
    match vec {
        0..=19 => EXCEPTIONS[vec as usize],
        0x20..=0x2f => "external interrupt",
        _ => "unknown",
    }
}

/// Loads the IDT and programs the PICs: IRQ 0-7 → 0x20-0x27, IRQ 8-15 → 0x28-0x2f, all
/// unmasked (nothing raises an IRQ until its device is programmed to).
pub fn init() {
    crate::arch::intr::init();
    outb(PIC0_DATA, 0xff);
    outb(PIC1_DATA, 0xff);
    // ICW1: edge triggered, cascade, ICW4 follows. ICW2: vector base. ICW3: cascade on
    // IRQ 2. ICW4: 8086 mode, normal EOI.
    outb(PIC0_CTRL, 0x11);
    outb(PIC0_DATA, IRQ_BASE as u8);
    outb(PIC0_DATA, 0x04);
    outb(PIC0_DATA, 0x01);
    outb(PIC1_CTRL, 0x11);
    outb(PIC1_DATA, IRQ_BASE as u8 + 8);
    outb(PIC1_DATA, 0x02);
    outb(PIC1_DATA, 0x01);
    outb(PIC0_DATA, 0x00);
    outb(PIC1_DATA, 0x00);
}

/// Registers `handler` for external interrupt vector `vec` (0x20-0x2f).
pub fn register_ext(vec: u8, handler: Handler, name: &'static str) {
    assert!((0x20..0x30).contains(&vec), "vector {vec:#x} is not an external interrupt");
    register(vec, handler, name);
}

/// Registers `handler` for internal vector `vec` (an exception or a software interrupt).
/// `user` lets user mode raise it with `int`.
pub fn register_int(vec: u8, user: bool, handler: Handler, name: &'static str) {
    assert!(!(0x20..0x30).contains(&vec), "vector {vec:#x} is an external interrupt");
    register(vec, handler, name);
    if user {
        crate::arch::intr::allow_user(vec);
    }
}

fn register(vec: u8, handler: Handler, name: &'static str) {
    HANDLERS.with(|t| {
        assert!(t[vec as usize].is_none(), "vector {vec:#x} registered twice");
        t[vec as usize] = Some(Entry { handler, name });
    });
}

/// Acknowledges IRQ `vec` at the PIC(s).
fn end_of_interrupt(vec: u64) {
    if vec >= IRQ_BASE + 8 {
        outb(PIC1_CTRL, 0x20);
    }
    outb(PIC0_CTRL, 0x20);
}

/// True while an external interrupt's handler runs (it must not sleep).
static IN_EXTERNAL: AtomicBool = AtomicBool::new(false);
/// Set by a handler that wants the interrupted thread to yield once the handler is done.
static YIELD_ON_RETURN: AtomicBool = AtomicBool::new(false);

/// Is an external interrupt being handled? (`intr_context` in Pintos.)
pub fn in_external() -> bool {
    IN_EXTERNAL.load(Ordering::Relaxed)
}

/// From an external interrupt handler: yield the CPU when the handler returns
/// (`intr_yield_on_return`).
pub fn yield_on_return() {
    assert!(in_external(), "yield_on_return outside an interrupt handler");
    YIELD_ON_RETURN.store(true, Ordering::Relaxed);
}

/// Called by the entry stub for every interrupt, with interrupts off, on the interrupted
/// thread's stack (see `arch::intr`). After an external interrupt's EOI it may switch
/// threads: the interrupted thread then resumes from here, and returns through the stub,
/// when it is next scheduled.
pub fn dispatch(frame: &mut IntrFrame) {
    let vec = frame.vec;
    let external = (IRQ_BASE..IRQ_BASE + 16).contains(&vec);
    let entry = HANDLERS.with(|t| t[vec as usize]);
    if external {
        assert!(!in_external(), "nested external interrupt");
        IN_EXTERNAL.store(true, Ordering::Relaxed);
        YIELD_ON_RETURN.store(false, Ordering::Relaxed);
    }
    match entry {
        Some(e) => (e.handler)(frame),
        // Spurious interrupts from the PICs (IRQ 7 and 15) need no handler or EOI.
        None if vec == IRQ_BASE + 7 || vec == IRQ_BASE + 15 => {
            IN_EXTERNAL.store(false, Ordering::Relaxed);
            return;
        }
        None => unexpected(frame),
    }
    if external {
        IN_EXTERNAL.store(false, Ordering::Relaxed);
        end_of_interrupt(vec);
        if YIELD_ON_RETURN.swap(false, Ordering::Relaxed) {
            crate::threads::thread::thread_yield();
        }
    }
}

/// Dumps the frame and panics: an interrupt nobody handles (or a kernel-mode fault).
pub fn unexpected(frame: &IntrFrame) -> ! {
    dump_frame(frame);
    panic!("Unexpected interrupt {:#04x} ({})", frame.vec, vector_name(frame.vec));
}

/// Prints the registers of an interrupt frame.
pub fn dump_frame(f: &IntrFrame) {
    crate::console::print_panic(format_args!(
        "Interrupt {:#04x} ({}) at rip={:#x}\n cr2={:016x} error={:016x}\n\
         rax {:016x} rbx {:016x} rcx {:016x} rdx {:016x}\n\
         rsp {:016x} rbp {:016x} rsi {:016x} rdi {:016x}\n\
         r8  {:016x} r9  {:016x} r10 {:016x} r11 {:016x}\n\
         r12 {:016x} r13 {:016x} r14 {:016x} r15 {:016x}\n\
         rflags {:08x} cs {:04x} ss {:04x}\n",
        f.vec, vector_name(f.vec), f.rip, cpu::cr2(), f.error,
        f.rax, f.rbx, f.rcx, f.rdx, f.rsp, f.rbp, f.rsi, f.rdi,
        f.r8, f.r9, f.r10, f.r11, f.r12, f.r13, f.r14, f.r15,
        f.rflags, f.cs, f.ss,
    ));
}
