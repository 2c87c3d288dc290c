//! System instructions: flag control, hlt, port I/O (and, to come: descriptor tables,
//! control registers, MSRs, far transfers, int/iret, syscall/sysret, cpuid, rdtsc).

use iced_x86::{Instruction, Mnemonic};

use super::{Form, Table};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::flags::{CF, DF, IF};
use crate::cpu::{reg, Cpu};

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
    let base = cpu.read_sys::<2>(bus, cpu.tr.base + 0x66)? as u64;
    let byte = base + (port as u64 >> 3);
    if byte + 1 > cpu.tr.limit as u64 {
        return Err(Exception::gp(0));
    }
    let bits = cpu.read_sys::<2>(bus, cpu.tr.base + byte)?;
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
    cpu.after_port_io(bus);
    Ok(())
}

/// `out imm8|dx, al/ax/eax`.
fn out<const S: usize, const DX: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let port = if DX { cpu.gpr[reg::RDX as usize] as u16 } else { op.imm as u16 };
    check_io(cpu, bus, port, S as u8)?;
    let v = cpu.reg::<S>(reg::RAX);
    bus.port_write(cpu.now(), port, S as u8, v as u32);
    cpu.after_port_io(bus);
    Ok(())
}

fn build_in(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    op.stop = true;
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

/// `mov sreg, r/m` and `mov r/m, sreg`.
pub(crate) fn build_mov_sreg(_ins: &Instruction, _op: &mut Op) -> Option<Handler> {
    None
}

/// `mov cr, r` / `mov r, cr` / `mov dr, r` / `mov r, dr`.
pub(crate) fn build_mov_crdr(_ins: &Instruction, _op: &mut Op) -> Option<Handler> {
    None
}

/// Far `jmp`/`call` (direct ptr16:16/32 or indirect m16:16/32/64).
pub(crate) fn build_far(_ins: &Instruction) -> Option<Handler> {
    None
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
}
