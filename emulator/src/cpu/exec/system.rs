//! System instructions: flag control, hlt, port I/O, segment-register loads, control and
//! debug registers, descriptor tables and the task register, pushf/popf, and TLB/cache
//! control. MSRs, cpuid and rdtsc live in `msr.rs`; far transfers, int/iret and
//! syscall/sysret in `far.rs`.

use iced_x86::{Instruction, Mnemonic, OpKind};

use super::{form, Form, Table};
use crate::bus::{Bus, CpuEvent};
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::flags::{AC, ARITH, CF, DF, ID, IF, IOPL, NT, RF, TF, VM, ZF};
use crate::cpu::operand::{Mem, Src};
use crate::cpu::segment::*;
use crate::cpu::{reg, Cpu, DescTable};
use crate::mmu;
use crate::sized_wide;

impl Cpu {
    /// Whether the current privilege may use I/O instructions and CLI/STI without the TSS
    /// I/O bitmap (CPL <= IOPL, or real mode).
    #[inline]
    pub(crate) fn io_privileged(&self) -> bool {
        !self.protected() || self.cpl <= self.flags.iopl()
    }
}

fn hlt(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.cpl != 0 {
        return Err(Exception::gp(0));
    }
    cpu.halted = true;
    cpu.end_block = true;
    Ok(())
}

fn cli(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if !cpu.io_privileged() {
        return Err(Exception::gp(0));
    }
    cpu.flags.set_bit(IF, false);
    Ok(())
}

fn sti(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if !cpu.io_privileged() {
        return Err(Exception::gp(0));
    }
    if !cpu.flags.iff() {
        // Interrupts stay blocked until the instruction after STI completes.
        cpu.shadow = true;
    }
    cpu.flags.set_bit(IF, true);
    cpu.end_block = true;
    Ok(())
}

fn flag_op<const BIT: u64, const K: u8>(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    match K {
        0 => cpu.flags.set_bit(BIT, false),
        1 => cpu.flags.set_bit(BIT, true),
        _ => {
            let v = cpu.flags.get() & BIT == 0;
            cpu.flags.set_bit(BIT, v)
        }
    }
    Ok(())
}

/// Checks the TSS I/O permission bitmap for `size` bytes at `port` when CPL > IOPL.
pub(crate) fn check_io(cpu: &mut Cpu, bus: &mut dyn Bus, port: u16, size: u8) -> Result<(), Exception> {
    if cpu.io_privileged() {
        return Ok(());
    }
    // 32/64-bit TSS only: the bitmap offset is at 0x66.
    let tss_ok = cpu.tr.sys_type() & 8 != 0 && cpu.tr.limit >= 0x67;
    if !tss_ok {
        return Err(Exception::gp(0));
    }
    let base = cpu.read_sys::<2>(bus, cpu.tr.base.wrapping_add(0x66))?;
    let byte = base + (port as u64 >> 3);
    if byte + 1 > cpu.tr.limit as u64 {
        return Err(Exception::gp(0));
    }
    let bits = cpu.read_sys::<2>(bus, cpu.tr.base.wrapping_add(byte))?;
    let m = ((1u64 << size) - 1) << (port & 7);
    if bits & m != 0 {
        return Err(Exception::gp(0));
    }
    Ok(())
}

/// `in al/ax/eax, imm8|dx`. `DX` selects the port source.
fn in_<const S: usize, const DX: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let port = if DX { cpu.gpr[reg::RDX as usize] as u16 } else { op.imm as u16 };
    check_io(cpu, bus, port, S as u8)?;
    let v = bus.port_read(cpu.now(), port, S as u8) as u64;
    cpu.set_reg::<S>(reg::RAX, v);
    cpu.after_port_read(bus);
    Ok(())
}

/// `out imm8|dx, al/ax/eax`.
fn out<const S: usize, const DX: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let port = if DX { cpu.gpr[reg::RDX as usize] as u16 } else { op.imm as u16 };
    check_io(cpu, bus, port, S as u8)?;
    let v = cpu.reg::<S>(reg::RAX);
    bus.cpu_event(cpu.icount, &crate::bus::CpuEvent::PortOut { port, size: S as u8, value: v as u32 }, &cpu.mem);
    bus.port_write(cpu.now(), port, S as u8, v as u32);
    cpu.after_port_io(bus);
    Ok(())
}

