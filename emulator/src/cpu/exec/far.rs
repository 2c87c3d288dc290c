//! Far control transfers and privilege changes: far jmp/call/ret, int/into/int1/int3,
//! iret, syscall/sysret and swapgs (SDM vol. 2 and vol. 3 ch. 5-6).
//!
//! Every handler reads and checks everything (stack slots, descriptors, the target offset)
//! before it changes any state, so a fault leaves the CPU exactly as it was and the
//! exception is reported at the instruction. Gates and task switches in far jmp/call are
//! not implemented (#GP with the selector); iret with NT set (task return) and iret to
//! virtual-8086 mode likewise raise #GP(0).

use iced_x86::{Code, Instruction, MemorySize, Mnemonic, OpKind};

use super::Table;
use crate::bus::{Bus, CpuEvent};
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::flags::{mask, IOPL, NT, RF, VIF, VIP, VM};
use crate::cpu::interrupt::EventKind;
use crate::cpu::segment::*;
use crate::cpu::{reg, Cpu};
use crate::mmu;

#[inline]
fn canonical(a: u64) -> bool {
    ((a as i64) << 16 >> 16) as u64 == a
}

/// A code segment a far transfer is about to load, with everything needed to commit it.
struct Target {
    sel: u16,
    raw: u64,
    seg: Segment,
    /// The target is 64-bit code (long mode and CS.L).
    long: bool,
}

impl Cpu {
    /// Reads the code-segment descriptor for a far transfer and does the checks common to
    /// every kind: present, code, and not both L and D in long mode.
    fn code_target(&mut self, bus: &mut dyn Bus, sel: u16) -> Result<Target, Exception> {
        if sel & !3 == 0 {
            return Err(Exception::gp(0));
        }
        let err = sel as u32 & !3;
        let raw = self.read_descriptor(bus, sel)?;
        let seg = Segment::from_descriptor(sel, raw);
        if !seg.is_code() {
            return Err(Exception::gp(err));
        }
        if self.long_mode() && seg.attr & ATTR_L != 0 && seg.attr & ATTR_DB != 0 {
            return Err(Exception::gp(err));
        }
        Ok(Target { sel, raw, seg, long: self.long_mode() && seg.attr & ATTR_L != 0 })
    }

    /// The target offset must be canonical (64-bit code) or within the CS limit.
    /// The code segment a far return or iret goes back to: never to an inner level
    /// (RPL >= CPL), DPL = RPL for non-conforming code, DPL <= RPL for conforming code.
    fn return_target(&mut self, bus: &mut dyn Bus, sel: u16) -> Result<Target, Exception> {
        let rpl = (sel & 3) as u8;
        let t = self.code_target(bus, sel)?;
        let err = sel as u32 & !3;
        let conforming = t.seg.attr & ATTR_DC != 0;
        if rpl < self.cpl || (conforming && t.seg.dpl() > rpl) || (!conforming && t.seg.dpl() != rpl) {
            return Err(Exception::gp(err));
        }
        if !t.seg.present() {
            return Err(Exception::np(err));
        }
        Ok(t)
    }

    fn check_offset(t: &Target, off: u64) -> Result<(), Exception> {
        let ok = if t.long { canonical(off) } else { off <= t.seg.limit as u64 };
        if ok {
            Ok(())
        } else {
            Err(Exception::gp(0))
        }
    }

    /// Loads CS from a checked target at privilege `cpl` and sets the accessed bit.
    fn commit_cs(&mut self, bus: &mut dyn Bus, t: &Target, cpl: u8) -> Result<(), Exception> {
        self.mark_accessed(bus, t.sel, t.raw)?;
        self.load_cs_descriptor(t.sel, t.raw, cpl);
        Ok(())
    }

    /// Checks the SS selector popped by a return to privilege `rpl` (retf, iret). A null
    /// selector is allowed when returning to 64-bit code below CPL 3.
    fn outer_stack(&mut self, bus: &mut dyn Bus, sel: u16, rpl: u8, to_long: bool) -> Result<(Segment, Option<u64>), Exception> {
        if sel & !3 == 0 {
            if to_long && rpl != 3 {
                return Ok((Segment { selector: (sel & !3) | rpl as u16, base: 0, limit: 0, attr: 0 }, None));
            }
            return Err(Exception::gp(0));
        }
        let err = sel as u32 & !3;
        let raw = self.read_descriptor(bus, sel)?;
        let d = Segment::from_descriptor(sel, raw);
        if (sel & 3) as u8 != rpl || d.attr & ATTR_S == 0 || d.attr & ATTR_CODE != 0 || d.attr & ATTR_RW == 0 || d.dpl() != rpl {
            return Err(Exception::gp(err));
        }
        if !d.present() {
            return Err(Exception::ss(err));
        }
        Ok((Segment { attr: d.attr | ATTR_ACCESSED, ..d }, Some(raw)))
    }

