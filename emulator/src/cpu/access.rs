//! Memory access: segmentation, the TLB fast path, and the physical slow path.
//!
//! Every guest data access goes `segment:offset -> linear -> physical -> host`. The fast
//! path ([`Cpu::read_lin`], [`Cpu::write_lin`]) is one TLB tag compare that yields a host
//! pointer. Everything else (a miss, a page-crossing access, ROM, MMIO, a page holding
//! decoded code, the first write to a clean page) takes the slow path, which walks the page
//! tables, refills the TLB and dispatches by physical region.

use super::exception::Exception;
use super::segment::*;
use super::Cpu;
use crate::bus::Bus;
use crate::memory::Region;
use crate::mmu::tlb::Backing;
use crate::mmu::{self, Access};

/// Loads `S` (1, 2, 4 or 8) little-endian bytes from host memory.
///
/// # Safety
/// `p` must be valid for `S` bytes of reads.
#[inline(always)]
unsafe fn load<const S: usize>(p: *const u8) -> u64 {
    // SAFETY: the caller guarantees `p..p+S` is readable; unaligned reads are allowed.
    unsafe {
        match S {
            1 => *p as u64,
            2 => (p as *const u16).read_unaligned() as u64,
            4 => (p as *const u32).read_unaligned() as u64,
            _ => (p as *const u64).read_unaligned(),
        }
    }
}

/// Stores the low `S` bytes of `v` to host memory.
///
/// # Safety
/// `p` must be valid for `S` bytes of writes.
#[inline(always)]
unsafe fn store<const S: usize>(p: *mut u8, v: u64) {
    // SAFETY: the caller guarantees `p..p+S` is writable; unaligned writes are allowed.
    unsafe {
        match S {
            1 => *p = v as u8,
            2 => (p as *mut u16).write_unaligned(v as u16),
            4 => (p as *mut u32).write_unaligned(v as u32),
            _ => (p as *mut u64).write_unaligned(v),
        }
    }
}

#[inline(always)]
fn canonical(a: u64) -> bool {
    ((a as i64) << 16 >> 16) as u64 == a
}

#[inline(always)]
fn in_page<const S: usize>(lin: u64) -> bool {
    (lin & 0xfff) as usize <= 4096 - S
}

/// The tag an `S`-byte access at `lin` must find in `lin`'s TLB entry to take a fast path:
/// the page of its *last* byte. It equals the entry's tag only if the access stays in one
/// page: the page after `lin`'s maps to the next entry, so its address is never the tag
/// of `lin`'s entry (and a wrap past the top of the address space lands on page 0, whose
/// entry is not `lin`'s either). One compare thus checks both the hit and [`in_page`].
#[inline(always)]
fn fast_tag<const S: usize>(lin: u64) -> u64 {
    lin.wrapping_add(S as u64 - 1) & !0xfff
}

impl Cpu {
    // ----- segmentation ---------------------------------------------------------------

    /// Linear address of `seg:off` for an access of `size` bytes, with the segment checks of
    /// the current mode (canonical form in 64-bit mode; limit and type in the others).
    #[inline(always)]
    pub fn linear(&self, seg: u8, off: u64, size: usize, write: bool) -> Result<u64, Exception> {
        if self.long64 {
            let lin = off.wrapping_add(self.seg_base[seg as usize & 7]);
            if !canonical(lin) {
                return Err(if seg == SS { Exception::ss(0) } else { Exception::gp(0) });
            }
            Ok(lin)
        } else {
            self.linear_legacy(seg, off, size, write)
        }
    }

    /// The 64-bit-mode case of [`Cpu::linear`] alone: `None` outside 64-bit mode or for a
    /// non-canonical address, where the caller's slow path calls `linear` for the fault.
    #[inline(always)]
    pub fn linear_fast(&self, seg: u8, off: u64) -> Option<u64> {
        let lin = off.wrapping_add(self.seg_base[seg as usize & 7]);
        (self.long64 && canonical(lin)).then_some(lin)
    }

    fn linear_legacy(&self, seg: u8, off: u64, size: usize, write: bool) -> Result<u64, Exception> {
        let s = &self.seg[seg as usize];
        let fault = || if seg == SS { Exception::ss(0) } else { Exception::gp(0) };
        if self.protected() {
            // Protected or compatibility mode: a null or unusable segment cannot be used.
            if s.attr & ATTR_P == 0 {
                return Err(fault());
            }
            if s.attr & ATTR_S != 0 {
                if write && (s.attr & ATTR_CODE != 0 || s.attr & ATTR_RW == 0) {
                    return Err(fault());
                }
                if !write && s.attr & ATTR_CODE != 0 && s.attr & ATTR_RW == 0 && seg != CS {
                    return Err(fault());
                }
            }
        }
        let last = off.wrapping_add(size as u64 - 1);
        let expand_down = s.attr & ATTR_S != 0 && s.attr & ATTR_CODE == 0 && s.attr & ATTR_DC != 0;
        if expand_down {
            let upper: u64 = if s.attr & ATTR_DB != 0 { 0xffff_ffff } else { 0xffff };
            if off <= s.limit as u64 || last > upper {
                return Err(fault());
            }
        } else if last > s.limit as u64 || last < off {
            return Err(fault());
        }
        Ok(off.wrapping_add(s.base) & 0xffff_ffff)
    }

