//! Guest physical memory.
//!
//! One anonymous host mapping (`memmap2`) backs the whole guest physical address range
//! `[0, size)`. The PC layout carves it up as a real PC does:
//!
//! | range                  | kind  | behaviour                                             |
//! |------------------------|-------|-------------------------------------------------------|
//! | `0 .. 0xA0000`         | RAM   | conventional memory                                   |
//! | `0xA0000 .. 0xC0000`   | MMIO  | legacy video window, dispatched to the [`Bus`]        |
//! | `0xC0000 .. 0x100000`  | ROM   | option/BIOS ROM: readable and executable, writes drop |
//! | `0x100000 .. size`     | RAM   | extended memory                                       |
//! | `size ..`              | MMIO  | unassigned unless a device claims it                  |
//!
//! Firmware fills the ROM window with [`PhysMemory::load`], which ignores the write
//! protection.
//!
//! [`Bus`]: crate::bus::Bus

use memmap2::MmapMut;
use thiserror::Error;

/// Start of the legacy hole (640 KiB).
pub const HOLE_START: u64 = 0xA0000;
/// Start of the ROM window inside the hole.
pub const ROM_START: u64 = 0xC0000;
/// End of the legacy hole (1 MiB).
pub const HOLE_END: u64 = 0x100000;
/// Guest page size used by the decode cache and the TLB.
pub const PAGE_SIZE: u64 = 4096;

/// What a guest physical address refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Ram,
    Rom,
    Mmio,
}

#[derive(Debug, Error)]
pub enum MemoryError {
    #[error("guest memory size {0:#x} is too small (at least 2 MiB)")]
    TooSmall(u64),
    #[error("guest memory size {0:#x} is not a multiple of 4 KiB")]
    Unaligned(u64),
    #[error("guest memory size {0:#x} exceeds the 64 GiB limit")]
    TooLarge(u64),
    #[error("could not map {size:#x} bytes of guest memory: {source}")]
    Map { size: u64, source: std::io::Error },
    #[error("physical range {addr:#x}+{len:#x} is outside guest memory")]
    OutOfRange { addr: u64, len: u64 },
}

/// The guest's physical memory.
pub struct PhysMemory {
    map: MmapMut,
    size: u64,
    /// One bit per page: written since the last [`PhysMemory::take_dirty`]. Snapshots copy
    /// only these pages. Every writer marks it: the methods here do, the CPU's slow write
    /// path does, and the CPU's fast write path is only open to pages already marked (see
    /// `Cpu::backing`), closed again when the bits are taken.
    dirty: Vec<u64>,
}

impl PhysMemory {
    /// Maps `size` bytes of zeroed guest memory.
    pub fn new(size: u64) -> Result<Self, MemoryError> {
        if size < 2 << 20 {
            return Err(MemoryError::TooSmall(size));
        }
        if !size.is_multiple_of(PAGE_SIZE) {
            return Err(MemoryError::Unaligned(size));
        }
        if size > 64 << 30 {
            return Err(MemoryError::TooLarge(size));
        }
        let map = MmapMut::map_anon(size as usize).map_err(|source| MemoryError::Map { size, source })?;
        let pages = (size / PAGE_SIZE) as usize;
        // Every page counts as written until the first snapshot has seen it.
        Ok(Self { map, size, dirty: vec![u64::MAX; pages.div_ceil(64)] })
    }

    /// Size of guest memory in bytes.
    #[inline]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Classifies a physical address.
    #[inline]
    pub fn region(&self, pa: u64) -> Region {
        if pa >= self.size {
            Region::Mmio
        } else if !(HOLE_START..HOLE_END).contains(&pa) {
            Region::Ram
        } else if pa >= ROM_START {
            Region::Rom
        } else {
            Region::Mmio
        }
    }

    /// Host pointer to guest physical address `pa`. Only meaningful for `pa < size`.
    #[inline]
    pub(crate) fn host_ptr(&self, pa: u64) -> *mut u8 {
        debug_assert!(pa < self.size);
        // SAFETY: pa < size, so the offset stays inside the mapping; the pointer is only
        // dereferenced by callers that checked the access stays inside the same page.
        unsafe { self.map.as_ptr().add(pa as usize) as *mut u8 }
    }