    /// After a return to an outer level, data segments the new level may not use become
    /// null (SDM RET/IRET: "FOR each of segment register (ES, FS, GS, and DS)").
    fn null_inaccessible_segments(&mut self) {
        for s in [ES, DS, FS, GS] {
            let d = self.seg[s as usize];
            let conforming_code = d.is_code() && d.attr & ATTR_DC != 0;
            if d.attr & ATTR_S != 0 && !conforming_code && d.dpl() < self.cpl {
                self.seg[s as usize] = Segment { selector: 0, base: d.base, limit: 0, attr: 0 };
            }
        }
        self.update_segment_cache();
    }

    /// Sets RSP after a stack switch to `ss`: the whole register for 64-bit code, else
    /// ESP or SP as SS.B says.
    fn set_switched_sp(&mut self, sp: u64) {
        let m = self.stack_mask();
        let old = self.gpr[reg::RSP as usize];
        self.gpr[reg::RSP as usize] = if m == 0xffff { (old & !0xffff) | (sp & 0xffff) } else { sp & m };
    }

    /// Adds `n` to the stack pointer under the current stack mask.
    fn release_stack(&mut self, n: u64) {
        let m = self.stack_mask();
        let sp = self.gpr[reg::RSP as usize];
        self.gpr[reg::RSP as usize] = (sp & !m) | (sp.wrapping_add(n) & m);
    }

    /// Pushes CS and the return address (`S` bytes each) for a far call; on a fault the
    /// stack pointer is restored.
    fn push_far_return<const S: usize>(&mut self, bus: &mut dyn Bus) -> Result<(), Exception> {
        let saved = self.gpr[reg::RSP as usize];
        let cs = self.seg[CS as usize].selector as u64;
        let ret = self.next_rip();
        let r = self.push::<S>(bus, cs).and_then(|_| self.push::<S>(bus, ret));
        if r.is_err() {
            self.gpr[reg::RSP as usize] = saved;
        }
        r
    }

    /// Far jmp (`CALL` = false) or far call to `sel:off` with operand size `S`.
    fn far_transfer<const S: usize, const CALL: bool>(&mut self, bus: &mut dyn Bus, sel: u16, off: u64) -> Result<(), Exception> {
        let off = off & mask::<S>();
        if !self.protected() || self.flags.get() & VM != 0 {
            if CALL {
                self.push_far_return::<S>(bus)?;
            }
            let attr = self.seg[CS as usize].attr;
            self.seg[CS as usize] = Segment::real(sel, attr);
            self.update_mode();
            self.set_next_rip(off);
            return Ok(());
        }
        // Call gates, task gates and TSSs are not code segments: #GP(selector) from here.
        let t = self.code_target(bus, sel)?;
        let err = sel as u32 & !3;
        let rpl = (sel & 3) as u8;
        if t.seg.attr & ATTR_DC != 0 {
            if t.seg.dpl() > self.cpl {
                return Err(Exception::gp(err));
            }
        } else if rpl > self.cpl || t.seg.dpl() != self.cpl {
            return Err(Exception::gp(err));
        }
        if !t.seg.present() {
            return Err(Exception::np(err));
        }
        Self::check_offset(&t, off)?;
        if CALL {
            self.push_far_return::<S>(bus)?;
        }
        let cpl = self.cpl;
        self.commit_cs(bus, &t, cpl)?;
        self.set_next_rip(off);
        Ok(())
    }
}

/// Far jmp/call; `DIRECT` takes ptr16:16/32 from the instruction, otherwise m16:16/32/64.
fn far<const S: usize, const DIRECT: bool, const CALL: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let (sel, off) = if DIRECT {
        (op.imm2 as u16, op.imm)
    } else {
        let ea = cpu.ea(&op.mem);
        let lin = cpu.linear(op.mem.seg, ea, S + 2, false)?;
        let off = cpu.read_lin::<S>(bus, lin)?;
        let slin = cpu.linear(op.mem.seg, ea.wrapping_add(S as u64) & op.mem.amask, 2, false)?;
        (cpu.read_lin::<2>(bus, slin)? as u16, off)
    };
    cpu.far_transfer::<S, CALL>(bus, sel, off)
}