fn build_in(ins: &Instruction, _op: &mut Op) -> Option<Handler> {
    // `in` does not end the decoded block: it ends the run of the block only when the
    // read changed something (`after_port_read`), so a polling loop is one block.
    let size = ins.op0_register().size();
    let dx = super::form(ins, 1) != Form::Imm;
    match (size, dx) {
        (1, false) => Some(in_::<1, false>),
        (2, false) => Some(in_::<2, false>),
        (4, false) => Some(in_::<4, false>),
        (1, true) => Some(in_::<1, true>),
        (2, true) => Some(in_::<2, true>),
        (4, true) => Some(in_::<4, true>),
        _ => None,
    }
}

fn build_out(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    op.stop = true;
    let size = ins.op1_register().size();
    let dx = super::form(ins, 0) != Form::Imm;
    match (size, dx) {
        (1, false) => Some(out::<1, false>),
        (2, false) => Some(out::<2, false>),
        (4, false) => Some(out::<4, false>),
        (1, true) => Some(out::<1, true>),
        (2, true) => Some(out::<2, true>),
        (4, true) => Some(out::<4, true>),
        _ => None,
    }
}

// ----- segment registers ---------------------------------------------------------------

/// `mov sreg, r16/m16`. Loading SS inhibits interrupts for one instruction so that a
/// following `mov esp, ...` completes the stack switch atomically.
fn mov_to_sreg<const MEM: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let seg = op.r[0];
    if seg == CS || seg > GS {
        return Err(Exception::ud());
    }
    let sel = if MEM { Mem::get::<2>(cpu, bus, op)? } else { cpu.reg::<2>(op.r[1]) } as u16;
    cpu.load_segment(bus, seg, sel)?;
    if seg == SS {
        cpu.shadow = true;
        cpu.end_block = true;
    }
    Ok(())
}

/// `mov r/m, sreg`: a register destination takes the operand size (zero-extended, as
/// current processors do); memory always receives 16 bits.
fn mov_from_sreg<const MEM: bool, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = cpu.seg[op.r[1] as usize].selector as u64;
    if MEM {
        let lin = cpu.mem_lin::<2>(op, true)?;
        cpu.write_lin::<2>(bus, lin, v)
    } else {
        cpu.set_reg::<S>(op.r[0], v);
        Ok(())
    }
}

/// `mov sreg, r/m` and `mov r/m, sreg`.
pub(crate) fn build_mov_sreg(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if ins.op0_kind() == OpKind::Register && ins.op0_register().is_segment_register() {
        // A segment load can change SS (interrupt shadow) or the stack size: end the block.
        op.stop = true;
        return match form(ins, 1) {
            Form::Reg => Some(mov_to_sreg::<false>),
            Form::Mem => Some(mov_to_sreg::<true>),
            _ => None,
        };
    }
    match form(ins, 0) {
        Form::Mem => Some(mov_from_sreg::<true, 2>),
        Form::Reg => sized_wide!(ins.op0_register().size(), mov_from_sreg::<false>),
        _ => None,
    }
}

/// `lss`/`lds`/`les`/`lfs`/`lgs r, m16:16/32/64`: offset first, selector after it.
fn load_far_ptr<const SEG: u8, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let off = cpu.ea(&op.mem);
    let lin = cpu.linear(op.mem.seg, off, S + 2, false)?;
    let v = cpu.read_lin::<S>(bus, lin)?;
    let sel_lin = cpu.linear(op.mem.seg, off.wrapping_add(S as u64) & op.mem.amask, 2, false)?;
    let sel = cpu.read_lin::<2>(bus, sel_lin)? as u16;
    cpu.load_segment(bus, SEG, sel)?;
    cpu.set_reg::<S>(op.r[0], v);
    if SEG == SS {
        cpu.end_block = true;
    }
    Ok(())
}

fn build_load_far_ptr<const SEG: u8>(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if form(ins, 1) != Form::Mem {
        return None;
    }
    op.stop = SEG == SS;
    sized_wide!(ins.op0_register().size(), load_far_ptr::<SEG>)
}

// ----- control and debug registers -----------------------------------------------------

