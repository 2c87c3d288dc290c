//! Delivery of exceptions and interrupts through the IVT (real mode) or the IDT
//! (protected and long mode), with the privilege checks and the stack switch through the
//! TSS (RSP0-2 and the IST in long mode) that the SDM (vol. 3, ch. 6) specifies.
//!
//! Delivery either completes (CS:RIP points at the handler, the frame is pushed) or returns
//! the exception it ran into, leaving the CPU untouched, so the caller can escalate to a
//! double or triple fault.

use super::exception::Exception;
use super::flags::{AC, IF, NT, RF, TF, VM};
use super::segment::*;
use super::{reg, Cpu};
use crate::bus::Bus;


/// Where an event comes from; it decides the gate-DPL check and the EXT bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A fault or trap raised by the processor.
    Exception,
    /// An external interrupt (INTR).
    External,
    /// `int n`, `int3`, `into`: the gate's DPL must allow the current privilege.
    Software,
}

impl Cpu {
    /// Writes `S` bytes at linear `lin` as privilege level `cpl` would.
    fn push_at<const S: usize>(&mut self, bus: &mut dyn Bus, lin: u64, v: u64, user: bool) -> Result<(), Exception> {
        let mut bytes = [0u8; 8];
        bytes[..S].copy_from_slice(&v.to_le_bytes()[..S]);
        let saved = self.cpl;
        // write_bytes checks the privilege from CPL; borrow it for the new level.
        self.cpl = if user { 3 } else { 0 };
        let r = self.write_bytes(bus, lin, &bytes[..S]);
        self.cpl = saved;
        r
    }

    /// Delivers vector `v`. `ret` is the address the handler returns to.
    pub(crate) fn deliver(&mut self, bus: &mut dyn Bus, v: u8, code: Option<u32>, kind: EventKind, ret: u64) -> Result<(), Exception> {
        if !self.protected() {
            self.deliver_real(bus, v, ret)
        } else if self.long_mode() {
            self.deliver_long(bus, v, code, kind, ret)
        } else {
            self.deliver_protected(bus, v, code, kind, ret)
        }
    }

    fn deliver_real(&mut self, bus: &mut dyn Bus, v: u8, ret: u64) -> Result<(), Exception> {
        let entry = v as u64 * 4;
        if entry + 3 > self.idtr.limit as u64 {
            return Err(Exception::gp(0));
        }
        let ivt = self.read_sys::<4>(bus, self.idtr.base.wrapping_add(entry))?;
        let ss = self.seg[SS as usize].base;
        let sp = self.gpr[reg::RSP as usize];
        let flags = self.flags.get();
        let cs = self.seg[CS as usize].selector as u64;
        for (i, val) in [flags, cs, ret].into_iter().enumerate() {
            let a = (sp.wrapping_sub(2 * (i as u64 + 1)) & 0xffff) + ss;
            self.push_at::<2>(bus, a & 0xffff_ffff, val, false)?;
        }
        self.gpr[reg::RSP as usize] = (sp & !0xffff) | (sp.wrapping_sub(6) & 0xffff);
        self.flags.set_masked(IF | TF | AC, 0);
        let attr = self.seg[CS as usize].attr;
        self.seg[CS as usize] = Segment::real((ivt >> 16) as u16, attr);
        self.rip = ivt & 0xffff;
        self.update_mode();
        Ok(())
    }

