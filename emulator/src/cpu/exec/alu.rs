//! Integer arithmetic and logic: add, or, adc, sbb, and, sub, xor, cmp, test, inc, dec,
//! neg, not; the exchanging read-modify-writes xadd, cmpxchg, cmpxchg8b/16b; and the
//! flag transfers lahf/sahf.
//!
//! One generic handler per shape ([`binary`], [`unary`]) serves every operand form and
//! size; the operation itself is a zero-sized [`BinOp`] / [`UnOp`] type.
//!
//! A `lock` prefix needs nothing: the emulator runs one CPU, so every read-modify-write is
//! already atomic.

use iced_x86::{Instruction, Mnemonic};

use super::{form, operand_size, Form, Table};
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::flags::{mask, Flags, AF, CF, PF, SF, ZF};
use crate::cpu::operand::{Dst, Imm, Mem, Reg0, Reg1, Src};
use crate::cpu::{reg, Cpu};
use crate::bus::Bus;
use crate::sized;

/// A two-operand ALU operation.
pub trait BinOp {
    /// Whether the result is written back (false for cmp and test).
    const WRITES: bool = true;
    fn apply<const S: usize>(f: &mut Flags, a: u64, b: u64) -> u64;
}

pub struct Add;
pub struct Or;
pub struct Adc;
pub struct Sbb;
pub struct And;
pub struct Sub;
pub struct Xor;
pub struct Cmp;
pub struct Test;

impl BinOp for Add {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, b: u64) -> u64 {
        f.add::<S>(a, b)
    }
}
impl BinOp for Or {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, b: u64) -> u64 {
        f.logic::<S>(a | b)
    }
}
impl BinOp for Adc {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, b: u64) -> u64 {
        f.adc::<S>(a, b)
    }
}
impl BinOp for Sbb {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, b: u64) -> u64 {
        f.sbb::<S>(a, b)
    }
}
impl BinOp for And {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, b: u64) -> u64 {
        f.logic::<S>(a & b)
    }
}
impl BinOp for Sub {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, b: u64) -> u64 {
        f.sub::<S>(a, b)
    }
}
impl BinOp for Xor {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, b: u64) -> u64 {
        f.logic::<S>(a ^ b)
    }
}
impl BinOp for Cmp {
    const WRITES: bool = false;
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, b: u64) -> u64 {
        f.sub::<S>(a, b)
    }
}
impl BinOp for Test {
    const WRITES: bool = false;
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, b: u64) -> u64 {
        f.logic::<S>(a & b)
    }
}

/// `dst = dst OP src` for every form: r/m, r; r, r/m; r/m, imm.
///
/// The memory forms first try a frameless fast path ([`Src::get_fast`], [`Dst::load_fast`])
/// and fall back to the full handler with a tail call; for register and immediate forms
/// the fast path is all there is.
pub fn binary<K: BinOp, D: Dst, V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if let Some(b) = V::get_fast::<S>(cpu, op) {
        if let Some((loc, a)) = D::load_fast::<S>(cpu, op, K::WRITES) {
            let r = K::apply::<S>(&mut cpu.flags, a, b);
            if K::WRITES {
                D::store_fast::<S>(cpu, op, loc, r);
            }
            return Ok(());
        }
    }
    binary_full::<K, D, V, S>(cpu, bus, op)
}

#[inline(never)]
fn binary_full<K: BinOp, D: Dst, V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let b = V::get::<S>(cpu, bus, op)?;
    let loc = D::locate::<S>(cpu, bus, op, K::WRITES)?;
    let a = D::load::<S>(cpu, bus, op, loc)?;
    let r = K::apply::<S>(&mut cpu.flags, a, b);
    if K::WRITES {
        D::store::<S>(cpu, bus, op, loc, r)?;
    }
    Ok(())
}

/// `xor r, r` / `sub r, r`: the zeroing idiom, which needs no read.
fn zero_idiom<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.flags.logic::<S>(0);
    cpu.set_reg::<S>(op.r[0], 0);
    Ok(())
}

fn sub_zero<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.flags.sub::<S>(0, 0);
    cpu.set_reg::<S>(op.r[0], 0);
    Ok(())
}

