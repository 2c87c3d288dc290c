//! SSE/SSE2 as compiled Rust code uses it: moves, the 128-bit integer ops (`sse/int.rs`),
//! float arithmetic, comparisons and conversions (`sse/float.rs`), MXCSR access, fences.
//!
//! # Model
//!
//! An XMM value is a `u128` (lane 0 in the low bits, as in memory). Most instructions are
//! `xmm0 = OP(xmm0, src, imm8)` and share one handler, [`packed`], generic over the
//! operation (a zero-sized [`Packed`] type) and the source form ([`XSrc`]: register, aligned
//! or unaligned m128, zero-extended m32/m64, or the immediate as a shift count). The
//! operations are written once per shape over lanes ([`map2`] with a [`Lane`] type) rather
//! than once per element width.
//!
//! # Checks
//!
//! Every instruction that touches XMM or MXCSR state first runs [`Cpu::sse_check`]: #UD if
//! CR0.EM is set or CR4.OSFXSR is clear, then #NM if CR0.TS is set. Legacy-SSE m128 operands
//! must be 16-byte aligned (#GP(0)), except for the explicitly unaligned moves (movdqu,
//! movups, movupd, lddqu); scalar and 64-bit memory operands have no alignment rule.
//!
//! MMX forms of the integer instructions are not implemented (their builders decline them).

mod float;
mod int;

use std::sync::OnceLock;

use iced_x86::{Instruction, Mnemonic, OpKind};

use super::{Builder, Form, Table};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::operand::{Dst, Mem, Reg0, Reg1, Src};
use crate::cpu::Cpu;
use crate::mmu::{CR0_EM, CR0_TS, CR4_OSFXSR};

/// MXCSR bits software may set. DAZ (bit 6) is writable, so the mask (as reported in the
/// fxsave image) is 0xFFFF, the value qemu reports and modern Intel/AMD parts store.
pub const MXCSR_MASK: u32 = 0xffff;

/// MXCSR exception flags.
pub mod mx {
    pub const IE: u32 = 1 << 0;
    pub const ZE: u32 = 1 << 2;
    pub const PE: u32 = 1 << 5;
}

impl Cpu {
    /// The checks every SSE instruction makes before anything else: #UD when SSE is not
    /// enabled (CR0.EM set or CR4.OSFXSR clear), #NM when the OS asked to trap the first use
    /// of FPU/SSE state after a task switch (CR0.TS).
    #[inline(always)]
    pub fn sse_check(&self) -> Result<(), Exception> {
        if self.cr0 & CR0_EM != 0 || self.cr4 & CR4_OSFXSR == 0 {
            return Err(Exception::ud());
        }
        if self.cr0 & CR0_TS != 0 {
            return Err(Exception::nm());
        }
        Ok(())
    }

    #[inline(always)]
    pub fn xmm(&self, r: u8) -> u128 {
        self.sse.xmm[(r & 15) as usize]
    }

    #[inline(always)]
    pub fn set_xmm(&mut self, r: u8, v: u128) {
        self.sse.xmm[(r & 15) as usize] = v;
    }

    /// Linear address of the op's memory operand for a `len`-byte access; with `align`,
    /// #GP(0) unless the address is a multiple of `len` (the m128 rule of legacy SSE and
    /// the 512-byte fxsave area's 16-byte rule use `len` 16).
    #[inline(always)]
    pub fn sse_lin(&self, op: &Op, len: usize, write: bool, align: bool) -> Result<u64, Exception> {
        let lin = self.linear(op.mem.seg, self.ea(&op.mem), len, write)?;
        if align && lin & 15 != 0 {
            return Err(Exception::gp(0));
        }
        Ok(lin)
    }

    /// Reads 16 bytes at `lin` (any alignment).
    #[inline(always)]
    pub fn read_xmm_mem(&mut self, bus: &mut dyn Bus, lin: u64) -> Result<u128, Exception> {
        if lin & 0xfff <= 0xff0 {
            // One page: the second half cannot fault once the first half succeeded.
            let lo = self.read_lin::<8>(bus, lin)?;
            let hi = self.read_lin::<8>(bus, lin.wrapping_add(8))?;
            return Ok(lo as u128 | (hi as u128) << 64);
        }
        let mut b = [0u8; 16];
        self.read_bytes(bus, lin, &mut b)?;
        Ok(u128::from_le_bytes(b))
    }

