//! SSE2 128-bit integer instructions, plus the float bitwise ops and shuffles (which are
//! the same bit operations under other names).
//!
//! Each operation is a zero-sized [`Packed`] type; lane-wise ones are written once over a
//! lane type (`Add<u8>` is paddb, `Add<u64>` is paddq).

use std::marker::PhantomData;

use iced_x86::{Instruction, Mnemonic};

use super::{build_packed, count, from_fn, is_gpr, is_xmm, lane, map2, with_lane, Lane, Packed};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::exec::{Form, Table};
use crate::cpu::operand::{Mem, Reg1, Src};
use crate::cpu::Cpu;

/// Integer lane arithmetic the generic ops need.
pub trait Int: Lane + Ord {
    fn wadd(self, o: Self) -> Self;
    fn wsub(self, o: Self) -> Self;
    fn sadd(self, o: Self) -> Self;
    fn ssub(self, o: Self) -> Self;
    fn ones() -> Self;
    fn zero() -> Self;
}

macro_rules! int_impl {
    ($($t:ty),*) => {$(
        impl Int for $t {
            #[inline(always)] fn wadd(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)] fn wsub(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline(always)] fn sadd(self, o: Self) -> Self { self.saturating_add(o) }
            #[inline(always)] fn ssub(self, o: Self) -> Self { self.saturating_sub(o) }
            #[inline(always)] fn ones() -> Self { Self::from_bits(u64::MAX) }
            #[inline(always)] fn zero() -> Self { Self::from_bits(0) }
        }
    )*};
}
int_impl!(u8, i8, u16, i16, u32, i32, u64, i64);

/// Defines a lane-generic operation: `struct Name<T>` whose lanes compute `$e`.
macro_rules! lanewise {
    ($($name:ident: |$x:ident, $y:ident| $e:expr;)*) => {$(
        pub struct $name<T>(PhantomData<T>);
        impl<T: Int> Packed for $name<T> {
            #[inline(always)]
            fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
                map2::<T>(a, b, |$x, $y| $e)
            }
        }
    )*};
}

lanewise! {
    Add: |x, y| x.wadd(y);
    Sub: |x, y| x.wsub(y);
    AddSat: |x, y| x.sadd(y);
    SubSat: |x, y| x.ssub(y);
    CmpEq: |x, y| if x == y { T::ones() } else { T::zero() };
    CmpGt: |x, y| if x > y { T::ones() } else { T::zero() };
    Min: |x, y| x.min(y);
    Max: |x, y| x.max(y);
}

/// Bitwise operations on the whole register (pand, andps, andpd, ...).
pub struct And;
pub struct Or;
pub struct Xor;
/// `!dst & src`.
pub struct AndNot;

impl Packed for And {
    #[inline(always)]
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        a & b
    }
}
impl Packed for Or {
    #[inline(always)]
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        a | b
    }
}
impl Packed for Xor {
    #[inline(always)]
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        a ^ b
    }
}
impl Packed for AndNot {
    #[inline(always)]
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        !a & b
    }
}

/// `xor xmm, xmm` with the same register (and pxor/xorpd): the zeroing idiom.
fn zero_idiom(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    cpu.set_xmm(op.r[0], 0);
    Ok(())
}

fn build_xor(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if is_xmm(ins, 0) && is_xmm(ins, 1) && op.r[0] == op.r[1] {
        return Some(zero_idiom);
    }
    build_packed::<Xor>(ins, op)
}

/// pavgb/pavgw: `(x + y + 1) >> 1` without overflow.
pub struct Avg<T>(PhantomData<T>);
impl<T: Lane> Packed for Avg<T> {
    #[inline(always)]
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        map2::<T>(a, b, |x, y| T::from_bits((x.to_bits() + y.to_bits() + 1) >> 1))
    }
}

/// pmullw, pmulhw, pmulhuw: the low (`HIGH` false) or high half of the 32-bit product of
/// 16-bit lanes, signed or unsigned.
pub struct Mul16<const SIGNED: bool, const HIGH: bool>;
impl<const SIGNED: bool, const HIGH: bool> Packed for Mul16<SIGNED, HIGH> {
    #[inline(always)]
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        map2::<u16>(a, b, |x, y| {
            let p = if SIGNED { x as i16 as i32 * y as i16 as i32 } else { (x as u32 * y as u32) as i32 };
            (if HIGH { p >> 16 } else { p }) as u16
        })
    }
}