/// CR0 bits software can set (the rest of bits 31:0 are reserved and ignored on write).
const CR0_WRITABLE: u64 = mmu::CR0_PE | mmu::CR0_MP | mmu::CR0_EM | mmu::CR0_TS | mmu::CR0_NE | mmu::CR0_WP | mmu::CR0_AM | mmu::CR0_NW | mmu::CR0_CD | mmu::CR0_PG;
/// CR4 bits this CPU implements (VME through OSXMMEXCPT); setting others raises #GP.
const CR4_SUPPORTED: u64 = 0x7ff;
/// EFER bits software can write (LMA is maintained by the processor).
const EFER_WRITABLE: u64 = mmu::EFER_SCE | mmu::EFER_LME | mmu::EFER_NXE;

impl Cpu {
    /// Flushes the TLB for a CR3 load: global entries survive when CR4.PGE is set.
    fn flush_for_cr3(&mut self) {
        if self.cr4 & mmu::CR4_PGE != 0 {
            self.tlb.flush_non_global();
        } else {
            self.tlb.flush_all();
        }
    }

    /// `mov cr0, r` with the SDM's consistency checks, including long-mode activation
    /// (CR0.PG set while EFER.LME = 1) and deactivation.
    pub(crate) fn write_cr0(&mut self, v: u64) -> Result<(), Exception> {
        if v >> 32 != 0 {
            return Err(Exception::gp(0));
        }
        let new = (v & CR0_WRITABLE) | mmu::CR0_ET;
        let pg = new & mmu::CR0_PG != 0;
        if (pg && new & mmu::CR0_PE == 0) || (new & mmu::CR0_NW != 0 && new & mmu::CR0_CD == 0) {
            return Err(Exception::gp(0));
        }
        let was_pg = self.cr0 & mmu::CR0_PG != 0;
        let mut efer = self.efer;
        if pg && !was_pg && self.efer & mmu::EFER_LME != 0 {
            // Activating IA-32e mode needs PAE and must not happen from code marked 64-bit.
            if self.cr4 & mmu::CR4_PAE == 0 || self.seg[CS as usize].attr & ATTR_L != 0 {
                return Err(Exception::gp(0));
            }
            efer |= mmu::EFER_LMA;
        }
        if !pg && was_pg && self.long_mode() {
            // Leaving long mode is only allowed from compatibility mode.
            if self.long64 {
                return Err(Exception::gp(0));
            }
            efer &= !mmu::EFER_LMA;
        }
        if new & mmu::CR0_PE == 0 && self.long_mode() && efer & mmu::EFER_LMA != 0 {
            return Err(Exception::gp(0));
        }
        let changed = self.cr0 ^ new;
        self.cr0 = new;
        self.efer = efer;
        if changed & (mmu::CR0_PG | mmu::CR0_WP | mmu::CR0_PE) != 0 {
            self.tlb.flush_all();
        }
        self.update_mode();
        self.end_block = true;
        Ok(())
    }

    /// `mov cr3, r`: new page-table root; reports the load to the bus observer.
    pub(crate) fn write_cr3(&mut self, bus: &mut dyn Bus, v: u64) -> Result<(), Exception> {
        if self.long_mode() && v >> mmu::MAXPHYADDR != 0 {
            return Err(Exception::gp(0));
        }
        self.cr3 = if self.long_mode() { v } else { v & 0xffff_ffff };
        self.flush_for_cr3();
        self.end_block = true;
        bus.cpu_event(self.icount, &CpuEvent::Cr3Load { value: self.cr3 }, &self.mem);
        Ok(())
    }

    /// `mov cr4, r`: reserved bits fault; PAE cannot be cleared in long mode.
    pub(crate) fn write_cr4(&mut self, v: u64) -> Result<(), Exception> {
        if v & !CR4_SUPPORTED != 0 || (self.long_mode() && v & mmu::CR4_PAE == 0) {
            return Err(Exception::gp(0));
        }
        let changed = self.cr4 ^ v;
        self.cr4 = v;
        if changed & (mmu::CR4_PGE | mmu::CR4_PAE | mmu::CR4_PSE) != 0 {
            self.tlb.flush_all();
        }
        self.end_block = true;
        Ok(())
    }