    /// Writes 16 bytes at `lin` (any alignment); a fault leaves memory untouched.
    #[inline(always)]
    pub fn write_xmm_mem(&mut self, bus: &mut dyn Bus, lin: u64, v: u128) -> Result<(), Exception> {
        if lin & 0xfff <= 0xff0 {
            self.write_lin::<8>(bus, lin, v as u64)?;
            return self.write_lin::<8>(bus, lin.wrapping_add(8), (v >> 64) as u64);
        }
        self.write_bytes(bus, lin, &v.to_le_bytes())
    }
}

// ----- lanes ----------------------------------------------------------------------------

/// An element type of a packed XMM value.
pub trait Lane: Copy {
    const BITS: u32;
    /// The lane from the low `BITS` bits of `v`.
    fn from_bits(v: u64) -> Self;
    /// The lane's bits, zero-extended.
    fn to_bits(self) -> u64;
}

macro_rules! int_lane {
    ($($t:ty, $u:ty, $bits:expr;)*) => {$(
        impl Lane for $t {
            const BITS: u32 = $bits;
            #[inline(always)]
            fn from_bits(v: u64) -> Self {
                v as $u as $t
            }
            #[inline(always)]
            fn to_bits(self) -> u64 {
                self as $u as u64
            }
        }
    )*};
}
int_lane! {
    u8, u8, 8; i8, u8, 8; u16, u16, 16; i16, u16, 16;
    u32, u32, 32; i32, u32, 32; u64, u64, 64; i64, u64, 64;
}

impl Lane for f32 {
    const BITS: u32 = 32;
    #[inline(always)]
    fn from_bits(v: u64) -> Self {
        f32::from_bits(v as u32)
    }
    #[inline(always)]
    fn to_bits(self) -> u64 {
        f32::to_bits(self) as u64
    }
}
impl Lane for f64 {
    const BITS: u32 = 64;
    #[inline(always)]
    fn from_bits(v: u64) -> Self {
        f64::from_bits(v)
    }
    #[inline(always)]
    fn to_bits(self) -> u64 {
        f64::to_bits(self)
    }
}

/// Number of `T` lanes in an XMM register.
#[inline(always)]
pub const fn count<T: Lane>() -> usize {
    (128 / T::BITS) as usize
}

/// Lane `i` of `v`.
#[inline(always)]
pub fn lane<T: Lane>(v: u128, i: usize) -> T {
    T::from_bits((v >> (i as u32 * T::BITS)) as u64)
}

/// `v` with lane `i` replaced by `x`.
#[inline(always)]
pub fn with_lane<T: Lane>(v: u128, i: usize, x: T) -> u128 {
    let m = u128::MAX >> (128 - T::BITS);
    let sh = i as u32 * T::BITS;
    (v & !(m << sh)) | ((x.to_bits() as u128 & m) << sh)
}

/// Builds a value from a function of the lane index.
#[inline(always)]
pub fn from_fn<T: Lane>(mut f: impl FnMut(usize) -> T) -> u128 {
    let mut r = 0u128;
    for i in 0..count::<T>() {
        r = with_lane(r, i, f(i));
    }
    r
}

/// Lane-wise `f(a[i], b[i])`.
#[inline(always)]
pub fn map2<T: Lane>(a: u128, b: u128, mut f: impl FnMut(T, T) -> T) -> u128 {
    from_fn::<T>(|i| f(lane(a, i), lane(b, i)))
}

// ----- operand forms and the shared handler ---------------------------------------------

