//! A page-table walker for observers (the grader, debuggers): reads 4-level long-mode
//! tables straight from guest memory without setting accessed or dirty bits and without
//! touching any TLB, so looking never changes what the guest does next.

use super::{ADDR_MASK, PTE_A, PTE_D, PTE_P, PTE_PS, PTE_RW, PTE_US};
use crate::memory::PhysMemory;

/// What the tables say about one virtual address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageInfo {
    /// Physical address of the page frame (of the 4 KiB page holding the address, also
    /// inside a large page).
    pub frame: u64,
    /// Writable at every level.
    pub writable: bool,
    /// User-accessible at every level.
    pub user: bool,
    /// The leaf entry's accessed bit.
    pub accessed: bool,
    /// The leaf entry's dirty bit.
    pub dirty: bool,
}

/// Walks the 4-level tables rooted at `cr3` for `va`: `None` when some level is not
/// present (or an entry lies outside RAM).
pub fn lookup(mem: &PhysMemory, cr3: u64, va: u64) -> Option<PageInfo> {
    let mut table = cr3 & ADDR_MASK;
    let (mut writable, mut user) = (true, true);
    for level in (1..=4u32).rev() {
        let shift = 12 + 9 * (level - 1);
        let e = mem.read_u64(table + ((va >> shift) & 0x1ff) * 8).ok()?;
        if e & PTE_P == 0 {
            return None;
        }
        writable &= e & PTE_RW != 0;
        user &= e & PTE_US != 0;
        if level == 1 || (e & PTE_PS != 0 && level <= 3) {
            let size_mask = (1u64 << shift) - 1;
            let frame = (e & ADDR_MASK & !size_mask) | (va & size_mask & !0xfff);
            return Some(PageInfo { frame, writable, user, accessed: e & PTE_A != 0, dirty: e & PTE_D != 0 });
        }
        table = e & ADDR_MASK;
    }
    None
}

/// The 4096 bytes of the page holding `va`, if it is present.
pub fn read_page(mem: &PhysMemory, cr3: u64, va: u64) -> Option<Vec<u8>> {
    let info = lookup(mem, cr3, va)?;
    let mut page = vec![0u8; 4096];
    mem.read(info.frame, &mut page).ok()?;
    Some(page)
}

/// Every present user page below `limit` (4 KiB pages; a large user page counts as its
/// 4 KiB pieces), in address order: (virtual address, info).
pub fn user_pages(mem: &PhysMemory, cr3: u64, limit: u64) -> Vec<(u64, PageInfo)> {
    let mut out = Vec::new();
    walk(mem, cr3 & ADDR_MASK, 4, 0, limit, true, true, &mut out);
    out
}

#[allow(clippy::too_many_arguments)]
fn walk(mem: &PhysMemory, table: u64, level: u32, base: u64, limit: u64, writable: bool, user: bool, out: &mut Vec<(u64, PageInfo)>) {
    let shift = 12 + 9 * (level - 1);
    for i in 0..512u64 {
        let va = base + (i << shift);
        if va >= limit {
            return;
        }
        let Ok(e) = mem.read_u64(table + i * 8) else { return };
        if e & PTE_P == 0 || e & PTE_US == 0 {
            continue;
        }
        let (w, u) = (writable && e & PTE_RW != 0, user);
        if level == 1 || (e & PTE_PS != 0 && level <= 3) {
            let size_mask = (1u64 << shift) - 1;
            for off in (0..=size_mask).step_by(4096) {
                if va + off >= limit {
                    break;
                }
                let frame = (e & ADDR_MASK & !size_mask) + off;
                out.push((va + off, PageInfo { frame, writable: w, user: u, accessed: e & PTE_A != 0, dirty: e & PTE_D != 0 }));
            }
        } else {
            walk(mem, e & ADDR_MASK, level - 1, va, limit, w, u, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables at 0x10000.. mapping 0x401000 -> 0x200000 (user, read-only, dirty) and a
    /// 2 MiB user page at 0x4000_0000 -> 0x60_0000.
    fn memory() -> PhysMemory {
        let mut m = PhysMemory::new(8 << 20).unwrap();
        let (pml4, pdpt, pd, pt) = (0x10000u64, 0x11000u64, 0x12000u64, 0x13000u64);
        m.write_u64(pml4, pdpt | 7).unwrap();
        m.write_u64(pdpt, pd | 7).unwrap();
        m.write_u64(pdpt + 8, 0x14000 | 7).unwrap();
        m.write_u64(0x14000, 0x60_0000 | PTE_PS | 7).unwrap();
        m.write_u64(pd + 2 * 8, pt | 7).unwrap();
        m.write_u64(pt + 8, 0x20_0000 | PTE_P | PTE_US | PTE_D).unwrap();
        m
    }

    #[test]
    fn lookup_reads_bits_and_changes_nothing() {
        let m = memory();
        let before = m.read_u64(0x13008).unwrap();
        let i = lookup(&m, 0x10000, 0x401234).unwrap();
        assert_eq!(i, PageInfo { frame: 0x20_0000, writable: false, user: true, accessed: false, dirty: true });
        assert_eq!(m.read_u64(0x13008).unwrap(), before, "no accessed bit set");
        assert_eq!(lookup(&m, 0x10000, 0x402000), None);
        assert_eq!(lookup(&m, 0x10000, 0x4000_3000).unwrap().frame, 0x60_3000);
    }

    #[test]
    fn user_pages_lists_present_pages() {
        let m = memory();
        let pages = user_pages(&m, 0x10000, 0x4000_2000);
        let vas: Vec<u64> = pages.iter().map(|p| p.0).collect();
        assert_eq!(vas, [0x401000, 0x4000_0000, 0x4000_1000]);
    }
}
