//! The GDT and the TSS.
//!
//! Selectors follow Pintos-KAIST: 0x08 kernel code, 0x10 kernel data, 0x1b user data,
//! 0x23 user code (the order SYSRET needs), 0x28 the TSS. The TSS holds RSP0 (the kernel
//! stack for interrupts from user mode, set per thread) and the IST stacks every
//! interrupt enters on (see `intr` for why).

use core::arch::asm;
use core::mem::size_of;

use super::boot::Stack;

pub const SEL_KCSEG: u16 = 0x08;
pub const SEL_KDSEG: u16 = 0x10;
pub const SEL_UDSEG: u16 = 0x1b;
pub const SEL_UCSEG: u16 = 0x23;
pub const SEL_TSS: u16 = 0x28;

/// The 64-bit task-state segment (Intel SDM vol. 3, 8.7).
#[repr(C, packed(4))]
pub struct Tss {
    _reserved0: u32,
    pub rsp: [u64; 3],
    _reserved1: u64,
    pub ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    pub iomap_base: u16,
}

const _: () = assert!(size_of::<Tss>() == 104);

/// IST1: where every interrupt and exception enters (the stub moves to the interrupted
/// stack right away). IST2: the double fault's own stack, which it stays on.
pub const IST_ENTRY: u8 = 1;
pub const IST_DOUBLE_FAULT: u8 = 2;
const IST_SIZE: usize = 4096;

static mut IST_ENTRY_STACK: Stack<IST_SIZE> = Stack([0; IST_SIZE]);
static mut IST_DF_STACK: Stack<{ 4 * IST_SIZE }> = Stack([0; 4 * IST_SIZE]);

/// Read by the interrupt stub (RSP0 at offset 4).
pub(super) static mut TSS: Tss = Tss {
    _reserved0: 0,
    rsp: [0; 3],
    _reserved1: 0,
    ist: [0; 7],
    _reserved2: 0,
    _reserved3: 0,
    iomap_base: size_of::<Tss>() as u16,
};

static mut GDT: [u64; 7] = [
    0,
    0x00af_9a00_0000_ffff, // kernel code: 64-bit, DPL 0
    0x00cf_9200_0000_ffff, // kernel data
    0x00cf_f200_0000_ffff, // user data, DPL 3
    0x00af_fa00_0000_ffff, // user code: 64-bit, DPL 3
    0,                     // TSS, low half (filled in by `init`)
    0,                     // TSS, high half
];

#[repr(C, packed)]
struct Pseudo {
    limit: u16,
    base: u64,
}

/// Loads the GDT and the TSS, and reloads every segment register.
pub fn init() {
    // SAFETY: runs once at boot with interrupts off, before anything else reads these
    // statics; raw pointers avoid references to the mutable statics.
    unsafe {
        let tss = &raw mut TSS;
        (*tss).ist[(IST_ENTRY - 1) as usize] = (&raw const IST_ENTRY_STACK) as u64 + IST_SIZE as u64;
        (*tss).ist[(IST_DOUBLE_FAULT - 1) as usize] = (&raw const IST_DF_STACK) as u64 + 4 * IST_SIZE as u64;
        let base = tss as u64;
        let limit = size_of::<Tss>() as u64 - 1;
        let gdt = &raw mut GDT;
        // Available 64-bit TSS (type 9), present, DPL 0.
        (*gdt)[5] = (limit & 0xffff) | ((base & 0xff_ffff) << 16) | (0x89 << 40) | (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
        (*gdt)[6] = base >> 32;
        let desc = Pseudo { limit: (size_of::<[u64; 7]>() - 1) as u16, base: gdt as u64 };
        // SAFETY: the descriptors above are valid; CS is reloaded with a far return to
        // the next instruction, the data segments with the kernel data selector.
        asm!(
            "lgdt [{desc}]",
            "push {kcs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {kds:x}",
            "mov es, {kds:x}",
            "mov ss, {kds:x}",
            "mov fs, {kds:x}",
            "mov gs, {kds:x}",
            "ltr {tss:x}",
            desc = in(reg) &desc,
            kcs = in(reg) SEL_KCSEG as u64,
            kds = in(reg) SEL_KDSEG as u64,
            tss = in(reg) SEL_TSS as u64,
            tmp = out(reg) _,
        );
    }
}

/// Sets the stack the CPU (and the interrupt stub) uses for interrupts from user mode.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: a single aligned store with interrupts off; the stub only reads it on
    // interrupt entry.
    super::cpu::without_interrupts(|| unsafe { (&raw mut TSS.rsp).cast::<u64>().write_unaligned(top) })
}