    /// Reads and checks the gate and the target code segment common to both IDT formats.
    /// Returns (gate low, gate high, code-segment descriptor).
    fn read_gate(&mut self, bus: &mut dyn Bus, v: u8, kind: EventKind, long: bool) -> Result<(u64, u64, u64), Exception> {
        let ext = (kind != EventKind::Software) as u32;
        let idt_err = v as u32 * 8 + 2 + ext;
        let size = if long { 16 } else { 8 };
        if v as u64 * size + size - 1 > self.idtr.limit as u64 {
            return Err(Exception::gp(idt_err));
        }
        let at = self.idtr.base.wrapping_add(v as u64 * size);
        let lo = self.read_sys::<8>(bus, at)?;
        let hi = if long { self.read_sys::<8>(bus, at + 8)? } else { 0 };
        let ty = ((lo >> 40) & 0x1f) as u8;
        let ok_type = if long { matches!(ty, 0x0e | 0x0f) } else { matches!(ty, 0x06 | 0x07 | 0x0e | 0x0f) };
        if !ok_type {
            return Err(Exception::gp(idt_err));
        }
        let dpl = ((lo >> 45) & 3) as u8;
        if kind == EventKind::Software && dpl < self.cpl {
            return Err(Exception::gp(idt_err));
        }
        if lo & (1 << 47) == 0 {
            return Err(Exception::np(idt_err));
        }
        let sel = ((lo >> 16) & 0xffff) as u16;
        if sel & !3 == 0 {
            return Err(Exception::gp(ext));
        }
        let desc = self.read_descriptor(bus, sel).map_err(|_| Exception::gp((sel as u32 & !3) + ext))?;
        let d = Segment::from_descriptor(sel, desc);
        if !d.is_code() || d.dpl() > self.cpl || (long && (d.attr & ATTR_L == 0 || d.attr & ATTR_DB != 0)) {
            return Err(Exception::gp((sel as u32 & !3) + ext));
        }
        if !d.present() {
            return Err(Exception::np((sel as u32 & !3) + ext));
        }
        Ok((lo, hi, desc))
    }

    fn deliver_long(&mut self, bus: &mut dyn Bus, v: u8, code: Option<u32>, kind: EventKind, ret: u64) -> Result<(), Exception> {
        let (lo, hi, desc) = self.read_gate(bus, v, kind, true)?;
        let sel = ((lo >> 16) & 0xffff) as u16;
        let target = (lo & 0xffff) | ((lo >> 32) & 0xffff_0000) | (hi << 32);
        let ist = (lo >> 32) & 7;
        let d = Segment::from_descriptor(sel, desc);
        let new_cpl = if d.attr & ATTR_DC != 0 { self.cpl } else { d.dpl() };
        let old_ss = self.seg[SS as usize].selector as u64;
        let old_rsp = self.gpr[reg::RSP as usize];
        let mut rsp = old_rsp;
        if new_cpl < self.cpl || ist != 0 {
            let off = if ist != 0 { 0x24 + (ist - 1) * 8 } else { 4 + new_cpl as u64 * 8 };
            if off + 7 > self.tr.limit as u64 {
                return Err(Exception::ts(self.tr.selector as u32 & !3));
            }
            rsp = self.read_sys::<8>(bus, self.tr.base.wrapping_add(off))?;
        }
        if ((target as i64) << 16 >> 16) as u64 != target {
            return Err(Exception::gp(0));
        }
        rsp &= !0xf;
        let flags = self.flags.get();
        let mut frame = vec![old_ss, old_rsp, flags, self.seg[CS as usize].selector as u64, ret];
        if let Some(c) = code {
            frame.push(c as u64);
        }
        for (i, val) in frame.iter().enumerate() {
            let a = rsp.wrapping_sub(8 * (i as u64 + 1));
            if ((a as i64) << 16 >> 16) as u64 != a {
                return Err(Exception::ss(0));
            }
            self.push_at::<8>(bus, a, *val, new_cpl == 3)?;
        }
        // Commit.
        self.mark_accessed(bus, sel, desc)?;
        if new_cpl < self.cpl {
            self.seg[SS as usize] = Segment { selector: new_cpl as u16, base: 0, limit: 0, attr: 0 };
        }
        self.gpr[reg::RSP as usize] = rsp.wrapping_sub(8 * frame.len() as u64);
        let mut clear = TF | NT | RF | VM;
        if (lo >> 40) & 1 == 0 {
            clear |= IF;
        }
        self.flags.set_masked(clear, 0);
        self.load_cs_descriptor(sel, desc, new_cpl);
        self.rip = target;
        Ok(())
    }

