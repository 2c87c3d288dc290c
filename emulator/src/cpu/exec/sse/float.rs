//! SSE/SSE2 float arithmetic, comparisons and conversions, generic over f32 and f64.
//!
//! Results are IEEE with round-to-nearest computed by host float arithmetic, which is
//! exactly rounded for + - * / and sqrt. What the host does not define portably is made
//! explicit here: NaN propagation follows the SSE rules (the first operand's NaN wins, made
//! quiet; an invalid operation gives the negative "default NaN"), min/max return the second
//! operand on NaN or equal inputs, and float-to-integer overflow gives the "integer
//! indefinite" value (the lane's sign bit alone).
//!
//! MXCSR: RC is honoured by the conversions (int to float, float to int, f64 to f32), where
//! directed rounding is a cheap correction of the nearest result; + - * / sqrt always round
//! to nearest. The IE and ZE flags are accumulated; PE, UE, OE and DE are not, DAZ/FTZ are
//! ignored, and no #XM is ever raised (all exceptions behave as masked).

use std::cmp::Ordering;
use std::marker::PhantomData;
use std::ops::{Add, Div, Mul, Sub};

use iced_x86::{Instruction, Mnemonic};

use super::mx::{IE, ZE};
use super::{build_packed, from_fn, is_gpr, is_xmm, lane, map2, with_lane, Lane, Packed, XMemN, XReg, XSrc};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::exec::{form, operand_size, Form, Table};
use crate::cpu::operand::{Mem, Reg1, Src};
use crate::cpu::Cpu;

/// A float lane type.
pub trait Fp: Lane + PartialOrd + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> {
    /// Explicit mantissa bits.
    const MANT: u32;
    fn is_nan(self) -> bool;
    fn is_infinite(self) -> bool;
    /// Exact widening (any NaN stays a NaN).
    fn to_f64(self) -> f64;
    fn sqrt(self) -> Self;
    fn next_up(self) -> Self;
    fn next_down(self) -> Self;
    fn zero() -> Self;
    /// Round-to-nearest conversion from i64.
    fn from_i64_nearest(v: i64) -> Self;
    /// Exact value of a finite integral float as i128 (its magnitude is below 2^64 here).
    fn to_i128(self) -> i128;
}

