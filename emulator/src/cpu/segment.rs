//! Segment registers, descriptors and descriptor-table loads.
//!
//! A segment register holds its visible selector and the hidden part loaded from the
//! descriptor (base, limit, attributes), exactly as the SDM describes the descriptor cache.
//! Attributes use the VMX access-rights layout: bits 0-3 type, 4 S, 5-6 DPL, 7 P, 12 AVL,
//! 13 L, 14 D/B, 15 G.

use super::exception::Exception;
use super::Cpu;
use crate::bus::Bus;

pub const ES: u8 = 0;
pub const CS: u8 = 1;
pub const SS: u8 = 2;
pub const DS: u8 = 3;
pub const FS: u8 = 4;
pub const GS: u8 = 5;

pub const ATTR_ACCESSED: u16 = 1 << 0;
/// Data: writable; code: readable.
pub const ATTR_RW: u16 = 1 << 1;
/// Data: expand-down; code: conforming.
pub const ATTR_DC: u16 = 1 << 2;
pub const ATTR_CODE: u16 = 1 << 3;
/// Code or data (not a system descriptor).
pub const ATTR_S: u16 = 1 << 4;
pub const ATTR_P: u16 = 1 << 7;
pub const ATTR_L: u16 = 1 << 13;
pub const ATTR_DB: u16 = 1 << 14;
pub const ATTR_G: u16 = 1 << 15;

/// A segment register's visible and hidden parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub selector: u16,
    pub base: u64,
    /// Byte-granular limit (already scaled when G is set).
    pub limit: u32,
    pub attr: u16,
}

impl Segment {
    /// A real-mode segment for `selector` (base = selector * 16), keeping the given attributes.
    pub fn real(selector: u16, attr: u16) -> Self {
        Segment { selector, base: (selector as u64) << 4, limit: 0xffff, attr }
    }
    #[inline]
    pub fn dpl(&self) -> u8 {
        ((self.attr >> 5) & 3) as u8
    }
    #[inline]
    pub fn present(&self) -> bool {
        self.attr & ATTR_P != 0
    }
    #[inline]
    pub fn is_code(&self) -> bool {
        self.attr & ATTR_S != 0 && self.attr & ATTR_CODE != 0
    }
    /// System-descriptor type (bits 0-3) when S is clear.
    #[inline]
    pub fn sys_type(&self) -> u8 {
        (self.attr & 0xf) as u8
    }
    /// Decodes the hidden part from a raw 8-byte descriptor.
    pub fn from_descriptor(selector: u16, raw: u64) -> Self {
        let base = ((raw >> 16) & 0xff_ffff) | ((raw >> 32) & 0xff00_0000);
        let mut limit = ((raw & 0xffff) | ((raw >> 32) & 0xf_0000)) as u32;
        let attr = ((raw >> 40) & 0xf0ff) as u16;
        if attr & ATTR_G != 0 {
            limit = (limit << 12) | 0xfff;
        }
        Segment { selector, base, limit, attr }
    }
}

/// GDTR or IDTR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DescTable {
    pub base: u64,
    pub limit: u16,
}

impl Cpu {
    /// Reads the 8-byte descriptor for `selector` from the GDT or LDT (supervisor access).
    /// Errors with #GP(selector) when it lies outside the table limit.
    pub(crate) fn read_descriptor(&mut self, bus: &mut dyn Bus, selector: u16) -> Result<u64, Exception> {
        let (base, limit) = if selector & 4 != 0 {
            if self.ldtr.selector & !3 == 0 || !self.ldtr.present() {
                return Err(Exception::gp(selector as u32 & !3));
            }
            (self.ldtr.base, self.ldtr.limit)
        } else {
            (self.gdtr.base, self.gdtr.limit as u32)
        };
        let off = (selector & !7) as u32;
        if off + 7 > limit {
            return Err(Exception::gp(selector as u32 & !3));
        }
        self.read_sys::<8>(bus, base.wrapping_add(off as u64))
    }

    /// Reads the upper half of a 16-byte system descriptor (long mode).
    pub(crate) fn read_descriptor_high(&mut self, bus: &mut dyn Bus, selector: u16) -> Result<u64, Exception> {
        let (base, limit) = if selector & 4 != 0 {
            (self.ldtr.base, self.ldtr.limit)
        } else {
            (self.gdtr.base, self.gdtr.limit as u32)
        };
        let off = (selector & !7) as u32 + 8;
        if off + 7 > limit {
            return Err(Exception::gp(selector as u32 & !3));
        }
        self.read_sys::<8>(bus, base.wrapping_add(off as u64))
    }

