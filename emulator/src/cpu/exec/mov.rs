//! Data movement: mov, movzx, movsx, movsxd, lea, xchg, cmovcc, setcc, the sign-extension
//! family (cbw/cwde/cdqe, cwd/cdq/cqo), xlat, movbe, and the nop forms.

use iced_x86::{Instruction, Mnemonic};

use super::{form, operand_size, Form, Table};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::flags::{mask, sext};
use crate::cpu::operand::{Dst, Imm, Mem, Reg0, Reg1, Src};
use crate::cpu::{reg, Cpu};
use crate::{sized, sized_wide};

/// `dst = src`.
pub fn mov<D: Dst, V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if let Some(v) = V::get_fast::<S>(cpu, op) {
        if let Some((loc, _)) = D::load_fast::<S>(cpu, op, true) {
            D::store_fast::<S>(cpu, op, loc, v);
            return Ok(());
        }
    }
    mov_full::<D, V, S>(cpu, bus, op)
}

#[inline(never)]
fn mov_full<D: Dst, V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = V::get::<S>(cpu, bus, op)?;
    let loc = D::locate::<S>(cpu, bus, op, false)?;
    D::store::<S>(cpu, bus, op, loc, v)
}

/// `mov r64, imm64` and friends: the immediate is already the full value.
fn mov_r_imm<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.set_reg::<S>(op.r[0], op.imm);
    Ok(())
}

fn mov_r_r<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = cpu.reg::<S>(op.r[1]);
    cpu.set_reg::<S>(op.r[0], v);
    Ok(())
}

// The two commonest instructions of compiled code get a fast path that touches neither
// the stack nor the slow paths' `Result<u64, _>` (returned through memory): 64-bit mode
// and a TLB hit, else a tail call to the full handler, which redoes the access from the
// start (nothing has changed yet).

fn mov_r_m<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if let Some(lin) = cpu.linear_fast(op.mem.seg, cpu.ea(&op.mem)) {
        if let Some(v) = cpu.read_fast::<S>(lin) {
            cpu.set_reg::<S>(op.r[0], v);
            return Ok(());
        }
    }
    mov_r_m_full::<S>(cpu, bus, op)
}

#[inline(never)]
fn mov_r_m_full<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let lin = cpu.mem_lin::<S>(op, false)?;
    let v = cpu.read_lin::<S>(bus, lin)?;
    cpu.set_reg::<S>(op.r[0], v);
    Ok(())
}

fn mov_m_r<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if let Some(lin) = cpu.linear_fast(op.mem.seg, cpu.ea(&op.mem)) {
        if cpu.write_fast::<S>(lin, cpu.reg::<S>(op.r[1])) {
            return Ok(());
        }
    }
    mov_m_r_full::<S>(cpu, bus, op)
}

#[inline(never)]
fn mov_m_r_full<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let lin = cpu.mem_lin::<S>(op, true)?;
    let v = cpu.reg::<S>(op.r[1]);
    cpu.write_lin::<S>(bus, lin, v)
}

fn build_mov(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    let r0 = ins.op0_kind() == iced_x86::OpKind::Register;
    let r1 = ins.op_count() > 1 && ins.op1_kind() == iced_x86::OpKind::Register;
    if (r0 && ins.op0_register().is_segment_register()) || (r1 && ins.op1_register().is_segment_register()) {
        return super::system::build_mov_sreg(ins, op);
    }
    if (r0 && (ins.op0_register().is_cr() || ins.op0_register().is_dr())) || (r1 && (ins.op1_register().is_cr() || ins.op1_register().is_dr())) {
        return super::system::build_mov_crdr(ins, op);
    }
    match (form(ins, 0), form(ins, 1)) {
        (Form::Reg, Form::Reg) => sized!(size, mov_r_r),
        (Form::Reg, Form::Mem) => sized!(size, mov_r_m),
        (Form::Mem, Form::Reg) => sized!(size, mov_m_r),
        (Form::Reg, Form::Imm) => sized!(size, mov_r_imm),
        (Form::Mem, Form::Imm) => sized!(size, mov::<Mem, Imm>),
        _ => None,
    }
}

/// `movzx`/`movsx`/`movsxd`: destination `D` bytes, source `S` bytes, sign-extending if `SX`.
fn extend<V: Src, const SX: bool, const S: usize, const D: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    match V::get_fast::<S>(cpu, op) {
        Some(v) => {
            extend_value::<SX, S, D>(cpu, op, v);
            Ok(())
        }
        None => extend_full::<V, SX, S, D>(cpu, bus, op),
    }
}

#[inline(never)]
fn extend_full<V: Src, const SX: bool, const S: usize, const D: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = V::get::<S>(cpu, bus, op)?;
    extend_value::<SX, S, D>(cpu, op, v);
    Ok(())
}

#[inline(always)]
fn extend_value<const SX: bool, const S: usize, const D: usize>(cpu: &mut Cpu, op: &Op, v: u64) {
    let v = if SX { sext::<S>(v) as u64 } else { v };
    cpu.set_reg::<D>(op.r[0], v & mask::<D>());
}