macro_rules! fp_impl {
    ($t:ty, $mant:expr) => {
        impl Fp for $t {
            const MANT: u32 = $mant;
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn is_infinite(self) -> bool {
                <$t>::is_infinite(self)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn next_up(self) -> Self {
                <$t>::next_up(self)
            }
            #[inline(always)]
            fn next_down(self) -> Self {
                <$t>::next_down(self)
            }
            #[inline(always)]
            fn zero() -> Self {
                0.0
            }
            #[inline(always)]
            fn from_i64_nearest(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_i128(self) -> i128 {
                self as i128
            }
        }
    };
}
fp_impl!(f32, 23);
fp_impl!(f64, 52);

#[inline(always)]
fn quiet_bit<T: Fp>() -> u64 {
    1 << (T::MANT - 1)
}

#[inline(always)]
fn is_snan<T: Fp>(x: T) -> bool {
    x.is_nan() && x.to_bits() & quiet_bit::<T>() == 0
}

#[inline(always)]
fn quiet<T: Fp>(x: T) -> T {
    T::from_bits(x.to_bits() | quiet_bit::<T>())
}

/// The "real indefinite" QNaN an invalid operation produces: sign set, quiet bit only.
#[inline(always)]
fn default_nan<T: Fp>() -> T {
    T::from_bits((u64::MAX << (T::MANT - 1)) & (u64::MAX >> (64 - T::BITS)))
}

/// MXCSR.RC: 0 nearest, 1 down, 2 up, 3 toward zero.
#[inline(always)]
fn rc(mx: u32) -> u32 {
    (mx >> 13) & 3
}

/// Corrects the round-to-nearest result `r` of some exact value to rounding mode `rc`, given
/// how `r` compares with the exact value.
#[inline(always)]
fn directed<T: Fp>(r: T, r_vs_exact: Ordering, exact_negative: bool, rc: u32) -> T {
    match (rc, r_vs_exact) {
        (_, Ordering::Equal) | (0, _) => r,
        (1, Ordering::Greater) => r.next_down(),
        (2, Ordering::Less) => r.next_up(),
        (3, Ordering::Greater) if !exact_negative => r.next_down(),
        (3, Ordering::Less) if exact_negative => r.next_up(),
        _ => r,
    }
}

/// i64 to float with MXCSR rounding.
#[inline(always)]
fn from_i64<T: Fp>(v: i64, rc: u32) -> T {
    let r = T::from_i64_nearest(v);
    directed(r, r.to_i128().cmp(&(v as i128)), v < 0, rc)
}

/// f32 to f64: exact; a NaN keeps sign and payload and becomes quiet.
#[inline(always)]
fn widen(x: f32, mx: &mut u32) -> f64 {
    if x.is_nan() {
        if is_snan(x) {
            *mx |= IE;
        }
        let b = x.to_bits() as u64;
        return f64::from_bits((b >> 31) << 63 | 0x7ff8 << 48 | (b & 0x7f_ffff) << 29);
    }
    x as f64
}

/// f64 to f32 with MXCSR rounding; a NaN keeps sign and the payload's top bits.
#[inline(always)]
fn narrow(x: f64, rc: u32, mx: &mut u32) -> f32 {
    if x.is_nan() {
        if is_snan(x) {
            *mx |= IE;
        }
        let b = x.to_bits();
        return f32::from_bits(((b >> 63) << 31 | 0x7fc0_0000 | ((b >> 29) & 0x3f_ffff)) as u32);
    }
    let r = x as f32;
    let c = (r as f64).partial_cmp(&x).unwrap_or(Ordering::Equal);
    directed(r, c, x < 0.0, rc)
}

/// Float (widened to f64, which is exact) to a `bits`-wide signed integer, rounded per
/// `rc`; NaN and out-of-range values give the integer indefinite value and IE.
#[inline(always)]
fn to_int(x: f64, rc: u32, bits: u32, mx: &mut u32) -> u64 {
    let r = match rc {
        0 => x.round_ties_even(),
        1 => x.floor(),
        2 => x.ceil(),
        _ => x.trunc(),
    };
    let lim = (1u64 << (bits - 1)) as f64;
    if r >= -lim && r < lim {
        // In range, so the cast is exact.
        r as i64 as u64
    } else {
        *mx |= IE;
        1 << (bits - 1)
    }
}

// ----- arithmetic -----------------------------------------------------------------------

/// A binary float operation on one lane (`y` is the source operand).
pub trait FOp {
    fn calc<T: Fp>(x: T, y: T, mx: &mut u32) -> T;
}

/// Shared NaN handling of + - * /: a NaN operand (the first one if both) comes back quiet;
/// a NaN out of non-NaN inputs is an invalid operation and becomes the default NaN.
#[inline(always)]
fn arith<T: Fp>(x: T, y: T, mx: &mut u32, f: impl FnOnce(T, T) -> T) -> T {
    if x.is_nan() || y.is_nan() {
        if is_snan(x) || is_snan(y) {
            *mx |= IE;
        }
        return quiet(if x.is_nan() { x } else { y });
    }
    let r = f(x, y);
    if r.is_nan() {
        *mx |= IE;
        return default_nan();
    }
    r
}

pub struct FAdd;
pub struct FSub;
pub struct FMul;
pub struct FDiv;
pub struct FMin;
pub struct FMax;
pub struct FSqrt;

impl FOp for FAdd {
    #[inline(always)]
    fn calc<T: Fp>(x: T, y: T, mx: &mut u32) -> T {
        arith(x, y, mx, |x, y| x + y)
    }
}
impl FOp for FSub {
    #[inline(always)]
    fn calc<T: Fp>(x: T, y: T, mx: &mut u32) -> T {
        arith(x, y, mx, |x, y| x - y)
    }
}
impl FOp for FMul {
    #[inline(always)]
    fn calc<T: Fp>(x: T, y: T, mx: &mut u32) -> T {
        arith(x, y, mx, |x, y| x * y)
    }
}
impl FOp for FDiv {
    #[inline(always)]
    fn calc<T: Fp>(x: T, y: T, mx: &mut u32) -> T {
        if y == T::zero() && x != T::zero() && !x.is_nan() && !x.is_infinite() {
            // Only a finite non-zero dividend divides by zero; 0/0 is invalid instead.
            *mx |= ZE;
        }
        arith(x, y, mx, |x, y| x / y)
    }
}
impl FOp for FMin {
    /// minss and friends are `x < y ? x : y`: NaNs and equal zeros yield the source.
    #[inline(always)]
    fn calc<T: Fp>(x: T, y: T, mx: &mut u32) -> T {
        if x.is_nan() || y.is_nan() {
            *mx |= IE;
        }
        if x < y { x } else { y }
    }
}
impl FOp for FMax {
    #[inline(always)]
    fn calc<T: Fp>(x: T, y: T, mx: &mut u32) -> T {
        if x.is_nan() || y.is_nan() {
            *mx |= IE;
        }
        if x > y { x } else { y }
    }
}
impl FOp for FSqrt {
    /// The square root of the source; the destination lane only supplies the other lanes
    /// in the scalar form.
    #[inline(always)]
    fn calc<T: Fp>(_: T, y: T, mx: &mut u32) -> T {
        if y.is_nan() {
            if is_snan(y) {
                *mx |= IE;
            }
            return quiet(y);
        }
        if y < T::zero() {
            *mx |= IE;
            return default_nan();
        }
        y.sqrt()
    }
}

/// addps/addss/addpd/addsd and the other lane-wise float operations; `SCALAR` forms touch
/// lane 0 only.
pub struct Arith<K, T, const SCALAR: bool>(PhantomData<(K, T)>);
impl<K: FOp, T: Fp, const SCALAR: bool> Packed for Arith<K, T, SCALAR> {
    #[inline(always)]
    fn apply(a: u128, b: u128, _: u8, mx: &mut u32) -> u128 {
        if SCALAR {
            with_lane(a, 0, K::calc::<T>(lane(a, 0), lane(b, 0), mx))
        } else {
            map2::<T>(a, b, |x, y| K::calc(x, y, mx))
        }
    }
}

/// The predicate of cmpps/cmpss/cmppd/cmpsd (imm8 0-7). The ordered-less-than family
/// signals on any NaN; equality and (un)ordered tests only on SNaN.
/// "Not less than" must be true for unordered inputs, hence the negated comparisons.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
#[inline(always)]
fn predicate<T: Fp>(x: T, y: T, p: u8, mx: &mut u32) -> bool {
    let unord = x.is_nan() || y.is_nan();
    if is_snan(x) || is_snan(y) || (unord && matches!(p & 7, 1 | 2 | 5 | 6)) {
        *mx |= IE;
    }
    match p & 7 {
        0 => x == y,
        1 => x < y,
        2 => x <= y,
        3 => unord,
        4 => x != y,
        5 => !(x < y),
        6 => !(x <= y),
        _ => !unord,
    }
}

pub struct Cmp<T, const SCALAR: bool>(PhantomData<T>);
impl<T: Fp, const SCALAR: bool> Packed for Cmp<T, SCALAR> {
    fn apply(a: u128, b: u128, imm: u8, mx: &mut u32) -> u128 {
        let mask = |t: bool| T::from_bits(if t { u64::MAX } else { 0 });
        if SCALAR {
            with_lane(a, 0, mask(predicate::<T>(lane(a, 0), lane(b, 0), imm, mx)))
        } else {
            map2::<T>(a, b, |x, y| mask(predicate(x, y, imm, mx)))
        }
    }
}

/// comiss/comisd (`SIGNAL`: any NaN is invalid) and ucomiss/ucomisd (only SNaN): ZF, PF, CF
/// from the unordered/less/equal result, OF, SF and AF cleared.
fn comis<T: Fp, V: XSrc, const SIGNAL: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let b = V::get(cpu, bus, op)?;
    let (x, y) = (lane::<T>(cpu.xmm(op.r[0]), 0), lane::<T>(b, 0));
    let unord = x.is_nan() || y.is_nan();
    if is_snan(x) || is_snan(y) || (SIGNAL && unord) {
        cpu.sse.mxcsr |= IE;
    }
    let (zf, pf, cf) = if unord {
        (true, true, true)
    } else if x > y {
        (false, false, false)
    } else if x < y {
        (false, false, true)
    } else {
        (true, false, false)
    };
    cpu.flags.set_arith(cf, pf, false, zf, false, false);
    Ok(())
}

fn build_comis<T: Fp + 'static, const SIGNAL: bool>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    match form(ins, 1) {
        Form::Reg if is_xmm(ins, 1) => Some(comis::<T, XReg, SIGNAL>),
        Form::Mem if T::BITS == 32 => Some(comis::<T, XMemN<4>, SIGNAL>),
        Form::Mem => Some(comis::<T, XMemN<8>, SIGNAL>),
        _ => None,
    }
}

