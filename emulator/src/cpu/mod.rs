//! The x86-64 CPU: architectural state, the run loop, and instruction semantics.
//!
//! How an instruction flows (see also the crate docs):
//! 1. [`Cpu::run`] translates CS:RIP through the TLB to a physical address and looks up the
//!    decoded [`decode::Block`] starting there (`decode.rs`). A miss decodes a basic block with
//!    iced-x86 and converts each instruction once into an [`decode::Op`]: its handler is chosen
//!    by the instruction's family builder (`exec/*.rs`) for the exact operand form and size.
//! 2. The loop calls each op's handler in turn. Handlers read and write operands through the
//!    shared operand layer (`operand.rs`) and memory through the TLB fast path (`access.rs`),
//!    and return `Result<(), Exception>`.
//! 3. An exception ends the block; `interrupt.rs` delivers it (IDT, privilege change, double
//!    and triple fault). Between blocks the loop samples the interrupt line.

pub mod access;
pub mod debug;
pub mod decode;
pub mod exception;
pub mod exec;
pub mod flags;
pub mod interrupt;
pub mod operand;
pub mod run;
pub mod segment;
pub mod spin;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::memory::PhysMemory;
use crate::mmu::tlb::Tlb;
use crate::mmu::{self, PagingControl};
use decode::CodeCache;
pub use exception::Exception;
pub use flags::Flags;
pub use run::Exit;
pub use segment::{DescTable, Segment};
use segment::*;

/// General-purpose register numbers.
pub mod reg {
    pub const RAX: u8 = 0;
    pub const RCX: u8 = 1;
    pub const RDX: u8 = 2;
    pub const RBX: u8 = 3;
    pub const RSP: u8 = 4;
    pub const RBP: u8 = 5;
    pub const RSI: u8 = 6;
    pub const RDI: u8 = 7;
    pub const R8: u8 = 8;
    pub const R9: u8 = 9;
    pub const R10: u8 = 10;
    pub const R11: u8 = 11;
    pub const R12: u8 = 12;
    pub const R13: u8 = 13;
    pub const R14: u8 = 14;
    pub const R15: u8 = 15;
    /// A register slot that always reads zero (an absent base or index).
    pub const ZERO: u8 = 16;
    /// A register slot holding the address of the next instruction (RIP-relative addressing).
    pub const NEXT_RIP: u8 = 17;
    pub const NAMES: [&str; 16] = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
}

/// Model-specific registers the CPU implements (see `exec/system.rs` for the numbers).
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Msrs {
    pub star: u64,
    pub lstar: u64,
    pub cstar: u64,
    pub sfmask: u64,
    pub kernel_gs_base: u64,
    pub tsc_offset: u64,
    pub apic_base: u64,
    pub sysenter_cs: u64,
    pub sysenter_esp: u64,
    pub sysenter_eip: u64,
    pub pat: u64,
    pub tsc_aux: u64,
    pub misc_enable: u64,
}

/// SSE state: XMM0-15 and MXCSR.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct SseState {
    pub xmm: [u128; 16],
    pub mxcsr: u32,
}

impl Default for SseState {
    fn default() -> Self {
        Self { xmm: [0; 16], mxcsr: 0x1f80 }
    }
}

/// x87 state, kept as fxsave stores it (only control/status words are interpreted).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct FpuState {
    pub fcw: u16,
    pub fsw: u16,
    /// Abridged tag word (one bit per register, 1 = valid), as in the fxsave image.
    pub ftw: u8,
    pub fop: u16,
    pub fip: u64,
    pub fdp: u64,
    /// ST0-ST7 / MM0-7 as 80-bit values in the low 10 bytes.
    pub st: [u128; 8],
}

impl Default for FpuState {
    fn default() -> Self {
        Self { fcw: 0x40, fsw: 0, ftw: 0, fop: 0, fip: 0, fdp: 0, st: [0; 8] }
    }
}