    // ----- linear accesses: fast paths ------------------------------------------------

    #[inline(always)]
    fn user(&self) -> bool {
        self.cpl == 3
    }

    /// Reads `S` bytes at linear address `lin` with the current privilege.
    #[inline(always)]
    pub fn read_lin<const S: usize>(&mut self, bus: &mut dyn Bus, lin: u64) -> Result<u64, Exception> {
        let u = self.user() as usize;
        if let Some(v) = self.read_fast::<S>(lin) {
            return Ok(v);
        }
        self.read_slow::<S>(bus, lin, Access::read(u != 0))
    }

    /// The TLB fast path of [`Cpu::read_lin`] alone: `None` when it needs the slow path.
    #[inline(always)]
    pub fn read_fast<const S: usize>(&self, lin: u64) -> Option<u64> {
        let e = self.tlb.entry(lin);
        if e.read[self.user() as usize] == fast_tag::<S>(lin) {
            // SAFETY: a fast read tag is only set for RAM/ROM pages inside guest memory, and
            // matching `fast_tag` keeps the access inside that page.
            return Some(unsafe { load::<S>(e.addend.wrapping_add(lin as usize) as *const u8) });
        }
        None
    }

    /// Whether an `S`-byte write at `lin` would take the fast path of [`Cpu::write_fast`].
    #[inline(always)]
    pub fn writes_fast<const S: usize>(&self, lin: u64) -> bool {
        self.tlb.entry(lin).write[self.user() as usize] == fast_tag::<S>(lin)
    }

    /// The TLB fast path of [`Cpu::write_lin`] alone: false (and nothing written) when it
    /// needs the slow path.
    #[inline(always)]
    pub fn write_fast<const S: usize>(&mut self, lin: u64, v: u64) -> bool {
        let e = self.tlb.entry(lin);
        if e.write[self.user() as usize] == fast_tag::<S>(lin) {
            // SAFETY: a fast write tag is only set for dirty, writable RAM pages without
            // decoded code, and matching `fast_tag` keeps the access inside that page.
            unsafe { store::<S>(e.addend.wrapping_add(lin as usize) as *mut u8, v) };
            return true;
        }
        false
    }

    /// Writes the low `S` bytes of `v` at linear address `lin` with the current privilege.
    #[inline(always)]
    pub fn write_lin<const S: usize>(&mut self, bus: &mut dyn Bus, lin: u64, v: u64) -> Result<(), Exception> {
        let u = self.user() as usize;
        if self.write_fast::<S>(lin, v) {
            return Ok(());
        }
        self.write_slow::<S>(bus, lin, v, Access::write(u != 0))
    }

    /// Checks that `S` bytes at `lin` are writable, so that a following read-modify-write
    /// cannot fault half way. Sets dirty bits as the write will.
    #[inline(always)]
    pub fn probe_write<const S: usize>(&mut self, bus: &mut dyn Bus, lin: u64) -> Result<(), Exception> {
        let u = self.user() as usize;
        if self.tlb.entry(lin).write[u] == fast_tag::<S>(lin) {
            return Ok(());
        }
        self.probe_slow(bus, lin, S, Access::write(u != 0))
    }

    /// Implicit supervisor read (descriptor tables, TSS, IDT) of `S` bytes at `lin`.
    pub(crate) fn read_sys<const S: usize>(&mut self, bus: &mut dyn Bus, lin: u64) -> Result<u64, Exception> {
        self.read_slow::<S>(bus, lin, Access::read(false))
    }

    /// Implicit supervisor write of `S` bytes at `lin`.
    pub(crate) fn write_sys<const S: usize>(&mut self, bus: &mut dyn Bus, lin: u64, v: u64) -> Result<(), Exception> {
        self.write_slow::<S>(bus, lin, v, Access::write(false))
    }

    // ----- segment-relative helpers ----------------------------------------------------

    /// Reads `S` bytes at `seg:off`.
    #[inline(always)]
    pub fn read_seg<const S: usize>(&mut self, bus: &mut dyn Bus, seg: u8, off: u64) -> Result<u64, Exception> {
        let lin = self.linear(seg, off, S, false)?;
        self.read_lin::<S>(bus, lin)
    }

