//! Near control transfers: jmp, jcc, call, ret, loop/loope/loopne, jcxz/jecxz/jrcxz.
//! (Far transfers, int and iret live with the system instructions.)

use iced_x86::{Instruction, Mnemonic, OpKind};

use super::{form, operand_size, Form, Table};
use crate::bus::Bus;
use crate::by_cc;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::operand::{Mem, Reg0, Src};
use crate::cpu::{reg, Cpu};
use crate::sized_wide;

/// Mask for a branch of operand size `S` (targets wrap at 64 KiB or 4 GiB).
#[inline(always)]
const fn ip_mask<const S: usize>() -> u64 {
    match S {
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    }
}

#[inline(always)]
fn rel_target<const S: usize>(cpu: &Cpu, op: &Op) -> u64 {
    cpu.next_rip().wrapping_add(op.imm) & ip_mask::<S>()
}

fn jmp_rel<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let t = rel_target::<S>(cpu, op);
    cpu.set_next_rip(t);
    Ok(())
}

fn jmp_ind<V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let t = V::get::<S>(cpu, bus, op)?;
    cpu.set_next_rip(t);
    Ok(())
}

fn jcc<const CC: u8, const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if cpu.flags.cond(CC) {
        let t = rel_target::<S>(cpu, op);
        cpu.set_next_rip(t);
    }
    Ok(())
}

// call, call r and ret have frameless fast paths ([`Cpu::push_fast`]) with a tail call to
// the full handler.

fn call_rel<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if cpu.push_fast::<S>(cpu.next_rip()) {
        cpu.set_next_rip(rel_target::<S>(cpu, op));
        return Ok(());
    }
    call_rel_full::<S>(cpu, bus, op)
}

#[inline(never)]
fn call_rel_full<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let ret = cpu.next_rip();
    let t = rel_target::<S>(cpu, op);
    cpu.push::<S>(bus, ret)?;
    cpu.set_next_rip(t);
    Ok(())
}

fn call_r<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let t = cpu.reg::<S>(op.r[0]);
    if cpu.push_fast::<S>(cpu.next_rip()) {
        cpu.set_next_rip(t);
        return Ok(());
    }
    call_ind::<Reg0, S>(cpu, bus, op)
}

#[inline(never)]
fn call_ind<V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let t = V::get::<S>(cpu, bus, op)?;
    let ret = cpu.next_rip();
    cpu.push::<S>(bus, ret)?;
    cpu.set_next_rip(t);
    Ok(())
}

/// `ret` / `ret imm16` (the immediate is released after the pop).
fn ret<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if let Some(t) = cpu.pop_fast::<S>() {
        // 64-bit mode (the fast path's condition): RSP is not masked.
        cpu.gpr[reg::RSP as usize] = cpu.gpr[reg::RSP as usize].wrapping_add(op.imm);
        cpu.set_next_rip(t);
        return Ok(());
    }
    ret_full::<S>(cpu, bus, op)
}

#[inline(never)]
fn ret_full<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let t = cpu.pop::<S>(bus)?;
    if op.imm != 0 {
        let m = cpu.stack_mask();
        let sp = cpu.gpr[reg::RSP as usize];
        cpu.gpr[reg::RSP as usize] = (sp & !m) | (sp.wrapping_add(op.imm) & m);
    }
    cpu.set_next_rip(t);
    Ok(())
}

/// Size of a near branch from its operand kind.
fn branch_size(ins: &Instruction) -> usize {
    match ins.op0_kind() {
        OpKind::NearBranch16 => 2,
        OpKind::NearBranch32 => 4,
        OpKind::NearBranch64 => 8,
        _ => operand_size(ins, 0),
    }
}

fn build_jmp(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = branch_size(ins);
    match ins.op0_kind() {
        OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64 => sized_wide!(size, jmp_rel),
        _ => match form(ins, 0) {
            Form::Reg => sized_wide!(size, jmp_ind::<Reg0>),
            Form::Mem if ins.memory_size().size() == size && size >= 2 && !ins.memory_size().is_packed() && !is_far(ins) => sized_wide!(size, jmp_ind::<Mem>),
            _ => super::system::build_far(ins),
        },
    }
}