    fn check(&self, pa: u64, len: usize) -> Result<(), MemoryError> {
        match pa.checked_add(len as u64) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(MemoryError::OutOfRange { addr: pa, len: len as u64 }),
        }
    }

    /// Copies guest bytes out, ignoring regions (for loaders, firmware and debuggers).
    pub fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), MemoryError> {
        self.check(pa, buf.len())?;
        buf.copy_from_slice(&self.map[pa as usize..pa as usize + buf.len()]);
        Ok(())
    }

    /// Copies bytes into guest memory, ignoring regions, so firmware can fill the ROM window.
    ///
    /// The CPU's decode cache does not see these writes: callers that load code into memory a
    /// running CPU may already have executed must call [`crate::cpu::Cpu::invalidate_code`].
    pub fn load(&mut self, pa: u64, data: &[u8]) -> Result<(), MemoryError> {
        self.check(pa, data.len())?;
        if !data.is_empty() {
            for page in pa / PAGE_SIZE..=(pa + data.len() as u64 - 1) / PAGE_SIZE {
                self.mark_dirty(page * PAGE_SIZE);
            }
        }
        self.map[pa as usize..pa as usize + data.len()].copy_from_slice(data);
        Ok(())
    }

    /// Notes a write to the page holding `pa` (callers writing through [`Self::host_ptr`]).
    #[inline]
    pub(crate) fn mark_dirty(&mut self, pa: u64) {
        let page = (pa / PAGE_SIZE) as usize;
        if let Some(w) = self.dirty.get_mut(page / 64) {
            *w |= 1 << (page % 64);
        }
    }

    /// Whether the page holding `pa` was written since the last snapshot epoch began.
    #[inline]
    pub fn is_dirty(&self, pa: u64) -> bool {
        let page = (pa / PAGE_SIZE) as usize;
        self.dirty.get(page / 64).is_some_and(|w| w & (1 << (page % 64)) != 0)
    }

    /// The pages written since the last call (as page numbers), and starts a new epoch with
    /// none. The CPU must close its fast write path at the same time
    /// ([`crate::cpu::Cpu::take_dirty_pages`] does both).
    pub(crate) fn take_dirty(&mut self) -> Vec<u64> {
        let mut pages = Vec::new();
        for (i, w) in self.dirty.iter_mut().enumerate() {
            let mut bits = std::mem::take(w);
            while bits != 0 {
                let b = bits.trailing_zeros() as u64;
                pages.push(i as u64 * 64 + b);
                bits &= bits - 1;
            }
        }
        let total = self.size / PAGE_SIZE;
        pages.retain(|&p| p < total);
        pages
    }

    /// The bytes of page `page` (a page number below `size / 4096`).
    pub fn page(&self, page: u64) -> &[u8] {
        let at = (page * PAGE_SIZE) as usize;
        &self.map[at..at + PAGE_SIZE as usize]
    }

    /// Reads a little-endian value of `N` bytes (for page walks and descriptor tables).
    #[inline]
    pub fn read_u64(&self, pa: u64) -> Result<u64, MemoryError> {
        let mut b = [0u8; 8];
        self.read(pa, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    #[inline]
    pub fn write_u64(&mut self, pa: u64, v: u64) -> Result<(), MemoryError> {
        self.load(pa, &v.to_le_bytes())
    }

    #[inline]
    pub fn read_u32(&self, pa: u64) -> Result<u32, MemoryError> {
        let mut b = [0u8; 4];
        self.read(pa, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    #[inline]
    pub fn write_u32(&mut self, pa: u64, v: u32) -> Result<(), MemoryError> {
        self.load(pa, &v.to_le_bytes())
    }

    /// The whole of guest memory, for snapshots and inspection.
    pub fn as_slice(&self) -> &[u8] {
        &self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_follow_the_pc_layout() {
        let m = PhysMemory::new(4 << 20).unwrap();
        assert_eq!(m.region(0), Region::Ram);
        assert_eq!(m.region(0x9ffff), Region::Ram);
        assert_eq!(m.region(0xa0000), Region::Mmio);
        assert_eq!(m.region(0xb8000), Region::Mmio);
        assert_eq!(m.region(0xc0000), Region::Rom);
        assert_eq!(m.region(0xfffff), Region::Rom);
        assert_eq!(m.region(0x100000), Region::Ram);
        assert_eq!(m.region(4 << 20), Region::Mmio);
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(matches!(PhysMemory::new(4096), Err(MemoryError::TooSmall(_))));
        assert!(matches!(PhysMemory::new((4 << 20) + 1), Err(MemoryError::Unaligned(_))));
    }

    #[test]
    fn out_of_range_access_is_an_error() {
        let mut m = PhysMemory::new(2 << 20).unwrap();
        assert!(m.load((2 << 20) - 2, &[1, 2, 3]).is_err());
        assert!(m.read_u64(u64::MAX - 3).is_err());
        m.write_u32(0x1000, 0xdeadbeef).unwrap();
        assert_eq!(m.read_u32(0x1000).unwrap(), 0xdeadbeef);
    }
}
