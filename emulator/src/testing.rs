//! Ready-made CPU set-ups for tests, benchmarks and fuzzing: a CPU already in 64-bit long
//! mode with identity-mapped memory, so a test can drop code at an address and run it.
//!
//! Memory layout of [`long_mode`] (all below 1 MiB except the code and data areas):
//!
//! | address     | contents                                                        |
//! |-------------|-----------------------------------------------------------------|
//! | `0x0500`    | GDT: null, kernel code 0x08, kernel data 0x10, user code 0x1b,  |
//! |             | user data 0x23, 32-bit code 0x28, TSS 0x30 (16 bytes)           |
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
pub const CODE32: u16 = 0x28;
pub const TSS_SEL: u16 = 0x30;

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

/// Where [`machine_from_bytes`] puts the guest code in protected and long mode.
pub const FUZZ_CODE: u64 = 0x10_0000;
/// Where [`machine_from_bytes`] puts the guest code in real mode (0000:7C00).
pub const FUZZ_CODE_REAL: u64 = 0x7c00;

/// Builds a machine that runs arbitrary bytes as guest code, for property tests and fuzzing.
/// Never panics, whatever `data` holds.
///
/// * `data[0]` picks the set-up: bits 0-2 the mode (0 real mode; 1 32-bit protected mode;
///   2, 3 64-bit mode at CPL 0; 4, 5 64-bit mode at CPL 3; 6 compatibility mode at CPL 0;
///   7 64-bit mode at CPL 0 with the code also mapped as the exception handlers), bit 3
///   scribbles pseudo-random bytes (derived from `data`) over the descriptor tables, the IDT
///   and, in long mode, every page-table entry except those mapping the first 2 MiB, bit 4
///   installs IDT gates (64-bit modes) whose handlers point into the code, bit 5 picks PAE
///   over 32-bit paging when mode 1 scribbles its page tables (paging is off otherwise).
/// * The next 64 bytes seed RAX..R15 and RFLAGS (4 bytes each; see `seed_reg`).
/// * The rest is the code, loaded at [`FUZZ_CODE`] ([`FUZZ_CODE_REAL`] in real mode) and
///   repeated to fill 64 KiB, so that jumps land in more of it.
pub fn machine_from_bytes(data: &[u8]) -> Cpu {
    let sel = data.first().copied().unwrap_or(0);
    let rest = data.get(1..).unwrap_or(&[]);
    let (seeds, code) = rest.split_at(rest.len().min(64));
    let mode = sel & 7;
    let mut cpu = match mode {
        0 => real_mode(2),
        1 => protected_mode(2),
        _ => long_mode(2),
    };
    let at = if mode == 0 { FUZZ_CODE_REAL } else { FUZZ_CODE };
    if !code.is_empty() {
        let mut fill = Vec::with_capacity(0x10000);
        while fill.len() < 0x10000 {
            let n = code.len().min(0x10000 - fill.len());
            fill.extend_from_slice(&code[..n]);
        }
        // Real mode: stay inside the 64 KiB segment and clear of the IVT/BIOS data.
        let len = if mode == 0 { 0x8000 } else { fill.len() };
        let _ = cpu.mem.load(at, &fill[..len]);
    }
    cpu.rip = at;
    // A small deterministic generator for the table bytes.
    let mut x = data.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    if sel & 0x10 != 0 && mode >= 2 {
        for v in 0..=255u8 {
            let target = at + (next() & 0xffff);
            // Mostly the current stack; sometimes an IST slot (the TSS holds zeros there).
            let ist = if next() & 3 == 0 { (next() & 7) as u8 } else { 0 };
            set_gate(&mut cpu, v, target, 3, ist, next() & 1 == 0);
        }
    }
    if mode == 7 {
        for v in 0..32u8 {
            set_gate(&mut cpu, v, at + v as u64 * 16, 0, 0, false);
        }
    }
    if sel & 0x08 != 0 {
        let mut scribble = |cpu: &mut Cpu, from: u64, len: u64| {
            for a in (from..from + len).step_by(8) {
                let _ = cpu.mem.write_u64(a, next());
            }
        };
        scribble(&mut cpu, GDT + 8, 0x40);
        if mode == 0 {
            scribble(&mut cpu, 0, 0x400); // the IVT
        } else if mode == 1 {
            scribble(&mut cpu, IDT, 256 * 8);
            // Paging on: the first 2/4 MiB identity mapped by a large page, every other entry
            // random (bit 5 of the selector picks PAE over 32-bit paging).
            if sel & 0x20 == 0 {
                scribble(&mut cpu, 0x4000, 0x1000);
                let _ = cpu.mem.write_u32(0x4000, 0x87);
                cpu.cr4 |= CR4_PSE;
            } else {
                scribble(&mut cpu, 0x4000, 0x20);
                scribble(&mut cpu, 0x5000, 0x1000);
                let _ = cpu.mem.write_u64(0x4000, 0x5001);
                let _ = cpu.mem.write_u64(0x5000, 0x87);
                cpu.cr4 |= CR4_PAE;
            }
            cpu.cr3 = 0x4000;
            cpu.cr0 |= CR0_PG | CR0_WP;
        } else {
            scribble(&mut cpu, IDT, 256 * 16);
            scribble(&mut cpu, PML4 + 8, 0xff8);
            scribble(&mut cpu, 0x2000 + 8, 0xff8);
            scribble(&mut cpu, 0x3000 + 8, 0xff8);
        }
        scribble(&mut cpu, TSS, 0x68);
    }
    match mode {
        4 | 5 => enter_user(&mut cpu, STACK_TOP - 0x1_0000),
        6 => {
            cpu.seg[CS as usize] = Segment::from_descriptor(CODE32, GDT_ENTRIES[5]);
            cpu.update_mode();
        }
        _ => {}
    }
    for (i, s) in seeds.chunks(4).enumerate() {
        let mut b = [0u8; 4];
        b[..s.len()].copy_from_slice(s);
        let v = seed_reg(u32::from_le_bytes(b), at);
        if i < 16 {
            if i == reg::RSP as usize && b[0] & 0xc0 != 0xc0 {
                continue; // keep a usable stack most of the time
            }
            cpu.gpr[i] = v;
        } else {
            // Arithmetic flags and DF only: IF/TF/IOPL changes belong to the guest.
            let f = crate::cpu::flags::ARITH | crate::cpu::flags::DF;
            cpu.flags.set((cpu.flags.get() & !f) | (v & f));
        }
    }
    if mode == 0 {
        for r in cpu.gpr[..16].iter_mut() {
            *r &= 0xffff_ffff;
        }
    }
    cpu.flush_tlb();
    cpu
}

/// A register value from 4 seed bytes: the top two bits pick a small number, an address
/// near the code, a sign-extended 32-bit value, or a 64-bit pattern.
fn seed_reg(s: u32, code: u64) -> u64 {
    let low = (s & 0x3fff_ffff) as u64;
    match s >> 30 {
        0 => low & 0xffff,
        1 => code + (low & 0xf_ffff),
        2 => s as i32 as i64 as u64,
        _ => low << 34 | low,
    }
}
