//! Minimal x87: the control/status-word instructions kernels and runtimes use to set up or
//! probe the FPU (fninit, fnstcw/fldcw, fnstsw, fnclex, fwait), emms, and fxsave/fxrstor,
//! which save and restore x87 and SSE state together. x87 arithmetic is not implemented:
//! it raises #UD and is listed in the stats.
//!
//! The `wait`-prefixed forms (finit, fstcw, fstsw, fclex) decode as one instruction in iced;
//! they behave as their no-wait forms, since no x87 exception can ever be pending here.

use iced_x86::{Instruction, Mnemonic, OpKind};

use super::sse::MXCSR_MASK;
use super::{form, Form, Table};
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::operand::{Mem, Src};
use crate::cpu::{reg, Cpu};
use crate::mmu::{CR0_EM, CR0_MP, CR0_TS, CR4_OSFXSR};

impl Cpu {
    /// x87 instructions (and fxsave/fxrstor) raise #NM when CR0.EM (emulate the FPU in
    /// software) or CR0.TS (FPU state belongs to another task) is set.
    #[inline(always)]
    pub fn fpu_check(&self) -> Result<(), Exception> {
        if self.cr0 & (CR0_EM | CR0_TS) != 0 {
            return Err(Exception::nm());
        }
        Ok(())
    }
}

impl crate::cpu::FpuState {
    /// Recomputes FSW.ES (exception summary) and FSW.B (which mirrors it) from the
    /// exception flags and the masks in FCW, as hardware does whenever FCW or FSW is loaded.
    pub fn update_summary(&mut self) {
        let pending = self.fsw & !self.fcw & 0x3f != 0;
        self.fsw = (self.fsw & !0x8080) | if pending { 0x8080 } else { 0 };
    }
}

fn fninit(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    cpu.fpu_check()?;
    let st = cpu.fpu.st;
    // FCW 0x37F (all exceptions masked, 64-bit precision, round to nearest), everything
    // else cleared and all registers tagged empty. Register contents are kept.
    cpu.fpu = crate::cpu::FpuState { fcw: 0x37f, st, ..Default::default() };
    Ok(())
}

fn fnstcw(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.fpu_check()?;
    let lin = cpu.mem_lin::<2>(op, true)?;
    cpu.write_lin::<2>(bus, lin, cpu.fpu.fcw as u64)
}

fn fldcw(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.fpu_check()?;
    cpu.fpu.fcw = Mem::get::<2>(cpu, bus, op)? as u16;
    cpu.fpu.update_summary();
    Ok(())
}

fn fnstsw_m(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    cpu.fpu_check()?;
    let lin = cpu.mem_lin::<2>(op, true)?;
    cpu.write_lin::<2>(bus, lin, cpu.fpu.fsw as u64)
}

fn fnstsw_ax(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    cpu.fpu_check()?;
    cpu.set_reg::<2>(reg::RAX, cpu.fpu.fsw as u64);
    Ok(())
}

/// fnclex: clears the exception flags (bits 0-5), SF (6), ES (7) and B (15).
fn fnclex(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    cpu.fpu_check()?;
    cpu.fpu.fsw &= 0x7f00;
    Ok(())
}

/// fwait: #NM only when both CR0.MP and CR0.TS are set (MP makes wait honour TS).
fn fwait(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.cr0 & (CR0_MP | CR0_TS) == CR0_MP | CR0_TS {
        return Err(Exception::nm());
    }
    Ok(())
}

/// emms: marks every x87/MMX register empty. An MMX instruction: #UD with CR0.EM.
fn emms(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.cr0 & CR0_EM != 0 {
        return Err(Exception::ud());
    }
    if cpu.cr0 & CR0_TS != 0 {
        return Err(Exception::nm());
    }
    cpu.fpu.ftw = 0;
    Ok(())
}

// ----- fxsave / fxrstor -----------------------------------------------------------------

/// The fxsave image of the current state (SDM vol. 1, 10.5.1), first 416 bytes; the rest
/// of the 512-byte area is reserved or for software and is never written.
///
/// `W64` selects the REX.W format (64-bit FIP and FDP at 8 and 16) over the legacy one
/// (32-bit FIP, FCS, 32-bit FDP, FDS). The legacy format's FCS and FDS fields hold bits
/// 32-47 of our `fip`/`fdp`, so a legacy fxrstor/fxsave pair round-trips them.
///
/// XMM registers and MXCSR are only part of the image with CR4.OSFXSR set (as qemu does);
/// XMM8-15 only in 64-bit mode. Returns the image and how many bytes of it to write.
fn fx_image<const W64: bool>(cpu: &Cpu) -> ([u8; 416], usize) {
    let mut b = [0u8; 416];
    let f = &cpu.fpu;
    b[0..2].copy_from_slice(&f.fcw.to_le_bytes());
    b[2..4].copy_from_slice(&f.fsw.to_le_bytes());
    b[4] = f.ftw;
    b[6..8].copy_from_slice(&f.fop.to_le_bytes());
    if W64 {
        b[8..16].copy_from_slice(&f.fip.to_le_bytes());
        b[16..24].copy_from_slice(&f.fdp.to_le_bytes());
    } else {
        b[8..14].copy_from_slice(&f.fip.to_le_bytes()[..6]);
        b[16..22].copy_from_slice(&f.fdp.to_le_bytes()[..6]);
    }
    for (i, st) in f.st.iter().enumerate() {
        b[32 + 16 * i..42 + 16 * i].copy_from_slice(&st.to_le_bytes()[..10]);
    }
    let mut len = 160;
    if cpu.cr4 & CR4_OSFXSR != 0 {
        b[24..28].copy_from_slice(&cpu.sse.mxcsr.to_le_bytes());
        let n = if cpu.is_64bit() { 16 } else { 8 };
        for i in 0..n {
            b[160 + 16 * i..176 + 16 * i].copy_from_slice(&cpu.sse.xmm[i].to_le_bytes());
        }
        b[28..32].copy_from_slice(&MXCSR_MASK.to_le_bytes());
        len = 160 + 16 * n;
    }
    (b, len)
}

