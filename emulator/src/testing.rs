//! Ready-made CPU set-ups for tests, benchmarks and fuzzing: a CPU already in 64-bit long
//! mode with identity-mapped memory, so a test can drop code at an address and run it.
//!
//! Memory layout of [`long_mode`] (all below 1 MiB except the code and data areas):
//!
//! | address     | contents                                                        |
//! |-------------|-----------------------------------------------------------------|
//! | `0x0500`    | GDT: null, kernel code 0x08, kernel data 0x10, user code 0x1b,  |
//! |             | user data 0x23, 32-bit code 0x30, TSS 0x38 (16 bytes)           |
//! | `0x0600`    | TSS                                                             |
//! | `0x1000`    | PML4, then PDPT at 0x2000, page directories from 0x3000         |
//! | `0x8000`    | IDT (256 16-byte gates, none present until a test adds them)    |
//! | `0x7_0000`  | initial kernel stack top                                        |
//!
//! Every 2 MiB of guest memory is identity mapped (present, writable, user, global off),
//! so addresses equal physical addresses.

use crate::cpu::segment::*;
use crate::cpu::{reg, Cpu, DescTable, Exit};
use crate::bus::Bus;
use crate::memory::PhysMemory;
use crate::mmu::*;

pub const GDT: u64 = 0x500;
pub const TSS: u64 = 0x600;
pub const PML4: u64 = 0x1000;
pub const IDT: u64 = 0x8000;
pub const STACK_TOP: u64 = 0x7_0000;
pub const KERNEL_CS: u16 = 0x08;
pub const KERNEL_DS: u16 = 0x10;
pub const USER_CS: u16 = 0x1b;
pub const USER_DS: u16 = 0x23;
pub const CODE32: u16 = 0x30;
pub const TSS_SEL: u16 = 0x38;

/// Raw GDT entries of the layout above (the TSS descriptor is filled in by [`long_mode`]).
pub const GDT_ENTRIES: [u64; 7] = [
    0,
    0x00af_9a00_0000_ffff, // 64-bit kernel code
    0x00cf_9200_0000_ffff, // kernel data
    0x00af_fa00_0000_ffff, // 64-bit user code
    0x00cf_f200_0000_ffff, // user data
    0x00cf_9a00_0000_ffff, // 32-bit kernel code
    0,
];

/// A CPU in 64-bit mode at CPL 0 with `mem_mb` MiB of identity-mapped memory, SSE enabled,
/// RSP = [`STACK_TOP`] and RIP = 0.
pub fn long_mode(mem_mb: u64) -> Cpu {
    let mut mem = PhysMemory::new(mem_mb << 20).expect("test memory");
    let size = mem.size();
    for (i, e) in GDT_ENTRIES.iter().enumerate() {
        mem.write_u64(GDT + i as u64 * 8, *e).unwrap();
    }
    // 64-bit TSS descriptor: base TSS, limit 0x67, type 9, present.
    let tss_lo = 0x67 | (TSS & 0xffffff) << 16 | 0x89u64 << 40 | ((TSS >> 24) & 0xff) << 56;
    mem.write_u64(GDT + 6 * 8, tss_lo).unwrap();
    mem.write_u64(GDT + 7 * 8, TSS >> 32).unwrap();
    // Page tables: PML4[0] -> PDPT; PDPT[i] -> PD i; PD entries map 2 MiB pages.
    let pdpt = 0x2000;
    mem.write_u64(PML4, pdpt | 7).unwrap();
    let gigs = size.div_ceil(1 << 30);
    for g in 0..gigs {
        let pd = 0x3000 + g * 0x1000;
        mem.write_u64(pdpt + g * 8, pd | 7).unwrap();
        for i in 0..512 {
            let pa = (g << 30) + (i << 21);
            if pa >= size {
                break;
            }
            mem.write_u64(pd + i * 8, pa | 0x87).unwrap();
        }
    }
    let mut cpu = Cpu::new(mem);
    cpu.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    cpu.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    cpu.cr3 = PML4;
    cpu.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    cpu.gdtr = DescTable { base: GDT, limit: (GDT_ENTRIES.len() as u16 + 1) * 8 - 1 };
    cpu.idtr = DescTable { base: IDT, limit: 256 * 16 - 1 };
    cpu.seg[CS as usize] = Segment::from_descriptor(KERNEL_CS, GDT_ENTRIES[1]);
    for s in [ES, SS, DS, FS, GS] {
        cpu.seg[s as usize] = Segment::from_descriptor(KERNEL_DS, GDT_ENTRIES[2]);
    }
    cpu.tr = Segment::from_descriptor(TSS_SEL, tss_lo);
    cpu.tr.attr = (cpu.tr.attr & !0xf) | 0xb; // busy
    cpu.gpr[reg::RSP as usize] = STACK_TOP;
    cpu.rip = 0;
    cpu.update_mode();
    cpu.flush_tlb();
    cpu
}

