//! Stack operations: push, pop, leave (enter, pusha/popa and segment pushes belong here too).

use iced_x86::{Instruction, Mnemonic};

use super::{form, operand_size, Form, Table};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::operand::{Dst, Imm, Mem, Reg0, Src};
use crate::cpu::segment::{ATTR_DB, SS};
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

    /// Reads the `S`-byte value `depth` bytes above the stack pointer without popping.
    #[inline(always)]
    pub fn peek<const S: usize>(&mut self, bus: &mut dyn Bus, depth: u64) -> Result<u64, Exception> {
        let m = self.stack_mask();
        let sp = self.gpr[reg::RSP as usize];
        self.read_seg::<S>(bus, SS, sp.wrapping_add(depth) & m)
    }
}

fn push<V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = V::get::<S>(cpu, bus, op)?;
    cpu.push::<S>(bus, v)
}

/// `push rsp` pushes the value before the decrement, which `push` above already does.
fn build_push(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    if ins.op0_kind() == iced_x86::OpKind::Register && ins.op0_register().is_segment_register() {
        return None;
    }
    let size = match form(ins, 0) {
        Form::Imm => ins.stack_pointer_increment().unsigned_abs() as usize,
        _ => operand_size(ins, 0),
    };
    match form(ins, 0) {
        Form::Reg => sized_wide!(size, push::<Reg0>),
        Form::Mem => sized_wide!(size, push::<Mem>),
        Form::Imm => sized_wide!(size, push::<Imm>),
        Form::Other => None,
    }
}

/// `pop r/m`. For a memory destination the address is computed with RSP already
/// incremented, as the SDM specifies.
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

fn build_pop(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    if ins.op0_kind() == iced_x86::OpKind::Register && ins.op0_register().is_segment_register() {
        return None;
    }
    let size = operand_size(ins, 0);
    match form(ins, 0) {
        Form::Reg => sized_wide!(size, pop::<Reg0>),
        Form::Mem => sized_wide!(size, pop::<Mem>),
        _ => None,
    }
}

/// `leave`: RSP = RBP, then pop RBP (`S` is the operand size).
fn leave<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    let m = cpu.stack_mask();
    let bp = cpu.gpr[reg::RBP as usize] & m;
    let v = cpu.read_seg::<S>(bus, SS, bp)?;
    let sp = cpu.gpr[reg::RSP as usize];
    cpu.gpr[reg::RSP as usize] = (sp & !m) | (bp.wrapping_add(S as u64) & m);
    cpu.set_reg::<S>(reg::RBP, v);
    Ok(())
}

fn build_leave(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    sized_wide!(ins.stack_pointer_increment() as usize, leave)
}

pub fn register(t: &mut Table) {
    t.set(Mnemonic::Push, build_push);
    t.set(Mnemonic::Pop, build_pop);
    t.set(Mnemonic::Leave, build_leave);
}
