//! Stack operations: push, pop (including segment registers), enter, leave, pusha, popa.

use iced_x86::{Instruction, Mnemonic};

use super::{form, operand_size, Form, Table};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::operand::{Dst, Imm, Mem, Reg0, Src};
use crate::cpu::segment::{ATTR_DB, CS, SS};
use crate::cpu::{reg, Cpu};
use crate::sized_wide;

impl Cpu {
    /// Mask of the stack pointer in use: RSP, ESP or SP (64-bit mode, SS.B, otherwise).
    #[inline(always)]
    pub fn stack_mask(&self) -> u64 {
        if self.long64 {
            u64::MAX
        } else if self.seg[SS as usize].attr & ATTR_DB != 0 {
            0xffff_ffff
        } else {
            0xffff
        }
    }

    /// Pushes an `S`-byte value. Memory is written before RSP changes, so a fault leaves
    /// RSP alone.
    #[inline(always)]
    pub fn push<const S: usize>(&mut self, bus: &mut dyn Bus, v: u64) -> Result<(), Exception> {
        let m = self.stack_mask();
        let sp = self.gpr[reg::RSP as usize];
        let nsp = sp.wrapping_sub(S as u64) & m;
        self.write_seg::<S>(bus, SS, nsp, v)?;
        self.gpr[reg::RSP as usize] = (sp & !m) | nsp;
        Ok(())
    }

    /// Pops an `S`-byte value.
    #[inline(always)]
    pub fn pop<const S: usize>(&mut self, bus: &mut dyn Bus) -> Result<u64, Exception> {
        let m = self.stack_mask();
        let sp = self.gpr[reg::RSP as usize];
        let v = self.read_seg::<S>(bus, SS, sp & m)?;
        self.gpr[reg::RSP as usize] = (sp & !m) | (sp.wrapping_add(S as u64) & m);
        Ok(v)
    }

    /// The fast path of [`Cpu::push`] (64-bit mode, a TLB hit), for handlers that fall back
    /// to their full form: false, with nothing changed, when that is needed.
    #[inline(always)]
    pub fn push_fast<const S: usize>(&mut self, v: u64) -> bool {
        let nsp = self.gpr[reg::RSP as usize].wrapping_sub(S as u64);
        if let Some(lin) = self.linear_fast(SS, nsp) {
            if self.write_fast::<S>(lin, v) {
                self.gpr[reg::RSP as usize] = nsp;
                return true;
            }
        }
        false
    }

    /// The fast path of [`Cpu::pop`], as [`Cpu::push_fast`]: `None`, with nothing changed,
    /// when the full pop is needed.
    #[inline(always)]
    pub fn pop_fast<const S: usize>(&mut self) -> Option<u64> {
        let sp = self.gpr[reg::RSP as usize];
        let v = self.read_fast::<S>(self.linear_fast(SS, sp)?)?;
        self.gpr[reg::RSP as usize] = sp.wrapping_add(S as u64);
        Some(v)
    }

    /// Reads the `S`-byte value `depth` bytes above the stack pointer without popping.
    #[inline(always)]
    pub fn peek<const S: usize>(&mut self, bus: &mut dyn Bus, depth: u64) -> Result<u64, Exception> {
        let m = self.stack_mask();
        let sp = self.gpr[reg::RSP as usize];
        self.read_seg::<S>(bus, SS, sp.wrapping_add(depth) & m)
    }
}

// Push and pop of a register, call, ret and leave get frameless fast paths
// ([`Cpu::push_fast`]) with a tail call to the full handler, as `mov r,[m]` does.

#[inline(never)]
fn push<V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = V::get::<S>(cpu, bus, op)?;
    cpu.push::<S>(bus, v)
}

fn push_r<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if cpu.push_fast::<S>(cpu.reg::<S>(op.r[0])) {
        return Ok(());
    }
    push::<Reg0, S>(cpu, bus, op)
}

