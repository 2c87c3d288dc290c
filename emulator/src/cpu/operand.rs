//! The shared operand layer: registers by size, effective addresses, and the operand-form
//! types that let one generic handler serve every form of an instruction.
//!
//! Instruction handlers are generic over the *form* of their operands and their size:
//! `alu::<Add, Reg0, Imm, 4>` is ADD r/m32(register), imm32. The form types below
//! ([`Reg0`], [`Reg1`], [`Mem`], [`Imm`]) each read or write an operand of the [`Op`], and the
//! size is a const generic (1, 2, 4 or 8 bytes). A builder picks the instantiation once at
//! decode time, so execution never inspects operand kinds.

use super::decode::{MemAddr, Op};
use super::exception::Exception;
use super::flags::mask;
use super::Cpu;
use crate::bus::Bus;

impl Cpu {
    /// Reads general register `r` as an `S`-byte value. For `S == 1`, `r` 16-19 name
    /// AH, CH, DH, BH.
    #[inline(always)]
    pub fn reg<const S: usize>(&self, r: u8) -> u64 {
        let r = r as usize & 31;
        match S {
            1 => {
                if r < 16 {
                    self.gpr[r] & 0xff
                } else {
                    (self.gpr[(r - 16) & 31] >> 8) & 0xff
                }
            }
            2 => self.gpr[r] & 0xffff,
            4 => self.gpr[r] & 0xffff_ffff,
            _ => self.gpr[r],
        }
    }

    /// Writes general register `r` with an `S`-byte value: 8- and 16-bit writes merge, 32-bit
    /// writes zero the upper half, as the architecture defines.
    #[inline(always)]
    pub fn set_reg<const S: usize>(&mut self, r: u8, v: u64) {
        let r = r as usize & 31;
        match S {
            1 => {
                if r < 16 {
                    self.gpr[r] = (self.gpr[r] & !0xff) | (v & 0xff);
                } else {
                    let g = &mut self.gpr[(r - 16) & 31];
                    *g = (*g & !0xff00) | ((v & 0xff) << 8);
                }
            }
            2 => self.gpr[r] = (self.gpr[r] & !0xffff) | (v & 0xffff),
            4 => self.gpr[r] = v & 0xffff_ffff,
            _ => self.gpr[r] = v,
        }
    }

    /// Effective address (offset within the segment) of a memory operand.
    #[inline(always)]
    pub fn ea(&self, m: &MemAddr) -> u64 {
        m.disp
            .wrapping_add(self.gpr[m.base as usize & 31])
            .wrapping_add(self.gpr[m.index as usize & 31] << (m.scale & 3))
            & m.amask
    }

    /// Linear address of the op's memory operand for an `S`-byte access.
    #[inline(always)]
    pub fn mem_lin<const S: usize>(&self, op: &Op, write: bool) -> Result<u64, Exception> {
        let off = self.ea(&op.mem);
        self.linear(op.mem.seg, off, S, write)
    }

    /// Address of the next instruction.
    #[inline(always)]
    pub fn next_rip(&self) -> u64 {
        self.gpr[super::reg::NEXT_RIP as usize]
    }

    /// Sets the address execution continues at (a taken branch).
    #[inline(always)]
    pub fn set_next_rip(&mut self, v: u64) {
        self.gpr[super::reg::NEXT_RIP as usize] = v;
    }
}

/// A source operand form.
pub trait Src {
    fn get<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<u64, Exception>;
    /// The operand's value when that needs no slow path (always for registers and
    /// immediates; for memory, 64-bit mode and a TLB hit). `None` leaves the caller to
    /// take its full path, which starts over: nothing was changed.
    fn get_fast<const S: usize>(cpu: &Cpu, op: &Op) -> Option<u64>;
}

/// A destination operand form that can be read, modified and written back.
pub trait Dst {
    /// Where the operand was found (nothing for registers, the linear address for memory).
    type Loc: Copy;
    /// Resolves the operand; with `write`, also proves the write cannot fault.
    fn locate<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op, write: bool) -> Result<Self::Loc, Exception>;
    fn load<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op, loc: Self::Loc) -> Result<u64, Exception>;
    fn store<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op, loc: Self::Loc, v: u64) -> Result<(), Exception>;
    /// As [`Src::get_fast`]: the location and current value when neither needs a slow
    /// path, and, with `write`, when [`Dst::store_fast`] to it will not either.
    fn load_fast<const S: usize>(cpu: &Cpu, op: &Op, write: bool) -> Option<(Self::Loc, u64)>;
    /// Stores to a location [`Dst::load_fast`] found writable, with no TLB change since.
    fn store_fast<const S: usize>(cpu: &mut Cpu, op: &Op, loc: Self::Loc, v: u64);
}

/// The register in operand position 0 (`op.r[0]`).
pub struct Reg0;
/// The register in operand position 1 (`op.r[1]`).
pub struct Reg1;
/// The register in operand position 2 (`op.r[2]`).
pub struct Reg2;
/// The instruction's memory operand.
pub struct Mem;
/// The first immediate (`op.imm`), already sign-extended as the encoding specifies.
pub struct Imm;