/// Where an instruction's second (source) XMM operand comes from.
pub trait XSrc {
    fn get(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<u128, Exception>;
}

/// XMM register `op.r[1]`.
pub struct XReg;
/// A 16-byte-aligned m128 (legacy SSE rule: #GP(0) otherwise).
pub struct XMemA;
/// An m128 with no alignment requirement.
pub struct XMemU;
/// An `N`-byte memory operand (m16/m32/m64), zero-extended.
pub struct XMemN<const N: usize>;
/// The immediate (the count of the shift-by-immediate forms).
pub struct XImm;

impl XSrc for XReg {
    #[inline(always)]
    fn get(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<u128, Exception> {
        Ok(cpu.xmm(op.r[1]))
    }
}
impl XSrc for XMemA {
    #[inline(always)]
    fn get(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<u128, Exception> {
        let lin = cpu.sse_lin(op, 16, false, true)?;
        cpu.read_xmm_mem(bus, lin)
    }
}
impl XSrc for XMemU {
    #[inline(always)]
    fn get(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<u128, Exception> {
        let lin = cpu.sse_lin(op, 16, false, false)?;
        cpu.read_xmm_mem(bus, lin)
    }
}
impl<const N: usize> XSrc for XMemN<N> {
    #[inline(always)]
    fn get(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<u128, Exception> {
        Ok(Mem::get::<N>(cpu, bus, op)? as u128)
    }
}
impl XSrc for XImm {
    #[inline(always)]
    fn get(_: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<u128, Exception> {
        Ok(op.imm as u8 as u128)
    }
}

/// An operation `dst = f(dst, src, imm8)` on whole XMM values. `mx` is MXCSR, for rounding
/// control and the sticky exception flags.
pub trait Packed {
    fn apply(a: u128, b: u128, imm: u8, mx: &mut u32) -> u128;
}

/// `xmm[r0] = K(xmm[r0], src, imm8)`.
pub fn packed<K: Packed, V: XSrc>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let b = V::get(cpu, bus, op)?;
    let a = cpu.xmm(op.r[0]);
    let mut mx = cpu.sse.mxcsr;
    let r = K::apply(a, b, op.imm as u8, &mut mx);
    cpu.sse.mxcsr = mx;
    cpu.set_xmm(op.r[0], r);
    Ok(())
}

/// Operand `i` is an XMM register.
pub fn is_xmm(ins: &Instruction, i: u32) -> bool {
    i < ins.op_count() && ins.op_kind(i) == OpKind::Register && ins.op_register(i).is_xmm()
}

/// Operand `i` is a general-purpose register.
pub fn is_gpr(ins: &Instruction, i: u32) -> bool {
    i < ins.op_count() && ins.op_kind(i) == OpKind::Register && ins.op_register(i).is_gpr()
}

/// Builder for `xmm, xmm/mem[, imm8]` and `xmm, imm8` forms. A full m128 operand must be
/// aligned; a narrower one (scalar ops, cvtdq2pd's m64) need not be.
pub fn build_packed<K: Packed + 'static>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    if !is_xmm(ins, 0) {
        return None;
    }
    match super::form(ins, 1) {
        Form::Reg if is_xmm(ins, 1) => Some(packed::<K, XReg> as Handler),
        Form::Mem => match ins.memory_size().size() {
            16 => Some(packed::<K, XMemA> as Handler),
            8 => Some(packed::<K, XMemN<8>> as Handler),
            4 => Some(packed::<K, XMemN<4>> as Handler),
            _ => None,
        },
        Form::Imm => Some(packed::<K, XImm> as Handler),
        _ => None,
    }
}

// ----- moves ----------------------------------------------------------------------------

fn mov_xx(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    cpu.set_xmm(op.r[0], cpu.xmm(op.r[1]));
    Ok(())
}

fn load128<const ALIGN: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let lin = cpu.sse_lin(op, 16, false, ALIGN)?;
    let v = cpu.read_xmm_mem(bus, lin)?;
    cpu.set_xmm(op.r[0], v);
    Ok(())
}

fn store128<const ALIGN: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let lin = cpu.sse_lin(op, 16, true, ALIGN)?;
    cpu.write_xmm_mem(bus, lin, cpu.xmm(op.r[1]))
}

/// movd/movq/movss/movsd loads: `xmm[r0] = zero-extended S-byte value` from a GPR or memory.
fn load_zx<V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let v = V::get::<S>(cpu, bus, op)?;
    cpu.set_xmm(op.r[0], v as u128);
    Ok(())
}

/// movd/movq/movss/movsd/movlps stores: the low `S` bytes of `xmm[r1]` to a GPR (which a
/// 32-bit write zero-extends) or memory.
fn store_lo<D: Dst, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let loc = D::locate::<S>(cpu, bus, op, true)?;
    let v = cpu.xmm(op.r[1]) as u64;
    D::store::<S>(cpu, bus, op, loc, v)
}

/// movhps/movhpd store: the high quadword of `xmm[r1]`.
fn store_hi(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let lin = cpu.mem_lin::<8>(op, true)?;
    cpu.write_lin::<8>(bus, lin, (cpu.xmm(op.r[1]) >> 64) as u64)
}

/// movq xmm, xmm: the low quadword, upper cleared.
fn movq_xx(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    cpu.set_xmm(op.r[0], cpu.xmm(op.r[1]) as u64 as u128);
    Ok(())
}

/// Register-to-register movss/movsd: only the low `S` bytes move; the rest of the
/// destination is kept.
fn merge_lo<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let m = u128::MAX >> (128 - 8 * S);
    let v = (cpu.xmm(op.r[0]) & !m) | (cpu.xmm(op.r[1]) & m);
    cpu.set_xmm(op.r[0], v);
    Ok(())
}

/// movlps/movlpd/movhps/movhpd loads: one quadword of the destination from m64.
fn load_half<const HIGH: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let v = Mem::get::<8>(cpu, bus, op)?;
    let r = with_lane::<u64>(cpu.xmm(op.r[0]), HIGH as usize, v);
    cpu.set_xmm(op.r[0], r);
    Ok(())
}