/// `push rsp` pushes the value before the decrement, which `push` above already does.
fn build_push(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    if ins.op0_kind() == iced_x86::OpKind::Register && ins.op0_register().is_segment_register() {
        return sized_wide!(ins.stack_pointer_increment().unsigned_abs() as usize, push_sreg);
    }
    let size = match form(ins, 0) {
        Form::Imm => ins.stack_pointer_increment().unsigned_abs() as usize,
        _ => operand_size(ins, 0),
    };
    match form(ins, 0) {
        Form::Reg => sized_wide!(size, push_r),
        Form::Mem => sized_wide!(size, push::<Mem>),
        Form::Imm => sized_wide!(size, push::<Imm>),
        Form::Other => None,
    }
}

/// `pop r/m`. For a memory destination the address is computed with RSP already
/// incremented, as the SDM specifies.
#[inline(never)]
fn pop<D: Dst, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let m = cpu.stack_mask();
    let old = cpu.gpr[reg::RSP as usize];
    let v = cpu.peek::<S>(bus, 0)?;
    cpu.gpr[reg::RSP as usize] = (old & !m) | (old.wrapping_add(S as u64) & m);
    let r = D::locate::<S>(cpu, bus, op, true).and_then(|loc| D::store::<S>(cpu, bus, op, loc, v));
    if r.is_err() {
        cpu.gpr[reg::RSP as usize] = old;
    }
    r
}

/// `pop r`; `pop rsp` loads the popped value over the incremented RSP, as it should.
fn pop_r<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if let Some(v) = cpu.pop_fast::<S>() {
        cpu.set_reg::<S>(op.r[0], v);
        return Ok(());
    }
    pop::<Reg0, S>(cpu, bus, op)
}

fn build_pop(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if ins.op0_kind() == iced_x86::OpKind::Register && ins.op0_register().is_segment_register() {
        // pop ss opens an interrupt shadow and may change the stack size: end the block.
        op.stop = true;
        return sized_wide!(ins.stack_pointer_increment() as usize, pop_sreg);
    }
    let size = operand_size(ins, 0);
    match form(ins, 0) {
        Form::Reg => sized_wide!(size, pop_r),
        Form::Mem => sized_wide!(size, pop::<Mem>),
        _ => None,
    }
}

/// `leave`: RSP = RBP, then pop RBP (`S` is the operand size).
fn leave<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let bp = cpu.gpr[reg::RBP as usize];
    if let Some(lin) = cpu.linear_fast(SS, bp) {
        if let Some(v) = cpu.read_fast::<S>(lin) {
            cpu.gpr[reg::RSP as usize] = bp.wrapping_add(S as u64);
            cpu.set_reg::<S>(reg::RBP, v);
            return Ok(());
        }
    }
    leave_full::<S>(cpu, bus, op)
}

#[inline(never)]
fn leave_full<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    let m = cpu.stack_mask();
    let bp = cpu.gpr[reg::RBP as usize] & m;
    let v = cpu.read_seg::<S>(bus, SS, bp)?;
    let sp = cpu.gpr[reg::RSP as usize];
    cpu.gpr[reg::RSP as usize] = (sp & !m) | (bp.wrapping_add(S as u64) & m);
    cpu.set_reg::<S>(reg::RBP, v);
    Ok(())
}

fn build_leave(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    // iced reports no fixed stack-pointer increment for leave; the code gives the size.
    use iced_x86::Code::*;
    match ins.code() {
        Leavew => Some(leave::<2>),
        Leaved => Some(leave::<4>),
        Leaveq => Some(leave::<8>),
        _ => None,
    }
}

/// `push sreg`: the selector, zero-extended to the operand size.
fn push_sreg<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = cpu.seg[op.r[0] as usize].selector as u64;
    cpu.push::<S>(bus, v)
}

/// `pop sreg`: the segment is loaded (and checked) before RSP moves, so a fault leaves
/// RSP alone. The increment uses the stack size in effect before the load.
fn pop_sreg<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let m = cpu.stack_mask();
    let old = cpu.gpr[reg::RSP as usize];
    let v = cpu.peek::<S>(bus, 0)?;
    let seg = op.r[0];
    if seg == CS {
        return Err(Exception::ud());
    }
    cpu.load_segment(bus, seg, v as u16)?;
    cpu.gpr[reg::RSP as usize] = (old & !m) | (old.wrapping_add(S as u64) & m);
    if seg == SS {
        cpu.shadow = true;
        cpu.end_block = true;
    }
    Ok(())
}