fn is_far(ins: &Instruction) -> bool {
    matches!(ins.op0_kind(), OpKind::FarBranch16 | OpKind::FarBranch32) || matches!(ins.memory_size(), iced_x86::MemorySize::SegPtr16 | iced_x86::MemorySize::SegPtr32 | iced_x86::MemorySize::SegPtr64)
}

fn build_call(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = branch_size(ins);
    match ins.op0_kind() {
        OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64 => sized_wide!(size, call_rel),
        _ => match form(ins, 0) {
            Form::Reg => sized_wide!(size, call_r),
            Form::Mem if !is_far(ins) => sized_wide!(size, call_ind::<Mem>),
            _ => super::system::build_far(ins),
        },
    }
}

fn build_jcc(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let cc = super::mov::cc_of(ins)?;
    let size = branch_size(ins);
    by_cc!(cc, |C| sized_wide!(size, jcc::<C>))
}

fn build_ret(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    // Stack pointer increment is -(size + imm); derive the operand size from the code.
    let imm = if ins.op_count() > 0 { ins.immediate(0) } else { 0 };
    let size = (ins.stack_pointer_increment() as i64 - imm as i64) as usize;
    sized_wide!(size, ret)
}

/// Width of the counter register (CX/ECX/RCX) is the address size.
#[inline(always)]
fn counter(cpu: &Cpu, asize: u8) -> u64 {
    match asize {
        2 => cpu.gpr[reg::RCX as usize] & 0xffff,
        4 => cpu.gpr[reg::RCX as usize] & 0xffff_ffff,
        _ => cpu.gpr[reg::RCX as usize],
    }
}

#[inline(always)]
fn dec_counter(cpu: &mut Cpu, asize: u8) -> u64 {
    let c = counter(cpu, asize).wrapping_sub(1);
    match asize {
        2 => cpu.set_reg::<2>(reg::RCX, c),
        4 => cpu.set_reg::<4>(reg::RCX, c),
        _ => cpu.set_reg::<8>(reg::RCX, c),
    }
    c & match asize {
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    }
}

/// loop (K=0), loope (K=1), loopne (K=2).
fn loop_<const K: u8, const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let c = dec_counter(cpu, op.asize);
    let take = c != 0
        && match K {
            1 => cpu.flags.zf(),
            2 => !cpu.flags.zf(),
            _ => true,
        };
    if take {
        let t = rel_target::<S>(cpu, op);
        cpu.set_next_rip(t);
    }
    Ok(())
}

fn jcxz<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if counter(cpu, op.asize) == 0 {
        let t = rel_target::<S>(cpu, op);
        cpu.set_next_rip(t);
    }
    Ok(())
}

pub fn register(t: &mut Table) {
    t.set(Mnemonic::Jmp, build_jmp);
    t.set(Mnemonic::Call, build_call);
    t.set(Mnemonic::Ret, build_ret);
    t.set_all(
        &[
            Mnemonic::Jo,
            Mnemonic::Jno,
            Mnemonic::Jb,
            Mnemonic::Jae,
            Mnemonic::Je,
            Mnemonic::Jne,
            Mnemonic::Jbe,
            Mnemonic::Ja,
            Mnemonic::Js,
            Mnemonic::Jns,
            Mnemonic::Jp,
            Mnemonic::Jnp,
            Mnemonic::Jl,
            Mnemonic::Jge,
            Mnemonic::Jle,
            Mnemonic::Jg,
        ],
        build_jcc,
    );
    t.set(Mnemonic::Loop, |i, _| sized_wide!(branch_size(i), loop_::<0>));
    t.set(Mnemonic::Loope, |i, _| sized_wide!(branch_size(i), loop_::<1>));
    t.set(Mnemonic::Loopne, |i, _| sized_wide!(branch_size(i), loop_::<2>));
    t.set_all(&[Mnemonic::Jcxz, Mnemonic::Jecxz, Mnemonic::Jrcxz], |i, _| sized_wide!(branch_size(i), jcxz));
}