fn build_binary<K: BinOp + 'static>(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    match (form(ins, 0), form(ins, 1)) {
        (Form::Reg, Form::Reg) => sized!(size, binary::<K, Reg0, Reg1>),
        (Form::Reg, Form::Mem) => sized!(size, binary::<K, Reg0, Mem>),
        (Form::Mem, Form::Reg) => sized!(size, binary::<K, Mem, Reg1>),
        (Form::Reg, Form::Imm) => sized!(size, binary::<K, Reg0, Imm>),
        (Form::Mem, Form::Imm) => sized!(size, binary::<K, Mem, Imm>),
        _ => {
            let _ = op;
            None
        }
    }
}

fn build_xor(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if form(ins, 0) == Form::Reg && form(ins, 1) == Form::Reg && op.r[0] == op.r[1] {
        return sized!(operand_size(ins, 0), zero_idiom);
    }
    build_binary::<Xor>(ins, op)
}

fn build_sub(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if form(ins, 0) == Form::Reg && form(ins, 1) == Form::Reg && op.r[0] == op.r[1] {
        return sized!(operand_size(ins, 0), sub_zero);
    }
    build_binary::<Sub>(ins, op)
}

/// A one-operand ALU operation.
pub trait UnOp {
    fn apply<const S: usize>(f: &mut Flags, a: u64) -> u64;
}

pub struct Inc;
pub struct Dec;
pub struct Neg;
pub struct Not;

impl UnOp for Inc {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64) -> u64 {
        f.inc::<S>(a)
    }
}
impl UnOp for Dec {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64) -> u64 {
        f.dec::<S>(a)
    }
}
impl UnOp for Neg {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64) -> u64 {
        f.sub::<S>(0, a)
    }
}
impl UnOp for Not {
    #[inline(always)]
    fn apply<const S: usize>(_: &mut Flags, a: u64) -> u64 {
        !a & mask::<S>()
    }
}

/// `dst = OP dst`.
/// With a fast path as [`binary`] has.
pub fn unary<K: UnOp, D: Dst, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    if let Some((loc, a)) = D::load_fast::<S>(cpu, op, true) {
        let r = K::apply::<S>(&mut cpu.flags, a);
        D::store_fast::<S>(cpu, op, loc, r);
        return Ok(());
    }
    unary_full::<K, D, S>(cpu, bus, op)
}

#[inline(never)]
fn unary_full<K: UnOp, D: Dst, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let loc = D::locate::<S>(cpu, bus, op, true)?;
    let a = D::load::<S>(cpu, bus, op, loc)?;
    let r = K::apply::<S>(&mut cpu.flags, a);
    D::store::<S>(cpu, bus, op, loc, r)
}

fn build_unary<K: UnOp + 'static>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    match form(ins, 0) {
        Form::Reg => sized!(size, unary::<K, Reg0>),
        Form::Mem => sized!(size, unary::<K, Mem>),
        _ => None,
    }
}

/// `xadd dst, r`: r = dst, dst = dst + r, flags as add. The destination is written last,
/// so `xadd eax, eax` doubles eax.
pub fn xadd<D: Dst, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let loc = D::locate::<S>(cpu, bus, op, true)?;
    let a = D::load::<S>(cpu, bus, op, loc)?;
    let b = cpu.reg::<S>(op.r[1]);
    let r = cpu.flags.add::<S>(a, b);
    cpu.set_reg::<S>(op.r[1], a);
    D::store::<S>(cpu, bus, op, loc, r)
}

/// `cmpxchg dst, r`: flags as `cmp acc, dst`; if equal dst = r, else acc = dst. On failure
/// a memory destination is still written with its old value (the locked write cycle
/// happens, `WB`), while a register destination is left alone: a 32-bit one is not
/// zero-extended, as the host shows.
pub fn cmpxchg<D: Dst, const WB: bool, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let loc = D::locate::<S>(cpu, bus, op, true)?;
    let d = D::load::<S>(cpu, bus, op, loc)?;
    let acc = cpu.reg::<S>(reg::RAX);
    cpu.flags.sub::<S>(acc, d);
    if acc == d {
        let v = cpu.reg::<S>(op.r[1]);
        D::store::<S>(cpu, bus, op, loc, v)
    } else {
        if WB {
            D::store::<S>(cpu, bus, op, loc, d)?;
        }
        cpu.set_reg::<S>(reg::RAX, d);
        Ok(())
    }
}

