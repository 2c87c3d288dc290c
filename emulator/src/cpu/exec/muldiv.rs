//! Multiply and divide: mul, imul (one, two and three operands), div, idiv.
//!
//! Products and dividends are formed in 128 bits, so every size shares one handler and no
//! intermediate can overflow. Division raises #DE for a zero divisor and for a quotient that
//! does not fit the destination (including INT_MIN / -1), before anything is written.

use iced_x86::{Instruction, Mnemonic};

use super::{form, operand_size, Form, Table};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::flags::{mask, sext, AF, CF, OF, PF, SF, ZF};
use crate::cpu::operand::{Imm, Mem, Reg0, Reg1, Src};
use crate::cpu::{reg, Cpu};
use crate::{sized, sized_wide};

/// AH, in the byte-register numbering of [`Cpu::reg`].
const AH: u8 = 16;

/// The full product of two `S`-byte values, signed or not, as (low half, high half,
/// whether the high half carries information). The last is CF = OF.
#[inline(always)]
fn product<const SIGNED: bool, const S: usize>(a: u64, b: u64) -> (u64, u64, bool) {
    let w = S as u32 * 8;
    if SIGNED {
        let p = sext::<S>(a) as i128 * sext::<S>(b) as i128;
        let lo = p as u64 & mask::<S>();
        (lo, (p >> w) as u64 & mask::<S>(), p != sext::<S>(lo) as i128)
    } else {
        let p = a as u128 * b as u128;
        let hi = (p >> w) as u64 & mask::<S>();
        (p as u64 & mask::<S>(), hi, hi != 0)
    }
}

/// Flags of a multiply: CF and OF as the SDM defines; SF, ZF, AF and PF are undefined,
/// and the modelled AMD part leaves them unchanged, so we do too (README: undefined results).
#[inline(always)]
fn mul_flags(cpu: &mut Cpu, over: bool) {
    cpu.flags.set_masked(CF | OF, over as u64 * (CF | OF));
}

/// One-operand `mul`/`imul`: rDX:rAX (AX for bytes) = rAX * src.
pub fn mul1<V: Src, const SIGNED: bool, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let b = V::get::<S>(cpu, bus, op)?;
    let a = cpu.reg::<S>(reg::RAX);
    let (lo, hi, over) = product::<SIGNED, S>(a, b);
    if S == 1 {
        cpu.set_reg::<2>(reg::RAX, hi << 8 | lo);
    } else {
        cpu.set_reg::<S>(reg::RAX, lo);
        cpu.set_reg::<S>(reg::RDX, hi);
    }
    mul_flags(cpu, over);
    Ok(())
}

/// Two-operand `imul r, r/m`: r = r * src, truncated.
pub fn imul2<V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let b = V::get::<S>(cpu, bus, op)?;
    let a = cpu.reg::<S>(op.r[0]);
    let (lo, _, over) = product::<true, S>(a, b);
    cpu.set_reg::<S>(op.r[0], lo);
    mul_flags(cpu, over);
    Ok(())
}

/// Three-operand `imul r, r/m, imm`: r = src * imm, truncated.
pub fn imul3<V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let a = V::get::<S>(cpu, bus, op)?;
    let b = Imm::get::<S>(cpu, bus, op)?;
    let (lo, _, over) = product::<true, S>(a, b);
    cpu.set_reg::<S>(op.r[0], lo);
    mul_flags(cpu, over);
    Ok(())
}

fn build_mul<const SIGNED: bool>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    match (ins.op_count(), form(ins, 0), form(ins, 1)) {
        (1, Form::Reg, _) => sized!(size, mul1::<Reg0, SIGNED>),
        (1, Form::Mem, _) => sized!(size, mul1::<Mem, SIGNED>),
        (2, Form::Reg, Form::Reg) if SIGNED => sized_wide!(size, imul2::<Reg1>),
        (2, Form::Reg, Form::Mem) if SIGNED => sized_wide!(size, imul2::<Mem>),
        (3, Form::Reg, Form::Reg) if SIGNED => sized_wide!(size, imul3::<Reg1>),
        (3, Form::Reg, Form::Mem) if SIGNED => sized_wide!(size, imul3::<Mem>),
        _ => None,
    }
}

/// `div`/`idiv src`: rDX:rAX (AX for bytes) / src; quotient to rAX (AL), remainder to rDX
/// (AH). The flags are undefined; the modelled AMD part keeps CF and OF, sets AF and
/// clears SF, ZF and PF, and so do we.
pub fn div<V: Src, const SIGNED: bool, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let d = V::get::<S>(cpu, bus, op)?;
    if d == 0 {
        return Err(Exception::de());
    }
    let w = S as u32 * 8;
    let (hi, lo) = if S == 1 {
        (cpu.reg::<1>(AH), cpu.reg::<1>(reg::RAX))
    } else {
        (cpu.reg::<S>(reg::RDX), cpu.reg::<S>(reg::RAX))
    };
    let n = (hi as u128) << w | lo as u128;
    let (q, r) = if SIGNED {
        // Sign-extend the 2w-bit dividend to 128 bits.
        let k = 128 - 2 * w;
        let n = ((n << k) as i128) >> k;
        let d = sext::<S>(d) as i128;
        // 128-bit INT_MIN / -1 overflows i128 itself; checked_div catches it.
        let q = n.checked_div(d).ok_or(Exception::de())?;
        let half = 1i128 << (w - 1);
        if q < -half || q >= half {
            return Err(Exception::de());
        }
        (q as u64 & mask::<S>(), n.wrapping_rem(d) as u64 & mask::<S>())
    } else {
        let d = d as u128;
        let q = n / d;
        if q > mask::<S>() as u128 {
            return Err(Exception::de());
        }
        (q as u64, (n % d) as u64)
    };
    cpu.flags.set_masked(SF | ZF | AF | PF, AF);
    if S == 1 {
        cpu.set_reg::<2>(reg::RAX, r << 8 | q);
    } else {
        cpu.set_reg::<S>(reg::RAX, q);
        cpu.set_reg::<S>(reg::RDX, r);
    }
    Ok(())
}

fn build_div<const SIGNED: bool>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    match form(ins, 0) {
        Form::Reg => sized!(size, div::<Reg0, SIGNED>),
        Form::Mem => sized!(size, div::<Mem, SIGNED>),
        _ => None,
    }
}

pub fn register(t: &mut Table) {
    t.set(Mnemonic::Mul, build_mul::<false>);
    t.set(Mnemonic::Imul, build_mul::<true>);
    t.set(Mnemonic::Div, build_div::<false>);
    t.set(Mnemonic::Idiv, build_div::<true>);
}
