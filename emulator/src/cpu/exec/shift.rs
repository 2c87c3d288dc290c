//! Shifts and rotates: shl/sal, shr, sar, rol, ror, rcl, rcr, shld, shrd.
//!
//! One generic handler ([`shift`]) serves every operand form, count source (imm8, CL, or the
//! implicit 1, which iced reports as an imm8 of 1) and size; the operation is a zero-sized
//! [`ShiftOp`] type. The double shifts have their own handler ([`double`]).
//!
//! Flags follow the SDM: a masked count of 0 changes nothing. Where the SDM leaves a flag
//! undefined (OF for counts above 1, AF, CF for shl/shr past the operand width) we produce
//! what the modelled AMD part (an AMD EPYC) does, whatever the host, see
//! `tests/differential.rs`: AF is set by every non-zero shift, and OF follows a per-
//! instruction formula that agrees with the SDM's for count 1.

use iced_x86::{Instruction, Mnemonic};

use super::{form, operand_size, Form, Table};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::flags::{mask, sext, sign, Flags, CF, OF};
use crate::cpu::operand::{Dst, Imm, Mem, Reg0, Reg1, Reg2, Src};
use crate::cpu::Cpu;
use crate::{sized, sized_wide};

/// The count mask: 5 bits, 6 for 64-bit operands.
#[inline(always)]
const fn count_mask<const S: usize>() -> u32 {
    if S == 8 {
        0x3f
    } else {
        0x1f
    }
}

#[inline(always)]
fn msb<const S: usize>(v: u64) -> bool {
    v & sign::<S>() != 0
}

/// A shift or rotate of one operand.
pub trait ShiftOp {
    /// Shifts `a` by `c` (already masked, never 0) and sets the flags.
    fn apply<const S: usize>(f: &mut Flags, a: u64, c: u32) -> u64;
}

pub struct Shl;
pub struct Shr;
pub struct Sar;
pub struct Rol;
pub struct Ror;
pub struct Rcl;
pub struct Rcr;

impl ShiftOp for Shl {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, c: u32) -> u64 {
        let w = S as u32 * 8;
        let r = (a << c) & mask::<S>();
        // The last bit out is bit w - c; a count past the width (8/16-bit) shifts out zeros.
        let cf = c <= w && (a >> (w - c)) & 1 != 0;
        f.set_result::<S>(r, cf, msb::<S>(r) ^ cf, true);
        r
    }
}

impl ShiftOp for Shr {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, c: u32) -> u64 {
        let r = a >> c;
        let cf = (a >> (c - 1)) & 1 != 0;
        // OF = the original sign for count 1, which is also the top two result bits
        // differing; the modelled part applies the latter to every count.
        f.set_result::<S>(r, cf, msb::<S>(r) ^ msb::<S>(r << 1), true);
        r
    }
}

impl ShiftOp for Sar {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, c: u32) -> u64 {
        let s = sext::<S>(a);
        let r = (s >> c) as u64 & mask::<S>();
        let cf = (s >> (c - 1)) & 1 != 0;
        f.set_result::<S>(r, cf, false, true);
        r
    }
}

/// Writes CF and OF only: rotates leave SF, ZF, AF and PF alone.
#[inline(always)]
fn set_cf_of(f: &mut Flags, cf: bool, of: bool) {
    f.set_masked(CF | OF, cf as u64 | (of as u64) << 11);
}

impl ShiftOp for Rol {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, c: u32) -> u64 {
        let w = S as u32 * 8;
        let n = c % w;
        // Flags are written even when the rotation is a whole turn (count 8 on a byte).
        let r = if n == 0 { a } else { ((a << n) | (a >> (w - n))) & mask::<S>() };
        let cf = r & 1 != 0;
        set_cf_of(f, cf, msb::<S>(r) ^ cf);
        r
    }
}

impl ShiftOp for Ror {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, c: u32) -> u64 {
        let w = S as u32 * 8;
        let n = c % w;
        let r = if n == 0 { a } else { ((a >> n) | (a << (w - n))) & mask::<S>() };
        let cf = msb::<S>(r);
        set_cf_of(f, cf, cf ^ msb::<S>(r << 1));
        r
    }
}

/// Rotates the `w + 1`-bit value CF:a left by `n` (1..=w); returns the new a and CF.
#[inline(always)]
fn rotate_through_carry<const S: usize>(a: u64, cf: bool, n: u32) -> (u64, bool) {
    let w = S as u32 * 8;
    let v = (cf as u128) << w | a as u128;
    let full = (1u128 << (w + 1)) - 1;
    let r = ((v << n) | (v >> (w + 1 - n))) & full;
    (r as u64 & mask::<S>(), (r >> w) & 1 != 0)
}

/// The effective rotate count of rcl/rcr: the masked count modulo the width plus one, which
/// only matters for 8- and 16-bit operands (the 5-bit mask already keeps 32 below 33).
#[inline(always)]
fn rc_count<const S: usize>(c: u32) -> u32 {
    match S {
        1 => c % 9,
        2 => c % 17,
        _ => c,
    }
}

impl ShiftOp for Rcl {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, c: u32) -> u64 {
        let n = rc_count::<S>(c);
        if n == 0 {
            // A whole turn (count 9 on a byte): CF and the value stay, but the modelled part still
            // recomputes OF from them.
            let cf = f.cf();
            set_cf_of(f, cf, msb::<S>(a) ^ cf);
            return a;
        }
        let (r, cf) = rotate_through_carry::<S>(a, f.cf(), n);
        set_cf_of(f, cf, msb::<S>(r) ^ cf);
        r
    }
}