fn build_xchg_rmw(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    let cmpxchg_ = ins.mnemonic() == Mnemonic::Cmpxchg;
    match (form(ins, 0), form(ins, 1), cmpxchg_) {
        (Form::Reg, Form::Reg, false) => sized!(size, xadd::<Reg0>),
        (Form::Mem, Form::Reg, false) => sized!(size, xadd::<Mem>),
        (Form::Reg, Form::Reg, true) => sized!(size, cmpxchg::<Reg0, false>),
        (Form::Mem, Form::Reg, true) => sized!(size, cmpxchg::<Mem, true>),
        _ => None,
    }
}

/// `cmpxchg8b m64` (`H` = 4) / `cmpxchg16b m128` (`H` = 8): compare rDX:rAX with the
/// memory operand; if equal store rCX:rBX and set ZF, else load it into rDX:rAX (writing
/// the old value back) and clear ZF. Only ZF changes. cmpxchg16b needs a 16-byte aligned
/// operand.
pub fn cmpxchg_wide<const H: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let off = cpu.ea(&op.mem);
    if H == 8 && off & 15 != 0 {
        return Err(Exception::gp(0));
    }
    let lin = cpu.linear(op.mem.seg, off, 2 * H, true)?;
    let lin_hi = lin.wrapping_add(H as u64);
    // Both halves must be writable before either is touched.
    cpu.probe_write::<H>(bus, lin)?;
    cpu.probe_write::<H>(bus, lin_hi)?;
    let lo = cpu.read_lin::<H>(bus, lin)?;
    let hi = cpu.read_lin::<H>(bus, lin_hi)?;
    let eq = lo == cpu.reg::<H>(reg::RAX) && hi == cpu.reg::<H>(reg::RDX);
    let (nlo, nhi) = if eq { (cpu.reg::<H>(reg::RBX), cpu.reg::<H>(reg::RCX)) } else { (lo, hi) };
    cpu.write_lin::<H>(bus, lin, nlo)?;
    cpu.write_lin::<H>(bus, lin_hi, nhi)?;
    if !eq {
        cpu.set_reg::<H>(reg::RAX, lo);
        cpu.set_reg::<H>(reg::RDX, hi);
    }
    cpu.flags.set_bit(ZF, eq);
    Ok(())
}

/// AH in the byte-register numbering of [`Cpu::reg`].
const AH: u8 = 16;

/// `lahf`: AH = SF:ZF:0:AF:0:PF:1:CF.
fn lahf(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    let v = cpu.flags.get() & (SF | ZF | AF | PF | CF | 2);
    cpu.set_reg::<1>(AH, v);
    Ok(())
}

/// `sahf`: SF, ZF, AF, PF and CF from AH.
fn sahf(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    let v = cpu.reg::<1>(AH);
    cpu.flags.set_masked(SF | ZF | AF | PF | CF, v);
    Ok(())
}

pub fn register(t: &mut Table) {
    t.set_all(&[Mnemonic::Xadd, Mnemonic::Cmpxchg], build_xchg_rmw);
    t.set(Mnemonic::Cmpxchg8b, |ins, _| (form(ins, 0) == Form::Mem).then_some(cmpxchg_wide::<4> as Handler));
    t.set(Mnemonic::Cmpxchg16b, |ins, _| (form(ins, 0) == Form::Mem).then_some(cmpxchg_wide::<8> as Handler));
    t.set(Mnemonic::Lahf, |_, _| Some(lahf as Handler));
    t.set(Mnemonic::Sahf, |_, _| Some(sahf as Handler));
    t.set(Mnemonic::Add, build_binary::<Add>);
    t.set(Mnemonic::Or, build_binary::<Or>);
    t.set(Mnemonic::Adc, build_binary::<Adc>);
    t.set(Mnemonic::Sbb, build_binary::<Sbb>);
    t.set(Mnemonic::And, build_binary::<And>);
    t.set(Mnemonic::Sub, build_sub);
    t.set(Mnemonic::Xor, build_xor);
    t.set(Mnemonic::Cmp, build_binary::<Cmp>);
    t.set(Mnemonic::Test, build_binary::<Test>);
    t.set(Mnemonic::Inc, build_unary::<Inc>);
    t.set(Mnemonic::Dec, build_unary::<Dec>);
    t.set(Mnemonic::Neg, build_unary::<Neg>);
    t.set(Mnemonic::Not, build_unary::<Not>);
}