    fn deliver_protected(&mut self, bus: &mut dyn Bus, v: u8, code: Option<u32>, kind: EventKind, ret: u64) -> Result<(), Exception> {
        let (lo, _, desc) = self.read_gate(bus, v, kind, false)?;
        let ty = ((lo >> 40) & 0x1f) as u8;
        let gate32 = ty & 8 != 0;
        let sel = ((lo >> 16) & 0xffff) as u16;
        let mut target = (lo & 0xffff) | ((lo >> 32) & 0xffff_0000);
        if !gate32 {
            target &= 0xffff;
        }
        let d = Segment::from_descriptor(sel, desc);
        let new_cpl = if d.attr & ATTR_DC != 0 { self.cpl } else { d.dpl() };
        if target > d.limit as u64 {
            return Err(Exception::gp(0));
        }
        let old_ss = self.seg[SS as usize];
        let old_esp = self.gpr[reg::RSP as usize];
        let (mut ss, mut esp) = (old_ss, old_esp);
        let switch = new_cpl < self.cpl;
        if switch {
            // Stack for the new level from the TSS (32-bit or 16-bit TSS).
            let tss32 = self.tr.sys_type() & 8 != 0;
            let (esp_off, ss_off) = if tss32 { (4 + new_cpl as u64 * 8, 8 + new_cpl as u64 * 8) } else { (2 + new_cpl as u64 * 4, 4 + new_cpl as u64 * 4) };
            let tss_err = Exception::ts(self.tr.selector as u32 & !3);
            if ss_off + 1 > self.tr.limit as u64 {
                return Err(tss_err);
            }
            esp = if tss32 { self.read_sys::<4>(bus, self.tr.base.wrapping_add(esp_off))? } else { self.read_sys::<2>(bus, self.tr.base.wrapping_add(esp_off))? };
            let ss_sel = self.read_sys::<2>(bus, self.tr.base.wrapping_add(ss_off))? as u16;
            if ss_sel & !3 == 0 {
                return Err(Exception::ts(0));
            }
            let raw = self.read_descriptor(bus, ss_sel).map_err(|_| Exception::ts(ss_sel as u32 & !3))?;
            let s = Segment::from_descriptor(ss_sel, raw);
            if (ss_sel & 3) as u8 != new_cpl || s.dpl() != new_cpl || s.attr & ATTR_S == 0 || s.attr & ATTR_CODE != 0 || s.attr & ATTR_RW == 0 {
                return Err(Exception::ts(ss_sel as u32 & !3));
            }
            if !s.present() {
                return Err(Exception::ss(ss_sel as u32 & !3));
            }
            ss = Segment { attr: s.attr | ATTR_ACCESSED, ..s };
        }
        let flags = self.flags.get();
        let mut frame = Vec::with_capacity(6);
        if switch {
            frame.push(old_ss.selector as u64);
            frame.push(old_esp);
        }
        frame.extend([flags, self.seg[CS as usize].selector as u64, ret]);
        if let Some(c) = code {
            frame.push(c as u64);
        }
        let w: u64 = if gate32 { 4 } else { 2 };
        let smask: u64 = if ss.attr & ATTR_DB != 0 { 0xffff_ffff } else { 0xffff };
        for (i, val) in frame.iter().enumerate() {
            let off = esp.wrapping_sub(w * (i as u64 + 1)) & smask;
            if off + w - 1 > ss.limit as u64 {
                return Err(Exception::ss(if switch { ss.selector as u32 & !3 } else { 0 }));
            }
            let a = ss.base.wrapping_add(off) & 0xffff_ffff;
            if gate32 {
                self.push_at::<4>(bus, a, *val, new_cpl == 3)?;
            } else {
                self.push_at::<2>(bus, a, *val, new_cpl == 3)?;
            }
        }
        // Commit.
        self.mark_accessed(bus, sel, desc)?;
        let new_sp = esp.wrapping_sub(w * frame.len() as u64) & smask;
        self.seg[SS as usize] = ss;
        self.gpr[reg::RSP as usize] = if smask == 0xffff { (old_esp & !0xffff) | new_sp } else { new_sp };
        let mut clear = TF | NT | RF | VM;
        if ty & 1 == 0 {
            clear |= IF;
        }
        self.flags.set_masked(clear, 0);
        self.load_cs_descriptor(sel, desc, new_cpl);
        self.rip = target;
        Ok(())
    }
}