/// What the run has seen that users should know about.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Valid instructions the emulator does not implement (each raised #UD), by iced `Code`.
    pub unimplemented: BTreeMap<String, u64>,
    /// Exceptions delivered, by vector.
    pub exceptions: BTreeMap<u8, u64>,
    /// External interrupts delivered.
    pub interrupts: u64,
    /// Basic blocks decoded.
    pub blocks_decoded: u64,
    /// Decoded pages invalidated by writes.
    pub code_invalidations: u64,
    /// Instructions accounted for by skipping iterations of recognised loops ([`spin`]).
    pub spin_skipped: u64,
}

/// The processor: registers, control state, TLB and decode cache, plus guest memory.
///
/// The CPU owns guest physical memory because nearly every instruction touches it; devices
/// and firmware reach it through [`Cpu::mem`] between runs.
pub struct Cpu {
    /// RAX..R15, then the pseudo-registers [`reg::ZERO`] and [`reg::NEXT_RIP`]; the rest is
    /// padding so that any 5-bit register number indexes it without a bounds check.
    pub gpr: [u64; 32],
    /// Address of the current instruction (offset in CS).
    pub rip: u64,
    pub flags: Flags,
    /// ES, CS, SS, DS, FS, GS (in encoding order).
    pub seg: [Segment; 6],
    pub ldtr: Segment,
    pub tr: Segment,
    pub gdtr: DescTable,
    pub idtr: DescTable,
    pub cr0: u64,
    pub cr2: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub cr8: u64,
    pub dr: [u64; 8],
    pub efer: u64,
    pub msr: Msrs,
    pub sse: SseState,
    pub fpu: FpuState,
    /// Instructions retired since reset.
    pub icount: u64,
    /// Exceptions and interrupts delivered outside an instruction that retired (each is
    /// one step of the run, see [`Cpu::steps`]).
    pub deliveries: u64,
    /// Clock ticks that passed while the CPU was halted (the machine skips HLT time
    /// forward); see [`Cpu::now`].
    pub idle: u64,
    /// Stopped by HLT until an interrupt arrives.
    pub halted: bool,
    /// Set when a triple fault shut the processor down; carries a description.
    pub shutdown: Option<String>,
    pub stats: Stats,
    /// Skip busy-wait loop iterations arithmetically ([`spin`]); on by default. The result
    /// is identical either way; turning it off only makes such loops slower.
    pub spin_skip: bool,
    /// Guest physical memory.
    pub mem: PhysMemory,
    /// Breakpoints and watchpoints ([`debug`]).
    pub debug: debug::Debug,

    // ---- derived state, recomputed by `update_mode` / `update_segment_cache` ----
    /// Current privilege level.
    pub(crate) cpl: u8,
    /// Code size used for decoding: 16, 32 or 64.
    pub(crate) bits: u8,
    /// In 64-bit mode (EFER.LMA and CS.L).
    pub(crate) long64: bool,
    /// Segment bases as used for address calculation (0 for ES/CS/SS/DS in 64-bit mode).
    /// Two spare zero slots let `seg & 7` index it without a bounds check.
    pub(crate) seg_base: [u64; 8],
    /// IP wrap mask for sequential execution (0xffff in 16-bit code).
    pub(crate) ip_mask: u64,

    // ---- execution bookkeeping ----
    /// Interrupts are inhibited for one instruction (after STI, MOV SS, POP SS).
    pub(crate) shadow: bool,
    /// A handler asks the loop to leave the current block (mode change, I/O, SMC).
    pub(crate) end_block: bool,
    /// The bus asked the run to return after the current instruction.
    pub(crate) stop: bool,
    /// Cached INTR line level, re-sampled after port I/O.
    pub(crate) intr: bool,
    /// Cached A20 gate.
    pub(crate) a20: bool,
    pub(crate) tlb: Tlb,
    pub(crate) code: CodeCache,
}

