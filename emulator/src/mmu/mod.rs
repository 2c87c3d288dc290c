//! The page walker and the TLB.
//!
//! [`walk`] implements the SDM's translation for every paging mode the CPU can be in:
//! none (linear = physical), 32-bit paging (with CR4.PSE 4 MiB pages), PAE paging and
//! 4-level paging (4 KiB, 2 MiB and 1 GiB pages). It checks permissions (U/S, R/W with
//! CR0.WP, NX with EFER.NXE), reserved bits, and sets accessed and dirty bits as hardware
//! does: A on every entry of a successful walk, D on the final entry of a write.
//!
//! The [`tlb::Tlb`] caches translations. It is a real TLB in the architectural sense:
//! a mapping stays cached until `invlpg`, a CR3 load (which keeps global entries when
//! CR4.PGE is set), a CR4.PGE/PAE/PSE change, or eviction, so a kernel that forgets an
//! `invlpg` sees a stale mapping, as it would on hardware.

pub mod inspect;
pub mod tlb;

use crate::cpu::exception::{pf, Exception};
use crate::memory::PhysMemory;

pub const CR0_PE: u64 = 1 << 0;
pub const CR0_MP: u64 = 1 << 1;
pub const CR0_EM: u64 = 1 << 2;
pub const CR0_TS: u64 = 1 << 3;
pub const CR0_ET: u64 = 1 << 4;
pub const CR0_NE: u64 = 1 << 5;
pub const CR0_WP: u64 = 1 << 16;
pub const CR0_AM: u64 = 1 << 18;
pub const CR0_NW: u64 = 1 << 29;
pub const CR0_CD: u64 = 1 << 30;
pub const CR0_PG: u64 = 1 << 31;

pub const CR4_VME: u64 = 1 << 0;
pub const CR4_PVI: u64 = 1 << 1;
pub const CR4_TSD: u64 = 1 << 2;
pub const CR4_DE: u64 = 1 << 3;
pub const CR4_PSE: u64 = 1 << 4;
pub const CR4_PAE: u64 = 1 << 5;
pub const CR4_MCE: u64 = 1 << 6;
pub const CR4_PGE: u64 = 1 << 7;
pub const CR4_PCE: u64 = 1 << 8;
pub const CR4_OSFXSR: u64 = 1 << 9;
pub const CR4_OSXMMEXCPT: u64 = 1 << 10;

pub const EFER_SCE: u64 = 1 << 0;
pub const EFER_LME: u64 = 1 << 8;
pub const EFER_LMA: u64 = 1 << 10;
pub const EFER_NXE: u64 = 1 << 11;

/// Physical address width (bits) reported by CPUID and enforced as reserved bits.
pub const MAXPHYADDR: u32 = 40;

const PTE_P: u64 = 1 << 0;
const PTE_RW: u64 = 1 << 1;
const PTE_US: u64 = 1 << 2;
const PTE_A: u64 = 1 << 5;
const PTE_D: u64 = 1 << 6;
const PTE_PS: u64 = 1 << 7;
const PTE_G: u64 = 1 << 8;
const PTE_NX: u64 = 1 << 63;
/// Address bits 51:12 of a 64-bit entry limited to MAXPHYADDR.
const ADDR_MASK: u64 = ((1u64 << MAXPHYADDR) - 1) & !0xfff;

/// What kind of access is being translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub write: bool,
    /// A user-mode access (CPL 3 and not an implicit supervisor access such as a GDT read).
    pub user: bool,
    pub fetch: bool,
}

impl Access {
    pub const fn read(user: bool) -> Self {
        Self { write: false, user, fetch: false }
    }
    pub const fn write(user: bool) -> Self {
        Self { write: true, user, fetch: false }
    }
    pub const fn fetch(user: bool) -> Self {
        Self { write: false, user, fetch: true }
    }
    fn error_code(&self) -> u32 {
        ((self.write as u32) * pf::W) | ((self.user as u32) * pf::U) | ((self.fetch as u32) * pf::I)
    }
}

/// The control-register state that selects and tunes translation.
#[derive(Clone, Copy, Debug, Default)]
pub struct PagingControl {
    pub cr0: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub efer: u64,
    /// A20 gate: when false, physical address bit 20 is forced to zero.
    pub a20: bool,
}

/// Effective permissions of a translation (the AND/OR over all levels).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Perm {
    /// Every level allows user access.
    pub user: bool,
    /// Every level allows writes.
    pub writable: bool,
    /// Some level forbids execution (only with EFER.NXE).
    pub nx: bool,
    /// The final entry's dirty bit is set (writes need no walk to set it).
    pub dirty: bool,
    /// The final entry is global (CR4.PGE): kept across CR3 loads.
    pub global: bool,
}