impl Src for Reg0 {
    #[inline(always)]
    fn get<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<u64, Exception> {
        Ok(cpu.reg::<S>(op.r[0]))
    }
    #[inline(always)]
    fn get_fast<const S: usize>(cpu: &Cpu, op: &Op) -> Option<u64> {
        Some(cpu.reg::<S>(op.r[0]))
    }
}
impl Src for Reg1 {
    #[inline(always)]
    fn get<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<u64, Exception> {
        Ok(cpu.reg::<S>(op.r[1]))
    }
    #[inline(always)]
    fn get_fast<const S: usize>(cpu: &Cpu, op: &Op) -> Option<u64> {
        Some(cpu.reg::<S>(op.r[1]))
    }
}
impl Src for Reg2 {
    #[inline(always)]
    fn get<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<u64, Exception> {
        Ok(cpu.reg::<S>(op.r[2]))
    }
    #[inline(always)]
    fn get_fast<const S: usize>(cpu: &Cpu, op: &Op) -> Option<u64> {
        Some(cpu.reg::<S>(op.r[2]))
    }
}
impl Src for Imm {
    #[inline(always)]
    fn get<const S: usize>(_: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<u64, Exception> {
        Ok(op.imm & mask::<S>())
    }
    #[inline(always)]
    fn get_fast<const S: usize>(_: &Cpu, op: &Op) -> Option<u64> {
        Some(op.imm & mask::<S>())
    }
}
impl Src for Mem {
    #[inline(always)]
    fn get<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<u64, Exception> {
        let lin = cpu.mem_lin::<S>(op, false)?;
        cpu.read_lin::<S>(bus, lin)
    }
    #[inline(always)]
    fn get_fast<const S: usize>(cpu: &Cpu, op: &Op) -> Option<u64> {
        cpu.read_fast::<S>(cpu.linear_fast(op.mem.seg, cpu.ea(&op.mem))?)
    }
}

impl Dst for Reg0 {
    type Loc = ();
    #[inline(always)]
    fn locate<const S: usize>(_: &mut Cpu, _: &mut dyn Bus, _: &Op, _: bool) -> Result<(), Exception> {
        Ok(())
    }
    #[inline(always)]
    fn load<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op, _: ()) -> Result<u64, Exception> {
        Ok(cpu.reg::<S>(op.r[0]))
    }
    #[inline(always)]
    fn store<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op, _: (), v: u64) -> Result<(), Exception> {
        cpu.set_reg::<S>(op.r[0], v);
        Ok(())
    }
    #[inline(always)]
    fn load_fast<const S: usize>(cpu: &Cpu, op: &Op, _: bool) -> Option<((), u64)> {
        Some(((), cpu.reg::<S>(op.r[0])))
    }
    #[inline(always)]
    fn store_fast<const S: usize>(cpu: &mut Cpu, op: &Op, _: (), v: u64) {
        cpu.set_reg::<S>(op.r[0], v);
    }
}

impl Dst for Reg1 {
    type Loc = ();
    #[inline(always)]
    fn locate<const S: usize>(_: &mut Cpu, _: &mut dyn Bus, _: &Op, _: bool) -> Result<(), Exception> {
        Ok(())
    }
    #[inline(always)]
    fn load<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op, _: ()) -> Result<u64, Exception> {
        Ok(cpu.reg::<S>(op.r[1]))
    }
    #[inline(always)]
    fn store<const S: usize>(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op, _: (), v: u64) -> Result<(), Exception> {
        cpu.set_reg::<S>(op.r[1], v);
        Ok(())
    }
    #[inline(always)]
    fn load_fast<const S: usize>(cpu: &Cpu, op: &Op, _: bool) -> Option<((), u64)> {
        Some(((), cpu.reg::<S>(op.r[1])))
    }
    #[inline(always)]
    fn store_fast<const S: usize>(cpu: &mut Cpu, op: &Op, _: (), v: u64) {
        cpu.set_reg::<S>(op.r[1], v);
    }
}

impl Dst for Mem {
    type Loc = u64;
    #[inline(always)]
    fn locate<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op, write: bool) -> Result<u64, Exception> {
        let lin = cpu.mem_lin::<S>(op, write)?;
        if write {
            cpu.probe_write::<S>(bus, lin)?;
        }
        Ok(lin)
    }
    #[inline(always)]
    fn load<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op, lin: u64) -> Result<u64, Exception> {
        cpu.read_lin::<S>(bus, lin)
    }
    #[inline(always)]
    fn store<const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, _: &Op, lin: u64, v: u64) -> Result<(), Exception> {
        cpu.write_lin::<S>(bus, lin, v)
    }
    #[inline(always)]
    fn load_fast<const S: usize>(cpu: &Cpu, op: &Op, write: bool) -> Option<(u64, u64)> {
        let lin = cpu.linear_fast(op.mem.seg, cpu.ea(&op.mem))?;
        if write && !cpu.writes_fast::<S>(lin) {
            return None;
        }
        Some((lin, cpu.read_fast::<S>(lin)?))
    }
    #[inline(always)]
    fn store_fast<const S: usize>(cpu: &mut Cpu, _: &Op, lin: u64, v: u64) {
        let done = cpu.write_fast::<S>(lin, v);
        debug_assert!(done, "load_fast checked the fast write");
    }
}