impl Cpu {
    /// A CPU in its power-on state (real mode, CS:IP = F000:FFF0) with `mem` as its memory.
    pub fn new(mem: PhysMemory) -> Self {
        let mut cpu = Cpu {
            gpr: [0; 32],
            rip: 0,
            flags: Flags::default(),
            seg: [Segment::default(); 6],
            ldtr: Segment::default(),
            tr: Segment::default(),
            gdtr: DescTable::default(),
            idtr: DescTable::default(),
            cr0: 0,
            cr2: 0,
            cr3: 0,
            cr4: 0,
            cr8: 0,
            dr: [0; 8],
            efer: 0,
            msr: Msrs::default(),
            sse: SseState::default(),
            fpu: FpuState::default(),
            icount: 0,
            deliveries: 0,
            idle: 0,
            halted: false,
            shutdown: None,
            stats: Stats::default(),
            spin_skip: true,
            code: CodeCache::new(mem.size()),
            mem,
            debug: debug::Debug::default(),
            cpl: 0,
            bits: 16,
            long64: false,
            seg_base: [0; 8],
            ip_mask: 0xffff,
            shadow: false,
            end_block: false,
            stop: false,
            intr: false,
            a20: true,
            tlb: Tlb::new(),
        };
        cpu.reset();
        cpu
    }

    /// Architectural reset (SDM vol. 3, table 9-1). Memory is left alone.
    pub fn reset(&mut self) {
        self.gpr = [0; 32];
        self.gpr[reg::RDX as usize] = 0x663; // family 6 model 6 stepping 3, as qemu64
        self.flags = Flags::default();
        let data = ATTR_P | ATTR_S | ATTR_RW | ATTR_ACCESSED;
        for s in self.seg.iter_mut() {
            *s = Segment { selector: 0, base: 0, limit: 0xffff, attr: data };
        }
        self.seg[CS as usize] = Segment { selector: 0xf000, base: 0xffff_0000, limit: 0xffff, attr: ATTR_P | ATTR_S | ATTR_CODE | ATTR_RW | ATTR_ACCESSED };
        self.rip = 0xfff0;
        self.ldtr = Segment { selector: 0, base: 0, limit: 0xffff, attr: ATTR_P | 2 };
        self.tr = Segment { selector: 0, base: 0, limit: 0xffff, attr: ATTR_P | 11 };
        self.gdtr = DescTable { base: 0, limit: 0xffff };
        self.idtr = DescTable { base: 0, limit: 0x3ff };
        self.cr0 = mmu::CR0_ET | mmu::CR0_CD | mmu::CR0_NW;
        self.cr2 = 0;
        self.cr3 = 0;
        self.cr4 = 0;
        self.cr8 = 0;
        self.dr = [0, 0, 0, 0, 0, 0, 0xffff_0ff0, 0x400];
        self.efer = 0;
        self.msr = Msrs { apic_base: 0xfee0_0900, pat: 0x0007_0406_0007_0406, ..Msrs::default() };
        self.sse = SseState::default();
        self.fpu = FpuState::default();
        self.halted = false;
        self.shutdown = None;
        self.shadow = false;
        self.end_block = false;
        self.tlb.flush_all();
        self.update_mode();
    }

    /// Virtual time in clock ticks: instructions retired plus ticks skipped while halted.
    /// The TSC and every device's notion of time derive from it.
    #[inline]
    pub fn now(&self) -> u64 {
        self.icount + self.idle
    }

    /// CR0.PE is set.
    #[inline]
    pub fn protected(&self) -> bool {
        self.cr0 & mmu::CR0_PE != 0
    }

    /// EFER.LMA is set (long mode active: 64-bit or compatibility mode).
    #[inline]
    pub fn long_mode(&self) -> bool {
        self.efer & mmu::EFER_LMA != 0
    }

    /// In 64-bit mode.
    #[inline]
    pub fn is_64bit(&self) -> bool {
        self.long64
    }

    /// Steps of the run so far: instructions retired plus exceptions and interrupts
    /// delivered on their own. Every unit of a [`Cpu::run`] budget is one step, so a
    /// position in a run is a step count: stepping once from step `n` always reaches
    /// step `n + 1` (instruction counts alone repeat while a fault is delivered).
    #[inline]
    pub fn steps(&self) -> u64 {
        self.icount + self.deliveries
    }