    /// `wrmsr` to EFER: LME cannot change while paging is on; LMA is read-only.
    pub(crate) fn write_efer(&mut self, v: u64) -> Result<(), Exception> {
        if v & !(EFER_WRITABLE | mmu::EFER_LMA) != 0 {
            return Err(Exception::gp(0));
        }
        if self.cr0 & mmu::CR0_PG != 0 && (v ^ self.efer) & mmu::EFER_LME != 0 {
            return Err(Exception::gp(0));
        }
        let new = (v & EFER_WRITABLE) | (self.efer & mmu::EFER_LMA);
        if (new ^ self.efer) & mmu::EFER_NXE != 0 {
            // Cached translations carry the NX permission computed under the old setting.
            self.tlb.flush_all();
        }
        self.efer = new;
        self.update_mode();
        self.end_block = true;
        Ok(())
    }
}

/// Control register reads and writes need CPL 0; CR1, CR5-7 and CR9-15 do not exist.
fn cr_check(cpu: &Cpu, n: u8) -> Result<(), Exception> {
    if !matches!(n, 0 | 2 | 3 | 4) && !(n == 8 && cpu.long64) {
        return Err(Exception::ud());
    }
    if cpu.cpl != 0 {
        return Err(Exception::gp(0));
    }
    Ok(())
}

/// `mov r, crN`. `S` is the operand size (8 in 64-bit mode, otherwise 4).
fn mov_from_cr<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let n = op.r[1];
    cr_check(cpu, n)?;
    let v = match n {
        0 => cpu.cr0,
        2 => cpu.cr2,
        3 => cpu.cr3,
        4 => cpu.cr4,
        _ => cpu.cr8,
    };
    cpu.set_reg::<S>(op.r[0], v);
    Ok(())
}

/// `mov crN, r`.
fn mov_to_cr<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let n = op.r[0];
    cr_check(cpu, n)?;
    let v = cpu.reg::<S>(op.r[1]);
    match n {
        0 => cpu.write_cr0(v),
        2 => {
            cpu.cr2 = v;
            Ok(())
        }
        3 => cpu.write_cr3(bus, v),
        4 => cpu.write_cr4(v),
        _ => {
            // CR8 is the task-priority register; bits 63:4 are reserved.
            if v >> 4 != 0 {
                return Err(Exception::gp(0));
            }
            cpu.cr8 = v;
            Ok(())
        }
    }
}

/// DR4/DR5 alias DR6/DR7 unless CR4.DE makes them undefined.
fn dr_index(cpu: &Cpu, n: u8) -> Result<usize, Exception> {
    let n = match n {
        4 | 5 if cpu.cr4 & mmu::CR4_DE != 0 => return Err(Exception::ud()),
        4 | 5 => n + 2,
        0..=7 => n,
        _ => return Err(Exception::ud()),
    };
    if cpu.cpl != 0 {
        return Err(Exception::gp(0));
    }
    Ok(n as usize)
}

fn mov_from_dr<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let n = dr_index(cpu, op.r[1])?;
    let v = cpu.dr[n];
    cpu.set_reg::<S>(op.r[0], v);
    Ok(())
}

/// `mov drN, r`. Breakpoints are stored, not armed: the emulator has no debug traps yet.
fn mov_to_dr<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let n = dr_index(cpu, op.r[0])?;
    let v = cpu.reg::<S>(op.r[1]);
    cpu.dr[n] = match n {
        6 | 7 if v >> 32 != 0 => return Err(Exception::gp(0)),
        // DR6: reserved bits read as ones; DR7: bit 10 reads as one.
        6 => (v & 0xe00f) | 0xffff_0ff0,
        7 => (v & !0xd800) | 0x400,
        _ => v,
    };
    Ok(())
}

/// `mov cr, r` / `mov r, cr` / `mov dr, r` / `mov r, dr`.
pub(crate) fn build_mov_crdr(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    let to = ins.op0_register().is_cr() || ins.op0_register().is_dr();
    let (special, gpr) = if to { (ins.op0_register(), ins.op1_register()) } else { (ins.op1_register(), ins.op0_register()) };
    let size = gpr.size();
    if to {
        // Paging, mode and TLB state may change: the next instruction needs a fresh fetch.
        op.stop = true;
    }
    match (special.is_cr(), to) {
        (true, true) => sized_wide!(size, mov_to_cr),
        (true, false) => sized_wide!(size, mov_from_cr),
        (false, true) => sized_wide!(size, mov_to_dr),
        (false, false) => sized_wide!(size, mov_from_dr),
    }
}