fn build_extend<const SX: bool>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let d = operand_size(ins, 0);
    let s = operand_size(ins, 1);
    macro_rules! pick {
        ($v:ty) => {
            match (s, d) {
                (1, 2) => Some(extend::<$v, SX, 1, 2> as Handler),
                (1, 4) => Some(extend::<$v, SX, 1, 4> as Handler),
                (1, 8) => Some(extend::<$v, SX, 1, 8> as Handler),
                (2, 2) => Some(extend::<$v, SX, 2, 2> as Handler),
                (2, 4) => Some(extend::<$v, SX, 2, 4> as Handler),
                (2, 8) => Some(extend::<$v, SX, 2, 8> as Handler),
                (4, 4) => Some(extend::<$v, SX, 4, 4> as Handler),
                (4, 8) => Some(extend::<$v, SX, 4, 8> as Handler),
                (4, 2) => Some(extend::<$v, SX, 4, 2> as Handler),
                _ => None,
            }
        };
    }
    match form(ins, 1) {
        Form::Reg => pick!(Reg1),
        Form::Mem => pick!(Mem),
        _ => None,
    }
}

/// `lea r, m`: the effective address, truncated to the operand size.
fn lea<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let a = cpu.ea(&op.mem);
    cpu.set_reg::<S>(op.r[0], a);
    Ok(())
}

fn build_lea(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    if form(ins, 1) != Form::Mem {
        return None;
    }
    sized_wide!(operand_size(ins, 0), lea)
}

fn xchg<D: Dst, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let loc = D::locate::<S>(cpu, bus, op, true)?;
    let a = D::load::<S>(cpu, bus, op, loc)?;
    let b = cpu.reg::<S>(op.r[1]);
    D::store::<S>(cpu, bus, op, loc, b)?;
    cpu.set_reg::<S>(op.r[1], a);
    Ok(())
}

fn nop(_: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    Ok(())
}

fn build_xchg(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    match (form(ins, 0), form(ins, 1)) {
        // `xchg eax, eax` (0x90) is nop; in 64-bit mode 87 c0 still zero-extends.
        (Form::Reg, Form::Reg) if op.r[0] == op.r[1] && size != 4 => Some(nop as Handler),
        (Form::Reg, Form::Reg) => sized!(size, xchg::<Reg0>),
        (Form::Mem, Form::Reg) => sized!(size, xchg::<Mem>),
        (Form::Reg, Form::Mem) => {
            // Normalise to memory-first so one handler serves both encodings.
            op.r[1] = op.r[0];
            sized!(size, xchg::<Mem>)
        }
        _ => None,
    }
}

/// `cmovcc`: the source is read (and may fault) even when the condition is false; a 32-bit
/// destination is zero-extended either way.
fn cmov<V: Src, const CC: u8, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = V::get::<S>(cpu, bus, op)?;
    if cpu.flags.cond(CC) {
        cpu.set_reg::<S>(op.r[0], v);
    } else if S == 4 {
        let old = cpu.reg::<4>(op.r[0]);
        cpu.set_reg::<4>(op.r[0], old);
    }
    Ok(())
}

/// `setcc r/m8`.
fn setcc<D: Dst, const CC: u8>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = cpu.flags.cond(CC) as u64;
    let loc = D::locate::<1>(cpu, bus, op, true)?;
    D::store::<1>(cpu, bus, op, loc, v)
}

/// iced's condition code as the low nibble of the Jcc opcode.
pub fn cc_of(ins: &Instruction) -> Option<u8> {
    let c = ins.condition_code() as u8;
    (c != 0).then(|| c - 1)
}

/// Expands to a `match` over the 16 condition codes, instantiating `$f` with each.
#[macro_export]
macro_rules! by_cc {
    ($cc:expr, |$c:ident| $e:expr) => {
        match $cc {
            0 => { const $c: u8 = 0; $e }
            1 => { const $c: u8 = 1; $e }
            2 => { const $c: u8 = 2; $e }
            3 => { const $c: u8 = 3; $e }
            4 => { const $c: u8 = 4; $e }
            5 => { const $c: u8 = 5; $e }
            6 => { const $c: u8 = 6; $e }
            7 => { const $c: u8 = 7; $e }
            8 => { const $c: u8 = 8; $e }
            9 => { const $c: u8 = 9; $e }
            10 => { const $c: u8 = 10; $e }
            11 => { const $c: u8 = 11; $e }
            12 => { const $c: u8 = 12; $e }
            13 => { const $c: u8 = 13; $e }
            14 => { const $c: u8 = 14; $e }
            _ => { const $c: u8 = 15; $e }
        }
    };
}

fn build_cmov(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let cc = cc_of(ins)?;
    let size = operand_size(ins, 0);
    match form(ins, 1) {
        Form::Reg => by_cc!(cc, |C| sized_wide!(size, cmov::<Reg1, { C }>)),
        Form::Mem => by_cc!(cc, |C| sized_wide!(size, cmov::<Mem, { C }>)),
        _ => None,
    }
}