    /// The pages written since the last call, and starts a new epoch: the fast write path
    /// closes on every page until its next write is seen (snapshots copy only these).
    pub fn take_dirty_pages(&mut self) -> Vec<u64> {
        self.tlb.revoke_writes();
        self.mem.take_dirty()
    }

    /// Current privilege level.
    #[inline]
    pub fn cpl(&self) -> u8 {
        self.cpl
    }

    /// Code size (16, 32 or 64) the decoder uses at CS:RIP.
    #[inline]
    pub fn code_bits(&self) -> u8 {
        self.bits
    }

    /// Recomputes the mode-derived fields after CR0, EFER, CS or RFLAGS.VM changed.
    pub fn update_mode(&mut self) {
        let cs = self.seg[CS as usize];
        self.long64 = self.long_mode() && cs.attr & ATTR_L != 0;
        self.bits = if self.long64 {
            64
        } else if self.protected() && cs.attr & ATTR_DB != 0 {
            32
        } else {
            16
        };
        self.ip_mask = match self.bits {
            16 => 0xffff,
            32 => 0xffff_ffff,
            _ => u64::MAX,
        };
        if !self.protected() {
            self.cpl = 0;
        }
        self.update_segment_cache();
    }

    /// Recomputes effective segment bases after a segment register changed.
    pub(crate) fn update_segment_cache(&mut self) {
        // CS, CPL or the mode may have changed: blocks found by RIP alone are suspect.
        self.code.bump();
        for i in 0..6 {
            self.seg_base[i] = if self.long64 && i < FS as usize { 0 } else { self.seg[i].base };
        }
    }

    /// The control registers that drive translation.
    #[inline]
    pub(crate) fn paging_control(&self) -> PagingControl {
        PagingControl { cr0: self.cr0, cr3: self.cr3, cr4: self.cr4, efer: self.efer, a20: self.a20 }
    }

    /// Drops cached translations and decoded code for a physical range written behind the
    /// CPU's back (firmware, a loader, a debugger).
    pub fn invalidate_code(&mut self, pa: u64, len: u64) {
        if len == 0 {
            return;
        }
        let first = pa >> 12;
        let last = (pa + len - 1) >> 12;
        for page in first..=last {
            self.invalidate_code_page(page << 12);
        }
    }

    /// Flushes the whole TLB (for tests and debuggers that rewrite page tables).
    pub fn flush_tlb(&mut self) {
        self.tlb.flush_all();
    }

    /// A register dump for triple faults and crash reports.
    pub fn dump(&self) -> String {
        let mut s = String::new();
        for (i, name) in reg::NAMES.iter().enumerate() {
            let _ = write!(s, "{:>3}={:016x}{}", name, self.gpr[i], if i % 4 == 3 { "\n" } else { " " });
        }
        let f = self.flags.get();
        let _ = writeln!(s, "rip={:016x} rflags={:016x} cpl={} mode={}-bit icount={}", self.rip, f, self.cpl, self.bits, self.icount);
        for (i, n) in ["es", "cs", "ss", "ds", "fs", "gs"].iter().enumerate() {
            let g = &self.seg[i];
            let _ = writeln!(s, " {}={:04x} base={:016x} limit={:08x} attr={:04x}", n, g.selector, g.base, g.limit, g.attr);
        }
        let _ = writeln!(s, "gdtr={:016x}/{:04x} idtr={:016x}/{:04x} tr={:04x} ldtr={:04x}", self.gdtr.base, self.gdtr.limit, self.idtr.base, self.idtr.limit, self.tr.selector, self.ldtr.selector);
        let _ = writeln!(s, "cr0={:08x} cr2={:016x} cr3={:016x} cr4={:08x} efer={:04x}", self.cr0, self.cr2, self.cr3, self.cr4, self.efer);
        s
    }
}