// ----- descriptor tables and the task register ----------------------------------------

fn require_cpl0(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.cpl != 0 {
        Err(Exception::gp(0))
    } else {
        Ok(())
    }
}

/// `lgdt`/`lidt m16&32/64`. `W` is the base width: 3 bytes (16-bit operand size), 4, or 8
/// (64-bit mode). `IDT` picks the table.
fn load_table<const IDT: bool, const W: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let off = cpu.ea(&op.mem);
    let lin = cpu.linear(op.mem.seg, off, 2, false)?;
    let limit = cpu.read_lin::<2>(bus, lin)? as u16;
    let blin = cpu.linear(op.mem.seg, off.wrapping_add(2) & op.mem.amask, if W == 8 { 8 } else { 4 }, false)?;
    let base = match W {
        8 => cpu.read_lin::<8>(bus, blin)?,
        4 => cpu.read_lin::<4>(bus, blin)?,
        _ => cpu.read_lin::<4>(bus, blin)? & 0xff_ffff,
    };
    if W == 8 && ((base as i64) << 16 >> 16) as u64 != base {
        return Err(Exception::gp(0));
    }
    let t = DescTable { base, limit };
    if IDT {
        cpu.idtr = t;
    } else {
        cpu.gdtr = t;
    }
    Ok(())
}

/// `sgdt`/`sidt m`: limit, then a 4-byte base (8 in 64-bit mode).
fn store_table<const IDT: bool, const W: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let t = if IDT { cpu.idtr } else { cpu.gdtr };
    let off = cpu.ea(&op.mem);
    let lin = cpu.linear(op.mem.seg, off, 2 + if W == 8 { 8 } else { 4 }, true)?;
    let mut buf = [0u8; 10];
    buf[..2].copy_from_slice(&t.limit.to_le_bytes());
    buf[2..].copy_from_slice(&t.base.to_le_bytes());
    let n = if W == 8 { 10 } else { 6 };
    cpu.write_bytes(bus, lin, &buf[..n])
}

fn build_table(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if form(ins, 0) != Form::Mem {
        return None;
    }
    use iced_x86::Code::*;
    op.stop = true;
    Some(match ins.code() {
        Lgdt_m1632_16 => load_table::<false, 3>,
        Lgdt_m1632 => load_table::<false, 4>,
        Lgdt_m1664 => load_table::<false, 8>,
        Lidt_m1632_16 => load_table::<true, 3>,
        Lidt_m1632 => load_table::<true, 4>,
        Lidt_m1664 => load_table::<true, 8>,
        Sgdt_m1632_16 | Sgdt_m1632 => store_table::<false, 4>,
        Sgdt_m1664 => store_table::<false, 8>,
        Sidt_m1632_16 | Sidt_m1632 => store_table::<true, 4>,
        Sidt_m1664 => store_table::<true, 8>,
        _ => return None,
    })
}

/// Reads the selector operand of lldt/ltr/verr/verw/lar/lsl (operand 0 or 1, r/m16).
fn selector_operand(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op, i: usize) -> Result<u16, Exception> {
    if op.ins.op_kind(i as u32) == OpKind::Memory {
        Ok(Mem::get::<2>(cpu, bus, op)? as u16)
    } else {
        Ok(cpu.reg::<2>(op.r[i]) as u16)
    }
}

/// Reads a system descriptor for LDTR/TR, including the high half in long mode.
fn system_descriptor(cpu: &mut Cpu, bus: &mut dyn Bus, sel: u16) -> Result<(Segment, u64), Exception> {
    if sel & 4 != 0 {
        return Err(Exception::gp(sel as u32 & !3));
    }
    let raw = cpu.read_descriptor(bus, sel)?;
    let mut d = Segment::from_descriptor(sel, raw);
    if cpu.long_mode() {
        let hi = cpu.read_descriptor_high(bus, sel)?;
        d.base |= (hi & 0xffff_ffff) << 32;
    }
    Ok((d, raw))
}