    /// Writes `S` bytes at `seg:off`.
    #[inline(always)]
    pub fn write_seg<const S: usize>(&mut self, bus: &mut dyn Bus, seg: u8, off: u64, v: u64) -> Result<(), Exception> {
        let lin = self.linear(seg, off, S, true)?;
        self.write_lin::<S>(bus, lin, v)
    }

    /// Reads `buf.len()` bytes at linear `lin` (any length; for SSE, fxsave and descriptor
    /// images). Every page is checked before anything is returned.
    pub fn read_bytes(&mut self, bus: &mut dyn Bus, lin: u64, buf: &mut [u8]) -> Result<(), Exception> {
        let acc = Access::read(self.user());
        self.probe_slow(bus, lin, buf.len(), acc)?;
        self.check_watch(lin, buf.len() as u64, false);
        let mut i = 0;
        while i < buf.len() {
            let a = self.lin_add(lin, i as u64);
            let n = (4096 - (a & 0xfff) as usize).min(buf.len() - i);
            let pa = self.translate(bus, a, acc)?;
            for (j, b) in buf[i..i + n].iter_mut().enumerate() {
                *b = self.phys_read(bus, pa + j as u64, 1) as u8;
            }
            i += n;
        }
        Ok(())
    }

    /// Writes `data` at linear `lin`; all pages are translated before the first byte is
    /// written, so a fault leaves memory untouched.
    pub fn write_bytes(&mut self, bus: &mut dyn Bus, lin: u64, data: &[u8]) -> Result<(), Exception> {
        let acc = Access::write(self.user());
        self.probe_slow(bus, lin, data.len(), acc)?;
        self.check_watch(lin, data.len() as u64, true);
        let mut i = 0;
        while i < data.len() {
            let a = self.lin_add(lin, i as u64);
            let n = (4096 - (a & 0xfff) as usize).min(data.len() - i);
            let pa = self.translate(bus, a, acc)?;
            for (j, &b) in data[i..i + n].iter().enumerate() {
                self.phys_write(bus, pa + j as u64, 1, b as u64);
            }
            i += n;
        }
        Ok(())
    }

    /// `lin + d` wrapped as linear addresses wrap in the current mode.
    #[inline]
    fn lin_add(&self, lin: u64, d: u64) -> u64 {
        let a = lin.wrapping_add(d);
        if self.long_mode() {
            a
        } else {
            a & 0xffff_ffff
        }
    }

    // ----- slow paths ------------------------------------------------------------------

    #[inline(never)]
    fn read_slow<const S: usize>(&mut self, bus: &mut dyn Bus, lin: u64, acc: Access) -> Result<u64, Exception> {
        if in_page::<S>(lin) {
            let pa = self.translate(bus, lin, acc)?;
            self.check_watch(lin, S as u64, false);
            return Ok(self.phys_read(bus, pa, S as u8));
        }
        // Split across two pages: translate both before reading.
        let n1 = 4096 - (lin & 0xfff) as usize;
        let lin2 = self.lin_add(lin, n1 as u64);
        let pa1 = self.translate(bus, lin, acc)?;
        let pa2 = self.translate(bus, lin2, acc)?;
        self.check_watch(lin, S as u64, false);
        let mut v = 0u64;
        for i in 0..S {
            let pa = if i < n1 { pa1 + i as u64 } else { pa2 + (i - n1) as u64 };
            v |= self.phys_read(bus, pa, 1) << (8 * i);
        }
        Ok(v)
    }

    #[inline(never)]
    fn write_slow<const S: usize>(&mut self, bus: &mut dyn Bus, lin: u64, v: u64, acc: Access) -> Result<(), Exception> {
        if in_page::<S>(lin) {
            let pa = self.translate(bus, lin, acc)?;
            self.check_watch(lin, S as u64, true);
            self.phys_write(bus, pa, S as u8, v);
            return Ok(());
        }
        let n1 = 4096 - (lin & 0xfff) as usize;
        let lin2 = self.lin_add(lin, n1 as u64);
        let pa1 = self.translate(bus, lin, acc)?;
        let pa2 = self.translate(bus, lin2, acc)?;
        self.check_watch(lin, S as u64, true);
        for i in 0..S {
            let pa = if i < n1 { pa1 + i as u64 } else { pa2 + (i - n1) as u64 };
            self.phys_write(bus, pa, 1, (v >> (8 * i)) & 0xff);
        }
        Ok(())
    }

    #[inline(never)]
    fn probe_slow(&mut self, bus: &mut dyn Bus, lin: u64, len: usize, acc: Access) -> Result<(), Exception> {
        if len == 0 {
            return Ok(());
        }
        self.translate(bus, lin, acc)?;
        let last = self.lin_add(lin, len as u64 - 1);
        let mut page = lin & !0xfff;
        while page != last & !0xfff {
            page = self.lin_add(page, 4096);
            self.translate(bus, page, acc)?;
        }
        Ok(())
    }