/// Far `jmp`/`call` (direct ptr16:16/32 or indirect m16:16/32/64).
pub(crate) fn build_far(ins: &Instruction) -> Option<Handler> {
    let call = ins.mnemonic() == Mnemonic::Call;
    let (size, direct) = match ins.op0_kind() {
        OpKind::FarBranch16 => (2, true),
        OpKind::FarBranch32 => (4, true),
        OpKind::Memory => match ins.memory_size() {
            MemorySize::SegPtr16 => (2, false),
            MemorySize::SegPtr32 => (4, false),
            MemorySize::SegPtr64 => (8, false),
            _ => return None,
        },
        _ => return None,
    };
    Some(match (size, direct, call) {
        (2, true, false) => far::<2, true, false>,
        (4, true, false) => far::<4, true, false>,
        (2, true, true) => far::<2, true, true>,
        (4, true, true) => far::<4, true, true>,
        (2, false, false) => far::<2, false, false>,
        (4, false, false) => far::<4, false, false>,
        (8, false, false) => far::<8, false, false>,
        (2, false, true) => far::<2, false, true>,
        (4, false, true) => far::<4, false, true>,
        (8, false, true) => far::<8, false, true>,
        _ => return None,
    })
}

/// `retf` / `retf imm16` with operand size `S`.
fn retf<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let w = S as u64;
    let ip = cpu.peek::<S>(bus, 0)?;
    let sel = cpu.peek::<S>(bus, w)? as u16;
    if !cpu.protected() || cpu.flags.get() & VM != 0 {
        cpu.release_stack(2 * w + op.imm);
        let attr = cpu.seg[CS as usize].attr;
        cpu.seg[CS as usize] = Segment::real(sel, attr);
        cpu.update_mode();
        cpu.set_next_rip(ip);
        return Ok(());
    }
    let rpl = (sel & 3) as u8;
    let t = cpu.return_target(bus, sel)?;
    Cpu::check_offset(&t, ip)?;
    if rpl == cpu.cpl {
        cpu.commit_cs(bus, &t, rpl)?;
        cpu.release_stack(2 * w + op.imm);
        cpu.set_next_rip(ip);
        return Ok(());
    }
    // Return to an outer level: the caller's SS:RSP sit above the released parameters.
    let sp = cpu.peek::<S>(bus, 2 * w + op.imm)?;
    let ss_sel = cpu.peek::<S>(bus, 3 * w + op.imm)? as u16;
    let (ss, ss_raw) = cpu.outer_stack(bus, ss_sel, rpl, t.long)?;
    if let Some(r) = ss_raw {
        cpu.mark_accessed(bus, ss_sel, r)?;
    }
    cpu.commit_cs(bus, &t, rpl)?;
    cpu.seg[SS as usize] = ss;
    cpu.update_segment_cache();
    cpu.set_switched_sp(sp.wrapping_add(op.imm));
    cpu.null_inaccessible_segments();
    cpu.set_next_rip(ip);
    Ok(())
}

fn build_retf(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    match ins.code() {
        Code::Retfw | Code::Retfw_imm16 => Some(retf::<2>),
        Code::Retfd | Code::Retfd_imm16 => Some(retf::<4>),
        Code::Retfq | Code::Retfq_imm16 => Some(retf::<8>),
        _ => None,
    }
}

// ----- software interrupts and iret ------------------------------------------------------

impl Cpu {
    /// Delivers a software interrupt; the handler returns to the next instruction. If the
    /// delivery faults, the fault is reported at this instruction (nothing changed).
    fn soft_int(&mut self, bus: &mut dyn Bus, v: u8, kind: EventKind) -> Result<(), Exception> {
        let next = self.next_rip();
        self.deliver(bus, v, None, kind, next)?;
        let rip = self.rip;
        self.set_next_rip(rip);
        Ok(())
    }
}

fn int_n(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let event = CpuEvent::SoftwareInterrupt { vector: op.imm as u8, rip: cpu.rip, rax: cpu.gpr[reg::RAX as usize] };
    bus.cpu_event(cpu.icount, &event, &cpu.mem);
    cpu.soft_int(bus, op.imm as u8, EventKind::Software)
}

fn int3(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    cpu.soft_int(bus, crate::cpu::exception::vector::BP, EventKind::Software)
}