/// Sign-extends a lane's bits to i64.
#[inline(always)]
fn sext<T: Lane>(x: T) -> i64 {
    let sh = 64 - T::BITS;
    ((x.to_bits() << sh) as i64) >> sh
}

/// pmuludq: the unsigned 64-bit products of dword lanes 0 and 2.
pub struct MulUdq;
impl Packed for MulUdq {
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        from_fn::<u64>(|i| lane::<u32>(a, 2 * i) as u64 * lane::<u32>(b, 2 * i) as u64)
    }
}

/// pmaddwd: signed word products, adjacent pairs summed into dwords (wrapping: the one
/// overflowing case, all four inputs -32768, gives 0x80000000 as on hardware).
pub struct MaddWd;
impl Packed for MaddWd {
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        from_fn::<u32>(|i| {
            let p = |j: usize| lane::<i16>(a, j) as i32 * lane::<i16>(b, j) as i32;
            p(2 * i).wrapping_add(p(2 * i + 1)) as u32
        })
    }
}

/// psadbw: sums of absolute byte differences, one per quadword.
pub struct SadBw;
impl Packed for SadBw {
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        from_fn::<u64>(|q| (0..8).map(|j| lane::<u8>(a, 8 * q + j).abs_diff(lane::<u8>(b, 8 * q + j)) as u64).sum())
    }
}

/// Lane-width shifts by a count from the source (low quadword) or the immediate: a count at
/// or above the lane width empties the lane (fills it with the sign for arithmetic shifts).
pub struct Shl<T>(PhantomData<T>);
pub struct Shr<T>(PhantomData<T>);
pub struct Sar<T>(PhantomData<T>);

impl<T: Lane> Packed for Shl<T> {
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        let c = b as u64;
        from_fn::<T>(|i| T::from_bits(if c >= T::BITS as u64 { 0 } else { lane::<T>(a, i).to_bits() << c }))
    }
}
impl<T: Lane> Packed for Shr<T> {
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        let c = b as u64;
        from_fn::<T>(|i| T::from_bits(if c >= T::BITS as u64 { 0 } else { lane::<T>(a, i).to_bits() >> c }))
    }
}
impl<T: Lane> Packed for Sar<T> {
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        let c = (b as u64).min(T::BITS as u64 - 1);
        from_fn::<T>(|i| T::from_bits((sext(lane::<T>(a, i)) >> c) as u64))
    }
}

/// pslldq/psrldq: whole-register byte shifts by the immediate.
pub struct ShlBytes;
pub struct ShrBytes;
impl Packed for ShlBytes {
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        if b > 15 { 0 } else { a << (8 * b as u32) }
    }
}
impl Packed for ShrBytes {
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        if b > 15 { 0 } else { a >> (8 * b as u32) }
    }
}

/// punpckl*/punpckh*, unpcklps/pd, unpckhps/pd: interleave the low (or high) halves of
/// destination and source.
pub struct Unpack<T, const HIGH: bool>(PhantomData<T>);
impl<T: Lane, const HIGH: bool> Packed for Unpack<T, HIGH> {
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        let base = if HIGH { count::<T>() / 2 } else { 0 };
        from_fn::<T>(|i| lane::<T>(if i % 2 == 0 { a } else { b }, base + i / 2))
    }
}

/// packsswb (`W` = 16, signed), packssdw (`W` = 32, signed), packuswb (`W` = 16,
/// unsigned): narrow each signed `W`-bit lane of destination then source with saturation.
pub struct Pack<const W: u32, const SIGNED: bool>;
impl<const W: u32, const SIGNED: bool> Packed for Pack<W, SIGNED> {
    fn apply(a: u128, b: u128, _: u8, _: &mut u32) -> u128 {
        let n = (128 / W) as usize;
        let h = W / 2;
        let (lo, hi) = if SIGNED { (-(1i64 << (h - 1)), (1i64 << (h - 1)) - 1) } else { (0, (1i64 << h) - 1) };
        let mut r = 0u128;
        for i in 0..2 * n {
            let src = if i < n { a } else { b };
            let x = ((src >> ((i % n) as u32 * W)) as u64) << (64 - W);
            let v = ((x as i64) >> (64 - W)).clamp(lo, hi) as u64 & ((1u64 << h) - 1);
            r |= (v as u128) << (i as u32 * h);
        }
        r
    }
}