/// `lldt r/m16`.
fn lldt(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if !cpu.protected() {
        return Err(Exception::ud());
    }
    require_cpl0(cpu)?;
    let sel = selector_operand(cpu, bus, op, 0)?;
    if sel & !3 == 0 {
        // A null selector leaves the LDT unusable.
        cpu.ldtr = Segment { selector: sel, base: 0, limit: 0, attr: 0 };
        return Ok(());
    }
    let (d, _) = system_descriptor(cpu, bus, sel)?;
    if d.attr & ATTR_S != 0 || d.sys_type() != 2 {
        return Err(Exception::gp(sel as u32 & !3));
    }
    if !d.present() {
        return Err(Exception::np(sel as u32 & !3));
    }
    cpu.ldtr = d;
    Ok(())
}

/// `ltr r/m16`: loads an available TSS and marks it busy in the GDT.
fn ltr(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if !cpu.protected() {
        return Err(Exception::ud());
    }
    require_cpl0(cpu)?;
    let sel = selector_operand(cpu, bus, op, 0)?;
    if sel & !3 == 0 {
        return Err(Exception::gp(0));
    }
    let (d, raw) = system_descriptor(cpu, bus, sel)?;
    let available = if cpu.long_mode() { d.sys_type() == 9 } else { matches!(d.sys_type(), 1 | 9) };
    if d.attr & ATTR_S != 0 || !available {
        return Err(Exception::gp(sel as u32 & !3));
    }
    if !d.present() {
        return Err(Exception::np(sel as u32 & !3));
    }
    let busy_byte = ((raw >> 40) as u8) | 2;
    cpu.write_sys::<1>(bus, cpu.gdtr.base.wrapping_add((sel & !7) as u64 + 5), busy_byte as u64)?;
    cpu.tr = Segment { attr: d.attr | 2, ..d };
    Ok(())
}

/// `sldt`/`str r/m`: registers take the operand size (zero-extended), memory 16 bits.
fn store_sel<const TR: bool, const MEM: bool, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if !cpu.protected() {
        return Err(Exception::ud());
    }
    let v = if TR { cpu.tr.selector } else { cpu.ldtr.selector } as u64;
    if MEM {
        let lin = cpu.mem_lin::<2>(op, true)?;
        cpu.write_lin::<2>(bus, lin, v)
    } else {
        cpu.set_reg::<S>(op.r[0], v);
        Ok(())
    }
}

fn build_store_sel<const TR: bool>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    match form(ins, 0) {
        Form::Mem => Some(store_sel::<TR, true, 2>),
        Form::Reg => sized_wide!(ins.op0_register().size(), store_sel::<TR, false>),
        _ => None,
    }
}

/// What lar/lsl/verr/verw may look at: the descriptor if the selector is visible at the
/// current privilege, else `None` (ZF cleared, no fault).
fn visible_descriptor(cpu: &mut Cpu, bus: &mut dyn Bus, sel: u16) -> Result<Option<(Segment, u64)>, Exception> {
    if sel & !3 == 0 {
        return Ok(None);
    }
    let raw = match cpu.read_descriptor(bus, sel) {
        Ok(r) => r,
        Err(e) if e.vector() == crate::cpu::exception::vector::GP => return Ok(None),
        Err(e) => return Err(e),
    };
    let d = Segment::from_descriptor(sel, raw);
    let conforming_code = d.is_code() && d.attr & ATTR_DC != 0;
    if !conforming_code && (d.dpl() < cpu.cpl || d.dpl() < (sel & 3) as u8) {
        return Ok(None);
    }
    Ok(Some((d, raw)))
}

/// `lar` (LSL = false) and `lsl` (LSL = true).
fn lar_lsl<const LSL: bool, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if !cpu.protected() {
        return Err(Exception::ud());
    }
    let sel = selector_operand(cpu, bus, op, 1)?;
    let found = visible_descriptor(cpu, bus, sel)?.filter(|(d, _)| {
        if d.attr & ATTR_S != 0 {
            return true;
        }
        let t = d.sys_type();
        match (LSL, cpu.long_mode()) {
            (_, true) if LSL => matches!(t, 2 | 9 | 0xb),
            (_, true) => matches!(t, 2 | 9 | 0xb | 0xc),
            (true, false) => matches!(t, 1 | 2 | 3 | 9 | 0xb),
            (false, false) => matches!(t, 1..=5 | 9 | 0xb | 0xc),
        }
    });
    match found {
        Some((d, raw)) => {
            let v = if LSL { d.limit as u64 } else { (raw >> 32) & 0x00ff_ff00 };
            cpu.set_reg::<S>(op.r[0], v);
            cpu.flags.set_bit(ZF, true);
        }
        None => cpu.flags.set_bit(ZF, false),
    }
    Ok(())
}