fn into(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.long64 {
        return Err(Exception::ud());
    }
    if cpu.flags.of() {
        return cpu.soft_int(bus, crate::cpu::exception::vector::OF, EventKind::Software);
    }
    Ok(())
}

/// `int1` (icebp) raises #DB like a hardware debug trap: no gate-DPL check.
fn int1(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    cpu.soft_int(bus, crate::cpu::exception::vector::DB, EventKind::Exception)
}

/// `iret`/`iretd`/`iretq` with operand size `S`.
fn iret<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    let w = S as u64;
    let ip = cpu.peek::<S>(bus, 0)?;
    let sel = cpu.peek::<S>(bus, w)? as u16;
    let fl = cpu.peek::<S>(bus, 2 * w)?;
    if !cpu.protected() {
        // Real mode: everything but VM/VIF/VIP (and bits above the operand size) reloads.
        let m = if S == 2 { 0x7fd5 } else { 0x25_7fd5 };
        cpu.release_stack(3 * w);
        cpu.flags.set_masked(m, fl);
        let attr = cpu.seg[CS as usize].attr;
        cpu.seg[CS as usize] = Segment::real(sel, attr);
        cpu.update_mode();
        cpu.set_next_rip(ip & mask::<S>());
        return Ok(());
    }
    if cpu.flags.get() & NT != 0 || cpu.flags.get() & VM != 0 {
        // Task return and virtual-8086 mode are not implemented.
        return Err(Exception::gp(0));
    }
    if !cpu.long_mode() && S != 2 && fl & VM != 0 && cpu.cpl == 0 {
        return Err(Exception::gp(0));
    }
    let rpl = (sel & 3) as u8;
    let t = cpu.return_target(bus, sel)?;
    let ip = if t.long { ip } else { ip & mask::<S>() };
    // In 64-bit mode iret always pops SS:RSP; elsewhere only on a return to an outer level.
    let switch = rpl > cpu.cpl || cpu.long64;
    let stack = if switch {
        let sp = cpu.peek::<S>(bus, 3 * w)?;
        let ss_sel = cpu.peek::<S>(bus, 4 * w)? as u16;
        let (ss, raw) = cpu.outer_stack(bus, ss_sel, rpl, t.long)?;
        Some((sp, ss, ss_sel, raw))
    } else {
        None
    };
    Cpu::check_offset(&t, ip)?;
    // Commit. The flags rules use the privilege *before* the return.
    let mut m = cpu.popf_mask() | RF;
    if cpu.cpl == 0 {
        m |= VIF | VIP | IOPL;
    }
    if S == 2 {
        m &= 0xffff;
    }
    if let Some((_, _, ss_sel, Some(raw))) = stack {
        cpu.mark_accessed(bus, ss_sel, raw)?;
    }
    cpu.commit_cs(bus, &t, rpl)?;
    cpu.flags.set_masked(m, fl);
    match stack {
        Some((sp, ss, _, _)) => {
            cpu.seg[SS as usize] = ss;
            cpu.update_segment_cache();
            cpu.set_switched_sp(sp);
            cpu.null_inaccessible_segments();
        }
        None => cpu.release_stack(3 * w),
    }
    cpu.set_next_rip(ip);
    // IF may have been set: interrupts are sampled once the block ends.
    cpu.end_block = true;
    if cpu.cpl == 3 {
        bus.cpu_event(cpu.icount, &CpuEvent::UserEntry { rip: ip, rsp: cpu.gpr[reg::RSP as usize], rax: cpu.gpr[reg::RAX as usize] }, &cpu.mem);
    }
    Ok(())
}

fn build_iret(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    match ins.code() {
        Code::Iretw => Some(iret::<2>),
        Code::Iretd => Some(iret::<4>),
        Code::Iretq => Some(iret::<8>),
        _ => None,
    }
}

// ----- syscall / sysret / swapgs -----------------------------------------------------------

/// Flat 4 GiB code and data segments as syscall/sysret load them (the descriptors in the
/// GDT are not read; STAR names the selectors).
fn flat(selector: u16, attr: u16) -> Segment {
    Segment { selector, base: 0, limit: 0xffff_ffff, attr: attr | ATTR_P | ATTR_S | ATTR_ACCESSED | ATTR_G }
}