/// pshufd: dword lanes of the source picked by 2-bit fields of the immediate.
pub struct Pshufd;
impl Packed for Pshufd {
    fn apply(_: u128, b: u128, imm: u8, _: &mut u32) -> u128 {
        from_fn::<u32>(|i| lane::<u32>(b, (imm as usize >> (2 * i)) & 3))
    }
}

/// pshuflw (`HIGH` false) / pshufhw: shuffle four words of one half, copy the other.
pub struct PshufW<const HIGH: bool>;
impl<const HIGH: bool> Packed for PshufW<HIGH> {
    fn apply(_: u128, b: u128, imm: u8, _: &mut u32) -> u128 {
        let base = if HIGH { 4 } else { 0 };
        from_fn::<u16>(|i| {
            if i / 4 == base / 4 {
                lane::<u16>(b, base + ((imm as usize >> (2 * (i % 4))) & 3))
            } else {
                lane::<u16>(b, i)
            }
        })
    }
}

/// shufps: lanes 0-1 from the destination, 2-3 from the source, by 2-bit selectors.
pub struct Shufps;
impl Packed for Shufps {
    fn apply(a: u128, b: u128, imm: u8, _: &mut u32) -> u128 {
        from_fn::<u32>(|i| lane::<u32>(if i < 2 { a } else { b }, (imm as usize >> (2 * i)) & 3))
    }
}

/// shufpd: lane 0 from the destination, lane 1 from the source, by 1-bit selectors.
pub struct Shufpd;
impl Packed for Shufpd {
    fn apply(a: u128, b: u128, imm: u8, _: &mut u32) -> u128 {
        from_fn::<u64>(|i| lane::<u64>(if i == 0 { a } else { b }, (imm as usize >> i) & 1))
    }
}

/// pinsrw xmm, r32/m16, imm8.
fn pinsrw<V: Src>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let v = V::get::<2>(cpu, bus, op)? as u16;
    let r = with_lane::<u16>(cpu.xmm(op.r[0]), op.imm as usize & 7, v);
    cpu.set_xmm(op.r[0], r);
    Ok(())
}

/// pextrw r32/r64, xmm, imm8 (zero-extended into the whole register).
fn pextrw(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let v = lane::<u16>(cpu.xmm(op.r[1]), op.imm as usize & 7);
    cpu.set_reg::<8>(op.r[0], v as u64);
    Ok(())
}

fn build_pinsrw(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    if !is_xmm(ins, 0) {
        return None;
    }
    match super::super::form(ins, 1) {
        Form::Reg => Some(pinsrw::<Reg1>),
        Form::Mem => Some(pinsrw::<Mem>),
        _ => None,
    }
}