// ----- conversions ----------------------------------------------------------------------

/// cvtsi2ss/cvtsi2sd xmm, r/m32 or r/m64: lane 0 from a signed integer.
fn cvtsi2f<T: Fp, V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let v = V::get::<S>(cpu, bus, op)?;
    let v = if S == 4 { v as u32 as i32 as i64 } else { v as i64 };
    let r = with_lane(cpu.xmm(op.r[0]), 0, from_i64::<T>(v, rc(cpu.sse.mxcsr)));
    cpu.set_xmm(op.r[0], r);
    Ok(())
}

fn build_cvtsi2f<T: Fp + 'static>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    match (form(ins, 1), operand_size(ins, 1)) {
        (Form::Reg, 4) if is_gpr(ins, 1) => Some(cvtsi2f::<T, Reg1, 4>),
        (Form::Reg, 8) if is_gpr(ins, 1) => Some(cvtsi2f::<T, Reg1, 8>),
        (Form::Mem, 4) => Some(cvtsi2f::<T, Mem, 4>),
        (Form::Mem, 8) => Some(cvtsi2f::<T, Mem, 8>),
        _ => None,
    }
}

/// cvtss2si/cvtsd2si (rounded per MXCSR.RC) and cvttss2si/cvttsd2si (`TRUNC`) into a 32-
/// or 64-bit GPR.
fn cvtf2si<T: Fp, V: XSrc, const S: usize, const TRUNC: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let b = V::get(cpu, bus, op)?;
    let x = lane::<T>(b, 0);
    let mut mx = cpu.sse.mxcsr;
    let r = to_int(x.to_f64(), if TRUNC { 3 } else { rc(mx) }, 8 * S as u32, &mut mx);
    cpu.sse.mxcsr = mx;
    cpu.set_reg::<S>(op.r[0], r);
    Ok(())
}