/// `syscall`: CS/SS from STAR[47:32], RIP from LSTAR (CSTAR from compatibility mode),
/// RCX = return address, R11 = RFLAGS, RFLAGS &= ~SFMASK.
fn syscall(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.efer & mmu::EFER_SCE == 0 || !cpu.long_mode() {
        return Err(Exception::ud());
    }
    let g = &cpu.gpr;
    let args = [g[reg::RDI as usize], g[reg::RSI as usize], g[reg::RDX as usize], g[reg::R10 as usize], g[reg::R8 as usize], g[reg::R9 as usize]];
    bus.cpu_event(cpu.icount, &CpuEvent::Syscall { number: g[reg::RAX as usize], rip: cpu.rip, args, rsp: g[reg::RSP as usize] }, &cpu.mem);
    let target = if cpu.long64 { cpu.msr.lstar } else { cpu.msr.cstar };
    let next = cpu.next_rip();
    let fl = cpu.flags.get();
    cpu.gpr[reg::RCX as usize] = next;
    cpu.gpr[reg::R11 as usize] = fl & !RF;
    cpu.flags.set_masked(cpu.msr.sfmask | RF | VM, 0);
    let sel = (cpu.msr.star >> 32) as u16 & !3;
    cpu.seg[CS as usize] = flat(sel, ATTR_CODE | ATTR_RW | ATTR_L);
    cpu.seg[SS as usize] = flat(sel.wrapping_add(8), ATTR_RW | ATTR_DB);
    cpu.cpl = 0;
    cpu.update_mode();
    cpu.set_next_rip(target);
    Ok(())
}

/// `sysret` (`S` = 4: to compatibility mode at ECX; `S` = 8: to 64-bit mode at RCX).
fn sysret<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.efer & mmu::EFER_SCE == 0 || !cpu.long64 {
        return Err(Exception::ud());
    }
    if cpu.cpl != 0 {
        return Err(Exception::gp(0));
    }
    let rcx = cpu.gpr[reg::RCX as usize];
    if S == 8 && !canonical(rcx) {
        return Err(Exception::gp(0));
    }
    let base = (cpu.msr.star >> 48) as u16;
    let user = 3 << 5;
    let (cs, rip) = if S == 8 {
        (flat(base.wrapping_add(16) | 3, ATTR_CODE | ATTR_RW | ATTR_L | user), rcx)
    } else {
        (flat(base | 3, ATTR_CODE | ATTR_RW | ATTR_DB | user), rcx & 0xffff_ffff)
    };
    let r11 = cpu.gpr[reg::R11 as usize];
    cpu.flags.set((r11 & 0x3c_7fd7) | 2);
    cpu.seg[CS as usize] = cs;
    cpu.seg[SS as usize] = flat(base.wrapping_add(8) | 3, ATTR_RW | ATTR_DB | user);
    cpu.cpl = 3;
    cpu.update_mode();
    cpu.set_next_rip(rip);
    cpu.end_block = true;
    bus.cpu_event(cpu.icount, &CpuEvent::UserEntry { rip, rsp: cpu.gpr[reg::RSP as usize], rax: cpu.gpr[reg::RAX as usize] }, &cpu.mem);
    Ok(())
}

/// `swapgs`: exchanges GS.base with KERNEL_GS_BASE (64-bit mode, CPL 0).
fn swapgs(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if !cpu.long64 {
        return Err(Exception::ud());
    }
    if cpu.cpl != 0 {
        return Err(Exception::gp(0));
    }
    std::mem::swap(&mut cpu.seg[GS as usize].base, &mut cpu.msr.kernel_gs_base);
    cpu.update_segment_cache();
    Ok(())
}

pub fn register(t: &mut Table) {
    t.set(Mnemonic::Retf, build_retf);
    t.set_all(&[Mnemonic::Iret, Mnemonic::Iretd, Mnemonic::Iretq], build_iret);
    t.set(Mnemonic::Int, |_, _| Some(int_n as Handler));
    t.set(Mnemonic::Int3, |_, _| Some(int3 as Handler));
    t.set(Mnemonic::Into, |_, op| {
        op.stop = true;
        Some(into as Handler)
    });
    t.set(Mnemonic::Int1, |_, _| Some(int1 as Handler));
    t.set(Mnemonic::Syscall, |_, _| Some(syscall as Handler));
    t.set(Mnemonic::Sysret, |_, _| Some(sysret::<4> as Handler));
    t.set(Mnemonic::Sysretq, |_, _| Some(sysret::<8> as Handler));
    t.set(Mnemonic::Swapgs, |_, op| {
        op.stop = true;
        Some(swapgs as Handler)
    });
}