/// The 512-byte area's address: #GP(0) unless 16-byte aligned.
fn fx_lin(cpu: &Cpu, op: &Op, write: bool) -> Result<u64, Exception> {
    cpu.fpu_check()?;
    cpu.sse_lin(op, 512, write, true)
}

fn fxsave<const W64: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let lin = fx_lin(cpu, op, true)?;
    let (mut img, len) = fx_image::<W64>(cpu);
    if cpu.cr4 & CR4_OSFXSR == 0 {
        // Without OSFXSR the MXCSR fields are not saved: keep what memory holds, so the
        // image can still be written in one all-or-nothing piece.
        let mut old = [0u8; 8];
        cpu.read_bytes(bus, lin.wrapping_add(24), &mut old)?;
        img[24..32].copy_from_slice(&old);
    }
    cpu.write_bytes(bus, lin, &img[..len])
}

fn fxrstor<const W64: bool>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let lin = fx_lin(cpu, op, false)?;
    let mut b = [0u8; 416];
    cpu.read_bytes(bus, lin, &mut b)?;
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let u64_at = |i: usize, n: usize| {
        let mut q = [0u8; 8];
        q[..n].copy_from_slice(&b[i..i + n]);
        u64::from_le_bytes(q)
    };
    let osfxsr = cpu.cr4 & CR4_OSFXSR != 0;
    let mxcsr = u64_at(24, 4) as u32;
    if osfxsr && mxcsr & !MXCSR_MASK != 0 {
        return Err(Exception::gp(0));
    }
    let f = &mut cpu.fpu;
    f.fcw = u16_at(0);
    f.fsw = u16_at(2);
    f.ftw = b[4];
    f.fop = u16_at(6) & 0x7ff;
    let n = if W64 { 8 } else { 6 };
    f.fip = u64_at(8, n);
    f.fdp = u64_at(16, n);
    f.update_summary();
    for i in 0..8 {
        f.st[i] = u64_at(32 + 16 * i, 8) as u128 | (u16_at(40 + 16 * i) as u128) << 64;
    }
    if osfxsr {
        cpu.sse.mxcsr = mxcsr;
        let n = if cpu.is_64bit() { 16 } else { 8 };
        for i in 0..n {
            let mut x = [0u8; 16];
            x.copy_from_slice(&b[160 + 16 * i..176 + 16 * i]);
            cpu.sse.xmm[i] = u128::from_le_bytes(x);
        }
    }
    Ok(())
}

fn build_fnstsw(ins: &Instruction, _: &mut Op) -> Option<Handler> {
    match ins.op0_kind() {
        OpKind::Register => Some(fnstsw_ax),
        OpKind::Memory => Some(fnstsw_m),
        _ => None,
    }
}

fn mem_only(h: Handler) -> impl Fn(&Instruction) -> Option<Handler> {
    move |ins| (form(ins, 0) == Form::Mem).then_some(h)
}

pub fn register(t: &mut Table) {
    use Mnemonic as M;
    t.set_all(&[M::Fninit, M::Finit], |_, _| Some(fninit as Handler));
    t.set_all(&[M::Fnstcw, M::Fstcw], |i, _| mem_only(fnstcw)(i));
    t.set(M::Fldcw, |i, _| mem_only(fldcw)(i));
    t.set_all(&[M::Fnstsw, M::Fstsw], build_fnstsw);
    t.set_all(&[M::Fnclex, M::Fclex], |_, _| Some(fnclex as Handler));
    t.set(M::Wait, |_, _| Some(fwait as Handler));
    t.set(M::Emms, |_, _| Some(emms as Handler));
    t.set(M::Fxsave, |i, _| mem_only(fxsave::<false>)(i));
    t.set(M::Fxsave64, |i, _| mem_only(fxsave::<true>)(i));
    t.set(M::Fxrstor, |i, _| mem_only(fxrstor::<false>)(i));
    t.set(M::Fxrstor64, |i, _| mem_only(fxrstor::<true>)(i));
}