fn build_lar_lsl<const LSL: bool>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    sized_wide!(ins.op0_register().size(), lar_lsl::<LSL>)
}

/// `verr` (W = false) / `verw` (W = true): ZF says whether the segment is readable/writable.
fn verify<const W: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if !cpu.protected() {
        return Err(Exception::ud());
    }
    let sel = selector_operand(cpu, bus, op, 0)?;
    let ok = visible_descriptor(cpu, bus, sel)?.is_some_and(|(d, _)| {
        d.attr & ATTR_S != 0
            && if W {
                !d.is_code() && d.attr & ATTR_RW != 0
            } else {
                !d.is_code() || d.attr & ATTR_RW != 0
            }
    });
    cpu.flags.set_bit(ZF, ok);
    Ok(())
}

// ----- CR0 shortcuts, caches, TLB -----------------------------------------------------

/// `smsw r/m`: registers get CR0 at the operand size, memory its low 16 bits.
fn smsw<const MEM: bool, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if MEM {
        let lin = cpu.mem_lin::<2>(op, true)?;
        cpu.write_lin::<2>(bus, lin, cpu.cr0 & 0xffff)
    } else {
        cpu.set_reg::<S>(op.r[0], cpu.cr0);
        Ok(())
    }
}

fn build_smsw(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    match form(ins, 0) {
        Form::Mem => Some(smsw::<true, 2>),
        Form::Reg => sized_wide!(ins.op0_register().size(), smsw::<false>),
        _ => None,
    }
}

/// `lmsw r/m16`: loads PE, MP, EM and TS; it can set PE but never clear it.
fn lmsw(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let v = selector_operand(cpu, bus, op, 0)? as u64;
    let new = (cpu.cr0 & !0xe) | (v & 0xf) | (cpu.cr0 & mmu::CR0_PE);
    cpu.write_cr0(new)
}

fn clts(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    cpu.cr0 &= !mmu::CR0_TS;
    Ok(())
}

/// `invlpg m`: drops the translation of the operand's linear address (no access is made,
/// so it cannot fault on the address itself).
fn invlpg(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let off = cpu.ea(&op.mem);
    let mut lin = off.wrapping_add(cpu.seg_base[op.mem.seg as usize]);
    if !cpu.long64 {
        lin &= 0xffff_ffff;
    }
    cpu.tlb.flush_page(lin);
    bus.cpu_event(cpu.icount, &CpuEvent::Invlpg { address: lin }, &cpu.mem);
    cpu.end_block = true;
    Ok(())
}

/// wbinvd/invd: caches are not modelled, so only the privilege check remains.
fn cache_flush(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    require_cpl0(cpu)
}

fn ud(_: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    Err(Exception::ud())
}

// ----- pushf / popf ------------------------------------------------------------------

/// `pushf`: the image has VM and RF cleared.
fn pushf<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    let v = cpu.flags.get() & !(VM | RF);
    cpu.push::<S>(bus, v)
}

impl Cpu {
    /// Flags a `popf`/`iret` at the current privilege may change (SDM POPF): IOPL only at
    /// CPL 0, IF only when CPL <= IOPL (otherwise silently kept). VM, VIF and VIP never
    /// change here; RF is cleared by the caller.
    pub(crate) fn popf_mask(&self) -> u64 {
        let mut m = ARITH | TF | DF | NT | AC | ID;
        if self.cpl == 0 {
            m |= IOPL;
        }
        if !self.protected() || self.cpl <= self.flags.iopl() {
            m |= IF;
        }
        m
    }
}

fn popf<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    let v = cpu.pop::<S>(bus)?;
    let mut m = cpu.popf_mask() | RF;
    if S == 2 {
        m &= 0xffff;
    }
    cpu.flags.set_masked(m, v & !RF);
    // IF (and TF) may have changed: let the loop look at interrupts.
    cpu.end_block = true;
    Ok(())
}