fn build_cvtf2si<T: Fp + 'static, const TRUNC: bool>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let s = operand_size(ins, 0);
    let wide = T::BITS == 64;
    match (form(ins, 1), s, wide) {
        (Form::Reg, 4, _) if is_xmm(ins, 1) => Some(cvtf2si::<T, XReg, 4, TRUNC>),
        (Form::Reg, 8, _) if is_xmm(ins, 1) => Some(cvtf2si::<T, XReg, 8, TRUNC>),
        (Form::Mem, 4, false) => Some(cvtf2si::<T, XMemN<4>, 4, TRUNC>),
        (Form::Mem, 8, false) => Some(cvtf2si::<T, XMemN<4>, 8, TRUNC>),
        (Form::Mem, 4, true) => Some(cvtf2si::<T, XMemN<8>, 4, TRUNC>),
        (Form::Mem, 8, true) => Some(cvtf2si::<T, XMemN<8>, 8, TRUNC>),
        _ => None,
    }
}

/// cvtss2sd: lane 0 widened.
pub struct Cvtss2sd;
impl Packed for Cvtss2sd {
    fn apply(a: u128, b: u128, _: u8, mx: &mut u32) -> u128 {
        with_lane(a, 0, widen(lane(b, 0), mx))
    }
}

/// cvtsd2ss: lane 0 narrowed.
pub struct Cvtsd2ss;
impl Packed for Cvtsd2ss {
    fn apply(a: u128, b: u128, _: u8, mx: &mut u32) -> u128 {
        with_lane(a, 0, narrow(lane(b, 0), rc(*mx), mx))
    }
}

/// cvtps2pd: the low two singles widened.
pub struct Cvtps2pd;
impl Packed for Cvtps2pd {
    fn apply(_: u128, b: u128, _: u8, mx: &mut u32) -> u128 {
        from_fn::<f64>(|i| widen(lane(b, i), mx))
    }
}

/// cvtpd2ps: two doubles narrowed into the low half, upper half zeroed.
pub struct Cvtpd2ps;
impl Packed for Cvtpd2ps {
    fn apply(_: u128, b: u128, _: u8, mx: &mut u32) -> u128 {
        let r = rc(*mx);
        from_fn::<f32>(|i| if i < 2 { narrow(lane(b, i), r, mx) } else { 0.0 })
    }
}

/// cvtdq2ps: four int32 to single, rounded per MXCSR.RC.
pub struct Cvtdq2ps;
impl Packed for Cvtdq2ps {
    fn apply(_: u128, b: u128, _: u8, mx: &mut u32) -> u128 {
        let r = rc(*mx);
        from_fn::<f32>(|i| from_i64(lane::<i32>(b, i) as i64, r))
    }
}

/// cvtdq2pd: the low two int32 to double (exact).
pub struct Cvtdq2pd;
impl Packed for Cvtdq2pd {
    fn apply(_: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        from_fn::<f64>(|i| lane::<i32>(b, i) as f64)
    }
}