/// movhlps (`FROM` = 1, `TO` = 0) and movlhps (`FROM` = 0, `TO` = 1).
fn move_half<const FROM: usize, const TO: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let q = lane::<u64>(cpu.xmm(op.r[1]), FROM);
    let r = with_lane::<u64>(cpu.xmm(op.r[0]), TO, q);
    cpu.set_xmm(op.r[0], r);
    Ok(())
}

/// movnti m32/m64, r: a plain store (the non-temporal hint has no meaning here).
fn movnti<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let lin = cpu.mem_lin::<S>(op, true)?;
    let v = cpu.reg::<S>(op.r[1]);
    cpu.write_lin::<S>(bus, lin, v)
}

/// maskmovdqu xmm1, xmm2: bytes of xmm1 whose mask byte in xmm2 has its top bit set go to
/// DS:rDI (iced lists the implicit memory operand first, so the registers are r[1], r[2]).
/// All touched pages are checked before the first byte is written.
fn maskmovdqu(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let (data, mask) = (cpu.xmm(op.r[1]), cpu.xmm(op.r[2]));
    if mask & 0x8080_8080_8080_8080_8080_8080_8080_8080 == 0 {
        return Ok(());
    }
    let amask = match op.asize {
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    };
    let seg = crate::cpu::decode::reg_number(op.ins.memory_segment());
    let off = cpu.gpr[crate::cpu::reg::RDI as usize] & amask;
    let lin = cpu.linear(seg, off, 16, true)?;
    let mut old = [0u8; 16];
    cpu.read_bytes(bus, lin, &mut old)?;
    let new: [u8; 16] = std::array::from_fn(|i| if lane::<u8>(mask, i) & 0x80 != 0 { lane::<u8>(data, i) } else { old[i] });
    cpu.write_bytes(bus, lin, &new)
}

fn build_mov128<const ALIGN: bool>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    match (super::form(ins, 0), super::form(ins, 1)) {
        (Form::Reg, Form::Reg) if is_xmm(ins, 0) && is_xmm(ins, 1) => Some(mov_xx),
        (Form::Reg, Form::Mem) if is_xmm(ins, 0) => Some(load128::<ALIGN>),
        (Form::Mem, Form::Reg) if is_xmm(ins, 1) => Some(store128::<ALIGN>),
        _ => None,
    }
}

/// movd (`S` = 4) and movq (`S` = 8) in all their XMM forms.
fn build_movdq(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let s = if ins.mnemonic() == Mnemonic::Movq { 8 } else { 4 };
    match (super::form(ins, 0), super::form(ins, 1)) {
        (Form::Reg, Form::Reg) if is_xmm(ins, 0) && is_xmm(ins, 1) => Some(movq_xx),
        (Form::Reg, Form::Reg) if is_xmm(ins, 0) && is_gpr(ins, 1) => {
            if s == 8 { Some(load_zx::<Reg1, 8>) } else { Some(load_zx::<Reg1, 4>) }
        }
        (Form::Reg, Form::Reg) if is_gpr(ins, 0) && is_xmm(ins, 1) => {
            if s == 8 { Some(store_lo::<Reg0, 8>) } else { Some(store_lo::<Reg0, 4>) }
        }
        (Form::Reg, Form::Mem) if is_xmm(ins, 0) => if s == 8 { Some(load_zx::<Mem, 8>) } else { Some(load_zx::<Mem, 4>) },
        (Form::Mem, Form::Reg) if is_xmm(ins, 1) => if s == 8 { Some(store_lo::<Mem, 8>) } else { Some(store_lo::<Mem, 4>) },
        _ => None,
    }
}

/// The string-instruction builders for the mnemonics SSE shares with them (movsd, cmpsd),
/// captured when [`register`] replaces them.
static STRING_MOVSD: OnceLock<Option<Builder>> = OnceLock::new();
static STRING_CMPSD: OnceLock<Option<Builder>> = OnceLock::new();

/// movss (`S` = 4) and movsd (`S` = 8). iced gives the SSE and string forms of movsd one
/// mnemonic; the string form goes to the string family's builder.
fn build_movs<const S: usize>(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if !is_xmm(ins, 0) && !is_xmm(ins, 1) {
        return STRING_MOVSD.get().copied().flatten().and_then(|b| b(ins, op));
    }
    match (super::form(ins, 0), super::form(ins, 1)) {
        (Form::Reg, Form::Reg) => Some(merge_lo::<S>),
        (Form::Reg, Form::Mem) => Some(load_zx::<Mem, S>),
        (Form::Mem, Form::Reg) => Some(store_lo::<Mem, S>),
        _ => None,
    }
}