fn build_pushf_popf<const POP: bool>(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    use iced_x86::Code::*;
    let size = match ins.code() {
        Pushfw | Popfw => 2,
        Pushfd | Popfd => 4,
        _ => 8,
    };
    if POP {
        op.stop = true;
        sized_wide!(size, popf)
    } else {
        sized_wide!(size, pushf)
    }
}

/// Far `jmp`/`call` (direct ptr16:16/32 or indirect m16:16/32/64).
pub(crate) fn build_far(ins: &Instruction) -> Option<Handler> {
    super::far::build_far(ins)
}

pub fn register(t: &mut Table) {
    t.set(Mnemonic::Hlt, |_, op| {
        op.stop = true;
        Some(hlt as Handler)
    });
    t.set(Mnemonic::Cli, |_, op| {
        op.stop = true;
        Some(cli as Handler)
    });
    t.set(Mnemonic::Sti, |_, op| {
        op.stop = true;
        Some(sti as Handler)
    });
    t.set(Mnemonic::Clc, |_, _| Some(flag_op::<CF, 0> as Handler));
    t.set(Mnemonic::Stc, |_, _| Some(flag_op::<CF, 1> as Handler));
    t.set(Mnemonic::Cmc, |_, _| Some(flag_op::<CF, 2> as Handler));
    t.set(Mnemonic::Cld, |_, _| Some(flag_op::<DF, 0> as Handler));
    t.set(Mnemonic::Std, |_, _| Some(flag_op::<DF, 1> as Handler));
    t.set(Mnemonic::In, build_in);
    t.set(Mnemonic::Out, build_out);
    t.set(Mnemonic::Lss, build_load_far_ptr::<SS>);
    t.set(Mnemonic::Lds, build_load_far_ptr::<DS>);
    t.set(Mnemonic::Les, build_load_far_ptr::<ES>);
    t.set(Mnemonic::Lfs, build_load_far_ptr::<FS>);
    t.set(Mnemonic::Lgs, build_load_far_ptr::<GS>);
    t.set_all(&[Mnemonic::Lgdt, Mnemonic::Lidt, Mnemonic::Sgdt, Mnemonic::Sidt], build_table);
    t.set(Mnemonic::Lldt, |_, op| {
        op.stop = true;
        Some(lldt as Handler)
    });
    t.set(Mnemonic::Ltr, |_, op| {
        op.stop = true;
        Some(ltr as Handler)
    });
    t.set(Mnemonic::Sldt, build_store_sel::<false>);
    t.set(Mnemonic::Str, build_store_sel::<true>);
    t.set(Mnemonic::Lar, build_lar_lsl::<false>);
    t.set(Mnemonic::Lsl, build_lar_lsl::<true>);
    t.set(Mnemonic::Verr, |_, _| Some(verify::<false> as Handler));
    t.set(Mnemonic::Verw, |_, _| Some(verify::<true> as Handler));
    t.set(Mnemonic::Smsw, build_smsw);
    t.set(Mnemonic::Lmsw, |_, op| {
        op.stop = true;
        Some(lmsw as Handler)
    });
    t.set(Mnemonic::Clts, |_, _| Some(clts as Handler));
    t.set(Mnemonic::Invlpg, |_, op| {
        op.stop = true;
        Some(invlpg as Handler)
    });
    t.set_all(&[Mnemonic::Wbinvd, Mnemonic::Invd], |_, _| Some(cache_flush as Handler));
    t.set_all(&[Mnemonic::Ud0, Mnemonic::Ud1, Mnemonic::Ud2], |_, op| {
        op.stop = true;
        Some(ud as Handler)
    });
    t.set(Mnemonic::Pushf, build_pushf_popf::<false>);
    t.set(Mnemonic::Pushfd, build_pushf_popf::<false>);
    t.set(Mnemonic::Pushfq, build_pushf_popf::<false>);
    t.set(Mnemonic::Popf, build_pushf_popf::<true>);
    t.set(Mnemonic::Popfd, build_pushf_popf::<true>);
    t.set(Mnemonic::Popfq, build_pushf_popf::<true>);
    super::far::register(t);
    super::msr::register(t);
}