fn build_setcc(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let cc = cc_of(ins)?;
    match form(ins, 0) {
        Form::Reg => by_cc!(cc, |C| Some(setcc::<Reg0, C> as Handler)),
        Form::Mem => by_cc!(cc, |C| Some(setcc::<Mem, C> as Handler)),
        _ => None,
    }
}

/// cbw / cwde / cdqe: sign-extend the low half of rAX into rAX (`S` = result size).
fn cbw<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    let v = match S {
        2 => sext::<1>(cpu.reg::<1>(reg::RAX)),
        4 => sext::<2>(cpu.reg::<2>(reg::RAX)),
        _ => sext::<4>(cpu.reg::<4>(reg::RAX)),
    } as u64;
    cpu.set_reg::<S>(reg::RAX, v);
    Ok(())
}

/// cwd / cdq / cqo: rDX = the sign of rAX, replicated.
fn cwd<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    let neg = sext::<S>(cpu.reg::<S>(reg::RAX)) < 0;
    cpu.set_reg::<S>(reg::RDX, if neg { u64::MAX } else { 0 });
    Ok(())
}

/// `xlat`: AL = [seg:rBX + AL]. iced describes the operand as `[rbx+al]`, which the
/// generic address form cannot express (its index would be all of rAX), so it is formed here.
fn xlat(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let off = cpu.gpr[reg::RBX as usize].wrapping_add(cpu.reg::<1>(reg::RAX)) & op.mem.amask;
    let v = cpu.read_seg::<1>(bus, op.mem.seg, off)?;
    cpu.set_reg::<1>(reg::RAX, v);
    Ok(())
}

/// Reverses the byte order of an `S`-byte value.
#[inline(always)]
fn swap<const S: usize>(v: u64) -> u64 {
    v.swap_bytes() >> (64 - 8 * S as u32)
}

/// `movbe r, m` / `movbe m, r`: a move with the bytes reversed.
fn movbe<D: Dst, V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = V::get::<S>(cpu, bus, op)?;
    let loc = D::locate::<S>(cpu, bus, op, false)?;
    D::store::<S>(cpu, bus, op, loc, swap::<S>(v))
}

fn build_movbe(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    match (form(ins, 0), form(ins, 1)) {
        (Form::Reg, Form::Mem) => sized_wide!(size, movbe::<Reg0, Mem>),
        (Form::Mem, Form::Reg) => sized_wide!(size, movbe::<Mem, Reg1>),
        _ => None,
    }
}

pub fn register(t: &mut Table) {
    t.set(Mnemonic::Xlatb, |_, _| Some(xlat as Handler));
    t.set(Mnemonic::Movbe, build_movbe);
    t.set(Mnemonic::Mov, build_mov);
    t.set(Mnemonic::Movzx, build_extend::<false>);
    t.set_all(&[Mnemonic::Movsx, Mnemonic::Movsxd], build_extend::<true>);
    t.set(Mnemonic::Lea, build_lea);
    t.set(Mnemonic::Xchg, build_xchg);
    t.set_all(&[Mnemonic::Nop, Mnemonic::Pause, Mnemonic::Endbr64, Mnemonic::Endbr32], |_, _| Some(nop as Handler));
    t.set_all(
        &[
            Mnemonic::Cmovo,
            Mnemonic::Cmovno,
            Mnemonic::Cmovb,
            Mnemonic::Cmovae,
            Mnemonic::Cmove,
            Mnemonic::Cmovne,
            Mnemonic::Cmovbe,
            Mnemonic::Cmova,
            Mnemonic::Cmovs,
            Mnemonic::Cmovns,
            Mnemonic::Cmovp,
            Mnemonic::Cmovnp,
            Mnemonic::Cmovl,
            Mnemonic::Cmovge,
            Mnemonic::Cmovle,
            Mnemonic::Cmovg,
        ],
        build_cmov,
    );
    t.set_all(
        &[
            Mnemonic::Seto,
            Mnemonic::Setno,
            Mnemonic::Setb,
            Mnemonic::Setae,
            Mnemonic::Sete,
            Mnemonic::Setne,
            Mnemonic::Setbe,
            Mnemonic::Seta,
            Mnemonic::Sets,
            Mnemonic::Setns,
            Mnemonic::Setp,
            Mnemonic::Setnp,
            Mnemonic::Setl,
            Mnemonic::Setge,
            Mnemonic::Setle,
            Mnemonic::Setg,
        ],
        build_setcc,
    );
    t.set(Mnemonic::Cbw, |_, _| Some(cbw::<2> as Handler));
    t.set(Mnemonic::Cwde, |_, _| Some(cbw::<4> as Handler));
    t.set(Mnemonic::Cdqe, |_, _| Some(cbw::<8> as Handler));
    t.set(Mnemonic::Cwd, |_, _| Some(cwd::<2> as Handler));
    t.set(Mnemonic::Cdq, |_, _| Some(cwd::<4> as Handler));
    t.set(Mnemonic::Cqo, |_, _| Some(cwd::<8> as Handler));
}