    /// Translates `lin` for `acc`, using the TLB or walking the page tables (and filling the
    /// TLB). Returns the physical address.
    pub fn translate(&mut self, bus: &mut dyn Bus, lin: u64, acc: Access) -> Result<u64, Exception> {
        let _ = bus;
        if let Some(e) = self.tlb.lookup(lin) {
            if e.perm.allows(acc, self.cr0) && (!acc.write || e.perm.dirty) {
                let pa = e.phys | (lin & 0xfff);
                let tag = lin & !0xfff;
                let fast = if acc.write { e.write } else if acc.fetch { e.fetch } else { e.read };
                if fast[acc.user as usize] != tag {
                    // A fast path closed for a while (decoded code since dropped, a new
                    // snapshot epoch, a watch since removed) may open again.
                    let (page, perm, mask) = (e.phys, e.perm, e.page_mask);
                    if let b @ Backing::Ram { .. } = self.backing_at(tag, page) {
                        let open = match b {
                            Backing::Ram { slow_writes, slow_reads, .. } => if acc.write { !slow_writes } else { !slow_reads },
                            _ => false,
                        };
                        if open {
                            self.tlb.fill(lin, page, perm, mask, b, self.cr0);
                        }
                    }
                }
                return Ok(pa);
            }
        }
        let ctl = self.paging_control();
        let t = mmu::walk(&mut self.mem, &ctl, lin, acc)?;
        let page = t.phys & !0xfff;
        let backing = self.backing_at(lin & !0xfff, page);
        self.tlb.fill(lin, page, t.perm, t.page_mask, backing, self.cr0);
        Ok(t.phys)
    }

    /// How the host reaches physical page `page`.
    pub(crate) fn backing(&self, page: u64) -> Backing {
        match self.mem.region(page) {
            Region::Ram => Backing::Ram { host: self.mem.host_ptr(page) as usize, slow_writes: self.code.is_code_page(page) || !self.mem.is_dirty(page), slow_reads: false },
            Region::Rom => Backing::Rom { host: self.mem.host_ptr(page) as usize },
            Region::Mmio => Backing::Mmio,
        }
    }

    /// [`Cpu::backing`] for physical `page` mapped at linear `lin_page`, with the
    /// debugger's watchpoints applied.
    pub(crate) fn backing_at(&self, lin_page: u64, page: u64) -> Backing {
        let b = self.backing(page);
        if self.debug.watches().is_empty() {
            b
        } else {
            self.debug.gate(lin_page, b)
        }
    }

    /// Reads `size` bytes at physical `pa` (within one page), dispatching by region.
    pub fn phys_read(&mut self, bus: &mut dyn Bus, pa: u64, size: u8) -> u64 {
        match self.mem.region(pa) {
            Region::Ram | Region::Rom => {
                let p = self.mem.host_ptr(pa);
                // SAFETY: pa is inside guest memory and callers never cross a page, and
                // guest memory is a whole number of pages.
                unsafe {
                    match size {
                        1 => load::<1>(p),
                        2 => load::<2>(p),
                        4 => load::<4>(p),
                        _ => load::<8>(p),
                    }
                }
            }
            Region::Mmio => bus.mmio_read(self.now(), pa, size),
        }
    }

    /// Writes `size` bytes at physical `pa` (within one page): RAM (invalidating decoded
    /// code on the page), ROM (dropped) or MMIO.
    pub fn phys_write(&mut self, bus: &mut dyn Bus, pa: u64, size: u8, v: u64) {
        match self.mem.region(pa) {
            Region::Ram => {
                if self.code.is_code_page(pa & !0xfff) {
                    self.invalidate_code_page(pa & !0xfff);
                }
                self.mem.mark_dirty(pa);
                let p = self.mem.host_ptr(pa);
                // SAFETY: as in phys_read.
                unsafe {
                    match size {
                        1 => store::<1>(p, v),
                        2 => store::<2>(p, v),
                        4 => store::<4>(p, v),
                        _ => store::<8>(p, v),
                    }
                }
            }
            Region::Rom => {}
            Region::Mmio => {
                bus.mmio_write(self.now(), pa, size, v);
                if bus.stop_requested() {
                    self.stop = true;
                    self.end_block = true;
                }
            }
        }
    }

    /// Drops decoded blocks on physical page `page` after a write to it.
    pub(crate) fn invalidate_code_page(&mut self, page: u64) {
        if self.code.invalidate_page(page) {
            self.stats.code_invalidations += 1;
            // The running block may be the one just invalidated (self-modifying code).
            self.end_block = true;
        }
    }
}