impl ShiftOp for Rcr {
    #[inline(always)]
    fn apply<const S: usize>(f: &mut Flags, a: u64, c: u32) -> u64 {
        let n = rc_count::<S>(c);
        if n == 0 {
            let cf = f.cf();
            set_cf_of(f, cf, msb::<S>(a) ^ msb::<S>(a << 1));
            return a;
        }
        // Right by n is left by (w + 1 - n) in the w + 1-bit ring.
        let (r, cf) = rotate_through_carry::<S>(a, f.cf(), S as u32 * 8 + 1 - n);
        set_cf_of(f, cf, msb::<S>(r) ^ msb::<S>(r << 1));
        r
    }
}

/// `dst = dst SHIFT count`, the count from `C` (imm8 or CL).
pub fn shift<K: ShiftOp, D: Dst, C: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let c = C::get::<1>(cpu, bus, op)? as u32 & count_mask::<S>();
    let loc = D::locate::<S>(cpu, bus, op, true)?;
    let a = D::load::<S>(cpu, bus, op, loc)?;
    // A zero count changes no flags but still writes the destination (a 32-bit register
    // is zero-extended, as on hardware).
    let r = if c == 0 { a } else { K::apply::<S>(&mut cpu.flags, a, c) };
    D::store::<S>(cpu, bus, op, loc, r)
}

fn build_shift<K: ShiftOp + 'static>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    match (form(ins, 0), form(ins, 1)) {
        (Form::Reg, Form::Imm) => sized!(size, shift::<K, Reg0, Imm>),
        (Form::Reg, Form::Reg) => sized!(size, shift::<K, Reg0, Reg1>),
        (Form::Mem, Form::Imm) => sized!(size, shift::<K, Mem, Imm>),
        (Form::Mem, Form::Reg) => sized!(size, shift::<K, Mem, Reg1>),
        _ => None,
    }
}

/// `shld`/`shrd dst, src, count` (`LEFT` picks the direction).
///
/// dst and src form one double-width value (dst on the side the bits leave from) that is
/// shifted by the count; dst keeps the result. A 16-bit count above 16 is undefined by
/// the SDM; see below for what we do.
pub fn double<D: Dst, C: Src, const LEFT: bool, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let c = C::get::<1>(cpu, bus, op)? as u32 & count_mask::<S>();
    let loc = D::locate::<S>(cpu, bus, op, true)?;
    let a = D::load::<S>(cpu, bus, op, loc)?;
    if c == 0 {
        return D::store::<S>(cpu, bus, op, loc, a);
    }
    let b = cpu.reg::<S>(op.r[1]);
    let w = S as u32 * 8;
    // A 16-bit count can exceed 16 (undefined by the SDM); the modelled part then goes on shifting
    // in src again, as if src were repeated, and so do we (`bw` bits of source)...
    let (bw, bx) = if S == 2 { (32, b << 16 | b) } else { (w, b) };
    let (r, cf) = if LEFT {
        let v = (a as u128) << bw | bx as u128;
        (((v << c) >> bw) as u64 & mask::<S>(), (v >> (bw + w - c)) & 1 != 0)
    } else {
        let v = (bx as u128) << w | a as u128;
        ((v >> c) as u64 & mask::<S>(), (v >> (c - 1)) & 1 != 0)
    };
    // ... and clears CF once the count passes the width.
    let cf = cf && c <= w;
    // OF: the sign changed (defined for count 1). For larger counts the modelled part gives, for
    // shld, the result's sign xor CF (the 16-bit form: CF at 16, clear beyond), and for
    // shrd the top two result bits differing; both agree with the count-1 rule.
    let of = if LEFT {
        if S == 2 && c >= 16 {
            c == 16 && cf
        } else {
            msb::<S>(r) ^ cf
        }
    } else {
        msb::<S>(r) ^ msb::<S>(r << 1)
    };
    cpu.flags.set_result::<S>(r, cf, of, true);
    D::store::<S>(cpu, bus, op, loc, r)
}

fn build_double<const LEFT: bool>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    if form(ins, 1) != Form::Reg {
        return None;
    }
    match (form(ins, 0), form(ins, 2)) {
        (Form::Reg, Form::Imm) => sized_wide!(size, double::<Reg0, Imm, LEFT>),
        (Form::Reg, Form::Reg) => sized_wide!(size, double::<Reg0, Reg2, LEFT>),
        (Form::Mem, Form::Imm) => sized_wide!(size, double::<Mem, Imm, LEFT>),
        (Form::Mem, Form::Reg) => sized_wide!(size, double::<Mem, Reg2, LEFT>),
        _ => None,
    }
}

pub fn register(t: &mut Table) {
    t.set_all(&[Mnemonic::Shl, Mnemonic::Sal], build_shift::<Shl>);
    t.set(Mnemonic::Shr, build_shift::<Shr>);
    t.set(Mnemonic::Sar, build_shift::<Sar>);
    t.set(Mnemonic::Rol, build_shift::<Rol>);
    t.set(Mnemonic::Ror, build_shift::<Ror>);
    t.set(Mnemonic::Rcl, build_shift::<Rcl>);
    t.set(Mnemonic::Rcr, build_shift::<Rcr>);
    t.set(Mnemonic::Shld, build_double::<true>);
    t.set(Mnemonic::Shrd, build_double::<false>);
}