impl Perm {
    /// Full access, for untranslated (paging off) addresses.
    pub const ALL: Perm = Perm { user: true, writable: true, nx: false, dirty: true, global: false };

    /// Whether `acc` is allowed; the page-fault error code (without P) if not.
    #[inline]
    pub fn allows(&self, acc: Access, cr0: u64) -> bool {
        if acc.user && !self.user {
            return false;
        }
        if acc.write && !self.writable && (acc.user || cr0 & CR0_WP != 0) {
            return false;
        }
        if acc.fetch && self.nx {
            return false;
        }
        true
    }
}

/// A successful translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// Physical address of the byte translated.
    pub phys: u64,
    pub perm: Perm,
    /// `page size - 1` of the mapping (0xfff, 0x1f_ffff, 0x3fff_ffff, 0x3f_ffff).
    pub page_mask: u64,
}

#[inline]
fn a20(pa: u64, on: bool) -> u64 {
    if on {
        pa
    } else {
        pa & !(1 << 20)
    }
}

fn read_entry(mem: &PhysMemory, pa: u64, wide: bool) -> u64 {
    if wide {
        mem.read_u64(pa).unwrap_or(u64::MAX)
    } else {
        mem.read_u32(pa).map(u64::from).unwrap_or(u32::MAX as u64)
    }
}

fn write_entry(mem: &mut PhysMemory, pa: u64, v: u64, wide: bool) {
    // Entries outside RAM cannot be updated; the walk proceeds as if they were.
    let _ = if wide { mem.write_u64(pa, v) } else { mem.write_u32(pa, v as u32) };
}