/// A CPU in 32-bit protected mode at CPL 0 with flat 4 GiB segments (CS = [`CODE32`],
/// data segments = [`KERNEL_DS`]), paging off, the GDT and TSS of [`long_mode`], an empty
/// 8-byte-gate IDT at [`IDT`] (so faults triple-fault until a test installs gates),
/// ESP = [`STACK_TOP`] and EIP = 0.
pub fn protected_mode(mem_mb: u64) -> Cpu {
    let mut cpu = long_mode(mem_mb);
    cpu.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
    cpu.cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
    cpu.cr3 = 0;
    cpu.efer = 0;
    cpu.idtr = DescTable { base: IDT, limit: 256 * 8 - 1 };
    cpu.seg[CS as usize] = Segment::from_descriptor(CODE32, GDT_ENTRIES[5]);
    // The 64-bit TSS descriptor's low half reads as a 32-bit TSS (type 9/11) here.
    cpu.update_mode();
    cpu.flush_tlb();
    cpu
}

/// Switches a [`long_mode`] CPU to CPL 3: CS = [`USER_CS`], SS/DS/ES = [`USER_DS`], with
/// the TSS's RSP0 at [`STACK_TOP`] so exceptions switch to the kernel stack.
pub fn enter_user(cpu: &mut Cpu, user_rsp: u64) {
    cpu.mem.write_u64(TSS + 4, STACK_TOP).unwrap();
    cpu.seg[CS as usize] = Segment::from_descriptor(USER_CS, GDT_ENTRIES[3]);
    for s in [ES, SS, DS] {
        cpu.seg[s as usize] = Segment::from_descriptor(USER_DS, GDT_ENTRIES[4]);
    }
    cpu.cpl = 3;
    cpu.gpr[reg::RSP as usize] = user_rsp;
    cpu.update_mode();
}

/// A CPU in real mode with all segments 0 (base 0, 64 KiB limits), IP = 0 and SP = 0x7000.
pub fn real_mode(mem_mb: u64) -> Cpu {
    let mem = PhysMemory::new(mem_mb << 20).expect("test memory");
    let mut cpu = Cpu::new(mem);
    for s in cpu.seg.iter_mut() {
        *s = Segment::real(0, s.attr);
    }
    cpu.gpr[reg::RSP as usize] = 0x7000;
    cpu.rip = 0;
    cpu.update_mode();
    cpu
}

/// Installs a 64-bit interrupt gate for `vector` to `handler` (DPL `dpl`, IST `ist`).
pub fn set_gate(cpu: &mut Cpu, vector: u8, handler: u64, dpl: u8, ist: u8, trap: bool) {
    let ty: u64 = if trap { 0xf } else { 0xe };
    let lo = (handler & 0xffff) | (KERNEL_CS as u64) << 16 | (ist as u64 & 7) << 32 | ty << 40 | (dpl as u64) << 45 | 1 << 47 | ((handler >> 16) & 0xffff) << 48;
    let hi = handler >> 32;
    let at = IDT + vector as u64 * 16;
    cpu.mem.write_u64(at, lo).unwrap();
    cpu.mem.write_u64(at + 8, hi).unwrap();
}

/// Copies `code` to physical `addr` and points RIP at it.
pub fn load(cpu: &mut Cpu, addr: u64, code: &[u8]) {
    cpu.mem.load(addr, code).expect("code fits in memory");
    cpu.invalidate_code(addr, code.len() as u64);
    cpu.rip = addr;
}

/// Runs until HLT (or the budget runs out, or a triple fault).
pub fn run_to_hlt(cpu: &mut Cpu, bus: &mut dyn Bus, budget: u64) -> Exit {
    cpu.run(bus, budget)
}