/// cvtps2dq / cvttps2dq (`TRUNC`).
pub struct Cvtps2dq<const TRUNC: bool>;
impl<const TRUNC: bool> Packed for Cvtps2dq<TRUNC> {
    fn apply(_: u128, b: u128, _: u8, mx: &mut u32) -> u128 {
        let r = if TRUNC { 3 } else { rc(*mx) };
        from_fn::<u32>(|i| to_int(lane::<f32>(b, i) as f64, r, 32, mx) as u32)
    }
}

/// cvtpd2dq / cvttpd2dq (`TRUNC`): two results in the low half, upper half zeroed.
pub struct Cvtpd2dq<const TRUNC: bool>;
impl<const TRUNC: bool> Packed for Cvtpd2dq<TRUNC> {
    fn apply(_: u128, b: u128, _: u8, mx: &mut u32) -> u128 {
        let r = if TRUNC { 3 } else { rc(*mx) };
        from_fn::<u32>(|i| if i < 2 { to_int(lane::<f64>(b, i), r, 32, mx) as u32 } else { 0 })
    }
}

pub fn register(t: &mut Table) {
    use Mnemonic as M;
    macro_rules! arith {
        ($k:ty: $ps:path, $ss:path, $pd:path, $sd:path) => {
            t.set($ps, build_packed::<Arith<$k, f32, false>>);
            t.set($ss, build_packed::<Arith<$k, f32, true>>);
            t.set($pd, build_packed::<Arith<$k, f64, false>>);
            t.set($sd, build_packed::<Arith<$k, f64, true>>);
        };
    }
    arith!(FAdd: M::Addps, M::Addss, M::Addpd, M::Addsd);
    arith!(FSub: M::Subps, M::Subss, M::Subpd, M::Subsd);
    arith!(FMul: M::Mulps, M::Mulss, M::Mulpd, M::Mulsd);
    arith!(FDiv: M::Divps, M::Divss, M::Divpd, M::Divsd);
    arith!(FMin: M::Minps, M::Minss, M::Minpd, M::Minsd);
    arith!(FMax: M::Maxps, M::Maxss, M::Maxpd, M::Maxsd);
    arith!(FSqrt: M::Sqrtps, M::Sqrtss, M::Sqrtpd, M::Sqrtsd);
    t.set(M::Cmpps, build_packed::<Cmp<f32, false>>);
    t.set(M::Cmpss, build_packed::<Cmp<f32, true>>);
    t.set(M::Cmppd, build_packed::<Cmp<f64, false>>);
    // cmpsd is also the string compare; its string form goes to the string builder.
    t.set(M::Cmpsd, |ins, op| {
        if is_xmm(ins, 0) {
            build_packed::<Cmp<f64, true>>(ins, op)
        } else {
            super::STRING_CMPSD.get().copied().flatten().and_then(|b| b(ins, op))
        }
    });
    t.set(M::Comiss, build_comis::<f32, true>);
    t.set(M::Ucomiss, build_comis::<f32, false>);
    t.set(M::Comisd, build_comis::<f64, true>);
    t.set(M::Ucomisd, build_comis::<f64, false>);
    t.set(M::Cvtsi2ss, build_cvtsi2f::<f32>);
    t.set(M::Cvtsi2sd, build_cvtsi2f::<f64>);
    t.set(M::Cvtss2si, build_cvtf2si::<f32, false>);
    t.set(M::Cvttss2si, build_cvtf2si::<f32, true>);
    t.set(M::Cvtsd2si, build_cvtf2si::<f64, false>);
    t.set(M::Cvttsd2si, build_cvtf2si::<f64, true>);
    t.set(M::Cvtss2sd, build_packed::<Cvtss2sd>);
    t.set(M::Cvtsd2ss, build_packed::<Cvtsd2ss>);
    t.set(M::Cvtps2pd, build_packed::<Cvtps2pd>);
    t.set(M::Cvtpd2ps, build_packed::<Cvtpd2ps>);
    t.set(M::Cvtdq2ps, build_packed::<Cvtdq2ps>);
    t.set(M::Cvtdq2pd, build_packed::<Cvtdq2pd>);
    t.set(M::Cvtps2dq, build_packed::<Cvtps2dq<false>>);
    t.set(M::Cvttps2dq, build_packed::<Cvtps2dq<true>>);
    t.set(M::Cvtpd2dq, build_packed::<Cvtpd2dq<false>>);
    t.set(M::Cvttpd2dq, build_packed::<Cvtpd2dq<true>>);
}