/// `enter alloc, level` (SDM ENTER): push RBP, copy `level - 1` outer frame pointers, push
/// the new frame pointer, then allocate. Registers are restored if any access faults.
fn enter<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let (rsp, rbp) = (cpu.gpr[reg::RSP as usize], cpu.gpr[reg::RBP as usize]);
    let r = enter_inner::<S>(cpu, bus, op.imm & 0xffff, op.imm2 & 31);
    if r.is_err() {
        cpu.gpr[reg::RSP as usize] = rsp;
        cpu.gpr[reg::RBP as usize] = rbp;
    }
    r
}

fn enter_inner<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, alloc: u64, level: u64) -> Result<(), Exception> {
    let m = cpu.stack_mask();
    cpu.push::<S>(bus, cpu.reg::<S>(reg::RBP))?;
    let frame = cpu.gpr[reg::RSP as usize] & m;
    if level > 0 {
        let mut bp = cpu.gpr[reg::RBP as usize];
        for _ in 1..level {
            bp = (bp & !m) | (bp.wrapping_sub(S as u64) & m);
            let v = cpu.read_seg::<S>(bus, SS, bp & m)?;
            cpu.push::<S>(bus, v)?;
        }
        cpu.push::<S>(bus, frame)?;
    }
    // The new frame pointer has the operand size; the allocation uses the stack size.
    cpu.set_reg::<S>(reg::RBP, frame);
    let sp = cpu.gpr[reg::RSP as usize];
    let nsp = sp.wrapping_sub(alloc) & m;
    // Touch the new stack top so a too-small stack faults here, as hardware does.
    cpu.linear(SS, nsp, 1, true)?;
    cpu.gpr[reg::RSP as usize] = (sp & !m) | nsp;
    Ok(())
}

fn build_enter(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    use iced_x86::Code::*;
    match ins.code() {
        Enterw_imm16_imm8 => Some(enter::<2>),
        Enterd_imm16_imm8 => Some(enter::<4>),
        Enterq_imm16_imm8 => Some(enter::<8>),
        _ => None,
    }
}

/// `pusha`/`pushad` (legacy modes only: 64-bit mode decodes them as invalid).
fn pusha<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.long64 {
        return Err(Exception::ud());
    }
    let saved = cpu.gpr[reg::RSP as usize];
    let sp = cpu.reg::<S>(reg::RSP);
    for r in [reg::RAX, reg::RCX, reg::RDX, reg::RBX, reg::RSP, reg::RBP, reg::RSI, reg::RDI] {
        let v = if r == reg::RSP { sp } else { cpu.reg::<S>(r) };
        if let Err(e) = cpu.push::<S>(bus, v) {
            cpu.gpr[reg::RSP as usize] = saved;
            return Err(e);
        }
    }
    Ok(())
}

/// `popa`/`popad`: the saved stack pointer slot is skipped.
fn popa<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.long64 {
        return Err(Exception::ud());
    }
    let mut vals = [0u64; 8];
    for (i, v) in vals.iter_mut().enumerate() {
        *v = cpu.peek::<S>(bus, (i * S) as u64)?;
    }
    for (i, r) in [reg::RDI, reg::RSI, reg::RBP, reg::RSP, reg::RBX, reg::RDX, reg::RCX, reg::RAX].into_iter().enumerate() {
        if r != reg::RSP {
            cpu.set_reg::<S>(r, vals[i]);
        }
    }
    let m = cpu.stack_mask();
    let sp = cpu.gpr[reg::RSP as usize];
    cpu.gpr[reg::RSP as usize] = (sp & !m) | (sp.wrapping_add(8 * S as u64) & m);
    Ok(())
}

pub fn register(t: &mut Table) {
    t.set(Mnemonic::Enter, build_enter);
    t.set(Mnemonic::Pusha, |_, _| Some(pusha::<2> as Handler));
    t.set(Mnemonic::Pushad, |_, _| Some(pusha::<4> as Handler));
    t.set(Mnemonic::Popa, |_, _| Some(popa::<2> as Handler));
    t.set(Mnemonic::Popad, |_, _| Some(popa::<4> as Handler));
    t.set(Mnemonic::Push, build_push);
    t.set(Mnemonic::Pop, build_pop);
    t.set(Mnemonic::Leave, build_leave);
}