pub fn register(t: &mut Table) {
    use Mnemonic as M;
    t.set_all(&[M::Pand, M::Andps, M::Andpd], build_packed::<And>);
    t.set_all(&[M::Por, M::Orps, M::Orpd], build_packed::<Or>);
    t.set_all(&[M::Pxor, M::Xorps, M::Xorpd], build_xor);
    t.set_all(&[M::Pandn, M::Andnps, M::Andnpd], build_packed::<AndNot>);
    t.set(M::Paddb, build_packed::<Add<u8>>);
    t.set(M::Paddw, build_packed::<Add<u16>>);
    t.set(M::Paddd, build_packed::<Add<u32>>);
    t.set(M::Paddq, build_packed::<Add<u64>>);
    t.set(M::Psubb, build_packed::<Sub<u8>>);
    t.set(M::Psubw, build_packed::<Sub<u16>>);
    t.set(M::Psubd, build_packed::<Sub<u32>>);
    t.set(M::Psubq, build_packed::<Sub<u64>>);
    t.set(M::Paddusb, build_packed::<AddSat<u8>>);
    t.set(M::Paddusw, build_packed::<AddSat<u16>>);
    t.set(M::Paddsb, build_packed::<AddSat<i8>>);
    t.set(M::Paddsw, build_packed::<AddSat<i16>>);
    t.set(M::Psubusb, build_packed::<SubSat<u8>>);
    t.set(M::Psubusw, build_packed::<SubSat<u16>>);
    t.set(M::Psubsb, build_packed::<SubSat<i8>>);
    t.set(M::Psubsw, build_packed::<SubSat<i16>>);
    t.set(M::Pcmpeqb, build_packed::<CmpEq<u8>>);
    t.set(M::Pcmpeqw, build_packed::<CmpEq<u16>>);
    t.set(M::Pcmpeqd, build_packed::<CmpEq<u32>>);
    t.set(M::Pcmpgtb, build_packed::<CmpGt<i8>>);
    t.set(M::Pcmpgtw, build_packed::<CmpGt<i16>>);
    t.set(M::Pcmpgtd, build_packed::<CmpGt<i32>>);
    t.set(M::Pminub, build_packed::<Min<u8>>);
    t.set(M::Pmaxub, build_packed::<Max<u8>>);
    t.set(M::Pminsw, build_packed::<Min<i16>>);
    t.set(M::Pmaxsw, build_packed::<Max<i16>>);
    t.set(M::Pavgb, build_packed::<Avg<u8>>);
    t.set(M::Pavgw, build_packed::<Avg<u16>>);
    t.set(M::Pmullw, build_packed::<Mul16<false, false>>);
    t.set(M::Pmulhw, build_packed::<Mul16<true, true>>);
    t.set(M::Pmulhuw, build_packed::<Mul16<false, true>>);
    t.set(M::Pmuludq, build_packed::<MulUdq>);
    t.set(M::Pmaddwd, build_packed::<MaddWd>);
    t.set(M::Psadbw, build_packed::<SadBw>);
    t.set(M::Psllw, build_packed::<Shl<u16>>);
    t.set(M::Pslld, build_packed::<Shl<u32>>);
    t.set(M::Psllq, build_packed::<Shl<u64>>);
    t.set(M::Psrlw, build_packed::<Shr<u16>>);
    t.set(M::Psrld, build_packed::<Shr<u32>>);
    t.set(M::Psrlq, build_packed::<Shr<u64>>);
    t.set(M::Psraw, build_packed::<Sar<u16>>);
    t.set(M::Psrad, build_packed::<Sar<u32>>);
    t.set(M::Pslldq, build_packed::<ShlBytes>);
    t.set(M::Psrldq, build_packed::<ShrBytes>);
    t.set(M::Punpcklbw, build_packed::<Unpack<u8, false>>);
    t.set(M::Punpcklwd, build_packed::<Unpack<u16, false>>);
    t.set_all(&[M::Punpckldq, M::Unpcklps], build_packed::<Unpack<u32, false>>);
    t.set_all(&[M::Punpcklqdq, M::Unpcklpd], build_packed::<Unpack<u64, false>>);
    t.set(M::Punpckhbw, build_packed::<Unpack<u8, true>>);
    t.set(M::Punpckhwd, build_packed::<Unpack<u16, true>>);
    t.set_all(&[M::Punpckhdq, M::Unpckhps], build_packed::<Unpack<u32, true>>);
    t.set_all(&[M::Punpckhqdq, M::Unpckhpd], build_packed::<Unpack<u64, true>>);
    t.set(M::Packsswb, build_packed::<Pack<16, true>>);
    t.set(M::Packssdw, build_packed::<Pack<32, true>>);
    t.set(M::Packuswb, build_packed::<Pack<16, false>>);
    t.set(M::Pshufd, build_packed::<Pshufd>);
    t.set(M::Pshuflw, build_packed::<PshufW<false>>);
    t.set(M::Pshufhw, build_packed::<PshufW<true>>);
    t.set(M::Shufps, build_packed::<Shufps>);
    t.set(M::Shufpd, build_packed::<Shufpd>);
    t.set(M::Pinsrw, build_pinsrw);
    t.set(M::Pextrw, |i, _| (is_gpr(i, 0) && is_xmm(i, 1)).then_some(pextrw as Handler));
}