fn build_movlh<const HIGH: bool>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    match (super::form(ins, 0), super::form(ins, 1)) {
        (Form::Reg, Form::Mem) => Some(load_half::<HIGH>),
        (Form::Mem, Form::Reg) if HIGH => Some(store_hi),
        (Form::Mem, Form::Reg) => Some(store_lo::<Mem, 8>),
        _ => None,
    }
}

// ----- MXCSR, fences --------------------------------------------------------------------

fn ldmxcsr(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let v = Mem::get::<4>(cpu, bus, op)? as u32;
    if v & !MXCSR_MASK != 0 {
        return Err(Exception::gp(0));
    }
    cpu.sse.mxcsr = v;
    Ok(())
}

fn stmxcsr(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let lin = cpu.mem_lin::<4>(op, true)?;
    cpu.write_lin::<4>(bus, lin, cpu.sse.mxcsr as u64)
}

/// Fences, prefetches and cache-line flushes: one CPU with coherent memory has nothing to
/// order or flush. (clflush still names a memory operand, but faults on it are not modelled.)
fn nop(_: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    Ok(())
}

/// pmovmskb, movmskps, movmskpd: the top bit of each `T` lane, into a GPR.
fn movmsk<T: Lane>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.sse_check()?;
    let v = cpu.xmm(op.r[1]);
    let mut m = 0u64;
    for i in 0..count::<T>() {
        m |= (lane::<T>(v, i).to_bits() >> (T::BITS - 1)) << i;
    }
    cpu.set_reg::<8>(op.r[0], m);
    Ok(())
}

fn build_movmsk<T: Lane + 'static>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    (is_gpr(ins, 0) && is_xmm(ins, 1)).then_some(movmsk::<T> as Handler)
}

pub fn register(t: &mut Table) {
    let _ = STRING_MOVSD.set(t.get(Mnemonic::Movsd));
    let _ = STRING_CMPSD.set(t.get(Mnemonic::Cmpsd));

    t.set_all(&[Mnemonic::Movdqa, Mnemonic::Movaps, Mnemonic::Movapd, Mnemonic::Movntdq, Mnemonic::Movntps, Mnemonic::Movntpd], build_mov128::<true>);
    t.set_all(&[Mnemonic::Movdqu, Mnemonic::Movups, Mnemonic::Movupd, Mnemonic::Lddqu], build_mov128::<false>);
    t.set_all(&[Mnemonic::Movd, Mnemonic::Movq], build_movdq);
    t.set(Mnemonic::Movss, build_movs::<4>);
    t.set(Mnemonic::Movsd, build_movs::<8>);
    t.set_all(&[Mnemonic::Movlps, Mnemonic::Movlpd], build_movlh::<false>);
    t.set_all(&[Mnemonic::Movhps, Mnemonic::Movhpd], build_movlh::<true>);
    t.set(Mnemonic::Movhlps, |i, _| (is_xmm(i, 1)).then_some(move_half::<1, 0> as Handler));
    t.set(Mnemonic::Movlhps, |i, _| (is_xmm(i, 1)).then_some(move_half::<0, 1> as Handler));
    t.set(Mnemonic::Movnti, |i, _| match super::operand_size(i, 0) {
        4 => Some(movnti::<4> as Handler),
        8 => Some(movnti::<8> as Handler),
        _ => None,
    });
    t.set(Mnemonic::Maskmovdqu, |i, _| (is_xmm(i, 1) && is_xmm(i, 2)).then_some(maskmovdqu as Handler));
    t.set(Mnemonic::Ldmxcsr, |_, _| Some(ldmxcsr as Handler));
    t.set(Mnemonic::Stmxcsr, |_, _| Some(stmxcsr as Handler));
    t.set_all(
        &[
            Mnemonic::Lfence,
            Mnemonic::Sfence,
            Mnemonic::Mfence,
            Mnemonic::Clflush,
            Mnemonic::Clflushopt,
            Mnemonic::Prefetch,
            Mnemonic::Prefetchnta,
            Mnemonic::Prefetcht0,
            Mnemonic::Prefetcht1,
            Mnemonic::Prefetcht2,
            Mnemonic::Prefetchw,
        ],
        |_, _| Some(nop as Handler),
    );
    t.set(Mnemonic::Pmovmskb, build_movmsk::<u8>);
    t.set(Mnemonic::Movmskps, build_movmsk::<u32>);
    t.set(Mnemonic::Movmskpd, build_movmsk::<u64>);

    int::register(t);
    float::register(t);
}