    /// Sets the accessed bit of a descriptor in memory, as hardware does on a load.
    pub(crate) fn mark_accessed(&mut self, bus: &mut dyn Bus, selector: u16, raw: u64) -> Result<(), Exception> {
        if raw & (1 << 40) != 0 {
            return Ok(());
        }
        let base = if selector & 4 != 0 { self.ldtr.base } else { self.gdtr.base };
        let addr = base.wrapping_add((selector & !7) as u64 + 5);
        let byte = ((raw >> 40) as u8) | 1;
        self.write_sys::<1>(bus, addr, byte as u64)
    }

    /// `mov sreg`, `pop sreg`, `lds` and friends: loads a data or stack segment register with
    /// the checks of the current mode.
    pub fn load_segment(&mut self, bus: &mut dyn Bus, seg: u8, selector: u16) -> Result<(), Exception> {
        if !self.protected() {
            let attr = self.seg[seg as usize].attr;
            self.seg[seg as usize] = Segment::real(selector, attr);
            self.update_segment_cache();
            return Ok(());
        }
        let rpl = (selector & 3) as u8;
        if selector & !3 == 0 {
            // Null selector: fine for data segments; for SS only in 64-bit mode at CPL < 3.
            if seg == SS && !(self.long64 && self.cpl != 3 && rpl == self.cpl) {
                return Err(Exception::gp(0));
            }
            self.seg[seg as usize] = Segment { selector, base: 0, limit: 0, attr: 0 };
            self.update_segment_cache();
            return Ok(());
        }
        let raw = self.read_descriptor(bus, selector)?;
        let d = Segment::from_descriptor(selector, raw);
        let err = selector as u32 & !3;
        if seg == SS {
            // Writable data segment with RPL = DPL = CPL.
            if d.attr & ATTR_S == 0 || d.attr & ATTR_CODE != 0 || d.attr & ATTR_RW == 0 || rpl != self.cpl || d.dpl() != self.cpl {
                return Err(Exception::gp(err));
            }
            if !d.present() {
                return Err(Exception::ss(err));
            }
        } else {
            // Data, or readable code; privilege checked unless conforming code.
            let readable_code = d.attr & ATTR_CODE != 0 && d.attr & ATTR_RW != 0;
            if d.attr & ATTR_S == 0 || (d.attr & ATTR_CODE != 0 && !readable_code) {
                return Err(Exception::gp(err));
            }
            let conforming = d.attr & ATTR_CODE != 0 && d.attr & ATTR_DC != 0;
            if !conforming && (rpl > d.dpl() || self.cpl > d.dpl()) {
                return Err(Exception::gp(err));
            }
            if !d.present() {
                return Err(Exception::np(err));
            }
        }
        self.mark_accessed(bus, selector, raw)?;
        self.seg[seg as usize] = Segment { attr: d.attr | ATTR_ACCESSED, ..d };
        self.update_segment_cache();
        Ok(())
    }

    /// Loads CS from a code-segment descriptor at privilege `cpl` (far transfers, interrupts,
    /// iret). The caller has done the transfer-specific checks.
    pub(crate) fn load_cs_descriptor(&mut self, selector: u16, raw: u64, cpl: u8) {
        let d = Segment::from_descriptor(selector, raw);
        self.seg[CS as usize] = Segment { selector: (selector & !3) | cpl as u16, attr: d.attr | ATTR_ACCESSED, ..d };
        self.cpl = cpl;
        self.update_mode();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_code_descriptor_decodes() {
        // 0x00af9a000000ffff: 64-bit code, DPL 0, G, limit 0xfffff.
        let s = Segment::from_descriptor(8, 0x00af_9a00_0000_ffff);
        assert_eq!(s.base, 0);
        assert_eq!(s.limit, 0xffff_ffff);
        assert!(s.is_code() && s.present() && s.attr & ATTR_L != 0 && s.attr & ATTR_DB == 0);
        assert_eq!(s.dpl(), 0);
        let d = Segment::from_descriptor(0x10, 0x00cf_f200_1234_0fff);
        assert_eq!(d.base, 0x1234);
        assert_eq!(d.dpl(), 3);
        assert!(d.attr & ATTR_DB != 0 && !d.is_code());
    }
}