/// Translates linear address `lin` for access `acc`, walking the paging structures.
///
/// On success the accessed bits (and the dirty bit for writes) are set in guest memory.
pub fn walk(mem: &mut PhysMemory, ctl: &PagingControl, lin: u64, acc: Access) -> Result<Translation, Exception> {
    if ctl.cr0 & CR0_PG == 0 {
        return Ok(Translation { phys: a20(lin & 0xffff_ffff, ctl.a20), perm: Perm::ALL, page_mask: 0xfff });
    }
    let fault = |present: bool, rsvd: bool| {
        Exception::pf(lin, acc.error_code() | (present as u32 * pf::P) | (rsvd as u32 * pf::RSVD))
    };
    let nxe = ctl.efer & EFER_NXE != 0;
    let pge = ctl.cr4 & CR4_PGE != 0;
    // Reserved bits of a 64-bit entry: address bits above MAXPHYADDR, and NX without NXE.
    let rsvd_hi: u64 = (!((1u64 << MAXPHYADDR) - 1) & ((1u64 << 52) - 1)) | if nxe { 0 } else { PTE_NX };

    // (physical address of each entry used, its value, width) for A/D updates.
    let mut used: [(u64, u64); 4] = [(0, 0); 4];
    let mut n = 0;
    let mut perm = Perm { user: true, writable: true, nx: false, dirty: false, global: false };
    let wide;
    let (page_base, page_mask);

    if ctl.efer & EFER_LMA != 0 || ctl.cr4 & CR4_PAE != 0 {
        wide = true;
        let long = ctl.efer & EFER_LMA != 0;
        let mut table;
        let mut level;
        if long {
            table = ctl.cr3 & ADDR_MASK;
            level = 4;
        } else {
            // PAE: four PDPTEs at CR3[31:5]; PDPTEs have no permission bits.
            let pdpte_pa = a20((ctl.cr3 & 0xffff_ffe0) + ((lin >> 30) & 3) * 8, ctl.a20);
            let e = read_entry(mem, pdpte_pa, true);
            if e & PTE_P == 0 {
                return Err(fault(false, false));
            }
            if e & (rsvd_hi | 0x1e6 | PTE_NX) != 0 {
                return Err(fault(true, true));
            }
            table = e & ADDR_MASK;
            level = 2;
        }
        loop {
            let shift = 12 + 9 * (level - 1);
            let idx = (lin >> shift) & 0x1ff;
            let epa = a20(table + idx * 8, ctl.a20);
            let e = read_entry(mem, epa, true);
            if e & PTE_P == 0 {
                return Err(fault(false, false));
            }
            let large = e & PTE_PS != 0;
            let mut rsvd = e & rsvd_hi != 0;
            if level == 4 && large {
                rsvd = true;
            }
            if large && level >= 2 {
                // PAT bit 12, then bits below the page size must be zero.
                let low_rsvd = ((1u64 << shift) - 1) & !0x1fff;
                if e & low_rsvd != 0 {
                    rsvd = true;
                }
            }
            if rsvd {
                return Err(fault(true, true));
            }
            perm.user &= e & PTE_US != 0;
            perm.writable &= e & PTE_RW != 0;
            perm.nx |= nxe && e & PTE_NX != 0;
            used[n] = (epa, e);
            n += 1;
            if level == 1 || large {
                perm.dirty = e & PTE_D != 0;
                perm.global = pge && e & PTE_G != 0;
                page_mask = (1u64 << shift) - 1;
                page_base = e & ADDR_MASK & !page_mask;
                break;
            }
            table = e & ADDR_MASK;
            level -= 1;
        }
    } else {
        // 32-bit paging.
        wide = false;
        let lin = lin & 0xffff_ffff;
        let pde_pa = a20((ctl.cr3 & 0xffff_f000) + ((lin >> 22) & 0x3ff) * 4, ctl.a20);
        let pde = read_entry(mem, pde_pa, false);
        if pde & PTE_P == 0 {
            return Err(fault(false, false));
        }
        perm.user &= pde & PTE_US != 0;
        perm.writable &= pde & PTE_RW != 0;
        used[0] = (pde_pa, pde);
        n = 1;
        if pde & PTE_PS != 0 && ctl.cr4 & CR4_PSE != 0 {
            // 4 MiB page; bits 20:13 hold PA[39:32] and a reserved bit.
            if pde & (1 << 21) != 0 {
                return Err(fault(true, true));
            }
            perm.dirty = pde & PTE_D != 0;
            perm.global = pge && pde & PTE_G != 0;
            page_mask = 0x3f_ffff;
            page_base = (pde & 0xffc0_0000) | ((pde >> 13) & 0xff) << 32;
        } else {
            let pte_pa = a20((pde & 0xffff_f000) + ((lin >> 12) & 0x3ff) * 4, ctl.a20);
            let pte = read_entry(mem, pte_pa, false);
            if pte & PTE_P == 0 {
                return Err(fault(false, false));
            }
            perm.user &= pte & PTE_US != 0;
            perm.writable &= pte & PTE_RW != 0;
            perm.dirty = pte & PTE_D != 0;
            perm.global = pge && pte & PTE_G != 0;
            used[1] = (pte_pa, pte);
            n = 2;
            page_mask = 0xfff;
            page_base = pte & 0xffff_f000;
        }
    }

    if !perm.allows(acc, ctl.cr0) {
        return Err(fault(true, false));
    }
    // Success: set A on every entry used, D on the leaf for writes.
    for (i, &(epa, e)) in used[..n].iter().enumerate() {
        let mut ne = e | PTE_A;
        if i == n - 1 && acc.write {
            ne |= PTE_D;
        }
        if ne != e {
            write_entry(mem, epa, ne, wide);
        }
    }
    if acc.write {
        perm.dirty = true;
    }
    Ok(Translation { phys: a20(page_base | (lin & page_mask), ctl.a20), perm, page_mask })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_ctl() -> PagingControl {
        PagingControl { cr0: CR0_PG | CR0_PE | CR0_WP, cr3: 0x1000, cr4: CR4_PAE, efer: EFER_LME | EFER_LMA | EFER_NXE, a20: true }
    }

    /// Maps 0x400000 -> 0x200000 (4 KiB, user, read-only) and 0x600000 (2 MiB, kernel, NX).
    fn tables() -> PhysMemory {
        let mut m = PhysMemory::new(4 << 20).unwrap();
        m.write_u64(0x1000, 0x2000 | 0x7).unwrap(); // PML4[0]
        m.write_u64(0x2000, 0x3000 | 0x7).unwrap(); // PDPT[0]
        m.write_u64(0x3000 + 2 * 8, 0x4000 | 0x7).unwrap(); // PD[2] -> PT (0x400000..)
        m.write_u64(0x3000 + 3 * 8, 0x20_0000 | PTE_P | PTE_RW | PTE_PS | PTE_NX).unwrap(); // PD[3] 2 MiB
        m.write_u64(0x4000, 0x20_0000 | PTE_P | PTE_US).unwrap(); // PT[0]
        m
    }

    #[test]
    fn four_level_walk_sets_accessed_and_dirty() {
        let mut m = tables();
        let ctl = long_ctl();
        let t = walk(&mut m, &ctl, 0x400123, Access::read(true)).unwrap();
        assert_eq!(t.phys, 0x200123);
        assert!(t.perm.user && !t.perm.writable);
        assert_eq!(m.read_u64(0x4000).unwrap() & (PTE_A | PTE_D), PTE_A);
        let t = walk(&mut m, &ctl, 0x6abcde, Access::write(false)).unwrap();
        assert_eq!(t.phys, 0x2abcde);
        assert_eq!(t.page_mask, 0x1f_ffff);
        assert_eq!(m.read_u64(0x3018).unwrap() & (PTE_A | PTE_D), PTE_A | PTE_D);
    }

    #[test]
    fn fault_error_codes() {
        let mut m = tables();
        let ctl = long_ctl();
        // User write to a read-only page: present + write + user.
        let e = walk(&mut m, &ctl, 0x400000, Access::write(true)).unwrap_err();
        assert_eq!((e.vector(), e.error_code(), e.address), (14, Some(pf::P | pf::W | pf::U), 0x400000));
        // Not present.
        let e = walk(&mut m, &ctl, 0x401000, Access::read(false)).unwrap_err();
        assert_eq!(e.error_code(), Some(0));
        // Fetch from an NX page.
        let e = walk(&mut m, &ctl, 0x600000, Access::fetch(false)).unwrap_err();
        assert_eq!(e.error_code(), Some(pf::P | pf::I));
        // User read of a supervisor page.
        let e = walk(&mut m, &ctl, 0x600000, Access::read(true)).unwrap_err();
        assert_eq!(e.error_code(), Some(pf::P | pf::U));
        // Supervisor write to a read-only user page: allowed only with WP clear.
        assert!(walk(&mut m, &ctl, 0x400000, Access::write(false)).is_err());
        let no_wp = PagingControl { cr0: CR0_PG | CR0_PE, ..ctl };
        assert!(walk(&mut m, &no_wp, 0x400000, Access::write(false)).is_ok());
    }

    #[test]
    fn reserved_bits_fault_with_rsvd() {
        let mut m = tables();
        let ctl = PagingControl { efer: EFER_LME | EFER_LMA, ..long_ctl() }; // NX is reserved now
        let e = walk(&mut m, &ctl, 0x600000, Access::read(false)).unwrap_err();
        assert_eq!(e.error_code(), Some(pf::P | pf::RSVD));
    }

    #[test]
    fn one_gib_pages_translate() {
        let mut m = PhysMemory::new(4 << 20).unwrap();
        // PML4[0] -> PDPT at 0x2000; PDPT[1] maps 1 GiB..2 GiB onto physical 0 (PS).
        m.write_u64(0x1000, 0x2000 | 0x7).unwrap();
        m.write_u64(0x2000 + 8, PTE_P | PTE_RW | PTE_PS).unwrap();
        let ctl = long_ctl();
        let t = walk(&mut m, &ctl, (1 << 30) + 0x12_3456, Access::read(false)).unwrap();
        assert_eq!((t.phys, t.page_mask), (0x12_3456, (1 << 30) - 1));
        // Bits 29:13 of a 1 GiB entry are reserved.
        m.write_u64(0x2000 + 8, PTE_P | PTE_RW | PTE_PS | 1 << 20).unwrap();
        let e = walk(&mut m, &ctl, 1 << 30, Access::read(false)).unwrap_err();
        assert_eq!(e.error_code(), Some(pf::P | pf::RSVD));
    }

    #[test]
    fn thirty_two_bit_paging_with_4k_and_4m_pages() {
        let mut m = PhysMemory::new(16 << 20).unwrap();
        // PD at 0x1000: PDE[1] -> PT at 0x2000 (4 KiB pages); PDE[2] a 4 MiB page at 8 MiB.
        m.write_u32(0x1000 + 4, 0x2000 | 0x7).unwrap();
        m.write_u32(0x2000 + 3 * 4, 0x5000 | 0x3).unwrap(); // 0x403000 -> 0x5000, supervisor
        m.write_u32(0x1000 + 2 * 4, 0x80_0000 | 0x83).unwrap();
        let ctl = PagingControl { cr0: CR0_PG | CR0_PE | CR0_WP, cr3: 0x1000, cr4: CR4_PSE, efer: 0, a20: true };
        assert_eq!(walk(&mut m, &ctl, 0x40_3abc, Access::write(false)).unwrap().phys, 0x5abc);
        assert_eq!(m.read_u32(0x2000 + 3 * 4).unwrap() & 0x60, 0x60, "A and D set");
        let t = walk(&mut m, &ctl, 0x81_2345, Access::read(false)).unwrap();
        assert_eq!((t.phys, t.page_mask), (0x81_2345, 0x3f_ffff));
        // User access to the supervisor 4 KiB page faults with P|U.
        let e = walk(&mut m, &ctl, 0x40_3000, Access::read(true)).unwrap_err();
        assert_eq!(e.error_code(), Some(pf::P | pf::U));
        // Without CR4.PSE the PS bit is ignored and the entry points at a page table.
        let no_pse = PagingControl { cr4: 0, ..ctl };
        assert_ne!(walk(&mut m, &no_pse, 0x81_2345, Access::read(false)).map(|t| t.phys), Ok(0x81_2345));
    }

    #[test]
    fn paging_off_honours_a20() {
        let mut m = tables();
        let ctl = PagingControl { a20: false, ..Default::default() };
        assert_eq!(walk(&mut m, &ctl, 0x10_0010, Access::read(false)).unwrap().phys, 0x10);
    }
}
