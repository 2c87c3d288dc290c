//! Bit operations: bt, bts, btr, btc, bsf, bsr, tzcnt, lzcnt, popcnt, bswap.
//!
//! Flags the SDM leaves undefined are set as the modelled AMD part sets them, one fixed
//! choice whatever the host (emulator README, "Undefined results"; `tests/differential.rs`).

use iced_x86::{Instruction, Mnemonic};

use super::{form, operand_size, Form, Table};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::flags::{mask, sext, AF, CF, PF, SF, ZF};
use crate::cpu::operand::{Dst, Imm, Mem, Reg0, Reg1, Src};
use crate::cpu::Cpu;
use crate::sized_wide;

/// What bt* does to the selected bit: 0 test, 1 set, 2 reset, 3 complement.
#[inline(always)]
fn bt_apply<const K: u8>(v: u64, bit: u64) -> u64 {
    let m = 1u64 << bit;
    match K {
        1 => v | m,
        2 => v & !m,
        3 => v ^ m,
        _ => v,
    }
}

/// Sets CF to the tested bit. ZF is preserved; OF, SF, AF and PF are undefined and left
/// unchanged.
#[inline(always)]
fn bt_flags(cpu: &mut Cpu, v: u64, bit: u64) {
    cpu.flags.set_bit(CF, (v >> bit) & 1 != 0);
}

/// `bt* r/m, r/imm` where the offset is taken modulo the operand width: any register
/// destination, and a memory destination with an immediate offset.
pub fn bt<D: Dst, V: Src, const K: u8, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let bit = V::get::<S>(cpu, bus, op)? & (S as u64 * 8 - 1);
    let loc = D::locate::<S>(cpu, bus, op, K != 0)?;
    let v = D::load::<S>(cpu, bus, op, loc)?;
    bt_flags(cpu, v, bit);
    if K != 0 {
        D::store::<S>(cpu, bus, op, loc, bt_apply::<K>(v, bit))?;
    }
    Ok(())
}

/// `bt* m, r`: the register is a signed bit offset from the operand's address, so it can
/// reach anywhere in a bit string around it. The access is the operand size, at the
/// address of the operand-sized unit that holds the bit.
pub fn bt_mem_reg<const K: u8, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let off = sext::<S>(cpu.reg::<S>(op.r[1]));
    let w = S as i64 * 8;
    // Floor division: a negative offset addresses units below the operand.
    let unit = off.div_euclid(w);
    let bit = off.rem_euclid(w) as u64;
    let ea = cpu.ea(&op.mem).wrapping_add((unit as u64).wrapping_mul(S as u64)) & op.mem.amask;
    let lin = cpu.linear(op.mem.seg, ea, S, K != 0)?;
    if K != 0 {
        cpu.probe_write::<S>(bus, lin)?;
    }
    let v = cpu.read_lin::<S>(bus, lin)?;
    bt_flags(cpu, v, bit);
    if K != 0 {
        cpu.write_lin::<S>(bus, lin, bt_apply::<K>(v, bit))?;
    }
    Ok(())
}

fn build_bt<const K: u8>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    match (form(ins, 0), form(ins, 1)) {
        (Form::Reg, Form::Reg) => sized_wide!(size, bt::<Reg0, Reg1, K>),
        (Form::Reg, Form::Imm) => sized_wide!(size, bt::<Reg0, Imm, K>),
        (Form::Mem, Form::Imm) => sized_wide!(size, bt::<Mem, Imm, K>),
        (Form::Mem, Form::Reg) => sized_wide!(size, bt_mem_reg::<K>),
        _ => None,
    }
}

/// `bsf`/`bsr r, r/m` (`REV` for bsr): the index of the lowest (highest) set bit. A zero
/// source sets ZF and leaves the destination unchanged (not even zero-extended).
/// CF, OF, SF, AF and PF are undefined; the modelled AMD part clears all but PF, which it
/// sets from the index found (from 0 for a zero source), as we do. (AMD family 17h keeps
/// them unchanged instead; Intel differs again.)
pub fn bsf<V: Src, const REV: bool, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = V::get::<S>(cpu, bus, op)?;
    let mut i = 0;
    if v != 0 {
        i = if REV { 63 - v.leading_zeros() } else { v.trailing_zeros() };
        cpu.set_reg::<S>(op.r[0], i as u64);
    }
    cpu.flags.set_arith(false, i.count_ones() % 2 == 0, false, v == 0, false, false);
    Ok(())
}

/// `tzcnt`/`lzcnt r, r/m` (`LZ` for lzcnt): the count of zero bits, the width for zero.
/// CF = the source was zero, ZF = the result is zero.
pub fn zcnt<V: Src, const LZ: bool, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = V::get::<S>(cpu, bus, op)?;
    let w = S as u32 * 8;
    let n = if v == 0 {
        w
    } else if LZ {
        v.leading_zeros() - (64 - w)
    } else {
        v.trailing_zeros()
    };
    cpu.set_reg::<S>(op.r[0], n as u64);
    // SF, AF and PF are undefined: the modelled AMD part clears them (and keeps OF).
    cpu.flags.set_masked(CF | ZF | SF | AF | PF, (v == 0) as u64 | ((n == 0) as u64) << 6);
    Ok(())
}

/// `popcnt r, r/m`: ZF = the source was zero; OF, SF, AF, CF and PF are cleared.
pub fn popcnt<V: Src, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = V::get::<S>(cpu, bus, op)?;
    cpu.set_reg::<S>(op.r[0], v.count_ones() as u64);
    cpu.flags.set_arith(false, false, false, v == 0, false, false);
    Ok(())
}

fn build_src<const KIND: u8>(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    let size = operand_size(ins, 0);
    macro_rules! pick {
        ($v:ty) => {
            match KIND {
                0 => sized_wide!(size, bsf::<$v, false>),
                1 => sized_wide!(size, bsf::<$v, true>),
                2 => sized_wide!(size, zcnt::<$v, false>),
                3 => sized_wide!(size, zcnt::<$v, true>),
                _ => sized_wide!(size, popcnt::<$v>),
            }
        };
    }
    match (form(ins, 0), form(ins, 1)) {
        (Form::Reg, Form::Reg) => pick!(Reg1),
        (Form::Reg, Form::Mem) => pick!(Mem),
        _ => None,
    }
}

/// `bswap r`. The 16-bit form is undefined by the SDM; hardware clears the register's low
/// word, and so do we.
pub fn bswap<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let v = cpu.reg::<S>(op.r[0]);
    let r = match S {
        4 => (v as u32).swap_bytes() as u64,
        8 => v.swap_bytes(),
        _ => 0,
    };
    cpu.set_reg::<S>(op.r[0], r & mask::<S>());
    Ok(())
}

pub fn register(t: &mut Table) {
    t.set(Mnemonic::Bt, build_bt::<0>);
    t.set(Mnemonic::Bts, build_bt::<1>);
    t.set(Mnemonic::Btr, build_bt::<2>);
    t.set(Mnemonic::Btc, build_bt::<3>);
    t.set(Mnemonic::Bsf, build_src::<0>);
    t.set(Mnemonic::Bsr, build_src::<1>);
    t.set(Mnemonic::Tzcnt, build_src::<2>);
    t.set(Mnemonic::Lzcnt, build_src::<3>);
    t.set(Mnemonic::Popcnt, build_src::<4>);
    t.set(Mnemonic::Bswap, |ins, _| sized_wide!(operand_size(ins, 0), bswap));
}
